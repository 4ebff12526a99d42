package dev.vllmraycluster.node;

import com.hashicorp.cdktf.ITerraformDependable;
import dev.vllmraycluster.spec.ClusterSpec;
import java.util.List;
import java.util.Objects;

/**
 * What every part of a cluster is built from: the validated cluster, where the host modules are,
 * and what it runs after (order only). Each construct's props add the parts it depends on by
 * name ({@code bootstrap}, {@code firewall}, {@code head}, ...).
 */
public interface PartProps {
  /** The validated cluster the part belongs to. */
  ClusterSpec cluster();

  /** Where the host modules are. */
  ProjectLayout layout();

  /** What the part runs after (order only), e.g. the checks on the deploy machine. */
  List<ITerraformDependable> after();

  /**
   * The setters every props builder shares.
   *
   * @param <B> the concrete builder
   */
  abstract class Builder<B extends Builder<B>> {
    private ClusterSpec cluster;
    private ProjectLayout layout;
    private List<ITerraformDependable> after;

    protected Builder() {}

    /** The validated cluster. Required. */
    public B cluster(ClusterSpec v) {
      cluster = v;
      return self();
    }

    /** @default {@link ProjectLayout#current()} */
    public B layout(ProjectLayout v) {
      layout = v;
      return self();
    }

    /** @default nothing: only the dependencies the props name */
    public B after(List<ITerraformDependable> v) {
      after = v;
      return self();
    }

    protected ClusterSpec cluster() {
      return Objects.requireNonNull(cluster, "props need the cluster");
    }

    protected ProjectLayout layout() {
      return layout == null ? ProjectLayout.current() : layout;
    }

    protected List<ITerraformDependable> after() {
      return after == null ? List.of() : List.copyOf(after);
    }

    /** This builder, as the concrete type its setters return. */
    @SuppressWarnings("unchecked")
    protected B self() {
      return (B) this;
    }
  }
}
