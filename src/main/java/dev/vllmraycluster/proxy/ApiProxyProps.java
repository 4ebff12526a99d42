package dev.vllmraycluster.proxy;

import com.hashicorp.cdktf.ITerraformDependable;
import dev.vllmraycluster.firewall.Firewall;
import dev.vllmraycluster.node.PartProps;
import dev.vllmraycluster.node.ProjectLayout;
import dev.vllmraycluster.spec.ClusterSpec;
import java.util.List;
import java.util.Objects;

/**
 * What an {@link ApiProxy} needs: it listens only once the head's firewall rules are in place.
 *
 * @param cluster the validated cluster
 * @param layout where the host modules are
 * @param after more to run after (order only)
 * @param firewall the head's firewall (order only: a change of the rules does not restart the proxy)
 */
public record ApiProxyProps(ClusterSpec cluster, ProjectLayout layout, List<ITerraformDependable> after, Firewall firewall)
    implements PartProps {
  public ApiProxyProps {
    Objects.requireNonNull(firewall, "firewall");
  }

  public static Builder builder() {
    return new Builder();
  }

  public static final class Builder extends PartProps.Builder<Builder> {
    private Firewall firewall;

    private Builder() {}

    /** The head's firewall. Required. */
    public Builder firewall(Firewall v) {
      firewall = v;
      return this;
    }

    public ApiProxyProps build() {
      return new ApiProxyProps(cluster(), layout(), after(), firewall);
    }
  }
}
