package dev.vllmraycluster.status;

import dev.vllmraycluster.contract.HostContract;
import dev.vllmraycluster.contract.Shell;
import dev.vllmraycluster.node.GpuNode;
import dev.vllmraycluster.preflight.Probe;
import dev.vllmraycluster.preflight.VerifyProbes;
import dev.vllmraycluster.preflight.parse.GpuQuery;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.spec.ClusterSpec.NodeSpec;
import dev.vllmraycluster.spec.ClusterSpec.Role;
import dev.vllmraycluster.spec.ClusterSpec.StorageMode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The read-only commands status runs on each node over SSH. vLLM's {@code /metrics} is read twice,
 * {@link #METRICS_GAP_SECONDS} apart, for the token rate; everything else once.
 */
public final class StatusProbes {
  public static final String UNITS = "units";
  public static final String GPUS = "gpus";
  public static final String GPU_UTIL = "gpu-util";
  public static final String STORE = "model-store";
  public static final String RAY_NODES = "ray-nodes";
  public static final String HEALTH = "health";
  public static final String METRICS = "metrics";
  public static final String WATCHDOG = "watchdog";
  /** Separates the two reads of /metrics in the METRICS probe's output. */
  public static final String METRICS_SEPARATOR = "### vrc-status: second read";
  public static final int METRICS_GAP_SECONDS = 2;
  /** {@code nvidia-smi --query-gpu=index,utilization.gpu}: the utilisation preflight's query lacks. */
  public static final String GPU_UTIL_COMMAND = "nvidia-smi --query-gpu=index,utilization.gpu --format=csv,noheader,nounits";

  private StatusProbes() {}

  public static List<Probe> forNode(ClusterSpec spec, NodeSpec node) {
    List<Probe> p = new ArrayList<>();
    List<String> units = new ArrayList<>(VerifyProbes.units(spec, node));
    if (spec.monitoring().enabled()) {
      units.add(HostContract.Units.NODE_EXPORTER);
      if (node.name().equals(spec.monitoring().prometheusNodeOf(spec).name())) {
        units.add(HostContract.Units.PROMETHEUS);
      }
    }
    p.add(Probe.of(UNITS, "for u in " + String.join(" ", units) + "; do echo \"$u $(systemctl is-active $u 2>/dev/null)\"; done"));
    if (node.gpus() > 0) {
      p.add(Probe.of(GPUS, "command -v nvidia-smi >/dev/null 2>&1 || exit 127; " + GpuQuery.COMMAND));
      p.add(Probe.of(GPU_UTIL, "command -v nvidia-smi >/dev/null 2>&1 || exit 127; " + GPU_UTIL_COMMAND));
    }
    p.add(Probe.of(STORE, storeCommand(spec, node)));
    if (node.role() != Role.HEAD) {
      return p;
    }
    String asUser = "if [ \"$(id -u)\" = 0 ]; then r='runuser -u " + GpuNode.SERVICE_USER + " --'; else r='sudo -n -u "
        + GpuNode.SERVICE_USER + "'; fi; $r ";
    String auth = spec.ray().authToken() == null ? ""
        : "env RAY_AUTH_MODE=token RAY_AUTH_TOKEN_PATH=" + HostContract.SecretFiles.RAY_TOKEN_ON_HOST + " ";
    p.add(Probe.of(RAY_NODES, asUser + auth + Shell.quote(spec.software().venvPath() + "/bin/python") + " -c "
        + Shell.singleQuoted(rayNodesScript()) + " " + node.address() + ":" + spec.ray().gcsPort())
        .withTimeout(Duration.ofSeconds(60)));
    String base = apiBase(spec);
    p.add(Probe.of(HEALTH, "curl -sS -m 10 -o /dev/null -w '%{http_code}' " + base + "/health"));
    p.add(Probe.of(METRICS, "curl -sS -m 10 " + base + "/metrics && sleep " + METRICS_GAP_SECONDS + " && echo '"
        + METRICS_SEPARATOR + "' && curl -sS -m 10 " + base + "/metrics").withTimeout(Duration.ofSeconds(40)));
    p.add(Probe.of(WATCHDOG, "cat " + HostContract.WATCHDOG_STATUS + " 2>/dev/null || echo 'NO_WATCHDOG=1'"));
    return p;
  }

  /**
   * Where status reads vLLM from the head: behind the API proxy vLLM itself on 127.0.0.1 (its
   * /health and /metrics need no key there); without it, the head's cluster address and port.
   */
  static String apiBase(ClusterSpec spec) {
    if (Boolean.TRUE.equals(spec.vllm().proxy())) {
      return "http://127.0.0.1:" + spec.vllm().vllmPort();
    }
    return "http://" + spec.head().address() + ":" + spec.vllm().port();
  }

  /**
   * Prints {@code mounted=<0|1|-> ready=<0|1>}: the store's mount where the node mounts it, and
   * the model's completion marker readable by the service user; bounded (a hard NFS mount whose
   * server is gone blocks).
   */
  static String storeCommand(ClusterSpec spec, NodeSpec node) {
    StorageMode mode = spec.storage().mode();
    boolean mounts = mode == StorageMode.EXTERNAL_NFS || (mode == StorageMode.HEAD_NFS && node.role() != Role.HEAD);
    String mount = Shell.quote(spec.storage().mountPath());
    String marker = Shell.quote(spec.storage().modelPath(spec.model()) + "/.vrc-complete");
    String m = mounts ? "if timeout 10 mountpoint -q " + mount + "; then m=1; else m=0; fi; " : "m=-; ";
    return m + "if [ \"$(id -u)\" = 0 ]; then r='runuser -u " + GpuNode.SERVICE_USER + " --'; else r='sudo -n -u "
        + GpuNode.SERVICE_USER + "'; fi; if timeout 10 $r test -r " + marker + "; then r=1; else r=0; fi; echo \"mounted=$m ready=$r\"";
  }

  static String rayNodesScript() {
    try (InputStream in = StatusProbes.class.getResourceAsStream("ray_nodes.py")) {
      if (in == null) {
        throw new IllegalStateException("ray_nodes.py missing from the jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
