package dev.vllmraycluster.parallel;

import dev.vllmraycluster.parallel.Planner.Plan;
import dev.vllmraycluster.parallel.Planner.Row;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The plan as text: the model, the memory, a table of layouts, the stack's layout and the recommendation. */
public final class PlanText {
  private PlanText() {}

  public static String render(String stack, String configSource, Plan p) {
    StringBuilder sb = new StringBuilder();
    Planner.Cluster c = p.cluster();
    sb.append("parallelism ").append(stack).append('\n');
    sb.append("model:   ").append(p.model().describe()).append('\n');
    sb.append("         ").append(String.format(Locale.ROOT, "%,d", p.model().parameters())).append(" parameters (norms and biases left out), ")
        .append(p.model().dtypeNote()).append(" = ").append(Planner.gib(p.model().weightBytes())).append(" of weights\n");
    sb.append("         from ").append(configSource).append('\n');
    sb.append("nodes:   ").append(c.nodeGpus().size()).append(" (GPUs ").append(c.nodeGpus()).append(", head first), ")
        .append(c.totalGpus()).append(" GPUs\n");
    sb.append("memory:  ").append(c.gpuMemoryGib() == null ? "unknown (" + c.memorySource() + ")"
        : ModelConfig.fmt(c.gpuMemoryGib()) + " GiB per GPU (" + c.memorySource() + ") × gpu_memory_utilization "
            + c.utilization() + ", less " + ModelConfig.fmt(Planner.RESERVE_GIB) + " GiB per GPU for activations and CUDA graphs")
        .append('\n');
    sb.append("context: max_model_len ").append(p.maxModelLen()).append(c.maxModelLen() == null ? " (the model's)" : "")
        .append("\n\n");
    List<String[]> table = new ArrayList<>();
    table.add(new String[] {"layout", "GPUs", "weights/GPU", "KV/token/GPU", "KV cache/GPU", "KV tokens/replica", "× max_model_len", "vLLM starts"});
    for (Row r : p.rows()) {
      table.add(cells(r, p, r.layout().equals(p.chosen().layout())));
    }
    int[] w = new int[table.get(0).length];
    for (String[] row : table) {
      for (int i = 0; i < row.length; i++) {
        w[i] = Math.max(w[i], row[i].length());
      }
    }
    for (String[] row : table) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < row.length; i++) {
        line.append(i == 0 || i == row.length - 1 ? pad(row[i], w[i]) : padLeft(row[i], w[i])).append(i == row.length - 1 ? "" : "  ");
      }
      sb.append(line.toString().stripTrailing()).append('\n');
    }
    sb.append('\n');
    Row chosen = p.chosen();
    sb.append("stack:   ").append(chosen.layout()).append(": ").append(verdict(chosen)).append('\n');
    for (String problem : chosen.problems()) {
      sb.append("         - ").append(problem).append('\n');
    }
    if (p.recommended() == null) {
      sb.append("recommended: none").append(c.gpuMemoryGib() == null
          ? " (GPU memory unknown: declare nodes[].gpu_memory_gib, or pass --gpu-memory-gib or --nvidia-smi)"
          : " (no layout starts on these nodes: more GPUs, a quantized model or a shorter max_model_len)").append('\n');
    } else {
      sb.append("recommended: ").append(p.recommended().layout()).append(" (").append(p.reason()).append(")\n");
    }
    return sb.toString();
  }

  /**
   * The stack's layout and memory budget in a few lines (for the plan review); empty when the
   * stack has no readable config.json.
   */
  public static List<String> budget(dev.vllmraycluster.spec.ClusterSpec spec) {
    java.nio.file.Path config = StackPlan.configPath(spec);
    if (config == null || !java.nio.file.Files.isRegularFile(config)) {
      return List.of();
    }
    Plan p;
    try {
      p = StackPlan.plan(spec, ModelConfig.read(config, spec.vllm().dtype()), null, null);
    } catch (java.io.IOException | IllegalArgumentException e) {
      return List.of("config.json " + config.getFileName() + " cannot be read: " + e.getMessage());
    }
    Row r = p.chosen();
    Planner.Cluster c = p.cluster();
    List<String> lines = new ArrayList<>();
    lines.add("layout " + r.layout() + ": " + r.layout().gpus() + " of " + c.totalGpus() + " GPUs"
        + (r.tpAcrossNodes() ? ", TP across nodes" : ""));
    lines.add("weights ≈ " + Planner.gib(r.weightsPerGpu()) + " per GPU (" + Planner.gib(p.model().weightBytes()) + " in all, "
        + p.model().dtypeNote() + ")");
    if (r.memoryKnown()) {
      lines.add("per GPU: " + Planner.gib(r.budgetPerGpu()) + " (gpu_memory_utilization " + c.utilization() + " × "
          + ModelConfig.fmt(c.gpuMemoryGib()) + " GiB) − weights − " + ModelConfig.fmt(Planner.RESERVE_GIB) + " GiB reserve = KV cache "
          + Planner.gib(Math.max(0, r.kvBytesPerGpu())) + " = " + String.format(Locale.ROOT, "%,d", r.kvTokens())
          + " tokens per replica (" + String.format(Locale.ROOT, "%.2f", r.kvTokens() / (double) p.maxModelLen())
          + " × max_model_len " + p.maxModelLen() + ")");
    } else {
      lines.add("KV cache not estimated: " + c.memorySource());
    }
    lines.add("vLLM starts it: " + verdict(r));
    if (p.recommended() != null && !p.recommended().layout().equals(r.layout())) {
      lines.add("the planner recommends " + p.recommended().layout() + " (" + p.reason() + ")");
    }
    return lines;
  }

  private static String[] cells(Row r, Plan p, boolean chosen) {
    String layout = r.layout() + (chosen ? " *" : "") + (r.tpAcrossNodes() ? " (TP across nodes)" : "");
    return new String[] {
      layout,
      String.valueOf(r.layout().gpus()),
      Planner.gib(r.weightsPerGpu()),
      String.format(Locale.ROOT, "%,d B", r.kvPerTokenPerGpu()),
      r.memoryKnown() ? Planner.gib(Math.max(0, r.kvBytesPerGpu())) : "?",
      r.memoryKnown() ? String.format(Locale.ROOT, "%,d", r.kvTokens()) : "?",
      r.memoryKnown() ? String.format(Locale.ROOT, "%.2f", r.kvTokens() / (double) p.maxModelLen()) : "?",
      verdict(r)
    };
  }

  private static String verdict(Row r) {
    if (!r.problems().isEmpty()) {
      return "no: " + String.join("; ", r.problems());
    }
    return r.memoryKnown() ? "yes" : "heads ok; memory unknown";
  }

  private static String pad(String s, int w) {
    return s + " ".repeat(w - s.length());
  }

  private static String padLeft(String s, int w) {
    return " ".repeat(w - s.length()) + s;
  }
}
