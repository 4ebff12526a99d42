package dev.vllmraycluster.node;

import com.hashicorp.cdktf.ITerraformDependable;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.spec.ClusterSpec.NodeSpec;
import java.util.List;
import software.constructs.Construct;

/**
 * One GPU server reached over SSH: the group that holds every part running on it, and its
 * bootstrap (OS packages, the service user, the venv with the pinned Ray and vLLM).
 */
public class GpuNode extends Construct {
  /** The system user Ray and vLLM run as. */
  public static final String SERVICE_USER = "vllm-ray";

  private final NodeSpec spec;
  private final Bootstrap bootstrap;

  public GpuNode(
      Construct scope,
      ProjectLayout layout,
      ClusterSpec cluster,
      NodeSpec node,
      List<ITerraformDependable> after) {
    super(scope, node.name());
    this.spec = node;
    this.bootstrap = new Bootstrap(this, layout, cluster, node, after);
  }

  public NodeSpec spec() {
    return spec;
  }

  public HostStep bootstrap() {
    return bootstrap;
  }

  /** The bootstrap step: {@code modules/bootstrap}. */
  static final class Bootstrap extends HostStep {
    Bootstrap(
        Construct scope,
        ProjectLayout layout,
        ClusterSpec cluster,
        NodeSpec node,
        List<ITerraformDependable> after) {
      super(
          scope,
          "bootstrap",
          layout,
          new Props(
              node,
              "bootstrap",
              Env.of(node, "bootstrap")
                  .put("OS_FAMILY", cluster.software().osFamily().name().toLowerCase())
                  .put("PYTHON", cluster.software().python())
                  .put("VENV_PATH", cluster.software().venvPath())
                  .put("RAY_VERSION", cluster.software().rayVersion())
                  .put("VLLM_VERSION", cluster.software().vllmVersion())
                  .put("PIP_INDEX_URL", cluster.software().pipIndexUrl())
                  .put("PIP_FIND_LINKS", cluster.software().pipFindLinks())
                  .put("PIP_TRUSTED_HOST", cluster.software().pipTrustedHost())
                  .put("SERVICE_USER", SERVICE_USER)
                  .build(),
              List.of(),
              after,
              List.of(),
              List.of()));
    }
  }
}
