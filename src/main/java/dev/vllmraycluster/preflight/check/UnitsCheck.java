package dev.vllmraycluster.preflight.check;

import dev.vllmraycluster.preflight.Context;
import dev.vllmraycluster.preflight.NodeCheck;
import dev.vllmraycluster.preflight.NodeFacts;
import dev.vllmraycluster.preflight.Row;
import dev.vllmraycluster.preflight.VerifyProbes;
import dev.vllmraycluster.ssh.CommandResult;
import java.util.ArrayList;
import java.util.List;

/** Verify: this deployment's systemd units are active on each node. */
public final class UnitsCheck extends NodeCheck {
  @Override
  public String name() {
    return "units";
  }

  @Override
  public String summary() {
    return "vrc-firewall, vrc-ray-head/worker, vrc-vllm, vrc-proxy active";
  }

  @Override
  protected Row check(Context ctx, NodeFacts f) {
    CommandResult r = f.result(VerifyProbes.UNITS);
    if (r == null || !r.ok()) {
      return fail(f, "cannot ask systemd: " + NodeFacts.why(r), "run systemctl status vrc-* on the host");
    }
    List<String> active = new ArrayList<>();
    List<String> not = new ArrayList<>();
    for (String line : r.stdout().split("\n")) {
      String[] p = line.strip().split("\\s+", 2);
      if (p.length == 0 || p[0].isEmpty()) {
        continue;
      }
      String state = p.length > 1 && !p[1].isBlank() ? p[1] : "unknown";
      (state.equals("active") ? active : not).add(p[0] + (state.equals("active") ? "" : " " + state));
    }
    if (!not.isEmpty()) {
      return fail(f, "not active: " + String.join(", ", not) + (active.isEmpty() ? "" : "; active: " + String.join(", ", active)),
          "see why: journalctl -u " + not.get(0).split(" ")[0] + " -n 50 on " + f.node().name() + "; cdktf deploy again to repair");
    }
    return ok(f, "active: " + String.join(", ", active));
  }
}
