package dev.vllmraycluster.vllm;

import dev.vllmraycluster.node.HostStep;
import dev.vllmraycluster.node.ProjectLayout;
import dev.vllmraycluster.ray.RayNode;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.storage.ModelStore;
import java.util.List;
import java.util.Objects;

/**
 * What a {@link VllmService} needs: it starts after, and restarts with, everything it serves on.
 *
 * @param cluster the validated cluster
 * @param layout where the host modules are
 * @param bootstrap the head's bootstrap (vLLM runs from its venv)
 * @param modelStores every node's model store (the model must be in place on each)
 * @param rayNodes the Ray head and every worker (vLLM places its ranks on them)
 */
public record VllmServiceProps(
    ClusterSpec cluster, ProjectLayout layout, HostStep bootstrap, List<ModelStore> modelStores, List<RayNode> rayNodes) {
  public VllmServiceProps {
    Objects.requireNonNull(cluster, "cluster");
    Objects.requireNonNull(layout, "layout");
    Objects.requireNonNull(bootstrap, "bootstrap");
    modelStores = modelStores == null ? List.of() : List.copyOf(modelStores);
    rayNodes = rayNodes == null ? List.of() : List.copyOf(rayNodes);
  }

  public static Builder builder() {
    return new Builder();
  }

  public static final class Builder {
    private ClusterSpec cluster;
    private ProjectLayout layout;
    private HostStep bootstrap;
    private List<ModelStore> modelStores;
    private List<RayNode> rayNodes;

    private Builder() {}

    public Builder cluster(ClusterSpec v) {
      cluster = v;
      return this;
    }

    public Builder layout(ProjectLayout v) {
      layout = v;
      return this;
    }

    public Builder bootstrap(HostStep v) {
      bootstrap = v;
      return this;
    }

    public Builder modelStores(List<ModelStore> v) {
      modelStores = v;
      return this;
    }

    public Builder rayNodes(List<RayNode> v) {
      rayNodes = v;
      return this;
    }

    public VllmServiceProps build() {
      return new VllmServiceProps(cluster, layout, bootstrap, modelStores, rayNodes);
    }
  }
}
