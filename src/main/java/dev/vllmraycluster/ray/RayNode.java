package dev.vllmraycluster.ray;

import dev.vllmraycluster.contract.HostContract;
import dev.vllmraycluster.contract.HostContract.Component;
import dev.vllmraycluster.firewall.Exposure;
import dev.vllmraycluster.firewall.Firewall;
import dev.vllmraycluster.node.Env;
import dev.vllmraycluster.node.GpuNode;
import dev.vllmraycluster.node.HostStep;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.spec.ClusterSpec.NodeSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * What the Ray head and a Ray worker share: {@code modules/ray}, run as a systemd service
 * ({@code vrc-ray-head} or {@code vrc-ray-worker}).
 */
public abstract class RayNode extends HostStep {
  /** Where the Ray token lands in the staging directory (then /etc/vllm-ray-cluster/secrets/). */
  public static final String TOKEN_FILE = HostContract.SecretFiles.RAY_TOKEN;

  RayNode(GpuNode node, String id, RayNodeProps props, List<String> args) {
    super(node, id, props.layout(), props(node.spec(), props, args));
  }

  private static Props props(NodeSpec node, RayNodeProps p, List<String> args) {
    ClusterSpec cluster = p.cluster();
    List<HostStep> restartsWith = new ArrayList<>();
    restartsWith.add(p.bootstrap());
    if (p.head() != null) {
      restartsWith.add(p.head());
    }
    return new Props(
        node,
        Component.RAY.module(),
        Env.of(node, Component.RAY.module())
            .put(HostContract.Env.VENV_PATH, cluster.software().venvPath())
            .put(HostContract.Env.SERVICE_USER, GpuNode.SERVICE_USER)
            .put(HostContract.Env.RAY_TEMP_DIR, cluster.ray().tempDir())
            .put(HostContract.Env.NODE_IP, node.address())
            .put(HostContract.Env.HEAD_ADDRESS, RayArgs.headAddress(cluster))
            .put(HostContract.Env.NETWORK_INTERFACE, node.networkInterface())
            .put(HostContract.Env.READINESS_TIMEOUT_SECONDS, cluster.ray().readinessTimeoutSeconds())
            .put(HostContract.Env.EXPECTED_GPUS, node.gpus())
            .put(HostContract.Env.RAY_AUTH_MODE, cluster.ray().authToken() == null ? "disabled" : "token")
            // Ray's own environment: ports it would otherwise pick itself, pinned so they are named.
            .put(HostContract.Env.AUTOSCALER_METRIC_PORT, Exposure.RAY_AUTOSCALER_METRIC_PORT)
            .put(HostContract.Env.DASHBOARD_METRIC_PORT, Exposure.RAY_DASHBOARD_METRIC_PORT)
            .put(HostContract.Env.SERVICE_SLICE, Firewall.SERVICE_SLICE)
            .put(HostContract.Env.FIREWALL_UNIT, Firewall.requiredUnit(cluster))
            .build(),
        args,
        p.afterFirewall(),
        restartsWith,
        tokenUpload(cluster));
  }

  /** The Ray token, from an ephemeral variable into a file only root and the service user read. */
  private static List<Upload> tokenUpload(ClusterSpec cluster) {
    if (cluster.ray().authToken() == null) {
      return List.of();
    }
    return List.of(Upload.secretContent(TOKEN_FILE, "${var." + cluster.ray().authToken().variableName() + "}"));
  }
}
