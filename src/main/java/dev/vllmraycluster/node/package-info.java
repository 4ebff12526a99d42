/** One GPU server ({@link dev.vllmraycluster.node.GpuNode}, with its bootstrap) and the building block of every part: {@link dev.vllmraycluster.node.HostStep}, a terraform_data resource whose SSH provisioners run a host module. */
package dev.vllmraycluster.node;
