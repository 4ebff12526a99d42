package dev.vllmraycluster.firewall;

import com.hashicorp.cdktf.ITerraformDependable;
import dev.vllmraycluster.node.PartProps;
import dev.vllmraycluster.node.ProjectLayout;
import dev.vllmraycluster.spec.ClusterSpec;
import java.util.List;

/**
 * What a {@link Firewall} needs.
 *
 * @param cluster the validated cluster (its nodes, networks and ports make the rules)
 * @param layout where the host modules are
 * @param after what the firewall runs after (order only), e.g. the local checks
 */
public record FirewallProps(ClusterSpec cluster, ProjectLayout layout, List<ITerraformDependable> after)
    implements PartProps {
  public static Builder builder() {
    return new Builder();
  }

  public static final class Builder extends PartProps.Builder<Builder> {
    private Builder() {}

    public FirewallProps build() {
      return new FirewallProps(cluster(), layout(), after());
    }
  }
}
