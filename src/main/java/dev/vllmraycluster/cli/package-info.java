/** The command-line tool bin/vllm-ray-cluster: synth, validate, preflight, verify, plan-review. */
package dev.vllmraycluster.cli;
