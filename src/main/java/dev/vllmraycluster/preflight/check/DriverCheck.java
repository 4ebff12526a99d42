package dev.vllmraycluster.preflight.check;

import dev.vllmraycluster.preflight.Check;
import dev.vllmraycluster.preflight.Context;
import dev.vllmraycluster.preflight.NodeFacts;
import dev.vllmraycluster.preflight.PreflightProbes;
import dev.vllmraycluster.preflight.Row;
import dev.vllmraycluster.preflight.Thresholds;
import dev.vllmraycluster.preflight.parse.NvidiaSmiHeader;
import dev.vllmraycluster.preflight.parse.ParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The NVIDIA driver and the CUDA version it supports, on each GPU node and across them. */
public final class DriverCheck implements Check {
  @Override
  public String name() {
    return "driver";
  }

  @Override
  public String summary() {
    return "NVIDIA driver and CUDA version, the same on every GPU node";
  }

  @Override
  public List<Row> evaluate(Context ctx) {
    List<Row> rows = new ArrayList<>();
    Map<String, List<String>> byVersion = new LinkedHashMap<>();
    for (NodeFacts f : ctx.reachable()) {
      if (Gpus.present(f).isEmpty()) {
        continue; // the gpus check says why
      }
      String node = f.node().name();
      NvidiaSmiHeader.Versions v;
      try {
        v = NvidiaSmiHeader.parse(f.output(PreflightProbes.SMI));
      } catch (ParseException e) {
        rows.add(Row.warn(node, name(), "cannot read the driver version: " + e.getMessage(), "run nvidia-smi on the host"));
        continue;
      }
      String label = "driver " + v.driver() + ", CUDA " + (v.cuda() == null ? "unknown" : v.cuda());
      byVersion.computeIfAbsent(label, k -> new ArrayList<>()).add(node);
      if (v.cudaMajor() >= 0 && v.cudaMajor() < Thresholds.CUDA_MAJOR) {
        rows.add(Row.warn(node, name(), label + ": vLLM's PyPI wheels are CUDA " + Thresholds.CUDA_MAJOR + " builds",
            "update the NVIDIA driver to one that supports CUDA " + Thresholds.CUDA_MAJOR + " (R525 or newer)"));
      } else {
        rows.add(Row.ok(node, name(), label));
      }
    }
    if (byVersion.size() > 1) {
      List<String> parts = new ArrayList<>();
      byVersion.forEach((label, nodes) -> parts.add(label + " on " + String.join(", ", nodes)));
      rows.add(Row.warn(Row.ALL, name(), "drivers differ: " + String.join("; ", parts),
          "install the same driver on every node: NCCL between nodes and debugging are simpler with one version"));
    }
    return rows;
  }
}
