package dev.vllmraycluster.node;

import dev.vllmraycluster.contract.HostContract;
import dev.vllmraycluster.contract.HostContract.Component;
import dev.vllmraycluster.spec.ClusterSpec.NodeSpec;
import dev.vllmraycluster.spec.ClusterSpec.SoftwareSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import software.constructs.Construct;

/**
 * One GPU server reached over SSH: the group that holds every part running on it, and its
 * bootstrap (OS packages, the service user, the venv with the pinned Ray and vLLM). Its id is the
 * node's name: it is the first half of every resource name on the node ({@code head_bootstrap}).
 */
public class GpuNode extends Construct {
  /** The system user Ray and vLLM run as. */
  public static final String SERVICE_USER = HostContract.SERVICE_USER;

  private final NodeSpec spec;
  private final HostStep bootstrap;

  /**
   * @param id the node's name ({@code props.node().name()}): resource names start with it
   */
  public GpuNode(Construct scope, String id, GpuNodeProps props) {
    super(scope, id);
    this.spec = props.node();
    this.bootstrap = new Bootstrap(this, Component.BOOTSTRAP.stepId(), props);
  }

  public NodeSpec spec() {
    return spec;
  }

  public HostStep bootstrap() {
    return bootstrap;
  }

  /** The bootstrap step: {@code modules/bootstrap}. */
  static final class Bootstrap extends HostStep {
    Bootstrap(Construct scope, String id, GpuNodeProps p) {
      super(scope, id, p.layout(), props(p));
    }

    private static Props props(GpuNodeProps p) {
      SoftwareSpec s = p.cluster().software();
      NodeSpec node = p.node();
      Env env = Env.of(node, Component.BOOTSTRAP.module())
          .put(HostContract.Env.OS_FAMILY, s.osFamily().name().toLowerCase(Locale.ROOT))
          .put(HostContract.Env.PYTHON, s.python())
          .put(HostContract.Env.VENV_PATH, s.venvPath())
          .put(HostContract.Env.RAY_VERSION, s.rayVersion())
          .put(HostContract.Env.VLLM_VERSION, s.vllmVersion())
          .put(HostContract.Env.PIP_INDEX_URL, s.pipIndexUrl())
          .put(HostContract.Env.PIP_FIND_LINKS, s.pipFindLinks())
          .put(HostContract.Env.PIP_TRUSTED_HOST, s.pipTrustedHost())
          .put(HostContract.Env.SERVICE_USER, SERVICE_USER);
      // Supply-chain switches: written only when set, so that a stack without them keeps its
      // digests (the script's defaults are the secure ones: wheels only, no lock, no credentials).
      List<Upload> uploads = new ArrayList<>();
      if (s.allowSourceBuilds()) {
        env.put(HostContract.Env.PIP_ALLOW_SOURCE_BUILDS, true);
      }
      if (s.requirementsLock() != null) {
        env.put(HostContract.Env.PIP_REQUIREMENTS_LOCK, HostContract.SecretFiles.REQUIREMENTS_LOCK);
        Path lock = Path.of(s.requirementsLock());
        uploads.add(Upload.file(HostContract.SecretFiles.REQUIREMENTS_LOCK, lock.toString(), ProjectLayout.fileDigest(lock)));
      }
      if (s.pipCredentials() != null) {
        env.put(HostContract.Env.PIP_CREDENTIALS, HostContract.SecretFiles.PIP_CREDENTIALS);
        uploads.add(Upload.secretContent(HostContract.SecretFiles.PIP_CREDENTIALS,
            "${var." + s.pipCredentials().variableName() + "}"));
      }
      return new Props(node, Component.BOOTSTRAP.module(), env.build(), List.of(), p.after(), List.of(), uploads);
    }
  }
}
