package dev.vllmraycluster.node;

import com.hashicorp.cdktf.ITerraformDependable;
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
  /** The host's download cache of uv and pip (and uv itself), kept across bootstrap replacements. */
  public static final String WHEEL_CACHE_DIR = HostContract.WHEEL_CACHE_DIR;
  /** The uv release the bootstrap installs from the stack's package source. */
  public static final String UV_VERSION = "0.13.9";
  /** The service user's persistent caches (vLLM's compile cache and friends), on every node. */
  public static final String SERVICE_CACHE_DIR = HostContract.SERVICE_CACHE_DIR;

  private final NodeSpec spec;
  private final HostStep wheelCache;
  private final GpuNodeProps props;
  private final HostStep bootstrap;
  private HostStep sweep;

  /**
   * @param id the node's name ({@code props.node().name()}): resource names start with it
   */
  public GpuNode(Construct scope, String id, GpuNodeProps props) {
    super(scope, id);
    this.spec = props.node();
    this.props = props;
    this.wheelCache = new WheelCache(this, Component.WHEEL_CACHE.stepId(), props);
    this.bootstrap = new Bootstrap(this, Component.BOOTSTRAP.stepId(), props, wheelCache);
  }

  public NodeSpec spec() {
    return spec;
  }

  /**
   * Adds the node's sweep ({@code <node>_sweep}), after the node's foundation (its bootstrap and
   * {@code foundation}, e.g. its firewall): every step built in this node's scope from then on
   * (model store, Ray, vLLM, ...) depends on it, so a destroy removes them first, then the sweep,
   * then the foundation. At destroy the sweep runs the remove.sh of every component still
   * installed, in teardown order: OpenTofu runs no destroy-time provisioner of a tainted step, and
   * this is where its leftovers go, while the venv and the service user are still there; then it
   * removes any unit or secret of ours left behind ({@code modules/sweep}).
   */
  public HostStep addSweep(List<HostStep> foundation) {
    if (sweep != null) {
      throw new IllegalStateException("node " + spec.name() + " has its sweep already");
    }
    List<ITerraformDependable> after = new ArrayList<>(props.after());
    after.add(bootstrap.resource());
    foundation.forEach(f -> after.add(f.resource()));
    sweep = new Sweep(this, Component.SWEEP.stepId(), props, after);
    return sweep;
  }

  /** The node's sweep, or null before {@link #addSweep}. */
  public HostStep sweep() {
    return sweep;
  }

  public HostStep bootstrap() {
    return bootstrap;
  }

  public HostStep wheelCache() {
    return wheelCache;
  }

  /**
   * The wheel cache step ({@code modules/wheel-cache}): its own resource, so that a bootstrap
   * replaced for another Ray or vLLM version reuses the wheels this host already downloaded; it
   * is removed only when the node is destroyed.
   */
  static final class WheelCache extends HostStep {
    WheelCache(Construct scope, String id, GpuNodeProps p) {
      super(scope, id, p.layout(), new Props(p.node(), Component.WHEEL_CACHE.module(),
          Env.of(p.node(), Component.WHEEL_CACHE.module()).put(HostContract.Env.CACHE_DIR, WHEEL_CACHE_DIR).build(),
          List.of(), p.after(), List.of(), List.of()));
    }
  }

  /**
   * The sweep step: {@code modules/sweep/sweep.sh} at destroy only. It has no triggers, so it is
   * never replaced (a replacement would sweep a running node); its input (the connection, the
   * teardown order) changes in place.
   */
  static final class Sweep extends HostStep {
    Sweep(Construct scope, String id, GpuNodeProps p, List<ITerraformDependable> after) {
      super(scope, id, p.layout(), props(p, after), Mode.AT_DESTROY);
    }

    private static Props props(GpuNodeProps p, List<ITerraformDependable> after) {
      List<String> order = Component.teardownOrder().stream().map(Component::module).toList();
      Env env = Env.of(p.node(), Component.SWEEP.module()).put(HostContract.Env.SWEEP_ORDER, order);
      return new Props(p.node(), Component.SWEEP.module(), env.build(), List.of(), after, List.of(), List.of());
    }
  }

  /** The bootstrap step: {@code modules/bootstrap}. */
  static final class Bootstrap extends HostStep {
    Bootstrap(Construct scope, String id, GpuNodeProps p, HostStep wheelCache) {
      super(scope, id, p.layout(), props(p, wheelCache));
    }

    private static Props props(GpuNodeProps p, HostStep wheelCache) {
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
          .put(HostContract.Env.SERVICE_USER, SERVICE_USER)
          .put(HostContract.Env.INSTALLER, s.installer().name().toLowerCase(Locale.ROOT))
          .put(HostContract.Env.INSTALLER_UV_VERSION, UV_VERSION)
          .put(HostContract.Env.WHEEL_CACHE_DIR, WHEEL_CACHE_DIR);
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
      List<com.hashicorp.cdktf.ITerraformDependable> after = new ArrayList<>(p.after());
      after.add(wheelCache.resource());
      return new Props(node, Component.BOOTSTRAP.module(), env.build(), List.of(), after, List.of(), uploads);
    }
  }
}
