package dev.vllmraycluster.preflight.check;

import dev.vllmraycluster.preflight.Context;
import dev.vllmraycluster.preflight.NodeCheck;
import dev.vllmraycluster.preflight.NodeFacts;
import dev.vllmraycluster.preflight.Row;
import dev.vllmraycluster.preflight.VerifyProbes;
import dev.vllmraycluster.preflight.parse.ParseException;
import dev.vllmraycluster.preflight.parse.RayStatus;
import dev.vllmraycluster.spec.ClusterSpec.Role;
import java.util.Locale;

/** Verify: {@code ray status} on the head shows the declared nodes and GPUs. */
public final class RayClusterCheck extends NodeCheck {
  @Override
  public String name() {
    return "ray";
  }

  @Override
  public String summary() {
    return "ray status: the declared nodes alive, the declared GPUs";
  }

  @Override
  protected Row check(Context ctx, NodeFacts f) {
    if (f.node().role() != Role.HEAD) {
      return null;
    }
    RayStatus.Status s;
    try {
      s = RayStatus.parse(f.output(VerifyProbes.RAY));
    } catch (ParseException e) {
      return fail(f, "ray status failed: " + e.getMessage(),
          "journalctl -u vrc-ray-head -n 50 on " + f.node().name() + "; cdktf deploy again to repair");
    }
    int nodes = ctx.spec().nodes().size();
    int gpus = ctx.spec().totalGpus();
    RayStatus.Usage g = s.resources().get("GPU");
    String gpuText = g == null ? "no GPU resource" : g.used() + "/" + g.total() + " GPU in use";
    String text = s.activeNodes() + "/" + nodes + " nodes alive, " + gpuText;
    if (s.activeNodes() < nodes) {
      return fail(f, text + "; " + (nodes - s.activeNodes()) + " declared node(s) missing",
          "on the missing worker: systemctl status vrc-ray-worker; it must reach the head at "
              + ctx.spec().head().address() + ":" + ctx.spec().ray().gcsPort());
    }
    if (Math.round(s.total("GPU")) != gpus) {
      return fail(f, text + String.format(Locale.ROOT, "; the stack declares %d GPU(s)", gpus),
          "a node started with another --num-gpus: cdktf deploy again");
    }
    if (!s.failures().isEmpty() || !s.pending().isEmpty()) {
      return warn(f, text + "; pending: " + s.pending() + ", recent failures: " + s.failures(),
          "ray status on the head shows the details");
    }
    return ok(f, text);
  }
}
