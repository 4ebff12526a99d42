package dev.vllmraycluster.ray;

import com.hashicorp.cdktf.ITerraformDependable;
import dev.vllmraycluster.firewall.Firewall;
import dev.vllmraycluster.firewall.NodeServiceProps;
import dev.vllmraycluster.node.HostStep;
import dev.vllmraycluster.node.ProjectLayout;
import dev.vllmraycluster.spec.ClusterSpec;
import java.util.List;

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
    RayHead head) implements NodeServiceProps {
  public RayNodeProps {
    NodeServiceProps.requireParts(firewall, bootstrap);
  }

  public static Builder builder() {
    return new Builder();
  }

  public static final class Builder extends NodeServiceProps.Builder<Builder> {
    private RayHead head;

    private Builder() {}

    /** Required for a worker; none for the head. */
    public Builder head(RayHead v) {
      head = v;
      return this;
    }

    public RayNodeProps build() {
      return new RayNodeProps(cluster(), layout(), after(), firewall(), bootstrap(), head);
    }
  }
}
