package dev.vllmraycluster.vllm;

import com.hashicorp.cdktf.ITerraformDependable;
import dev.vllmraycluster.node.HostStep;
import dev.vllmraycluster.node.PartProps;
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
 * @param after more to run after (order only)
 * @param bootstrap the head's bootstrap (vLLM runs from its venv)
 * @param modelStores every node's model store (the model must be in place on each)
 * @param rayNodes the Ray head and every worker (vLLM places its ranks on them)
 */
public record VllmServiceProps(
    ClusterSpec cluster, ProjectLayout layout, List<ITerraformDependable> after, HostStep bootstrap,
    List<ModelStore> modelStores, List<RayNode> rayNodes) implements PartProps {
  public VllmServiceProps {
    Objects.requireNonNull(bootstrap, "bootstrap");
    modelStores = modelStores == null ? List.of() : List.copyOf(modelStores);
    rayNodes = rayNodes == null ? List.of() : List.copyOf(rayNodes);
  }

  public static Builder builder() {
    return new Builder();
  }

  public static final class Builder extends PartProps.Builder<Builder> {
    private HostStep bootstrap;
    private List<ModelStore> modelStores;
    private List<RayNode> rayNodes;

    private Builder() {}

    /** The head's bootstrap. Required. */
    public Builder bootstrap(HostStep v) {
      bootstrap = v;
      return this;
    }

    /** Every node's model store. */
    public Builder modelStores(List<ModelStore> v) {
      modelStores = v;
      return this;
    }

    /** The Ray head and every worker. */
    public Builder rayNodes(List<RayNode> v) {
      rayNodes = v;
      return this;
    }

    public VllmServiceProps build() {
      return new VllmServiceProps(cluster(), layout(), after(), bootstrap, modelStores, rayNodes);
    }
  }
}
