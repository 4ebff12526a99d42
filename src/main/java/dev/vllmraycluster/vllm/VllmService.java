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

  /** The server's arguments after {@code python -m vllm.entrypoints.openai.api_server}. */
  public static List<String> args(ClusterSpec cluster) {
    VllmSpec v = cluster.vllm();
    List<String> args = new ArrayList<>();
    args.add(VllmFlags.MODEL);
    args.add(cluster.storage().modelPath(cluster.model()));
    args.add(VllmFlags.SERVED_MODEL_NAME);
    args.add(cluster.model().servedModelName());
    args.add(VllmFlags.HOST);
    args.add(v.host());
    args.add(VllmFlags.PORT);
    args.add(String.valueOf(v.port()));
    args.add(VllmFlags.TENSOR_PARALLEL_SIZE);
    args.add(String.valueOf(v.tensorParallelSize()));
    args.add(VllmFlags.PIPELINE_PARALLEL_SIZE);
    args.add(String.valueOf(v.pipelineParallelSize()));
    args.add(VllmFlags.DISTRIBUTED_EXECUTOR_BACKEND);
    args.add("ray");
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
            .put(HostContract.Env.API_PORT, v.port())
            .put(HostContract.Env.SERVED_MODEL_NAME, cluster.model().servedModelName())
            .put(HostContract.Env.REQUIRE_API_KEY, v.apiKey() != null)
            .put(HostContract.Env.RAY_AUTH_MODE, cluster.ray().authToken() == null ? "disabled" : "token")
            .put(HostContract.Env.READINESS_TIMEOUT_SECONDS, v.readinessTimeoutSeconds())
            // vLLM's internal sockets from a known base (a protected range), not wherever the
            // kernel puts them.
            .put(HostContract.Env.VLLM_PORT, Exposure.VLLM_INTERNAL_PORT)
            .put(HostContract.Env.SERVICE_SLICE, Firewall.SERVICE_SLICE)
            .put(HostContract.Env.FIREWALL_UNIT, Firewall.requiredUnit(cluster));
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
