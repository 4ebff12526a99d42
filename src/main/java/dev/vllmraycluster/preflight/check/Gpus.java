package dev.vllmraycluster.preflight.check;

import dev.vllmraycluster.preflight.NodeFacts;
import dev.vllmraycluster.preflight.PreflightProbes;
import dev.vllmraycluster.preflight.parse.GpuQuery;
import dev.vllmraycluster.preflight.parse.ParseException;
import dev.vllmraycluster.ssh.CommandResult;
import java.util.List;

/** The GPUs nvidia-smi lists on a node; empty when it is missing, failed or printed nonsense. */
final class Gpus {
  private Gpus() {}

  static List<GpuQuery.Gpu> present(NodeFacts f) {
    CommandResult r = f.result(PreflightProbes.GPUS);
    if (r == null || !r.ok()) {
      return List.of();
    }
    try {
      return GpuQuery.parse(r.stdout());
    } catch (ParseException e) {
      return List.of();
    }
  }

  /** "2 × NVIDIA H200". */
  static String describe(List<GpuQuery.Gpu> gpus) {
    if (gpus.isEmpty()) {
      return "no GPU";
    }
    List<String> names = gpus.stream().map(GpuQuery.Gpu::name).distinct().toList();
    return gpus.size() + " × " + String.join(" + ", names);
  }
}
