package dev.vllmraycluster.preflight.check;

import dev.vllmraycluster.preflight.Context;
import dev.vllmraycluster.preflight.NodeCheck;
import dev.vllmraycluster.preflight.NodeFacts;
import dev.vllmraycluster.preflight.PreflightProbes;
import dev.vllmraycluster.preflight.Row;
import dev.vllmraycluster.preflight.parse.GpuTopology;
import dev.vllmraycluster.preflight.parse.ParseException;
import java.util.ArrayList;
import java.util.List;

/** NVLink between the GPUs of a node that tensor parallelism spans ({@code nvidia-smi topo -m}). */
public final class NvlinkCheck extends NodeCheck {
  @Override
  public String name() {
    return "nvlink";
  }

  @Override
  public String summary() {
    return "NVLink between a node's GPUs when tensor parallelism spans them";
  }

  @Override
  protected Row check(Context ctx, NodeFacts f) {
    int tp = ctx.spec().vllm().tensorParallelSize();
    int gpus = Math.min(Gpus.present(f).size(), f.node().gpus());
    if (tp < 2 || gpus < 2) {
      return null;
    }
    GpuTopology topo;
    try {
      topo = GpuTopology.parse(f.output(PreflightProbes.TOPO));
    } catch (ParseException e) {
      return warn(f, "cannot read nvidia-smi topo -m: " + e.getMessage(), "run nvidia-smi topo -m on the host");
    }
    int k = Math.min(tp, gpus);
    List<String> nvlinked = new ArrayList<>();
    List<String> pcie = new ArrayList<>();
    for (int a = 0; a < k; a++) {
      for (int b = a + 1; b < k; b++) {
        String pair = "GPU" + a + "–GPU" + b + " " + topo.link(a, b);
        (topo.nvlink(a, b) ? nvlinked : pcie).add(pair);
      }
    }
    String span = tp > gpus ? " (tensor_parallel_size " + tp + " also spans nodes)" : "";
    if (pcie.isEmpty()) {
      return ok(f, "NVLink: " + String.join(", ", nvlinked) + span);
    }
    return warn(f, "no NVLink between " + String.join(", ", pcie) + " (PCIe): tensor parallelism over them is slower" + span,
        "expected on PCIe-only servers; for speed keep tensor_parallel_size within NVLinked GPUs and use pipeline_parallel_size for the rest");
  }
}
