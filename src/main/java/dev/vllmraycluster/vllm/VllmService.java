package dev.vllmraycluster.vllm;

import com.hashicorp.cdktf.ITerraformDependable;
import dev.vllmraycluster.contract.HostContract;
import dev.vllmraycluster.contract.HostContract.Component;
import dev.vllmraycluster.contract.HostContract.VllmFlags;
import dev.vllmraycluster.firewall.Exposure;
import dev.vllmraycluster.firewall.Firewall;
import dev.vllmraycluster.node.Env;
import dev.vllmraycluster.node.GpuNode;
import dev.vllmraycluster.node.HostStep;
import dev.vllmraycluster.ray.RayArgs;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.spec.ClusterSpec.VllmSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * vLLM's OpenAI-compatible server on the head ({@code vrc-vllm.service}), running the model over
 * the Ray cluster with the declared tensor and pipeline parallelism. The API key comes from an
 * ephemeral OpenTofu variable into a root-only file the unit reads; it is never an argument.
 */
public class VllmService extends HostStep {
  public static final String API_KEY_FILE = HostContract.SecretFiles.VLLM_API_KEY;
  /**
   * vLLM's config root ({@code VLLM_CONFIG_ROOT}, by default {@code ~/.config/vllm} of the service
   * user): root-owned here, so that the service user cannot change what it holds.
   */
  public static final String CONFIG_ROOT = "/etc/vllm-ray-cluster/vllm-config";
  /**
   * Secret variables of vLLM's environment that its Ray executor must not copy to the workers:
   * written to {@code <CONFIG_ROOT>/ray_non_carry_over_env_vars.json} (vLLM 0.33.0 copies every
   * other variable of the driver to every worker).
   */
  public static final List<String> NON_CARRY_OVER = List.of("VLLM_API_KEY", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN");

  /**
   * @param head the head node (its scope)
   * @param id {@code vllm}: the resource is {@code <head>_vllm}
   */
  public VllmService(GpuNode head, String id, VllmServiceProps props) {
    super(head, id, props.layout(), props(head, props.cluster(), props.after(), restartsWith(props)));
  }

  private static List<HostStep> restartsWith(VllmServiceProps p) {
    List<HostStep> steps = new ArrayList<>();
    steps.add(p.bootstrap());
    steps.addAll(p.modelStores());
    steps.addAll(p.rayNodes());
    return steps;
  }

  /**
   * The arguments after {@code vllm serve} (the entry point vLLM documents from 0.18 on; {@code
   * python -m vllm.entrypoints.openai.api_server} is deprecated in 0.33): the model directory as
   * the positional argument, then the options from typed fields, then {@code vllm.extra_args}.
   */
  public static List<String> args(ClusterSpec cluster) {
    VllmSpec v = cluster.vllm();
    List<String> args = new ArrayList<>();
    args.add(cluster.storage().modelPath(cluster.model()));
    args.add(VllmFlags.SERVED_MODEL_NAME);
    args.add(cluster.model().servedModelName());
    // Behind the proxy vLLM listens on 127.0.0.1 only; without it, on vllm.host:vllm.port.
    args.add(VllmFlags.HOST);
    args.add(v.vllmHost());
    args.add(VllmFlags.PORT);
    args.add(String.valueOf(v.vllmPort()));
    args.add(VllmFlags.TENSOR_PARALLEL_SIZE);
    args.add(String.valueOf(v.tensorParallelSize()));
    args.add(VllmFlags.PIPELINE_PARALLEL_SIZE);
    args.add(String.valueOf(v.pipelineParallelSize()));
    args.add(VllmFlags.DISTRIBUTED_EXECUTOR_BACKEND);
    args.add("ray");
    if (v.replicas() > 1) {
      // vLLM's documented multi-node data parallelism over Ray: the API server on the head (the
      // DP master, its address from VLLM_HOST_IP) places one STRICT_PACK group per replica.
      args.add(VllmFlags.DATA_PARALLEL_SIZE);
      args.add(String.valueOf(v.replicas()));
      args.add(VllmFlags.DATA_PARALLEL_SIZE_LOCAL);
      args.add(String.valueOf(dataParallelSizeLocal(cluster)));
      args.add(VllmFlags.DATA_PARALLEL_BACKEND);
      args.add("ray");
    }
    args.add(VllmFlags.GPU_MEMORY_UTILIZATION);
    args.add(String.valueOf(v.gpuMemoryUtilization()));
    if (v.maxModelLen() != null) {
      args.add(VllmFlags.MAX_MODEL_LEN);
      args.add(String.valueOf(v.maxModelLen()));
    }
    if (v.dtype() != null) {
      args.add(VllmFlags.DTYPE);
      args.add(v.dtype());
    }
    args.addAll(v.extraArgs());
    return args;
  }

  /**
   * Replicas on the head, and on each other node vLLM uses ({@link DataParallelPlacement}); the
   * validator has refused a layout without one.
   */
  static int dataParallelSizeLocal(ClusterSpec cluster) {
    VllmSpec v = cluster.vllm();
    List<Integer> others = cluster.nodes().stream().filter(n -> n != cluster.head()).map(n -> n.gpus()).toList();
    return DataParallelPlacement.sizeLocal(v.replicas(), v.worldSize(), cluster.head().gpus(), others)
        .orElseThrow(() -> new IllegalStateException("no placement for data_parallel_size " + v.replicas()));
  }

  private static Props props(
      GpuNode head,
      ClusterSpec cluster,
      List<ITerraformDependable> after,
      List<HostStep> restartsWith) {
    VllmSpec v = cluster.vllm();
    List<Upload> uploads = new ArrayList<>();
    if (v.apiKey() != null) {
      String variable = "var." + v.apiKey().variableName();
      uploads.add(
          Upload.secretContent(
              API_KEY_FILE,
              "VLLM_API_KEY=${" + variable + "}\n"));
    }
    Env env =
        Env.of(head.spec(), Component.VLLM.module())
            .put(HostContract.Env.VENV_PATH, cluster.software().venvPath())
            .put(HostContract.Env.SERVICE_USER, GpuNode.SERVICE_USER)
            .put(HostContract.Env.RAY_ADDRESS, RayArgs.headAddress(cluster))
            .put(HostContract.Env.VLLM_HOST_IP, head.spec().address())
            .put(HostContract.Env.NETWORK_INTERFACE, head.spec().networkInterface())
            // The port vLLM itself answers on (apply waits for its /health on 127.0.0.1).
            .put(HostContract.Env.API_PORT, v.vllmPort())
            .put(HostContract.Env.SERVED_MODEL_NAME, cluster.model().servedModelName())
            .put(HostContract.Env.REQUIRE_API_KEY, v.apiKey() != null)
            .put(HostContract.Env.RAY_AUTH_MODE, cluster.ray().authToken() == null ? "disabled" : "token")
            .put(HostContract.Env.READINESS_TIMEOUT_SECONDS, v.readinessTimeoutSeconds())
            .put(HostContract.Env.VLLM_CONFIG_ROOT, CONFIG_ROOT)
            .put(HostContract.Env.RAY_NON_CARRY_OVER, String.join(" ", NON_CARRY_OVER))
            // Compile and graph caches in the service user's persistent directory (every node has
            // it; the Ray workers get these variables from the driver): kept when only vLLM is replaced.
            .put(HostContract.Env.VLLM_CACHE_ROOT, GpuNode.SERVICE_CACHE_DIR + "/vllm")
            .put(HostContract.Env.XDG_CACHE_HOME, GpuNode.SERVICE_CACHE_DIR)
            .put(HostContract.Env.TORCHINDUCTOR_CACHE_DIR, GpuNode.SERVICE_CACHE_DIR + "/torchinductor")
            .put(HostContract.Env.TRITON_CACHE_DIR, GpuNode.SERVICE_CACHE_DIR + "/triton")
            // vLLM's internal sockets from a known base (a protected range), not wherever the
            // kernel puts them.
            .put(HostContract.Env.VLLM_PORT, Exposure.VLLM_INTERNAL_PORT)
            .put(HostContract.Env.SERVICE_SLICE, Firewall.SERVICE_SLICE)
            .put(HostContract.Env.FIREWALL_UNIT, Firewall.requiredUnit(cluster))
            // Start order (modules/vllm/wait-ray.sh): every declared node alive in Ray first; a
            // missing one delays vLLM by 30 s once the others hold its ranks, else up to Ray's
            // readiness timeout.
            .put(HostContract.Env.RAY_EXPECTED_NODES, cluster.nodeAddresses())
            .put(HostContract.Env.REQUIRED_GPUS, v.gpusNeeded())
            .put(HostContract.Env.RAY_WAIT_SECONDS, cluster.ray().readinessTimeoutSeconds());
    // Informational (the scripts do not read it): what the TP group talks over, for plan reviews.
    // Only when declared, so that stacks without it keep their digests.
    if (cluster.network().interconnect() != null) {
      env.put(HostContract.Env.INTERCONNECT, cluster.network().interconnect().yamlName());
    }
    return new Props(
        head.spec(),
        Component.VLLM.module(),
        env.build(),
        args(cluster),
        after,
        restartsWith,
        uploads);
  }
}
