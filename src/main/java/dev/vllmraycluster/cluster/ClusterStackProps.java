package dev.vllmraycluster.cluster;

import com.hashicorp.cdktf.ITerraformDependable;
import dev.vllmraycluster.node.PartProps;
import dev.vllmraycluster.node.ProjectLayout;
import dev.vllmraycluster.spec.ClusterSpec;
import java.util.List;
import java.util.function.Function;

/**
 * What a {@link ClusterStack} needs.
 *
 * @param cluster the cluster
 * @param layout where the host modules are
 * @param after what the cluster runs after besides the stack's own local checks
 * @param preflight whether {@code local_checks} runs preflight on every node before the first SSH
 *     step (the library's command line, staged beside {@code cdk.tf.json} with the cluster as a
 *     stack file; it needs Java 17 on the deploy machine)
 * @param secretValues where synth reads the secrets' values to fingerprint them ({@link
 *     SecretRotation}); never written anywhere
 */
public record ClusterStackProps(
    ClusterSpec cluster,
    ProjectLayout layout,
    List<ITerraformDependable> after,
    boolean preflight,
    Function<String, String> secretValues)
    implements PartProps {
  public static Builder builder() {
    return new Builder();
  }

  public static final class Builder extends PartProps.Builder<Builder> {
    private boolean preflight = true;
    private Function<String, String> secretValues;

    private Builder() {}

    /**
     * Whether the deploy runs preflight first; off, {@code local_checks} checks the secrets only.
     *
     * @default true: preflight on every node before any host changes
     */
    public Builder preflight(boolean v) {
      preflight = v;
      return this;
    }

    /**
     * Where synth reads the value of each secret variable ({@code TF_VAR_<name>}) to fingerprint
     * it ({@link SecretRotation}); a variable it returns null or empty for counts as not set.
     *
     * @default {@link DeployEnvironment#current()}: this process's environment, else that of the
     *     cdktf CLI process that runs synth (the deploy's)
     */
    public Builder secretValues(Function<String, String> v) {
      secretValues = v;
      return this;
    }

    public ClusterStackProps build() {
      return new ClusterStackProps(cluster(), layout(), after(), preflight,
          secretValues == null ? DeployEnvironment.current() : secretValues);
    }
  }
}
