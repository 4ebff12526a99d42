/** Read-only checks of the hosts before a deploy (preflight) and after it (verify): probes gathered over SSH, then named checks on the captured facts. */
package dev.vllmraycluster.preflight;
