package dev.vllmraycluster.cli;

import dev.vllmraycluster.node.ProjectLayout;
import dev.vllmraycluster.parallel.ModelConfig;
import dev.vllmraycluster.parallel.PlanText;
import dev.vllmraycluster.parallel.Planner;
import dev.vllmraycluster.parallel.StackPlan;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.spec.SpecException;
import dev.vllmraycluster.spec.StackLoader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code parallelism STACK}: the TP/PP/DP layouts of the stack's model on its nodes, what each
 * needs per GPU, whether vLLM starts it, and the one recommended. Touches no host.
 */
@Command(
    name = "parallelism",
    description = {
      "Plan tensor, pipeline and data parallelism from the model's config.json (model.config_json or the"
          + " local directory's) and the GPUs' memory (nodes[].gpu_memory_gib, --gpu-memory-gib or an nvidia-smi"
          + " capture): per layout the heads check, weights per GPU and KV-cache tokens at gpu_memory_utilization"
          + " against max_model_len, and a recommendation. Connects to nothing.",
      "Exit 0 when the stack's layout starts (or memory is unknown and nothing else refuses it), 1 when it"
          + " cannot start, 2 on bad input."
    })
final class ParallelismCommand implements Callable<Integer> {
  private final Io io;

  @Mixin StackArgument stack;

  @Option(names = "--gpu-memory-gib", paramLabel = "GIB",
      description = "Each GPU's memory in GiB, instead of nodes[].gpu_memory_gib (to plan for other GPUs).")
  Double gpuMemoryGib;

  @Option(names = "--nvidia-smi", paramLabel = "FILE",
      description = "The output of preflight's nvidia-smi --query-gpu=index,uuid,name,memory.total,memory.used,"
          + "driver_version --format=csv,noheader,nounits on a node: the smallest memory.total is used.")
  Path nvidiaSmi;

  ParallelismCommand(Io io) {
    this.io = io;
  }

  @Override
  public Integer call() {
    Path root = ProjectLayout.current().root();
    Path file = Stacks.resolve(stack.stack);
    if (!Files.isRegularFile(file)) {
      io.err().println("error: " + Stacks.noStackFile(file));
      return ExitCodes.BAD_INPUT;
    }
    ClusterSpec spec;
    try {
      spec = new StackLoader(root).load(file, false).spec();
    } catch (SpecException e) {
      io.err().println("error: " + e.getMessage());
      return ExitCodes.BAD_INPUT;
    }
    Path config = StackPlan.configPath(spec);
    if (config == null) {
      io.err().println("error: " + spec.name() + ": no config.json to plan from: model.huggingface_repo is fetched on the hosts\n"
          + "  fix: set model.config_json to the model's config.json on this machine (as published with the weights)");
      return ExitCodes.BAD_INPUT;
    }
    if (gpuMemoryGib != null && nvidiaSmi != null) {
      io.err().println("error: --gpu-memory-gib and --nvidia-smi both give the GPU memory\n  fix: give one of them");
      return ExitCodes.BAD_INPUT;
    }
    if (gpuMemoryGib != null && !(gpuMemoryGib > 0 && gpuMemoryGib <= 1024)) {
      io.err().println("error: --gpu-memory-gib " + gpuMemoryGib + " is not a GPU memory size\n  fix: GiB per GPU, e.g. 80 or 140.4");
      return ExitCodes.BAD_INPUT;
    }
    ModelConfig model;
    Double memory = gpuMemoryGib;
    String source = gpuMemoryGib == null ? null : "--gpu-memory-gib";
    try {
      model = ModelConfig.read(config, spec.vllm().dtype());
      if (nvidiaSmi != null) {
        memory = StackPlan.memoryFromNvidiaSmi(nvidiaSmi);
        source = "nvidia-smi memory.total in " + nvidiaSmi.getFileName();
      }
    } catch (IOException | IllegalArgumentException e) {
      io.err().println("error: " + e.getMessage() + "\n  fix: model.config_json is the model's config.json; --nvidia-smi is"
          + " nvidia-smi --query-gpu=index,uuid,name,memory.total,memory.used,driver_version --format=csv,noheader,nounits");
      return ExitCodes.BAD_INPUT;
    }
    Planner.Plan plan = StackPlan.plan(spec, model, memory, source);
    Path shown = config.startsWith(root) ? root.relativize(config) : config;
    io.out().print(PlanText.render(spec.name(), shown.toString(), plan));
    return plan.chosen().problems().isEmpty() ? ExitCodes.OK : ExitCodes.FAILED;
  }
}
