package dev.vllmraycluster.monitoring;

import com.hashicorp.cdktf.ITerraformDependable;
import dev.vllmraycluster.firewall.Firewall;
import dev.vllmraycluster.firewall.NodeServiceProps;
import dev.vllmraycluster.node.HostStep;
import dev.vllmraycluster.node.ProjectLayout;
import dev.vllmraycluster.spec.ClusterSpec;
import java.util.List;

/**
 * What a {@link Prometheus} needs.
 *
 * @param cluster the validated cluster, with monitoring on
 * @param layout where the host modules and {@code dashboards/} are
 * @param after more to run after (order only), e.g. every node's {@link NodeMetrics}
 * @param firewall its node's firewall: Prometheus starts after it
 * @param bootstrap its node's bootstrap
 */
public record PrometheusProps(
    ClusterSpec cluster, ProjectLayout layout, List<ITerraformDependable> after, Firewall firewall, HostStep bootstrap)
    implements NodeServiceProps {
  public PrometheusProps {
    NodeServiceProps.requireParts(firewall, bootstrap);
  }

  public static Builder builder() {
    return new Builder();
  }

  public static final class Builder extends NodeServiceProps.Builder<Builder> {
    private Builder() {}

    public PrometheusProps build() {
      return new PrometheusProps(cluster(), layout(), after(), firewall(), bootstrap());
    }
  }
}
