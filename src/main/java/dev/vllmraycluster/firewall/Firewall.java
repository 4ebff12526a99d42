package dev.vllmraycluster.firewall;

import com.hashicorp.cdktf.ITerraformDependable;
import dev.vllmraycluster.firewall.Exposure.Service;
import dev.vllmraycluster.node.Env;
import dev.vllmraycluster.node.GpuNode;
import dev.vllmraycluster.node.HostStep;
import dev.vllmraycluster.node.ProjectLayout;
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
  public static final String SERVICE_SLICE = "vrc.slice";
  /** The unit that loads our nftables table (every backend but none uses it for the drops). */
  public static final String UNIT = "vrc-firewall.service";

  public Firewall(
      GpuNode node, ProjectLayout layout, ClusterSpec cluster, List<ITerraformDependable> after) {
    super(node, "firewall", layout, props(node, cluster, after));
    // A change of the rules (a client network, a node) must never leave the node without them.
    createBeforeDestroy();
  }

  /** The unit Ray and vLLM require (they do not start without our rules), or "" for none. */
  public static String requiredUnit(ClusterSpec cluster) {
    return cluster.network().firewallBackend() == ClusterSpec.FirewallBackend.NONE ? "" : UNIT;
  }

  private static Props props(GpuNode node, ClusterSpec cluster, List<ITerraformDependable> after) {
    List<Service> services = Exposure.of(cluster, node.spec());
    return new Props(
        node.spec(),
        "firewall",
        Env.of(node.spec(), "firewall")
            .put("FIREWALL_BACKEND", cluster.network().firewallBackend().name().toLowerCase(Locale.ROOT))
            .put("CLUSTER_ADDRESSES", cluster.nodeAddresses())
            .put("API_PORT", cluster.vllm().port())
            .put("API_ALLOWED_NETWORKS", cluster.network().apiAllowedNetworks())
            .put("DASHBOARD_PORT", cluster.ray().dashboardPort())
            .put("DASHBOARD_ALLOWED_NETWORKS", cluster.network().dashboardAllowedNetworks())
            .put("PROTECTED_TCP_PORTS", services.stream().filter(s -> s.port().tcp()).map(s -> s.port().toString()).toList())
            .put("PROTECTED_UDP_PORTS", services.stream().filter(s -> !s.port().tcp()).map(s -> s.port().toString()).toList())
            .put("SERVICE_SLICE", SERVICE_SLICE)
            .build(),
        List.of(),
        after,
        List.of(),
        List.of());
  }
}
