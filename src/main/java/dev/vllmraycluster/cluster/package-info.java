/** The whole deployment: {@link dev.vllmraycluster.cluster.ClusterStack} (variables, local checks, outputs, state backend) and {@link dev.vllmraycluster.cluster.GpuCluster}, which composes the parts of every node in order. */
package dev.vllmraycluster.cluster;
