package dev.vllmraycluster.parallel;

import dev.vllmraycluster.parallel.Planner.Cluster;
import dev.vllmraycluster.parallel.Planner.Layout;
import dev.vllmraycluster.parallel.Planner.Plan;
import dev.vllmraycluster.preflight.parse.GpuQuery;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.spec.ClusterSpec.NodeSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A stack's facts for the planner: the model's {@code config.json} ({@code model.config_json}, or
 * the {@code local_directory}'s), the nodes' GPUs (head first) and the smallest GPU memory
 * ({@code nodes[].gpu_memory_gib} on every GPU node, or an override: {@code --gpu-memory-gib}, or
 * an {@code nvidia-smi --query-gpu} capture as preflight takes it).
 */
public final class StackPlan {
  private StackPlan() {}

  /** The config.json the stack points to, or null when it has none (a Hugging Face model without {@code config_json}). */
  public static Path configPath(ClusterSpec spec) {
    if (spec.model().configJson() != null) {
      return Path.of(spec.model().configJson());
    }
    if (spec.model().localDirectory() != null) {
      return Path.of(spec.model().localDirectory()).resolve("config.json");
    }
    return null;
  }

  /** The stack's facts; {@code memoryGib}/{@code memorySource} override the nodes' when not null. */
  public static Plan plan(ClusterSpec spec, ModelConfig model, Double memoryGib, String memorySource) {
    List<NodeSpec> nodes = new ArrayList<>();
    nodes.add(spec.head());
    spec.nodes().stream().filter(n -> n != spec.head()).forEach(nodes::add);
    List<Integer> gpus = nodes.stream().map(NodeSpec::gpus).toList();
    Double memory = memoryGib;
    String source = memorySource;
    if (memory == null) {
      List<NodeSpec> gpuNodes = nodes.stream().filter(n -> n.gpus() > 0).toList();
      List<String> undeclared = gpuNodes.stream().filter(n -> n.gpuMemoryGib() == null).map(NodeSpec::name).toList();
      if (!gpuNodes.isEmpty() && undeclared.isEmpty()) {
        memory = gpuNodes.stream().mapToDouble(NodeSpec::gpuMemoryGib).min().orElseThrow();
        source = "nodes[].gpu_memory_gib, the smallest";
      } else {
        source = "nodes[].gpu_memory_gib not declared on " + String.join(", ", undeclared);
      }
    }
    var v = spec.vllm();
    boolean fast = spec.network().interconnect() != null && spec.network().interconnect().fast();
    Cluster cluster = new Cluster(gpus, memory, source, v.gpuMemoryUtilization(), v.maxModelLen(), fast);
    return Planner.plan(model, cluster, new Layout(v.tensorParallelSize(), v.pipelineParallelSize(), v.replicas()));
  }

  /**
   * The smallest GPU memory in GiB in an {@code nvidia-smi --query-gpu=index,uuid,name,memory.total,...
   * --format=csv,noheader,nounits} capture (lines starting with {@code #} skipped).
   */
  public static double memoryFromNvidiaSmi(Path capture) throws IOException {
    StringBuilder sb = new StringBuilder();
    for (String line : Files.readAllLines(capture)) {
      if (!line.startsWith("#")) {
        sb.append(line).append('\n');
      }
    }
    List<GpuQuery.Gpu> gpus = GpuQuery.parse(sb.toString());
    long mib = gpus.stream().mapToLong(GpuQuery.Gpu::memoryTotalMiB).filter(m -> m > 0).min()
        .orElseThrow(() -> new IOException(capture + " lists no GPU with its memory.total"));
    return mib / 1024.0;
  }
}
