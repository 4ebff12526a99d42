package dev.vllmraycluster.node;

import com.hashicorp.cdktf.ITerraformDependable;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.spec.ClusterSpec.NodeSpec;
import java.util.List;
import java.util.Objects;

/**
 * What a {@link GpuNode} needs.
 *
 * @param cluster the validated cluster the node belongs to
 * @param node this node (one of {@code cluster.nodes()})
 * @param layout where the host modules are
 * @param after what the node's first steps (bootstrap, firewall) run after, e.g. the local checks
 */
public record GpuNodeProps(ClusterSpec cluster, NodeSpec node, ProjectLayout layout, List<ITerraformDependable> after) {
  public GpuNodeProps {
    Objects.requireNonNull(cluster, "cluster");
    Objects.requireNonNull(node, "node");
    Objects.requireNonNull(layout, "layout");
    after = after == null ? List.of() : List.copyOf(after);
  }

  public static Builder builder() {
    return new Builder();
  }

  public static final class Builder {
    private ClusterSpec cluster;
    private NodeSpec node;
    private ProjectLayout layout;
    private List<ITerraformDependable> after;

    private Builder() {}

    public Builder cluster(ClusterSpec v) {
      cluster = v;
      return this;
    }

    public Builder node(NodeSpec v) {
      node = v;
      return this;
    }

    public Builder layout(ProjectLayout v) {
      layout = v;
      return this;
    }

    /** @default nothing: the node's steps start first */
    public Builder after(List<ITerraformDependable> v) {
      after = v;
      return this;
    }

    public GpuNodeProps build() {
      return new GpuNodeProps(cluster, node, layout, after);
    }
  }
}
