package dev.vllmraycluster.ray;

import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.spec.ClusterSpec.NodeSpec;
import dev.vllmraycluster.spec.ClusterSpec.RaySpec;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code ray start --block} arguments for a node. Every port is pinned so that the firewall
 * can name it, and every node binds its own cluster address.
 */
public final class RayArgs {
  private RayArgs() {}

  public static List<String> head(ClusterSpec cluster, NodeSpec node) {
    RaySpec ray = cluster.ray();
    List<String> args = new ArrayList<>();
    args.add("--head");
    args.add("--node-ip-address=" + node.address());
    args.add("--port=" + ray.gcsPort());
    args.add("--ray-client-server-port=" + ray.clientServerPort());
    args.add("--include-dashboard=" + ray.includeDashboard());
    if (ray.includeDashboard()) {
      args.add("--dashboard-host=" + ray.dashboardHost());
      args.add("--dashboard-port=" + ray.dashboardPort());
    }
    // Ray makes its temp dir 0777 whenever a node or worker process starts (try_make_directory_shared):
    // it gets a subdirectory of ray.temp_dir, which the ray step keeps 0700 and Ray never touches.
    args.add("--temp-dir=" + rayOwnTempDir(ray.tempDir()));
    args.addAll(common(ray, node));
    return args;
  }

  public static List<String> worker(ClusterSpec cluster, NodeSpec node) {
    RaySpec ray = cluster.ray();
    List<String> args = new ArrayList<>();
    args.add("--address=" + headAddress(cluster));
    args.add("--node-ip-address=" + node.address());
    args.addAll(common(ray, node));
    return args;
  }

  public static String headAddress(ClusterSpec cluster) {
    return cluster.head().address() + ":" + cluster.ray().gcsPort();
  }

  private static List<String> common(RaySpec ray, NodeSpec node) {
    return List.of(
        "--num-gpus=" + node.gpus(),
        "--node-manager-port=" + ray.nodeManagerPort(),
        "--object-manager-port=" + ray.objectManagerPort(),
        "--runtime-env-agent-port=" + ray.runtimeEnvAgentPort(),
        "--dashboard-agent-listen-port=" + ray.dashboardAgentPort(),
        "--dashboard-agent-grpc-port=" + ray.dashboardAgentGrpcPort(),
        "--metrics-export-port=" + ray.metricsExportPort(),
        "--min-worker-port=" + ray.minWorkerPort(),
        "--max-worker-port=" + ray.maxWorkerPort(),
        "--disable-usage-stats");
  }

  /** Ray's own temp dir: {@code <ray.temp_dir>/ray}, inside the service user's 0700 directory. */
  public static String rayOwnTempDir(String tempDir) {
    return tempDir + "/ray";
  }
}
