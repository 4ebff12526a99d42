package dev.vllmraycluster.cluster;

import com.hashicorp.cdktf.ITerraformDependable;
import dev.vllmraycluster.node.ProjectLayout;
import dev.vllmraycluster.spec.ClusterSpec;
import java.util.List;
import java.util.Objects;

/**
 * What a {@link GpuCluster} needs.
 *
 * @param spec the cluster; validated by the construct ({@link dev.vllmraycluster.spec.SpecValidator})
 * @param layout where the host modules are ({@link ProjectLayout#current()} in this project)
 * @param after what every node's first steps run after, e.g. checks on the deploy machine
 */
public record GpuClusterProps(ClusterSpec spec, ProjectLayout layout, List<ITerraformDependable> after) {
  public GpuClusterProps {
    Objects.requireNonNull(spec, "spec");
    Objects.requireNonNull(layout, "layout");
    after = after == null ? List.of() : List.copyOf(after);
  }

  public static Builder builder() {
    return new Builder();
  }

  public static final class Builder {
    private ClusterSpec spec;
    private ProjectLayout layout;
    private List<ITerraformDependable> after;

    private Builder() {}

    public Builder spec(ClusterSpec v) {
      spec = v;
      return this;
    }

    /** @default {@link ProjectLayout#current()} */
    public Builder layout(ProjectLayout v) {
      layout = v;
      return this;
    }

    /** @default nothing: the nodes' steps start first */
    public Builder after(List<ITerraformDependable> v) {
      after = v;
      return this;
    }

    public GpuClusterProps build() {
      return new GpuClusterProps(spec, layout == null ? ProjectLayout.current() : layout, after);
    }
  }
}
