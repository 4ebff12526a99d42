package dev.vllmraycluster.status;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vllmraycluster.status.ClusterStatus.ApiStatus;
import dev.vllmraycluster.status.ClusterStatus.Gpu;
import dev.vllmraycluster.status.ClusterStatus.NodeStatus;
import dev.vllmraycluster.status.ClusterStatus.WatchdogStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The status screen as a table, or as JSON (one object; one per line with --watch). */
public final class StatusRenderer {
  private static final ObjectMapper JSON = new ObjectMapper().disable(SerializationFeature.INDENT_OUTPUT);

  private StatusRenderer() {}

  public static String table(ClusterStatus s) {
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"NODE", "ADDRESS", "SSH", "RAY", "GPUS USED", "GPU UTIL", "GPU MEMORY", "MODEL STORE", "UNITS"});
    for (NodeStatus n : s.nodes()) {
      rows.add(new String[] {n.name(), n.address(), n.reachable() ? "ok" : "FAILED", n.ray(), gpusUsed(n), gpuUtil(n),
          gpuMemory(n), n.modelStore(), units(n.units())});
    }
    int[] w = new int[rows.get(0).length];
    for (String[] r : rows) {
      for (int i = 0; i < r.length; i++) {
        w[i] = Math.max(w[i], r[i].length());
      }
    }
    StringBuilder out = new StringBuilder();
    for (String[] r : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < r.length; i++) {
        line.append(i == r.length - 1 ? r[i] : pad(r[i], w[i] + 2));
      }
      out.append(line.toString().stripTrailing()).append('\n');
    }
    for (NodeStatus n : s.nodes()) {
      if (!n.reachable()) {
        out.append(n.name()).append(": ").append(n.sshError()).append('\n');
      }
    }
    out.append("API       ").append(api(s.api())).append('\n');
    out.append("WATCHDOG  ").append(watchdog(s.watchdog())).append('\n');
    if (s.degraded()) {
      out.append("status ").append(s.stack()).append(": DEGRADED (").append(s.problems().size()).append(" problem(s))\n");
      for (String p : s.problems()) {
        out.append("  - ").append(p).append('\n');
      }
    } else {
      out.append("status ").append(s.stack()).append(": healthy\n");
    }
    return out.toString();
  }

  static String gpusUsed(NodeStatus n) {
    if (n.gpusTotal() == null) {
      return n.gpusDeclared() == 0 ? "-" : "?/" + n.gpusDeclared();
    }
    return num(n.gpusUsed()) + "/" + num(n.gpusTotal());
  }

  static String gpuUtil(NodeStatus n) {
    if (n.gpus().isEmpty()) {
      return n.gpusDeclared() == 0 ? "-" : "n/a";
    }
    List<String> u = new ArrayList<>();
    for (Gpu g : n.gpus()) {
      u.add(g.utilizationPercent() == null ? "?" : g.utilizationPercent() + "%");
    }
    return String.join(" ", u);
  }

  static String gpuMemory(NodeStatus n) {
    if (n.gpus().isEmpty()) {
      return n.gpuNote() == null ? "-" : n.gpuNote();
    }
    long used = 0;
    long total = 0;
    for (Gpu g : n.gpus()) {
      used += Math.max(0, g.memoryUsedMiB());
      total += Math.max(0, g.memoryTotalMiB());
    }
    return String.format(Locale.ROOT, "%.1f/%.1f GiB", used / 1024.0, total / 1024.0);
  }

  private static String units(Map<String, String> units) {
    if (units.isEmpty()) {
      return "-";
    }
    List<String> bad = new ArrayList<>();
    units.forEach((u, st) -> {
      if (!st.equals("active")) {
        bad.add(u + " " + st);
      }
    });
    return bad.isEmpty() ? units.size() + " active" : String.join(", ", bad);
  }

  static String api(ApiStatus a) {
    return "health " + a.health()
        + ", running " + num(a.runningRequests()) + ", waiting " + num(a.waitingRequests())
        + ", KV cache " + (a.kvCacheUsage() == null ? "?" : String.format(Locale.ROOT, "%.1f %%", 100 * a.kvCacheUsage()))
        + ", " + (a.generationTokensPerSecond() == null ? "?" : String.format(Locale.ROOT, "%.1f", a.generationTokensPerSecond()))
        + " tokens/s generated (" + (a.promptTokensPerSecond() == null ? "?" : String.format(Locale.ROOT, "%.1f", a.promptTokensPerSecond()))
        + " prompt)";
  }

  static String watchdog(WatchdogStatus w) {
    if (!w.present()) {
      return "none on the head (no watchdog status)";
    }
    return "state " + w.state() + ", restarts " + (w.restarts() == null ? "?" : w.restarts())
        + ", canary " + (w.canaryLatencySeconds() == null ? "failed or not run" : Math.round(w.canaryLatencySeconds() * 1000) + " ms")
        + ", last probe " + (w.lastProbeAgeSeconds() == null ? "never" : w.lastProbeAgeSeconds() + " s ago");
  }

  private static String num(Double d) {
    if (d == null) {
      return "?";
    }
    return d == Math.rint(d) ? String.valueOf(d.longValue()) : String.format(Locale.ROOT, "%.1f", d);
  }

  private static String pad(String s, int n) {
    return s.length() >= n ? s : s + " ".repeat(n - s.length());
  }

  public static String json(ClusterStatus s) {
    ObjectNode root = JSON.createObjectNode();
    root.put("command", "status");
    root.put("stack", s.stack());
    root.put("degraded", s.degraded());
    root.set("problems", JSON.valueToTree(s.problems()));
    root.set("nodes", JSON.valueToTree(s.nodes()));
    root.set("api", JSON.valueToTree(s.api()));
    root.set("watchdog", JSON.valueToTree(s.watchdog()));
    try {
      return JSON.writeValueAsString(root) + "\n";
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
