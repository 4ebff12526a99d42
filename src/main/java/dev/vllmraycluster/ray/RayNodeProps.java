package dev.vllmraycluster.ray;

import dev.vllmraycluster.firewall.Firewall;
import dev.vllmraycluster.node.HostStep;
import dev.vllmraycluster.node.ProjectLayout;
import dev.vllmraycluster.spec.ClusterSpec;
import java.util.Objects;

/**
 * What a {@link RayHead} or {@link RayWorker} needs.
 *
 * @param cluster the validated cluster
 * @param layout where the host modules are
 * @param firewall the node's firewall: Ray starts after it (nothing listens before it is up)
 * @param bootstrap the node's bootstrap: Ray runs from its venv and restarts with it
 * @param head for a worker, the Ray head it joins and restarts with; null for the head
 */
public record RayNodeProps(ClusterSpec cluster, ProjectLayout layout, Firewall firewall, HostStep bootstrap, RayHead head) {
  public RayNodeProps {
    Objects.requireNonNull(cluster, "cluster");
    Objects.requireNonNull(layout, "layout");
    Objects.requireNonNull(firewall, "firewall");
    Objects.requireNonNull(bootstrap, "bootstrap");
  }

  public static Builder builder() {
    return new Builder();
  }

  public static final class Builder {
    private ClusterSpec cluster;
    private ProjectLayout layout;
    private Firewall firewall;
    private HostStep bootstrap;
    private RayHead head;

    private Builder() {}

    public Builder cluster(ClusterSpec v) {
      cluster = v;
      return this;
    }

    public Builder layout(ProjectLayout v) {
      layout = v;
      return this;
    }

    public Builder firewall(Firewall v) {
      firewall = v;
      return this;
    }

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
      return new RayNodeProps(cluster, layout, firewall, bootstrap, head);
    }
  }
}
