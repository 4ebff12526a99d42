package dev.vllmraycluster.monitoring;

import com.hashicorp.cdktf.ITerraformDependable;
import dev.vllmraycluster.firewall.Firewall;
import dev.vllmraycluster.node.HostStep;
import dev.vllmraycluster.node.PartProps;
import dev.vllmraycluster.node.ProjectLayout;
import dev.vllmraycluster.spec.ClusterSpec;
import java.util.List;
import java.util.Objects;

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
    implements PartProps {
  public PrometheusProps {
    Objects.requireNonNull(firewall, "firewall");
    Objects.requireNonNull(bootstrap, "bootstrap");
  }

  public static Builder builder() {
    return new Builder();
  }

  public static final class Builder extends PartProps.Builder<Builder> {
    private Firewall firewall;
    private HostStep bootstrap;

    private Builder() {}

    /** The firewall of the node Prometheus runs on. Required. */
    public Builder firewall(Firewall v) {
      firewall = v;
      return this;
    }

    /** The bootstrap of that node. Required. */
    public Builder bootstrap(HostStep v) {
      bootstrap = v;
      return this;
    }

    public PrometheusProps build() {
      return new PrometheusProps(cluster(), layout(), after(), firewall, bootstrap);
    }
  }
}
