package dev.vllmraycluster.preflight.check;

import dev.vllmraycluster.preflight.Context;
import dev.vllmraycluster.preflight.Gatherer;
import dev.vllmraycluster.preflight.NodeCheck;
import dev.vllmraycluster.preflight.NodeFacts;
import dev.vllmraycluster.preflight.Row;
import dev.vllmraycluster.preflight.Thresholds;
import dev.vllmraycluster.ssh.CommandResult;

/** The node's clock against this machine's (half the round trip is the measurement's error). */
public final class ClockCheck extends NodeCheck {
  private static final String FIX = "turn on time synchronisation on every node (systemctl enable --now chrony,"
      + " or systemd-timesyncd) and on this machine";

  @Override
  public String name() {
    return "clock";
  }

  @Override
  public String summary() {
    return "clock skew against this machine";
  }

  @Override
  protected Row check(Context ctx, NodeFacts f) {
    Long offset = f.clockOffsetMillis();
    if (offset == null) {
      CommandResult r = f.result(Gatherer.CLOCK);
      return warn(f, "cannot read the clock: " + NodeFacts.why(r), "check date +%s%3N on the host (GNU date)");
    }
    long skew = Math.max(0, Math.abs(offset) - f.clockUncertaintyMillis());
    String text = (offset >= 0 ? "+" : "") + offset + " ms against this machine (±" + f.clockUncertaintyMillis() + " ms)";
    if (skew > Thresholds.CLOCK_FAIL_MILLIS) {
      return fail(f, text + ": certificate checks (model downloads) can fail", FIX);
    }
    if (skew > Thresholds.CLOCK_WARN_MILLIS) {
      return warn(f, text + ": logs and timeouts across nodes will not line up", FIX);
    }
    return ok(f, text);
  }
}
