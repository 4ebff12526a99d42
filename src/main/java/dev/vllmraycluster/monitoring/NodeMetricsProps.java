package dev.vllmraycluster.monitoring;

import com.hashicorp.cdktf.ITerraformDependable;
import dev.vllmraycluster.firewall.Firewall;
import dev.vllmraycluster.firewall.NodeServiceProps;
import dev.vllmraycluster.node.HostStep;
import dev.vllmraycluster.node.ProjectLayout;
import dev.vllmraycluster.spec.ClusterSpec;
import java.util.List;

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
    HostStep modelStore) implements NodeServiceProps {
  public NodeMetricsProps {
    NodeServiceProps.requireParts(firewall, bootstrap);
  }

  public static Builder builder() {
    return new Builder();
  }

  public static final class Builder extends NodeServiceProps.Builder<Builder> {
    private HostStep modelStore;

    private Builder() {}

    /** @default none: the collectors report the model store as it is, without waiting for it */
    public Builder modelStore(HostStep v) {
      modelStore = v;
      return this;
    }

    public NodeMetricsProps build() {
      return new NodeMetricsProps(cluster(), layout(), after(), firewall(), bootstrap(), modelStore);
    }
  }
}
