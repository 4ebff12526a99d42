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
 * What a {@link NodeMetrics} needs.
 *
 * @param cluster the validated cluster, with monitoring on
 * @param layout where the host modules are
 * @param after more to run after (order only)
 * @param firewall the node's firewall: the exporter starts after it (its port is closed first)
 * @param bootstrap the node's bootstrap: the collectors run in its venv
 * @param modelStore the node's model store, whose readiness a collector reports
 */
public record NodeMetricsProps(
    ClusterSpec cluster, ProjectLayout layout, List<ITerraformDependable> after, Firewall firewall, HostStep bootstrap,
    HostStep modelStore) implements PartProps {
  public NodeMetricsProps {
    Objects.requireNonNull(firewall, "firewall");
    Objects.requireNonNull(bootstrap, "bootstrap");
  }

  public static Builder builder() {
    return new Builder();
  }

  public static final class Builder extends PartProps.Builder<Builder> {
    private Firewall firewall;
    private HostStep bootstrap;
    private HostStep modelStore;

    private Builder() {}

    /** The node's firewall. Required. */
    public Builder firewall(Firewall v) {
      firewall = v;
      return this;
    }

    /** The node's bootstrap. Required. */
    public Builder bootstrap(HostStep v) {
      bootstrap = v;
      return this;
    }

    /** @default none: the collectors report the model store as it is, without waiting for it */
    public Builder modelStore(HostStep v) {
      modelStore = v;
      return this;
    }

    public NodeMetricsProps build() {
      return new NodeMetricsProps(cluster(), layout(), after(), firewall, bootstrap, modelStore);
    }
  }
}
