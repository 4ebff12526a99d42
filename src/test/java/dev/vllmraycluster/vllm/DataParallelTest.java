package dev.vllmraycluster.vllm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vllmraycluster.TestStacks;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.spec.Problem;
import dev.vllmraycluster.spec.SpecException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code vllm.data_parallel_size}: the flags vLLM 0.33.0 documents for multi-node DP over Ray,
 * the replicas placed as its Ray DP backend places them (each on one node, the head first, the
 * same number per node), and the refusals before anything touches a host.
 */
class DataParallelTest {
  @TempDir Path dir;

  private ClusterSpec load(String yaml) {
    return TestStacks.load(dir, "dp", yaml).spec();
  }

  private Problem fails(String yaml) {
    SpecException e = assertThrows(SpecException.class, () -> TestStacks.load(dir, "dp", yaml));
    return e.problems().stream().filter(p -> p.path().equals("vllm.data_parallel_size")).findFirst()
        .orElseThrow(() -> new AssertionError("no problem at vllm.data_parallel_size: " + e.getMessage()));
  }

  /** Nodes with the given GPUs, the first the head. */
  private static String nodes(int... gpus) {
    StringBuilder sb = new StringBuilder("nodes:\n");
    for (int i = 0; i < gpus.length; i++) {
      sb.append("  - {name: n").append(i).append(i == 0 ? ", role: head" : "").append(", address: 10.0.0.")
          .append(10 + i).append(", gpus: ").append(gpus[i]).append("}\n");
    }
    return sb.append("network:\n  cluster_cidr: 10.0.0.0/24\n  api_allowed_networks: [10.0.1.0/24]\n")
        .append("model:\n  huggingface_repo: deepseek-ai/deepseek-llm-7b-chat\nvllm:\n").toString();
  }

  private static String after(List<String> args, String flag) {
    int i = args.indexOf(flag);
    assertTrue(i >= 0 && i + 1 < args.size(), flag + " in " + args);
    assertEquals(i, args.lastIndexOf(flag), flag + " once in " + args);
    return args.get(i + 1);
  }

  @Test
  void dp2Tp1OnThreeOneGpuNodesRendersTheRayDataParallelFlags() {
    ClusterSpec spec = load(TestStacks.cluster(2, 1, "  data_parallel_size: 2\n  tensor_parallel_size: 1\n"));
    assertEquals(1, spec.vllm().pipelineParallelSize(), "PP defaults to 1 when TP is given");
    List<String> args = VllmService.args(spec);
    assertEquals("2", after(args, "--data-parallel-size"));
    assertEquals("1", after(args, "--data-parallel-size-local"), "one replica of 1 GPU on the 1-GPU head");
    assertEquals("ray", after(args, "--data-parallel-backend"));
    assertEquals("1", after(args, "--tensor-parallel-size"));
    assertEquals("ray", after(args, "--distributed-executor-backend"));
    assertEquals(2, spec.vllm().gpusNeeded());
    VllmFlags flags = VllmFlags.forVersion(VllmReleases.DEFAULT).orElseThrow();
    assertEquals(List.of(), flags.check(args, true),
        "every generated option is one vLLM " + VllmReleases.DEFAULT + " accepts");
  }

  @Test
  void vllmAndTheWatchdogWaitForEveryReplicasGpus() {
    ClusterSpec spec = load(TestStacks.cluster(2, 1, "  data_parallel_size: 2\n  tensor_parallel_size: 1\n"));
    com.fasterxml.jackson.databind.JsonNode json = TestStacks.synth(spec);
    com.fasterxml.jackson.databind.JsonNode resources = json.at("/resource/terraform_data");
    assertEquals("2", resources.get("head_vllm").at("/input/config/REQUIRED_GPUS").asText(), "DP 2 × TP 1 × PP 1");
    assertEquals("2", resources.get("head_watchdog").at("/input/config/REQUIRED_GPUS").asText());
  }

  @Test
  void withoutDataParallelismNothingChanges() {
    ClusterSpec one = load(TestStacks.cluster(2, 1, "  tensor_parallel_size: 1\n"));
    ClusterSpec explicit = load(TestStacks.cluster(2, 1, "  tensor_parallel_size: 1\n  data_parallel_size: 1\n"));
    assertEquals(VllmService.args(one), VllmService.args(explicit));
    assertFalse(String.join(" ", VllmService.args(one)).contains("--data-parallel"), VllmService.args(one).toString());
  }

  @Test
  void defaultsTheReplicaToOneNodeWhenOnlyTheReplicasAreGiven() {
    ClusterSpec spec = load(nodes(8, 8) + "  data_parallel_size: 4\n");
    assertEquals(4, spec.vllm().tensorParallelSize(), "16 GPUs / 4 replicas, at most one node's 8");
    assertEquals(1, spec.vllm().pipelineParallelSize());
    assertEquals("4", after(VllmService.args(spec), "--data-parallel-size"));
    assertEquals("2", after(VllmService.args(spec), "--data-parallel-size-local"), "two replicas of 4 GPUs per 8-GPU node");
  }

  @Test
  void placesTheSameNumberOfReplicasPerNodeAsVllmsStrictPacking() {
    // head 8 GPUs, TP 2: up to 4 replicas on the head alone.
    assertEquals(OptionalInt.of(3), DataParallelPlacement.sizeLocal(3, 2, 8, List.of(2)));
    // head 2, workers 4 and 4, TP 2: one per node (the head fits only one).
    assertEquals(OptionalInt.of(1), DataParallelPlacement.sizeLocal(3, 2, 2, List.of(4, 4)));
    // head 4, worker 2, TP 2, DP 3: 2 on the head would need 2 on the worker (it fits 1); 1 per node gives 2.
    assertEquals(OptionalInt.empty(), DataParallelPlacement.sizeLocal(3, 2, 4, List.of(2)));
    assertEquals(3, DataParallelPlacement.capacity(2, List.of(4, 2)));
    // head 8, workers 2 and 8, TP 2, DP 6: 4 on the head, the 2-GPU worker skipped, the last 2 on the 8-GPU one.
    assertEquals(OptionalInt.of(4), DataParallelPlacement.sizeLocal(6, 2, 8, List.of(2, 8)));
    assertEquals(OptionalInt.empty(), DataParallelPlacement.sizeLocal(1, 2, 1, Collections.emptyList()));
  }

  @Test
  void failsWhenTheReplicasNeedMoreGpusThanDeclared() {
    Problem p = fails(TestStacks.cluster(2, 1, "  data_parallel_size: 4\n  tensor_parallel_size: 1\n"));
    assertTrue(p.message().contains("data_parallel_size 4 × tensor_parallel_size 1 × pipeline_parallel_size 1 needs 4 GPUs but the nodes declare 3"), p.message());
    assertTrue(p.fix().contains("data_parallel_size: 3"), p.fix());
  }

  @Test
  void failsWhenAReplicaCannotSitOnOneNode() {
    Problem p = fails(TestStacks.cluster(3, 1, "  data_parallel_size: 2\n  tensor_parallel_size: 2\n"));
    assertTrue(p.message().contains("each replica's 2 GPUs must sit on one node") && p.message().contains("no node declares more than 1"), p.message());
    assertTrue(p.fix().contains("tensor_parallel_size: 1"), p.fix());
  }

  @Test
  void failsWhenTheHeadCannotHoldTheFirstReplica() {
    Problem p = fails(nodes(1, 4, 4) + "  data_parallel_size: 2\n  tensor_parallel_size: 2\n");
    assertTrue(p.message().contains("the head (the DP master) holds the first replica but declares 1 GPU(s)"), p.message());
    assertTrue(p.fix().contains("at least 2 GPU(s)"), p.fix());
  }

  @Test
  void failsWhenNoEqualNumberPerNodeReachesTheReplicas() {
    Problem p = fails(nodes(4, 2) + "  data_parallel_size: 3\n  tensor_parallel_size: 2\n");
    assertTrue(p.message().contains("no such number reaches 3") && p.message().contains("3 replica(s) fit in all"), p.message());
    assertTrue(p.fix().contains("e.g. 2"), p.fix());
  }

  @Test
  void failsOnDataParallelFlagsInExtraArgs() {
    SpecException e = assertThrows(SpecException.class, () -> TestStacks.load(dir, "dp",
        TestStacks.cluster(2, 1, "  extra_args: [--data-parallel-size-local, '1', -dpb, ray, --data-parallel-size=2]\n")));
    List<String> rendered = e.problems().stream().map(Problem::render).toList();
    assertTrue(rendered.stream().anyMatch(r -> r.contains("vllm.extra_args[0]") && r.contains("places the replicas")), rendered.toString());
    assertTrue(rendered.stream().anyMatch(r -> r.contains("vllm.extra_args[2]") && r.contains("Ray data-parallel backend")), rendered.toString());
    assertTrue(rendered.stream().anyMatch(r -> r.contains("vllm.extra_args[4]") && r.contains("set vllm.data_parallel_size")), rendered.toString());
  }
}
