package dev.vllmraycluster.firewall;

import com.hashicorp.cdktf.ITerraformDependable;
import dev.vllmraycluster.node.ProjectLayout;
import dev.vllmraycluster.spec.ClusterSpec;
import java.util.List;
import java.util.Objects;

/**
 * What a {@link Firewall} needs.
 *
 * @param cluster the validated cluster (its nodes, networks and ports make the rules)
 * @param layout where the host modules are
 * @param after what the firewall runs after (order only), e.g. the local checks
 */
public record FirewallProps(ClusterSpec cluster, ProjectLayout layout, List<ITerraformDependable> after) {
  public FirewallProps {
    Objects.requireNonNull(cluster, "cluster");
    Objects.requireNonNull(layout, "layout");
    after = after == null ? List.of() : List.copyOf(after);
  }

  public static Builder builder() {
    return new Builder();
  }

  public static final class Builder {
    private ClusterSpec cluster;
    private ProjectLayout layout;
    private List<ITerraformDependable> after;

    private Builder() {}

    public Builder cluster(ClusterSpec v) {
      cluster = v;
      return this;
    }

    public Builder layout(ProjectLayout v) {
      layout = v;
      return this;
    }

    /** @default nothing */
    public Builder after(List<ITerraformDependable> v) {
      after = v;
      return this;
    }

    public FirewallProps build() {
      return new FirewallProps(cluster, layout, after);
    }
  }
}
