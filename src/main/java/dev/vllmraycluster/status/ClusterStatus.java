package dev.vllmraycluster.status;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vllmraycluster.preflight.NodeFacts;
import dev.vllmraycluster.preflight.parse.GpuQuery;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.spec.ClusterSpec.NodeSpec;
import dev.vllmraycluster.spec.ClusterSpec.Role;
import dev.vllmraycluster.ssh.CommandResult;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * The state of a deployed cluster, evaluated from the facts status gathered (pure: tested on
 * captured outputs). Degraded when a node is unreachable, a unit of ours is not active, Ray lacks
 * a node, vLLM's {@code /health} is not 200, the watchdog's canary failed, or a model store is not
 * ready; each reason is listed.
 */
public record ClusterStatus(String stack, List<NodeStatus> nodes, ApiStatus api, WatchdogStatus watchdog,
    List<String> problems) {

  public boolean degraded() {
    return !problems.isEmpty();
  }

  /** One node. Numbers are null when unknown (not measured, or no GPU to measure). */
  public record NodeStatus(String name, String address, boolean reachable, String sshError, Map<String, String> units,
      String ray, Double gpusUsed, Double gpusTotal, int gpusDeclared, List<Gpu> gpus, String gpuNote,
      String modelStore) {}

  /** One GPU as nvidia-smi reports it. */
  public record Gpu(int index, String name, Integer utilizationPercent, long memoryUsedMiB, long memoryTotalMiB) {}

  /** The API, as seen from the head. */
  public record ApiStatus(String health, Double runningRequests, Double waitingRequests, Double kvCacheUsage,
      Double generationTokensPerSecond, Double promptTokensPerSecond) {}

  /** The watchdog's last probe, or {@code present=false} when the head has none. */
  public record WatchdogStatus(boolean present, String state, Integer restarts, Integer failures, Double canaryLatencySeconds,
      Long lastProbeAgeSeconds, String detail) {}

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * @param nowEpochSeconds this machine's time, to age the watchdog's last probe
   */
  public static ClusterStatus evaluate(ClusterSpec spec, Map<String, NodeFacts> facts, long nowEpochSeconds) {
    List<String> problems = new ArrayList<>();
    NodeFacts headFacts = facts.get(spec.head().name());
    Map<String, JsonNode> ray = rayNodes(headFacts, problems);
    List<NodeStatus> nodes = new ArrayList<>();
    for (NodeSpec n : spec.nodes()) {
      nodes.add(node(spec, n, facts.get(n.name()), ray, problems));
    }
    ApiStatus api = api(headFacts, problems);
    WatchdogStatus watchdog = watchdog(headFacts, nowEpochSeconds, problems);
    return new ClusterStatus(spec.name(), nodes, api, watchdog, problems);
  }

  private static Map<String, JsonNode> rayNodes(NodeFacts head, List<String> problems) {
    Map<String, JsonNode> byIp = new HashMap<>();
    if (head == null || !head.reachable()) {
      return null;
    }
    CommandResult r = head.result(StatusProbes.RAY_NODES);
    if (r == null) {
      return null;
    }
    for (String line : r.stdout().split("\n")) {
      if (line.isBlank()) {
        continue;
      }
      try {
        JsonNode n = JSON.readTree(line);
        if (n.has("error")) {
          problems.add("Ray: the GCS on the head does not answer: " + n.get("error").asText());
          return null;
        }
        // A node that joined again has a dead entry too: an alive one wins.
        JsonNode before = byIp.get(n.path("ip").asText());
        if (before == null || !"ALIVE".equals(before.path("state").asText())) {
          byIp.put(n.path("ip").asText(), n);
        }
      } catch (IOException e) {
        // not a line of ours (a warning Ray printed): skip it
      }
    }
    if (byIp.isEmpty()) {
      problems.add("Ray: no answer from the GCS on the head (" + r.brief() + ")");
      return null;
    }
    return byIp;
  }

  private static NodeStatus node(ClusterSpec spec, NodeSpec n, NodeFacts f, Map<String, JsonNode> ray, List<String> problems) {
    if (f == null || !f.reachable()) {
      String why = f == null ? "not checked" : f.sshError();
      problems.add(n.name() + ": unreachable over SSH (" + why + ")");
      return new NodeStatus(n.name(), n.address(), false, why, Map.of(), rayState(n, ray), null, null, n.gpus(),
          List.of(), null, "unknown");
    }
    Map<String, String> units = new LinkedHashMap<>();
    CommandResult u = f.result(StatusProbes.UNITS);
    if (u != null) {
      for (String line : u.stdout().split("\n")) {
        String[] w = line.strip().split("\\s+");
        if (w.length == 2) {
          units.put(w[0], w[1]);
        } else if (w.length == 1 && !w[0].isEmpty()) {
          units.put(w[0], "unknown");
        }
      }
    }
    units.forEach((unit, state) -> {
      if (!state.equals("active")) {
        problems.add(n.name() + ": " + unit + " is " + state);
      }
    });
    String rayState = rayState(n, ray);
    Double used = null;
    Double total = null;
    JsonNode rn = ray == null ? null : ray.get(n.address());
    if (rn != null) {
      total = rn.path("gpu_total").isNumber() ? rn.path("gpu_total").asDouble() : null;
      used = rn.path("gpu_used").isNumber() ? rn.path("gpu_used").asDouble() : null;
    }
    if (ray != null && !"alive".equals(rayState)) {
      problems.add(n.name() + ": Ray is " + rayState + " (the cluster lacks its " + n.gpus() + " GPU(s))");
    }
    List<Gpu> gpus = new ArrayList<>();
    String gpuNote = null;
    if (n.gpus() > 0) {
      CommandResult q = f.result(StatusProbes.GPUS);
      if (q == null || q.exitCode() == 127) {
        gpuNote = spec.testing().logicalGpus() ? "logical GPUs (no nvidia-smi)" : "nvidia-smi not found";
        if (!spec.testing().logicalGpus()) {
          problems.add(n.name() + ": nvidia-smi not found but the stack declares " + n.gpus() + " GPU(s)");
        }
      } else if (!q.ok()) {
        gpuNote = "nvidia-smi failed: " + q.brief();
        problems.add(n.name() + ": nvidia-smi failed (" + q.brief() + ")");
      } else {
        Map<Integer, Integer> util = utilization(f.result(StatusProbes.GPU_UTIL));
        for (GpuQuery.Gpu g : GpuQuery.parse(q.stdout())) {
          gpus.add(new Gpu(g.index(), g.name(), util.get(g.index()), g.memoryUsedMiB(), g.memoryTotalMiB()));
        }
      }
    }
    String store = store(f.result(StatusProbes.STORE));
    if (!store.equals("ready")) {
      problems.add(n.name() + ": model store " + store);
    }
    return new NodeStatus(n.name(), n.address(), true, null, units, rayState, used, total, n.gpus(), gpus, gpuNote, store);
  }

  private static String rayState(NodeSpec n, Map<String, JsonNode> ray) {
    if (ray == null) {
      return "unknown";
    }
    JsonNode rn = ray.get(n.address());
    if (rn == null) {
      return "absent";
    }
    return "ALIVE".equals(rn.path("state").asText()) ? "alive" : "dead";
  }

  /** {@code index, utilization} lines; an unreadable line is left out. */
  static Map<Integer, Integer> utilization(CommandResult r) {
    Map<Integer, Integer> out = new HashMap<>();
    if (r == null || !r.ok()) {
      return out;
    }
    for (String line : r.stdout().split("\n")) {
      String[] f = line.split(",");
      if (f.length == 2) {
        try {
          out.put(Integer.parseInt(f[0].strip()), Integer.parseInt(f[1].strip()));
        } catch (NumberFormatException e) {
          // "[N/A]": not reported
        }
      }
    }
    return out;
  }

  static String store(CommandResult r) {
    if (r == null || !r.ok()) {
      return "unknown (" + NodeFacts.why(r) + ")";
    }
    String out = r.stdout().strip();
    if (out.contains("mounted=0")) {
      return "not mounted";
    }
    return out.contains("ready=1") ? "ready" : "not ready (the model's .vrc-complete is missing or unreadable)";
  }

  private static ApiStatus api(NodeFacts head, List<String> problems) {
    if (head == null || !head.reachable()) {
      return new ApiStatus("unknown (head unreachable)", null, null, null, null, null);
    }
    CommandResult h = head.result(StatusProbes.HEALTH);
    String health = h == null ? "not checked" : h.stdout().strip();
    if (!"200".equals(health)) {
      problems.add("API: /health answered " + (health.isEmpty() ? "nothing (" + (h == null ? "" : h.brief()) + ")" : health));
    }
    CommandResult m = head.result(StatusProbes.METRICS);
    if (m == null || !m.ok()) {
      return new ApiStatus(health, null, null, null, null, null);
    }
    String[] reads = m.stdout().split(StatusProbes.METRICS_SEPARATOR, 2);
    List<PromText.Sample> first = PromText.parse(reads[0]);
    List<PromText.Sample> second = reads.length > 1 ? PromText.parse(reads[1]) : first;
    return new ApiStatus(health,
        value(PromText.sum(second, "vllm:num_requests_running")),
        value(PromText.sum(second, "vllm:num_requests_waiting")),
        value(PromText.max(second, "vllm:kv_cache_usage_perc")),
        rate(first, second, "vllm:generation_tokens_total"),
        rate(first, second, "vllm:prompt_tokens_total"));
  }

  private static Double value(OptionalDouble d) {
    return d.isPresent() ? d.getAsDouble() : null;
  }

  private static Double rate(List<PromText.Sample> first, List<PromText.Sample> second, String counter) {
    OptionalDouble a = PromText.sum(first, counter);
    OptionalDouble b = PromText.sum(second, counter);
    if (a.isEmpty() || b.isEmpty()) {
      return null;
    }
    return Math.max(0, b.getAsDouble() - a.getAsDouble()) / StatusProbes.METRICS_GAP_SECONDS;
  }

  private static WatchdogStatus watchdog(NodeFacts head, long now, List<String> problems) {
    CommandResult r = head == null || !head.reachable() ? null : head.result(StatusProbes.WATCHDOG);
    if (r == null || r.stdout().contains("NO_WATCHDOG=1")) {
      return new WatchdogStatus(false, null, null, null, null, null, null);
    }
    Map<String, String> s = new HashMap<>();
    for (String line : r.stdout().split("\n")) {
      int eq = line.indexOf('=');
      if (eq > 0) {
        s.put(line.substring(0, eq), line.substring(eq + 1).strip());
      }
    }
    String state = s.getOrDefault("STATE", "unknown");
    Long last = longOf(s.get("LAST_PROBE"));
    Long lastOk = longOf(s.get("LAST_OK"));
    Double latency = null;
    java.util.regex.Matcher lm = java.util.regex.Pattern.compile("completion: HTTP 200 in (\\d+) ms").matcher(s.getOrDefault("DETAIL", ""));
    if (lm.find() && last != null && last.equals(lastOk)) {
      latency = Integer.parseInt(lm.group(1)) / 1000.0;
    }
    if (state.equals("failing") || state.equals("restarted") || state.equals("waiting-for-ray")) {
      problems.add("watchdog: " + state + ": " + s.getOrDefault("DETAIL", ""));
    }
    return new WatchdogStatus(true, state, intOf(s.get("RESTARTS")), intOf(s.get("FAILURES")), latency,
        last == null ? null : now - last, s.get("DETAIL"));
  }

  private static Long longOf(String v) {
    try {
      return v == null || v.isEmpty() ? null : Long.parseLong(v);
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static Integer intOf(String v) {
    Long l = longOf(v);
    return l == null ? null : l.intValue();
  }

  /** For {@code Role} checks in renderers. */
  static boolean isHead(NodeSpec n) {
    return n.role() == Role.HEAD;
  }
}
