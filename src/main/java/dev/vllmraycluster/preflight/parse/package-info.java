/** Parsers of what the probes print (nvidia-smi, ip, df, ss, ray status, os-release). */
package dev.vllmraycluster.preflight.parse;
