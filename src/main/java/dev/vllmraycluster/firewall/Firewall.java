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
  public Firewall(
      GpuNode node, ProjectLayout layout, ClusterSpec cluster, List<ITerraformDependable> after) {
    super(node, "firewall", layout, props(node, cluster, after));
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
            .put("PROTECTED_TCP_PORTS", services.stream().map(s -> s.port().toString()).toList())
            .build(),
        List.of(),
        after,
        List.of(),
        List.of());
  }
}
