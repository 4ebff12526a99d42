package dev.vllmraycluster.preflight.check;

import dev.vllmraycluster.preflight.Context;
import dev.vllmraycluster.preflight.NodeCheck;
import dev.vllmraycluster.preflight.NodeFacts;
import dev.vllmraycluster.preflight.Row;
import dev.vllmraycluster.preflight.VerifyProbes;
import dev.vllmraycluster.spec.ClusterSpec.Role;
import dev.vllmraycluster.spec.ClusterSpec.WatchdogSpec;
import dev.vllmraycluster.ssh.CommandResult;
import java.util.HashMap;
import java.util.Map;

/**
 * Verify: the watchdog on the head runs and what its last probe found: its state, how many times
 * it restarted vLLM and why the last time.
 */
public final class WatchdogCheck extends NodeCheck {
  @Override
  public String name() {
    return "watchdog";
  }

  @Override
  public String summary() {
    return "the head's watchdog: timer active, last probe recent, its state and restarts";
  }

  @Override
  protected Row check(Context ctx, NodeFacts f) {
    WatchdogSpec w = ctx.spec().watchdog();
    if (f.node().role() != Role.HEAD || !w.enabled()) {
      return null;
    }
    CommandResult r = f.result(VerifyProbes.WATCHDOG);
    if (r == null) {
      return fail(f, "not run", "run systemctl status vrc-watchdog.timer on " + f.node().name());
    }
    String[] lines = r.stdout().split("\n", -1);
    String timer = lines.length > 0 ? lines[0].strip() : "";
    Map<String, String> status = new HashMap<>();
    for (int i = 1; i < lines.length; i++) {
      int eq = lines[i].indexOf('=');
      if (eq > 0) {
        status.put(lines[i].substring(0, eq), lines[i].substring(eq + 1).strip());
      }
    }
    String fixDeploy = "cdktf deploy again to reinstall it; its journal: journalctl -u vrc-watchdog -n 50 on " + f.node().name();
    if (!timer.equals("active")) {
      return fail(f, "vrc-watchdog.timer is " + (timer.isEmpty() ? "unknown" : timer) + ": nothing restarts a vLLM that stops answering", fixDeploy);
    }
    String state = status.get("STATE");
    if (state == null) {
      return warn(f, "no probe yet (the timer runs every " + w.intervalSeconds() + " s)", "run verify again in a minute");
    }
    long now = number(status.get("NOW"));
    // What the head runs (its env), which the stack may have changed since.
    long interval = status.containsKey("INTERVAL_SECONDS") ? number(status.get("INTERVAL_SECONDS")) : w.intervalSeconds();
    long last = number(status.get("LAST_PROBE"));
    long age = now - last;
    int restarts = (int) number(status.get("RESTARTS"));
    StringBuilder text = new StringBuilder(state).append(": ").append(status.getOrDefault("DETAIL", ""));
    text.append("; ").append(restarts).append(restarts == 1 ? " restart" : " restarts").append(" of vLLM");
    long lastRestart = number(status.get("LAST_RESTART"));
    if (restarts > 0 && lastRestart > 0) {
      text.append(", the last ").append(Math.max(0, now - lastRestart)).append(" s ago: ").append(status.getOrDefault("LAST_RESTART_REASON", ""));
    }
    text.append(" (probe ").append(Math.max(0, age)).append(" s ago, every ").append(interval).append(" s)");
    if (age > 3L * interval + w.probeTimeoutSeconds() + 60) {
      return fail(f, "last probe " + age + " s ago: the watchdog is not probing; " + text, fixDeploy);
    }
    return switch (state) {
      case "ok", "restarted", "starting", "paused" -> ok(f, text.toString());
      case "degraded" -> warn(f, text.toString(), "vLLM answers, but a declared node or GPU is missing from Ray: see the ray row");
      default -> fail(f, text.toString(), "see why: journalctl -u vrc-watchdog -u vrc-vllm -n 80 on " + f.node().name());
    };
  }

  private static long number(String s) {
    try {
      return s == null || s.isBlank() ? 0 : Long.parseLong(s.strip());
    } catch (NumberFormatException e) {
      return 0;
    }
  }
}
