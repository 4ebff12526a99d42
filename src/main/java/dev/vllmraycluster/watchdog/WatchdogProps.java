package dev.vllmraycluster.watchdog;

import com.hashicorp.cdktf.ITerraformDependable;
import dev.vllmraycluster.node.PartProps;
import dev.vllmraycluster.node.ProjectLayout;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.vllm.VllmService;
import java.util.List;
import java.util.Objects;

/**
 * What a {@link Watchdog} needs: the vLLM service it watches (it runs after it, and goes before it
 * at destroy). Its settings are the cluster's {@code watchdog} section.
 *
 * @param cluster the validated cluster
 * @param layout where the host modules are
 * @param after more to run after (order only)
 * @param vllm the vLLM service on the head
 */
public record WatchdogProps(ClusterSpec cluster, ProjectLayout layout, List<ITerraformDependable> after, VllmService vllm)
    implements PartProps {
  public WatchdogProps {
    Objects.requireNonNull(vllm, "vllm");
  }

  public static Builder builder() {
    return new Builder();
  }

  public static final class Builder extends PartProps.Builder<Builder> {
    private VllmService vllm;

    private Builder() {}

    /** The vLLM service it watches. Required. */
    public Builder vllm(VllmService v) {
      vllm = v;
      return this;
    }

    public WatchdogProps build() {
      return new WatchdogProps(cluster(), layout(), after(), vllm);
    }
  }
}
