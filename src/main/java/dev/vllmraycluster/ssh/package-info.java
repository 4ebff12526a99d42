/** SSH for preflight and verify: the client, host keys, the agent. */
package dev.vllmraycluster.ssh;
