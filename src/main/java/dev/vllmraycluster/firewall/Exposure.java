package dev.vllmraycluster.firewall;

import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.spec.ClusterSpec.MonitoringSpec;
import dev.vllmraycluster.spec.ClusterSpec.NodeSpec;
import dev.vllmraycluster.spec.ClusterSpec.RaySpec;
import dev.vllmraycluster.spec.ClusterSpec.Role;
import dev.vllmraycluster.spec.ClusterSpec.StorageMode;
import dev.vllmraycluster.storage.NfsPorts;
import java.util.ArrayList;
import java.util.List;

/**
 * Who may reach which port of a node: the single source the firewall rules, the outputs and the
 * README's security model are derived from. Cluster nodes reach every port of each other;
 * everyone else reaches only what a {@link Service} allows ({@code allowedFrom}), and nothing of
 * the others. The list is what can be pinned and named; on top of it the firewall closes every
 * socket of our services' slice, whatever its port ({@link Firewall#SERVICE_SLICE}).
 */
public final class Exposure {
  /** One listening service and the networks outside the cluster allowed to reach it. */
  public record Service(String name, Port port, List<String> allowedFrom) {
    public Service {
      allowedFrom = List.copyOf(allowedFrom);
    }
  }

  /** Ray's autoscaler and dashboard metrics ports (its env AUTOSCALER_METRIC_PORT, DASHBOARD_METRIC_PORT). */
  public static final int RAY_AUTOSCALER_METRIC_PORT = 44217;
  public static final int RAY_DASHBOARD_METRIC_PORT = 44227;
  /** vLLM's internal sockets start at VLLM_PORT and count up from it. */
  public static final int VLLM_INTERNAL_PORT = 20100;
  public static final int VLLM_INTERNAL_PORTS = 100;

  private Exposure() {}

  /** Every port our services listen on for this node, each with who outside may reach it. */
  public static List<Service> of(ClusterSpec spec, NodeSpec node) {
    RaySpec ray = spec.ray();
    List<Service> services = new ArrayList<>();
    boolean head = node.role() == Role.HEAD;
    if (head) {
      if (spec.vllm().proxy()) {
        // Clients reach the proxy, which checks the key on every path; vLLM itself only from the
        // head (it binds 127.0.0.1) and, as every port of ours, from the cluster.
        services.add(new Service(spec.vllm().https() ? "API (HAProxy, HTTPS)" : "API (HAProxy, plain HTTP)",
            Port.tcp(spec.vllm().port()), spec.network().apiAllowedNetworks()));
        services.add(new Service("vLLM API behind the proxy", Port.tcp(spec.vllm().backendPort()), List.of()));
      } else {
        services.add(
            new Service("vLLM API", Port.tcp(spec.vllm().port()), spec.network().apiAllowedNetworks()));
      }
      services.add(
          new Service(
              "Ray dashboard and Jobs API",
              Port.tcp(ray.dashboardPort()),
              spec.network().dashboardAllowedNetworks()));
      services.add(new Service("Ray GCS", Port.tcp(ray.gcsPort()), List.of()));
      services.add(new Service("Ray client server", Port.tcp(ray.clientServerPort()), List.of()));
      services.add(new Service("Ray autoscaler metrics", Port.tcp(RAY_AUTOSCALER_METRIC_PORT), List.of()));
      if (ray.includeDashboard()) {
        services.add(new Service("Ray dashboard metrics", Port.tcp(RAY_DASHBOARD_METRIC_PORT), List.of()));
      }
      services.add(
          new Service(
              "vLLM internal sockets (VLLM_PORT and up)",
              Port.tcpRange(VLLM_INTERNAL_PORT, VLLM_INTERNAL_PORT + VLLM_INTERNAL_PORTS - 1),
              List.of()));
      if (spec.storage().mode() == StorageMode.HEAD_NFS) {
        // NFS, rpcbind and the rpc services model-store pins (mountd, statd, lockd): TCP and UDP.
        for (NfsPorts.Named nfs : NfsPorts.all()) {
          services.add(new Service(nfs.service(), Port.tcp(nfs.port()), List.of()));
          services.add(new Service(nfs.service() + " (UDP)", Port.udp(nfs.port()), List.of()));
        }
      }
    }
    services.add(new Service("Ray dashboard agent", Port.tcp(ray.dashboardAgentPort()), List.of()));
    services.add(
        new Service("Ray dashboard agent gRPC", Port.tcp(ray.dashboardAgentGrpcPort()), List.of()));
    services.add(new Service("Ray node manager", Port.tcp(ray.nodeManagerPort()), List.of()));
    services.add(new Service("Ray object manager", Port.tcp(ray.objectManagerPort()), List.of()));
    services.add(
        new Service("Ray runtime env agent", Port.tcp(ray.runtimeEnvAgentPort()), List.of()));
    services.add(new Service("Ray metrics", Port.tcp(ray.metricsExportPort()), List.of()));
    services.add(
        new Service(
            "Ray workers (and vLLM's NCCL/Gloo through them)",
            Port.tcpRange(ray.minWorkerPort(), ray.maxWorkerPort()),
            List.of()));
    services.addAll(monitoring(spec, node));
    return services;
  }

  /**
   * The monitoring services of a node (none with monitoring off): the node exporter everywhere,
   * Prometheus on its node; the cluster and {@code monitoring.allowed_networks} reach them.
   */
  public static List<Service> monitoring(ClusterSpec spec, NodeSpec node) {
    MonitoringSpec m = spec.monitoring();
    List<Service> services = new ArrayList<>();
    if (!m.enabled()) {
      return services;
    }
    if (node.name().equals(m.prometheusNodeOf(spec).name())) {
      services.add(new Service("Prometheus", Port.tcp(m.prometheusPort()), m.allowedNetworks()));
    }
    services.add(new Service("node exporter (metrics of the node, GPUs, model store, watchdog)",
        Port.tcp(m.nodeExporterPort()), m.allowedNetworks()));
    return services;
  }
}
