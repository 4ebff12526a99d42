package com.example.gpucluster;

import com.hashicorp.cdktf.App;
import dev.vllmraycluster.cluster.ClusterStack;
import dev.vllmraycluster.cluster.ClusterStackProps;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.spec.ClusterSpec.ModelSpec;
import dev.vllmraycluster.spec.ClusterSpec.NetworkSpec;
import dev.vllmraycluster.spec.ClusterSpec.NodeSpec;
import dev.vllmraycluster.spec.ClusterSpec.Role;
import dev.vllmraycluster.spec.ClusterSpec.VllmSpec;

/**
 * A three-node vLLM cluster described in Java only: one head and two workers with one GPU each,
 * a model fetched from Hugging Face into the head's NFS export, tensor parallelism 1 × pipeline
 * parallelism 3, the API open to one client network. Everything else keeps the library's
 * defaults (firewall, Ray token, API key, dashboard on 127.0.0.1).
 *
 * <p>{@code cdktf synth} writes {@code cdktf.out/stacks/gpu-cluster/}: the host modules and the
 * preflight command line are staged in it as assets, so the output holds no path of this machine
 * but the local state's (CDKTF's default backend).
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    App app = new App();
    ClusterSpec spec = ClusterSpec.builder()
        .name("gpu-cluster")
        .node(NodeSpec.builder().name("gpu1").role(Role.HEAD).address("10.20.0.11").gpus(1)
            .sshHostKey("ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBExampleHeadKey").build())
        .node(NodeSpec.builder().name("gpu2").address("10.20.0.12").gpus(1)
            .sshHostKey("ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBExampleWorkerKey2").build())
        .node(NodeSpec.builder().name("gpu3").address("10.20.0.13").gpus(1)
            .sshHostKey("ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBExampleWorkerKey3").build())
        .network(NetworkSpec.builder().clusterCidr("10.20.0.0/24").apiAllowedNetworks(java.util.List.of("10.30.0.0/24")).build())
        .model(ModelSpec.huggingFace("Qwen/Qwen2.5-1.5B-Instruct").build())
        .vllm(VllmSpec.builder().tensorParallelSize(1).pipelineParallelSize(3).build())
        .build();
    new ClusterStack(app, spec.name(), ClusterStackProps.builder().cluster(spec).build());
    app.synth();
  }
}
