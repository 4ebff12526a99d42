package dev.vllmraycluster.preflight.check;

import dev.vllmraycluster.contract.HostContract;
import dev.vllmraycluster.preflight.Bytes;
import dev.vllmraycluster.preflight.Check;
import dev.vllmraycluster.preflight.Context;
import dev.vllmraycluster.preflight.NodeFacts;
import dev.vllmraycluster.preflight.PreflightProbes;
import dev.vllmraycluster.preflight.Row;
import dev.vllmraycluster.preflight.parse.ComputeApps;
import dev.vllmraycluster.preflight.parse.ListeningPorts;
import dev.vllmraycluster.preflight.parse.ParseException;
import dev.vllmraycluster.ssh.CommandResult;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Verify: on GPU nodes, the vLLM/Ray processes of this deployment (systemd units {@code vrc-*})
 * hold GPU memory ({@code nvidia-smi --query-compute-apps}); across the cluster, as many GPUs as
 * tensor × pipeline parallelism uses.
 */
public final class GpuProcessesCheck implements Check {
  @Override
  public String name() {
    return "gpu-procs";
  }

  @Override
  public String summary() {
    return "vLLM/Ray processes hold GPU memory (nvidia-smi --query-compute-apps)";
  }

  @Override
  public List<Row> evaluate(Context ctx) {
    List<Row> rows = new ArrayList<>();
    int gpusInUse = 0;
    boolean anyReal = false;
    for (NodeFacts f : ctx.reachable()) {
      String node = f.node().name();
      if (f.node().gpus() == 0) {
        continue;
      }
      CommandResult r = f.result(PreflightProbes.GPU_APPS);
      if (r == null) {
        continue;
      }
      if (!r.ok()) {
        String why = r.commandNotFound() ? "nvidia-smi not found" : "nvidia-smi failed: " + r.brief();
        rows.add(ctx.logicalGpus()
            ? Row.warn(node, name(), why + "; logical GPUs (testing.logical_gpus): no GPU memory to check",
                "for test hosts only; Ray's placement of the GPU bundles is in the ray row")
            : Row.fail(node, name(), why + " but " + ctx.path(f.node()) + ".gpus is " + f.node().gpus(),
                "install the NVIDIA driver; on test hosts without GPUs set testing: {logical_gpus: true}"));
        continue;
      }
      anyReal = true;
      String[] parts = r.stdout().split(ListeningPorts.UNITS_MARKER, 2);
      List<ComputeApps.App> apps;
      try {
        apps = ComputeApps.parse(parts[0]);
      } catch (ParseException e) {
        rows.add(Row.warn(node, name(), "cannot read nvidia-smi's process list: " + e.getMessage(), "run nvidia-smi on the host"));
        continue;
      }
      Map<Integer, String> units = GpuMemoryCheck.units(parts.length > 1 ? parts[1] : "");
      List<String> ours = new ArrayList<>();
      List<String> others = new ArrayList<>();
      Set<String> gpus = new HashSet<>();
      for (ComputeApps.App a : apps) {
        String unit = units.get(a.pid());
        String text = a.processName() + " pid " + a.pid() + " " + Bytes.mib(a.usedMiB()) + (unit == null ? "" : " (" + unit + ")");
        if (unit != null && unit.startsWith(HostContract.Units.PREFIX)) {
          ours.add(text);
          gpus.add(a.gpuUuid());
        } else {
          others.add(text);
        }
      }
      gpusInUse += gpus.size();
      if (ours.isEmpty()) {
        rows.add(Row.warn(node, name(), "no process of this deployment holds GPU memory here"
                + (others.isEmpty() ? "" : "; others do: " + String.join(", ", others)),
            "fine when tensor × pipeline parallelism needs fewer GPUs than the cluster has; else see journalctl -u vrc-vllm on the head"));
      } else {
        rows.add(Row.ok(node, name(), gpus.size() + " GPU(s) in use by " + String.join(", ", ours)
            + (others.isEmpty() ? "" : "; also: " + String.join(", ", others))));
      }
    }
    int world = ctx.spec().vllm().gpusNeeded();
    if (anyReal && gpusInUse < world) {
      rows.add(Row.fail(Row.ALL, name(), gpusInUse + " GPU(s) hold this deployment's processes; data × tensor × pipeline parallelism needs " + world,
          "journalctl -u vrc-vllm -n 100 on the head"));
    }
    return rows;
  }
}
