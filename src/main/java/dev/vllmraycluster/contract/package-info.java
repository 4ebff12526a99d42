/** The names that cross the boundary to the hosts ({@link dev.vllmraycluster.contract.HostContract}) and the one way a value reaches a command line or cdk.tf.json ({@link dev.vllmraycluster.contract.Shell}). */
package dev.vllmraycluster.contract;
