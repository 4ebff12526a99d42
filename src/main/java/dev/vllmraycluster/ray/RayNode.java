package dev.vllmraycluster.ray;

import com.hashicorp.cdktf.ITerraformDependable;
import dev.vllmraycluster.firewall.Exposure;
import dev.vllmraycluster.firewall.Firewall;
import dev.vllmraycluster.node.Env;
import dev.vllmraycluster.node.GpuNode;
import dev.vllmraycluster.node.HostStep;
import dev.vllmraycluster.node.ProjectLayout;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.spec.ClusterSpec.NodeSpec;
import java.util.List;

/** What the Ray head and a Ray worker share: {@code modules/ray}, run as a systemd service. */
abstract class RayNode extends HostStep {
  /** Where the Ray token lands in the staging directory (then /etc/vllm-ray-cluster/secrets/). */
  static final String TOKEN_FILE = "secrets/ray-token";

  RayNode(
      GpuNode node,
      ProjectLayout layout,
      ClusterSpec cluster,
      List<String> args,
      List<ITerraformDependable> after,
      List<HostStep> restartsWith) {
    super(node, "ray", layout, props(node.spec(), cluster, args, after, restartsWith));
  }

  private static Props props(
      NodeSpec node,
      ClusterSpec cluster,
      List<String> args,
      List<ITerraformDependable> after,
      List<HostStep> restartsWith) {
    return new Props(
        node,
        "ray",
        Env.of(node, "ray")
            .put("VENV_PATH", cluster.software().venvPath())
            .put("SERVICE_USER", GpuNode.SERVICE_USER)
            .put("RAY_TEMP_DIR", cluster.ray().tempDir())
            .put("NODE_IP", node.address())
            .put("HEAD_ADDRESS", RayArgs.headAddress(cluster))
            .put("NETWORK_INTERFACE", node.networkInterface())
            .put("READINESS_TIMEOUT_SECONDS", cluster.ray().readinessTimeoutSeconds())
            .put("EXPECTED_GPUS", node.gpus())
            .put("RAY_AUTH_MODE", cluster.ray().authToken() == null ? "disabled" : "token")
            // Ray's own environment: ports it would otherwise pick itself, pinned so they are named.
            .put("AUTOSCALER_METRIC_PORT", Exposure.RAY_AUTOSCALER_METRIC_PORT)
            .put("DASHBOARD_METRIC_PORT", Exposure.RAY_DASHBOARD_METRIC_PORT)
            .put("SERVICE_SLICE", Firewall.SERVICE_SLICE)
            .put("FIREWALL_UNIT", Firewall.requiredUnit(cluster))
            .build(),
        args,
        after,
        restartsWith,
        tokenUpload(cluster));
  }

  /** The Ray token, from an ephemeral variable into a file only root and the service user read. */
  private static List<Upload> tokenUpload(ClusterSpec cluster) {
    if (cluster.ray().authToken() == null) {
      return List.of();
    }
    return List.of(
        Upload.secretContent(
            TOKEN_FILE, "${var." + cluster.ray().authToken().variableName() + "}"));
  }
}
