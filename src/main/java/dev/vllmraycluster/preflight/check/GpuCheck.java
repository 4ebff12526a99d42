package dev.vllmraycluster.preflight.check;

import dev.vllmraycluster.preflight.Bytes;
import dev.vllmraycluster.preflight.Context;
import dev.vllmraycluster.preflight.NodeCheck;
import dev.vllmraycluster.preflight.NodeFacts;
import dev.vllmraycluster.preflight.PreflightProbes;
import dev.vllmraycluster.preflight.Row;
import dev.vllmraycluster.preflight.parse.GpuQuery;
import dev.vllmraycluster.preflight.parse.ParseException;
import dev.vllmraycluster.ssh.CommandResult;
import java.util.List;

/**
 * The GPUs nvidia-smi finds against the number the stack declares for Ray. A node without
 * nvidia-smi fails, unless the stack declares logical GPUs for testing (then a warning).
 */
public final class GpuCheck extends NodeCheck {
  @Override
  public String name() {
    return "gpus";
  }

  @Override
  public String summary() {
    return "NVIDIA GPUs present (nvidia-smi) against nodes[].gpus";
  }

  @Override
  protected Row check(Context ctx, NodeFacts f) {
    int declared = f.node().gpus();
    String at = ctx.path(f.node()) + ".gpus";
    CommandResult r = f.result(PreflightProbes.GPUS);
    if (declared == 0) {
      List<GpuQuery.Gpu> gpus = Gpus.present(f);
      return ok(f, "no GPUs declared (" + at + ": 0)" + (gpus.isEmpty() ? "" : "; " + Gpus.describe(gpus) + " present, unused"));
    }
    String problem;
    List<GpuQuery.Gpu> gpus = List.of();
    if (r == null) {
      problem = "nvidia-smi was not run";
    } else if (r.commandNotFound()) {
      problem = "nvidia-smi not found: no NVIDIA driver on this host, but " + at + " is " + declared;
    } else if (!r.ok()) {
      problem = "nvidia-smi failed: " + r.brief();
    } else {
      try {
        gpus = GpuQuery.parse(r.stdout());
        problem = gpus.size() < declared
            ? at + " is " + declared + " but nvidia-smi lists " + gpus.size() + (gpus.isEmpty() ? "" : " (" + Gpus.describe(gpus) + ")")
            : null;
      } catch (ParseException e) {
        problem = "cannot read nvidia-smi's GPU list: " + e.getMessage();
      }
    }
    if (problem == null) {
      long minMib = gpus.stream().mapToLong(GpuQuery.Gpu::memoryTotalMiB).min().orElse(-1);
      String extra = gpus.size() > declared ? "; " + declared + " declared: Ray uses " + declared : "";
      return ok(f, Gpus.describe(gpus) + ", " + Bytes.mib(minMib) + " each" + extra);
    }
    if (ctx.logicalGpus()) {
      return warn(f, problem + "; accepted: testing.logical_gpus declares " + declared + " logical GPU(s) to Ray",
          "for test hosts only: vLLM cannot run on logical GPUs; remove testing.logical_gpus for real servers");
    }
    return fail(f, problem,
        "install the NVIDIA driver so that nvidia-smi lists the GPUs, or set " + at + " to the GPUs this host has"
            + " (0 for a CPU-only node); on test hosts without GPUs set testing: {logical_gpus: true}");
  }
}
