package dev.vllmraycluster.cluster;

import dev.vllmraycluster.node.ProjectLayout;
import dev.vllmraycluster.spec.ClusterSpec;
import java.nio.file.Path;
import java.util.Objects;

/**
 * What a {@link ClusterStack} needs.
 *
 * @param spec the cluster
 * @param layout where the host modules are
 * @param stackFile the stack file {@code spec} was loaded from: {@code local_checks} runs {@code
 *     bin/vllm-ray-cluster preflight} on it before the first SSH step; null for none (a spec
 *     built in Java: the local checks cover the secrets only)
 */
public record ClusterStackProps(ClusterSpec spec, ProjectLayout layout, Path stackFile) {
  public ClusterStackProps {
    Objects.requireNonNull(spec, "spec");
    Objects.requireNonNull(layout, "layout");
  }

  public static Builder builder() {
    return new Builder();
  }

  public static final class Builder {
    private ClusterSpec spec;
    private ProjectLayout layout;
    private Path stackFile;

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

    /** @default none: no preflight in {@code local_checks} */
    public Builder stackFile(Path v) {
      stackFile = v;
      return this;
    }

    public ClusterStackProps build() {
      return new ClusterStackProps(spec, layout == null ? ProjectLayout.current() : layout, stackFile);
    }
  }
}
