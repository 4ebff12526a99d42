/**
 * {@code status}: one screen with the truth about a deployed cluster, gathered over SSH like
 * verify (facts once per node, then pure evaluation): each node, the API, the watchdog, the model
 * store; degraded or not.
 */
package dev.vllmraycluster.status;
