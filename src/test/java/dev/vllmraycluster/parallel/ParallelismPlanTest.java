package dev.vllmraycluster.parallel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vllmraycluster.TestStacks;
import dev.vllmraycluster.cli.CliRun;
import dev.vllmraycluster.parallel.Planner.Plan;
import dev.vllmraycluster.parallel.Planner.Row;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.spec.Problem;
import dev.vllmraycluster.spec.SpecException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code parallelism}: the checked-in outputs under docs/parallelism/ are what the command prints
 * now, and their figures are the hand calculations written here; synth refuses a layout that
 * cannot start, naming the field and the numbers.
 */
class ParallelismPlanTest {
  static final long GIB = 1L << 30;
  static final Path DOCS = TestStacks.ROOT.resolve("docs/parallelism");

  @TempDir Path dir;

  private static Row row(Plan p, int tp, int pp, int dp) {
    return p.rows().stream().filter(r -> r.layout().equals(new Planner.Layout(tp, pp, dp))).findFirst()
        .orElseThrow(() -> new AssertionError("no TP " + tp + " PP " + pp + " DP " + dp + " in " + p.rows()));
  }

  private static Plan plan(String stackFile, Double memoryGib) throws Exception {
    ClusterSpec spec = new dev.vllmraycluster.spec.StackLoader(TestStacks.ROOT).load(TestStacks.ROOT.resolve(stackFile), false).spec();
    ModelConfig m = ModelConfig.read(StackPlan.configPath(spec), spec.vllm().dtype());
    return StackPlan.plan(spec, m, memoryGib, memoryGib == null ? null : "--gpu-memory-gib");
  }

  @Test
  void theCheckedInOutputsAreWhatTheCommandPrints() throws Exception {
    for (String[] run : List.of(
        new String[] {"reference.txt", "parallelism", "reference"},
        new String[] {"reference-24gib.txt", "parallelism", "reference", "--gpu-memory-gib", "24"},
        new String[] {"llama-70b-h200.txt", "parallelism", "docs/parallelism/llama-70b-h200.yaml"})) {
      CliRun r = CliRun.of(java.util.Arrays.copyOfRange(run, 1, run.length));
      assertEquals(0, r.code(), r.all());
      assertEquals(Files.readString(DOCS.resolve(run[0])), r.out(), run[0] + " is stale: rerun bin/vllm-ray-cluster "
          + String.join(" ", java.util.Arrays.copyOfRange(run, 1, run.length)) + " > docs/parallelism/" + run[0]);
    }
  }

  @Test
  void referenceMatchesTheHandCalculation() throws Exception {
    // DeepSeek-LLM-7B: 102400×4096×2 + 30×(4×4096² + 3×4096×11008) = 6,910,115,840 parameters, bf16.
    long weights = 6_910_115_840L * 2;
    Plan declared = plan("stacks/reference.yaml", null);
    assertEquals(List.of(new Planner.Layout(1, 1, 3), new Planner.Layout(1, 2, 1), new Planner.Layout(1, 3, 1), new Planner.Layout(2, 1, 1)),
        declared.rows().stream().map(Row::layout).toList(), "3 nodes of 1 GPU: TP 1 or 2, PP 1 to 3, DP as placeable");
    assertEquals(weights, row(declared, 1, 1, 3).weightsPerGpu());
    assertEquals(weights / 2, row(declared, 2, 1, 1).weightsPerGpu(), "TP 2 (the stack's): 6.44 GiB per GPU");
    assertEquals(30L * 2 * 16 * 128 * 2, row(declared, 2, 1, 1).kvPerTokenPerGpu(), "16 of 32 KV heads per GPU");
    assertTrue(row(declared, 2, 1, 1).tpAcrossNodes());
    assertEquals(-1, declared.chosen().kvTokens(), "memory not declared: unknown");
    assertNull(declared.recommended());
    assertEquals(4096, declared.maxModelLen());

    Plan p = plan("stacks/reference.yaml", 24.0);
    long budget = (long) Math.floor(24 * 0.9 * GIB); // 23,192,823,398 bytes
    assertEquals(23_192_823_398L, budget);
    long reserve = 2 * GIB;
    Row dp3 = row(p, 1, 1, 3);
    assertEquals(budget - weights - reserve, dp3.kvBytesPerGpu());
    assertEquals((budget - weights - reserve) / 491_520, dp3.kvTokens());
    assertEquals(14_699, dp3.kvTokens(), "7,225,108,070 B / 491,520 B per token");
    Row pp2 = row(p, 1, 2, 1);
    assertEquals((budget - weights / 2 - reserve) / 245_760, pp2.kvTokens());
    assertEquals(57_516, pp2.kvTokens());
    assertEquals(57_516, p.chosen().kvTokens(), "TP 2 holds as much as PP 2");
    assertEquals(new Planner.Layout(1, 1, 3), p.recommended().layout(), "3 replicas, each holding 3 sequences of 4096");
    assertTrue(p.reason().startsWith("the most replicas (3)"), p.reason());
  }

  @Test
  void llama70bOnTwoH200NodesMatchesTheHandCalculation() throws Exception {
    // Llama 3.1 70B: 70,552,387,584 parameters, bf16 = 141,104,775,168 B; 80 layers, 8 KV heads of 128.
    long weights = 141_104_775_168L;
    long budget = 126 * GIB; // 140 GiB × 0.9
    long reserve = 2 * GIB;
    Plan p = plan("docs/parallelism/llama-70b-h200.yaml", null);
    assertEquals(131_072, p.maxModelLen(), "the model's max_position_embeddings");
    assertEquals(9, p.rows().size(), "TP 1..16 × PP 1..2 within 16 GPUs");
    Row tp1 = row(p, 1, 1, 16);
    assertTrue(weights + reserve > budget && !tp1.problems().isEmpty(), "131.41 GiB of weights do not fit one GPU: " + tp1.problems());
    Row tp2 = row(p, 2, 1, 8);
    assertEquals(weights / 2, tp2.weightsPerGpu());
    assertEquals(80L * 2 * 4 * 128 * 2, tp2.kvPerTokenPerGpu(), "4 KV heads per GPU: 163,840 B");
    assertEquals((budget - weights / 2 - reserve) / 163_840, tp2.kvTokens());
    assertEquals(382_028, tp2.kvTokens(), "62,591,598,592 B / 163,840 B: 2.9 sequences of 131,072");
    Row tp4 = row(p, 4, 1, 4);
    assertEquals(1_194_675, tp4.kvTokens(), "(126 GiB − 35,276,193,792 B − 2 GiB) / 81,920 B");
    Row tp8 = row(p, 8, 1, 2);
    assertEquals(2_819_968, tp8.kvTokens(), "115,505,889,280 B / 40,960 B exactly");
    Row chosen = p.chosen();
    assertEquals(new Planner.Layout(8, 2, 1), chosen.layout());
    assertEquals(weights / 16, chosen.weightsPerGpu(), "8,819,048,448 B per GPU");
    assertEquals((budget - weights / 16 - reserve) / 20_480, chosen.kvTokens(), "40 layers per stage, 1 KV head per GPU");
    assertEquals(6_070_553, chosen.kvTokens());
    Row tp16 = row(p, 16, 1, 1);
    assertTrue(tp16.tpAcrossNodes());
    assertEquals(80L * 2 * 1 * 128 * 2, tp16.kvPerTokenPerGpu(), "TP 16 over 8 KV heads: each replicated");
    assertEquals(new Planner.Layout(2, 1, 8), p.recommended().layout(),
        "8 replicas (the most) that hold 2 sequences of 131,072; of TP 2 × PP 1 and TP 1 × PP 2, no pipeline");
  }

  @Test
  void qwenOnEightGpusIsRefusedForItsHeads() throws Exception {
    Path stack = dir.resolve("qwen.yaml");
    Files.writeString(stack, """
        nodes:
          - {name: head, role: head, address: 10.0.0.10, gpus: 8, gpu_memory_gib: 80}
        network: {cluster_cidr: 10.0.0.0/24, api_allowed_networks: [10.0.1.0/24]}
        model:
          huggingface_repo: Qwen/Qwen2.5-7B-Instruct
          config_json: %s
        vllm: {tensor_parallel_size: 8, pipeline_parallel_size: 1}
        """.formatted(ModelConfigTest.CONFIGS.resolve("qwen2.5-7b-instruct/config.json")));
    SpecException e = assertThrows(SpecException.class, () -> new dev.vllmraycluster.spec.StackLoader(TestStacks.ROOT).load(stack));
    Problem heads = e.problems().get(0);
    assertEquals("vllm.tensor_parallel_size", heads.path(), heads.render());
    assertTrue(heads.message().contains("TP 8 × PP 1 × DP 1 of config.json: 28 attention heads are not divisible by TP 8"), heads.message());
    assertTrue(heads.fix().startsWith("use TP 1 × PP 1 × DP 8"), heads.fix());

    CliRun run = CliRun.of("parallelism", stack.toString());
    assertEquals(1, run.code(), "the stack's layout cannot start: " + run.all());
    assertTrue(run.out().contains("stack:   TP 8 × PP 1 × DP 1: no: 28 attention heads are not divisible by TP 8"), run.all());
  }

  @Test
  void synthRefusesWeightsThatDoNotFitAndAContextTheKvCacheCannotHold() throws Exception {
    String base = """
        nodes:
          - {name: head, role: head, address: 10.0.0.10, gpus: 8, gpu_memory_gib: 140}
          - {name: worker1, address: 10.0.0.11, gpus: 8, gpu_memory_gib: 140}
        network: {cluster_cidr: 10.0.0.0/24, api_allowed_networks: [10.0.1.0/24]}
        model:
          huggingface_repo: meta-llama/Llama-3.1-70B-Instruct
          config_json: %s
        """.formatted(ModelConfigTest.CONFIGS.resolve("llama-3.1-70b-instruct/config.json"));
    Path one = dir.resolve("one.yaml");
    Files.writeString(one, base + "vllm: {tensor_parallel_size: 1, data_parallel_size: 16}\n");
    SpecException weights = assertThrows(SpecException.class, () -> new dev.vllmraycluster.spec.StackLoader(TestStacks.ROOT).load(one));
    Problem w = weights.problems().get(0);
    assertEquals("vllm.gpu_memory_utilization", w.path(), w.render());
    assertTrue(w.message().contains("weights 131.41 GiB + reserve 2 GiB per GPU exceed 126.00 GiB (gpu_memory_utilization 0.9 × 140 GiB)"), w.message());
    assertTrue(w.fix().startsWith("use TP 2 × PP 1 × DP 8"), w.fix());

    // TP 2 × PP 1 on a 16 GiB-per-GPU budget: the KV cache holds fewer tokens than 131,072.
    Path small = dir.resolve("small.yaml");
    Files.writeString(small, base.replace("gpu_memory_gib: 140", "gpu_memory_gib: 80") + "vllm: {tensor_parallel_size: 2, pipeline_parallel_size: 1}\n");
    SpecException kv = assertThrows(SpecException.class, () -> new dev.vllmraycluster.spec.StackLoader(TestStacks.ROOT).load(small));
    Problem k = kv.problems().get(0);
    assertEquals("vllm.max_model_len", k.path(), k.render());
    // (80 × 0.9 GiB − 70,552,387,584 B − 2 GiB) / 163,840 B per token = 28,134 tokens
    long tokens = ((long) Math.floor(80 * 0.9 * GIB) - 70_552_387_584L - 2 * GIB) / 163_840;
    assertEquals(28_134, tokens);
    assertTrue(k.message().contains("KV cache holds 28134 tokens, fewer than max_model_len 131072"), k.message());
    assertTrue(k.fix().startsWith("max_model_len: 28134 or less"), k.fix());

    Files.writeString(small, base.replace("gpu_memory_gib: 140", "gpu_memory_gib: 80")
        + "vllm: {tensor_parallel_size: 2, pipeline_parallel_size: 1, max_model_len: 16384}\n");
    assertEquals(2, new dev.vllmraycluster.spec.StackLoader(TestStacks.ROOT).load(small).spec().vllm().tensorParallelSize(),
        "a context the KV cache holds is accepted");
  }

  @Test
  void thePlanReviewLinesShowTheLayoutAndItsMemoryBudget() throws Exception {
    ClusterSpec spec = new dev.vllmraycluster.spec.StackLoader(TestStacks.ROOT).load(DOCS.resolve("llama-70b-h200.yaml")).spec();
    assertEquals(List.of(
        "layout TP 8 × PP 2 × DP 1: 16 of 16 GPUs",
        "weights ≈ 8.21 GiB per GPU (131.41 GiB in all, bfloat16 (dtype auto): 2 bytes per parameter)",
        "per GPU: 126.00 GiB (gpu_memory_utilization 0.9 × 140 GiB) − weights − 2 GiB reserve = KV cache 115.79 GiB"
            + " = 6,070,553 tokens per replica (46.31 × max_model_len 131072)",
        "vLLM starts it: yes",
        "the planner recommends TP 2 × PP 1 × DP 8 (the most replicas (8) whose KV cache holds at least 2 sequences of"
            + " max_model_len 131072 (2 here); TP inside one node; no pipeline stages)"), PlanText.budget(spec));
    assertEquals(List.of(), PlanText.budget(TestStacks.load(dir, "hf", TestStacks.cluster(1, 1, "")).spec()), "no config.json: no lines");
  }

  @Test
  void tensorParallelAcrossNodesIsRecommendedOnlyOverAFastInterconnect() throws Exception {
    ModelConfig llama = ModelConfigTest.config("llama-3.1-70b-instruct");
    // 2 nodes of one 80 GiB GPU, max_model_len 8192: TP 1 does not fit; PP 2 and TP 2 (across nodes) both start.
    Planner.Cluster ethernet = new Planner.Cluster(List.of(1, 1), 80.0, "test", 0.9, 8192, false);
    Plan slow = Planner.plan(llama, ethernet, new Planner.Layout(2, 1, 1));
    assertTrue(row(slow, 1, 1, 2).problems().get(0).startsWith("weights 131.41 GiB"), slow.rows().toString());
    assertTrue(row(slow, 2, 1, 1).starts() && row(slow, 1, 2, 1).starts(), slow.rows().toString());
    assertEquals(new Planner.Layout(1, 2, 1), slow.recommended().layout(), "no fast link: pipeline across the nodes");
    Plan fast = Planner.plan(llama, new Planner.Cluster(List.of(1, 1), 80.0, "test", 0.9, 8192, true), new Planner.Layout(2, 1, 1));
    assertEquals(new Planner.Layout(2, 1, 1), fast.recommended().layout(), "a fast link: TP across them, no pipeline stages");
    assertTrue(fast.reason().contains("TP across nodes over the declared fast interconnect"), fast.reason());
  }

  @Test
  void aConfigJsonMissingHereIsAWarningNotAnError() {
    var loaded = TestStacks.load(dir, "moved", TestStacks.cluster(1, 1, "")
        .replace("huggingface_repo: deepseek-ai/deepseek-llm-7b-chat\n",
            "huggingface_repo: deepseek-ai/deepseek-llm-7b-chat\n  config_json: /nonexistent/config.json\n"));
    assertTrue(loaded.warnings().contains("model.config_json: /nonexistent/config.json is not a file on this machine:"
        + " the layout is not checked against the model (parallelism needs it)"), loaded.warnings().toString());
  }

  @Test
  void memoryComesFromAnNvidiaSmiCapture() throws Exception {
    Path capture = TestStacks.ROOT.resolve("src/test/resources/fixtures/gpu-host-h200x2/query-gpu.noheader-nounits.txt");
    assertEquals(143_771 / 1024.0, StackPlan.memoryFromNvidiaSmi(capture), 1e-9, "the real H200's memory.total");
    CliRun run = CliRun.of("parallelism", "docs/parallelism/llama-70b-h200.yaml", "--nvidia-smi", capture.toString());
    assertEquals(0, run.code(), run.all());
    assertTrue(run.out().contains("memory:  140.40 GiB per GPU (nvidia-smi memory.total in query-gpu.noheader-nounits.txt)"), run.all());
  }

  @Test
  void failsWithoutAConfigToPlanFrom() throws Exception {
    Path stack = dir.resolve("hf.yaml");
    Files.writeString(stack, TestStacks.cluster(1, 1, ""));
    CliRun run = CliRun.of("parallelism", stack.toString());
    assertEquals(2, run.code(), run.all());
    assertTrue(run.err().contains("no config.json to plan from") && run.err().contains("fix: set model.config_json"), run.all());
    CliRun both = CliRun.of("parallelism", "reference", "--gpu-memory-gib", "24", "--nvidia-smi", "x.txt");
    assertEquals(2, both.code(), both.all());
  }
}
