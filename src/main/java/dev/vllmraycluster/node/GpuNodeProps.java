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
 * @param layout where the host modules are
 * @param after what the node's bootstrap runs after, e.g. the local checks
 * @param node this node (one of {@code cluster.nodes()})
 */
public record GpuNodeProps(ClusterSpec cluster, ProjectLayout layout, List<ITerraformDependable> after, NodeSpec node)
    implements PartProps {
  public GpuNodeProps {
    Objects.requireNonNull(node, "node");
  }

  public static Builder builder() {
    return new Builder();
  }

  public static final class Builder extends PartProps.Builder<Builder> {
    private NodeSpec node;

    private Builder() {}

    /** The node. Required. */
    public Builder node(NodeSpec v) {
      node = v;
      return this;
    }

    public GpuNodeProps build() {
      return new GpuNodeProps(cluster(), layout(), after(), node);
    }
  }
}
