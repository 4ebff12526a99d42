package dev.vllmraycluster.firewall;

import dev.vllmraycluster.contract.HostContract;
import dev.vllmraycluster.contract.HostContract.Component;
import dev.vllmraycluster.contract.HostContract.Env;
import dev.vllmraycluster.firewall.Exposure.Service;
import dev.vllmraycluster.node.GpuNode;
import dev.vllmraycluster.node.HostStep;
import dev.vllmraycluster.spec.ClusterSpec;
import java.util.List;
import java.util.Locale;

/**
 * The host firewall of one node ({@code modules/firewall}): every cluster node reaches everything,
 * the API and dashboard only the networks allowed for them, and every other port of ours nobody
 * else. The rules go into the backend {@code network.firewall_backend} names, chosen on the node
 * for {@code auto}: our own nftables table, a firewalld policy of ours, or ufw allow rules of ours
 * plus our nftables table for the drops. SSH is never touched.
 */
public class Firewall extends HostStep {
  /** The slice our services run in; the firewall closes every socket of it to outsiders. */
  public static final String SERVICE_SLICE = HostContract.SERVICE_SLICE;
  /** The unit that loads our nftables table (every backend but none uses it for the drops). */
  public static final String UNIT = HostContract.Units.FIREWALL + ".service";

  /**
   * @param node the node it protects (its scope)
   * @param id {@code firewall}: the resource is {@code <node>_firewall}
   */
  public Firewall(GpuNode node, String id, FirewallProps props) {
    super(node, id, props.layout(), props(node, props));
    // A change of the rules (a client network, a node) must never leave the node without them.
    createBeforeDestroy();
  }

  /** The unit Ray and vLLM require (they do not start without our rules), or "" for none. */
  public static String requiredUnit(ClusterSpec cluster) {
    return cluster.network().firewallBackend() == ClusterSpec.FirewallBackend.NONE ? "" : UNIT;
  }

  private static Props props(GpuNode node, FirewallProps p) {
    ClusterSpec cluster = p.cluster();
    List<Service> services = Exposure.of(cluster, node.spec());
    dev.vllmraycluster.node.Env env = dev.vllmraycluster.node.Env.of(node.spec(), Component.FIREWALL.module())
        .put(Env.FIREWALL_BACKEND, cluster.network().firewallBackend().name().toLowerCase(Locale.ROOT))
        .put(Env.CLUSTER_ADDRESSES, cluster.nodeAddresses())
        .put(Env.API_PORT, cluster.vllm().port())
        .put(Env.API_ALLOWED_NETWORKS, cluster.network().apiAllowedNetworks())
        .put(Env.DASHBOARD_PORT, cluster.ray().dashboardPort())
        .put(Env.DASHBOARD_ALLOWED_NETWORKS, cluster.network().dashboardAllowedNetworks())
        .put(Env.PROTECTED_TCP_PORTS, services.stream().filter(s -> s.port().tcp()).map(s -> s.port().toString()).toList())
        .put(Env.PROTECTED_UDP_PORTS, services.stream().filter(s -> !s.port().tcp()).map(s -> s.port().toString()).toList())
        .put(Env.SERVICE_SLICE, SERVICE_SLICE);
    List<Service> monitoring = Exposure.monitoring(cluster, node.spec());
    if (!monitoring.isEmpty()) {
      // Written only with monitoring on, so that other stacks keep their firewall digests.
      env.put(Env.MONITORING_PORTS, monitoring.stream().map(s -> s.port().toString()).toList())
          .put(Env.MONITORING_ALLOWED_NETWORKS, cluster.monitoring().allowedNetworks());
    }
    return new Props(
        node.spec(),
        Component.FIREWALL.module(),
        env.build(),
        List.of(),
        p.after(),
        List.of(),
        List.of());
  }
}
