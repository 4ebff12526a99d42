package dev.vllmraycluster.ray;

import com.hashicorp.cdktf.ITerraformDependable;
import dev.vllmraycluster.firewall.Firewall;
import dev.vllmraycluster.node.HostStep;
import dev.vllmraycluster.node.PartProps;
import dev.vllmraycluster.node.ProjectLayout;
import dev.vllmraycluster.spec.ClusterSpec;
import java.util.List;
import java.util.Objects;

/**
 * What a {@link RayHead} or {@link RayWorker} needs.
 *
 * @param cluster the validated cluster
 * @param layout where the host modules are
 * @param after more to run after (order only)
 * @param firewall the node's firewall: Ray starts after it (nothing listens before it is up)
 * @param bootstrap the node's bootstrap: Ray runs from its venv and restarts with it
 * @param head for a worker, the Ray head it joins and restarts with; null for the head
 */
public record RayNodeProps(
    ClusterSpec cluster, ProjectLayout layout, List<ITerraformDependable> after, Firewall firewall, HostStep bootstrap,
    RayHead head) implements PartProps {
  public RayNodeProps {
    Objects.requireNonNull(firewall, "firewall");
    Objects.requireNonNull(bootstrap, "bootstrap");
  }

  public static Builder builder() {
    return new Builder();
  }

  public static final class Builder extends PartProps.Builder<Builder> {
    private Firewall firewall;
    private HostStep bootstrap;
    private RayHead head;

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

    /** Required for a worker; none for the head. */
    public Builder head(RayHead v) {
      head = v;
      return this;
    }

    public RayNodeProps build() {
      return new RayNodeProps(cluster(), layout(), after(), firewall, bootstrap, head);
    }
  }
}
