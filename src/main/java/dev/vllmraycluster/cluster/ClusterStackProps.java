package dev.vllmraycluster.cluster;

import com.hashicorp.cdktf.ITerraformDependable;
import dev.vllmraycluster.node.PartProps;
import dev.vllmraycluster.node.ProjectLayout;
import dev.vllmraycluster.spec.ClusterSpec;
import java.nio.file.Path;
import java.util.List;

/**
 * What a {@link ClusterStack} needs.
 *
 * @param cluster the cluster
 * @param layout where the host modules are
 * @param after what the cluster runs after besides the stack's own local checks
 * @param stackFile the stack file {@code cluster} was loaded from: {@code local_checks} runs {@code
 *     bin/vllm-ray-cluster preflight} on it before the first SSH step; null for none (a spec
 *     built in Java: the local checks cover the secrets only)
 */
public record ClusterStackProps(ClusterSpec cluster, ProjectLayout layout, List<ITerraformDependable> after, Path stackFile)
    implements PartProps {
  public static Builder builder() {
    return new Builder();
  }

  public static final class Builder extends PartProps.Builder<Builder> {
    private Path stackFile;

    private Builder() {}

    /** @default none: no preflight in {@code local_checks} */
    public Builder stackFile(Path v) {
      stackFile = v;
      return this;
    }

    public ClusterStackProps build() {
      return new ClusterStackProps(cluster(), layout(), after(), stackFile);
    }
  }
}
