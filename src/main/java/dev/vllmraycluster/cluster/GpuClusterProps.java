package dev.vllmraycluster.cluster;

import com.hashicorp.cdktf.ITerraformDependable;
import dev.vllmraycluster.node.PartProps;
import dev.vllmraycluster.node.ProjectLayout;
import dev.vllmraycluster.spec.ClusterSpec;
import java.util.List;

/**
 * What a {@link GpuCluster} needs.
 *
 * @param cluster the cluster; validated by the construct ({@link dev.vllmraycluster.spec.SpecValidator})
 * @param layout where the host modules are ({@link ProjectLayout#current()} in this project)
 * @param after what every node's first steps run after, e.g. checks on the deploy machine
 */
public record GpuClusterProps(ClusterSpec cluster, ProjectLayout layout, List<ITerraformDependable> after)
    implements PartProps {
  public static Builder builder() {
    return new Builder();
  }

  public static final class Builder extends PartProps.Builder<Builder> {
    private Builder() {}

    public GpuClusterProps build() {
      return new GpuClusterProps(cluster(), layout(), after());
    }
  }
}
