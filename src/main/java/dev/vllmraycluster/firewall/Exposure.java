package dev.vllmraycluster.firewall;

import dev.vllmraycluster.spec.ClusterSpec;
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
 * the others.
 */
public final class Exposure {
  /** One listening service and the networks outside the cluster allowed to reach it. */
  public record Service(String name, Port port, List<String> allowedFrom) {
    public Service {
      allowedFrom = List.copyOf(allowedFrom);
    }
  }

  private Exposure() {}

  /** Every port our services listen on for this node, each with who outside may reach it. */
  public static List<Service> of(ClusterSpec spec, NodeSpec node) {
    RaySpec ray = spec.ray();
    List<Service> services = new ArrayList<>();
    boolean head = node.role() == Role.HEAD;
    if (head) {
      services.add(
          new Service("vLLM API", Port.tcp(spec.vllm().port()), spec.network().apiAllowedNetworks()));
      services.add(
          new Service(
              "Ray dashboard and Jobs API",
              Port.tcp(ray.dashboardPort()),
              spec.network().dashboardAllowedNetworks()));
      services.add(new Service("Ray GCS", Port.tcp(ray.gcsPort()), List.of()));
      services.add(new Service("Ray client server", Port.tcp(ray.clientServerPort()), List.of()));
      if (spec.storage().mode() == StorageMode.HEAD_NFS) {
        for (NfsPorts.Named nfs : NfsPorts.all()) {
          services.add(new Service(nfs.service(), Port.tcp(nfs.port()), List.of()));
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
    return services;
  }
}
