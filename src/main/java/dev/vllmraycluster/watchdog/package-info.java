/** The health watchdog on the head: a one-token completion and Ray's nodes and GPUs, vLLM restarted when it stops answering. */
package dev.vllmraycluster.watchdog;
