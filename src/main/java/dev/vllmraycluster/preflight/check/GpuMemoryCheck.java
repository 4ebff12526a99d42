package dev.vllmraycluster.preflight.check;

import dev.vllmraycluster.contract.HostContract;
import dev.vllmraycluster.preflight.Bytes;
import dev.vllmraycluster.preflight.Context;
import dev.vllmraycluster.preflight.ModelSize;
import dev.vllmraycluster.preflight.NodeCheck;
import dev.vllmraycluster.preflight.NodeFacts;
import dev.vllmraycluster.preflight.PreflightProbes;
import dev.vllmraycluster.preflight.Row;
import dev.vllmraycluster.preflight.Thresholds;
import dev.vllmraycluster.preflight.parse.ComputeApps;
import dev.vllmraycluster.preflight.parse.GpuQuery;
import dev.vllmraycluster.preflight.parse.ListeningPorts;
import dev.vllmraycluster.preflight.parse.ParseException;
import dev.vllmraycluster.ssh.CommandResult;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * GPU memory against the model: each GPU of the tensor × pipeline group holds about
 * 1/(TP·PP) of the weights, inside the share vLLM may use ({@code gpu_memory_utilization}); and
 * vLLM refuses to start when other processes already hold part of that share.
 */
public final class GpuMemoryCheck extends NodeCheck {
  @Override
  public String name() {
    return "gpu-memory";
  }

  @Override
  public String summary() {
    return "GPU memory against the model's estimated need, and memory held by other processes";
  }

  @Override
  protected Row check(Context ctx, NodeFacts f) {
    List<GpuQuery.Gpu> gpus = Gpus.present(f);
    if (gpus.isEmpty() || f.node().gpus() == 0) {
      return null;
    }
    double util = ctx.spec().vllm().gpuMemoryUtilization();
    int world = ctx.spec().vllm().worldSize();
    long totalMib = gpus.stream().mapToLong(GpuQuery.Gpu::memoryTotalMiB).min().orElse(0);
    long budget = (long) (totalMib * util) << 20;
    List<String> foreign = foreignUse(f, gpus, totalMib, util);
    if (!foreign.isEmpty()) {
      return fail(f, "GPU memory already taken by other processes: " + String.join("; ", foreign)
              + "; vLLM wants " + String.format(Locale.ROOT, "%.0f%%", util * 100) + " of each GPU free at start",
          "stop those processes (nvidia-smi shows them), or lower vllm.gpu_memory_utilization");
    }
    ModelSize.Estimate model = ctx.modelSize();
    String budgetText = Bytes.human(budget) + " per GPU (gpu_memory_utilization " + util + " × " + Bytes.mib(totalMib) + ")";
    if (model == null) {
      return warn(f, "model size unknown; vLLM may use " + budgetText,
          "make sure the weights / (tensor_parallel_size × pipeline_parallel_size) fit well inside that");
    }
    long perGpu = model.bytes() / world;
    String need = "weights ≈ " + model.gib() + " / " + world + " GPUs = " + Bytes.human(perGpu) + " per GPU ("
        + model.how() + "); vLLM may use " + budgetText;
    if (perGpu > budget) {
      return fail(f, need, "raise tensor_parallel_size/pipeline_parallel_size (add GPUs), use a quantized model, or raise vllm.gpu_memory_utilization");
    }
    if (perGpu > budget * Thresholds.WEIGHTS_WARN_SHARE) {
      return warn(f, need + ": little room for the KV cache",
          "expect a short max context; raise parallelism or use a smaller / quantized model");
    }
    return ok(f, need);
  }

  /** Memory held by processes that are not this deployment's, where it eats into vLLM's share. */
  private static List<String> foreignUse(NodeFacts f, List<GpuQuery.Gpu> gpus, long totalMib, double util) {
    CommandResult r = f.result(PreflightProbes.GPU_APPS);
    if (r == null || !r.ok()) {
      return List.of();
    }
    String[] parts = r.stdout().split(ListeningPorts.UNITS_MARKER, 2);
    List<ComputeApps.App> apps;
    try {
      apps = ComputeApps.parse(parts[0]);
    } catch (ParseException e) {
      return List.of();
    }
    Map<Integer, String> units = units(parts.length > 1 ? parts[1] : "");
    Map<String, Long> foreignByGpu = new HashMap<>();
    Map<String, List<String>> who = new HashMap<>();
    for (ComputeApps.App app : apps) {
      String unit = units.get(app.pid());
      if (unit != null && unit.startsWith(HostContract.Units.PREFIX)) {
        continue; // ours: a running deployment
      }
      foreignByGpu.merge(app.gpuUuid(), app.usedMiB(), Long::sum);
      who.computeIfAbsent(app.gpuUuid(), k -> new ArrayList<>()).add(app.processName() + " (pid " + app.pid() + ", " + Bytes.mib(app.usedMiB()) + ")");
    }
    List<String> out = new ArrayList<>();
    for (GpuQuery.Gpu g : gpus) {
      long foreign = foreignByGpu.getOrDefault(g.uuid(), 0L);
      if (foreign > 0 && g.memoryTotalMiB() - foreign < totalMib * util) {
        out.add("GPU" + g.index() + ": " + String.join(", ", who.get(g.uuid())));
      }
    }
    return out;
  }

  static Map<Integer, String> units(String text) {
    Map<Integer, String> units = new HashMap<>();
    for (String line : text.split("\n")) {
      String[] fields = line.strip().split("\\s+");
      if (fields.length == 2 && fields[0].matches("\\d+")) {
        units.put(Integer.parseInt(fields[0]), "-".equals(fields[1]) ? null : fields[1]);
      }
    }
    return units;
  }
}
