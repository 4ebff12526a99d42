package dev.vllmraycluster.storage;

import com.hashicorp.cdktf.ITerraformDependable;
import dev.vllmraycluster.node.HostStep;
import dev.vllmraycluster.node.PartProps;
import dev.vllmraycluster.node.ProjectLayout;
import dev.vllmraycluster.spec.ClusterSpec;
import java.util.List;
import java.util.Objects;

/**
 * What a {@link ModelStore} needs.
 *
 * @param cluster the validated cluster (model and storage)
 * @param layout where the host modules are
 * @param after more to run after (order only)
 * @param bootstrap the node's bootstrap: the store runs after it (the fetch runs in the venv)
 * @param nfsServer the head's store this node mounts and is remounted with (an NFS client of the
 *     head's export); null for none
 */
public record ModelStoreProps(
    ClusterSpec cluster, ProjectLayout layout, List<ITerraformDependable> after, HostStep bootstrap, ModelStore nfsServer)
    implements PartProps {
  public ModelStoreProps {
    Objects.requireNonNull(bootstrap, "bootstrap");
  }

  public static Builder builder() {
    return new Builder();
  }

  public static final class Builder extends PartProps.Builder<Builder> {
    private HostStep bootstrap;
    private ModelStore nfsServer;

    private Builder() {}

    /** The node's bootstrap. Required. */
    public Builder bootstrap(HostStep v) {
      bootstrap = v;
      return this;
    }

    /** @default none (the head, a local copy, or an external NFS server) */
    public Builder nfsServer(ModelStore v) {
      nfsServer = v;
      return this;
    }

    public ModelStoreProps build() {
      return new ModelStoreProps(cluster(), layout(), after(), bootstrap, nfsServer);
    }
  }
}
