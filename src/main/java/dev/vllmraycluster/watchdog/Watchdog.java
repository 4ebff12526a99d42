package dev.vllmraycluster.watchdog;

import com.hashicorp.cdktf.ITerraformDependable;
import dev.vllmraycluster.contract.HostContract;
import dev.vllmraycluster.contract.HostContract.Component;
import dev.vllmraycluster.contract.HostContract.Env;
import dev.vllmraycluster.node.GpuNode;
import dev.vllmraycluster.node.HostStep;
import dev.vllmraycluster.ray.RayArgs;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.spec.ClusterSpec.NodeSpec;
import dev.vllmraycluster.spec.ClusterSpec.WatchdogSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * The health watchdog on the head ({@code vrc-watchdog.timer}, {@code modules/watchdog}): every
 * {@code watchdog.interval_seconds} a real one-token chat completion through the API (a 200 from
 * {@code /health} proves nothing: vLLM issues #16259, #39863) and Ray's alive nodes and GPUs
 * against the stack's. After {@code watchdog.failures_before_restart} failed completions in a row
 * it restarts vLLM and says why in its journal, unless Ray lacks the GPUs vLLM's ranks need (then
 * it waits for the nodes, and says so). Its status is what {@code verify} reports.
 *
 * <p>Runs after vLLM (and goes before it at destroy); replaced when the cluster's nodes change
 * (what it expects).
 */
public class Watchdog extends HostStep {
  /**
   * @param head the head node (its scope)
   * @param id {@code watchdog}: the resource is {@code <head>_watchdog}
   */
  public Watchdog(GpuNode head, String id, WatchdogProps props) {
    super(head, id, props.layout(), props(head.spec(), props));
  }

  private static Props props(NodeSpec head, WatchdogProps p) {
    ClusterSpec cluster = p.cluster();
    WatchdogSpec w = cluster.watchdog();
    List<ITerraformDependable> after = new ArrayList<>(p.after());
    after.add(p.vllm().resource());
    return new Props(
        head,
        Component.WATCHDOG.module(),
        dev.vllmraycluster.node.Env.of(head, Component.WATCHDOG.module())
            .put(Env.VENV_PATH, cluster.software().venvPath())
            .put(Env.SERVICE_USER, HostContract.SERVICE_USER)
            .put(Env.RAY_ADDRESS, RayArgs.headAddress(cluster))
            .put(Env.RAY_AUTH_MODE, cluster.ray().authToken() == null ? "disabled" : "token")
            // vLLM itself, not the proxy in front of it: the watchdog watches vLLM (behind the
            // proxy, 127.0.0.1:backend_port, plain HTTP).
            .put(Env.API_PORT, cluster.vllm().vllmPort())
            .put(Env.SERVED_MODEL_NAME, cluster.model().servedModelName())
            .put(Env.REQUIRE_API_KEY, cluster.vllm().apiKey() != null)
            .put(Env.VLLM_UNIT, HostContract.Units.VLLM + ".service")
            .put(Env.INTERVAL_SECONDS, w.intervalSeconds())
            .put(Env.FAILURES_BEFORE_RESTART, w.failuresBeforeRestart())
            .put(Env.PROBE_TIMEOUT_SECONDS, w.probeTimeoutSeconds())
            // A vLLM still loading is not counted as failing for as long as its own deploy waits.
            .put(Env.STARTUP_GRACE_SECONDS, cluster.vllm().readinessTimeoutSeconds())
            .put(Env.EXPECTED_NODES, cluster.nodeAddresses())
            .put(Env.EXPECTED_GPUS, cluster.totalGpus())
            .put(Env.REQUIRED_GPUS, cluster.vllm().gpusNeeded())
            .build(),
        List.of(),
        after,
        List.of(),
        List.of());
  }
}
