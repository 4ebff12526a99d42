package dev.vllmraycluster.parallel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vllmraycluster.TestStacks;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The planner's reading of published config.json files (src/test/resources/fixtures/model-configs):
 * parameters by hand from each family's shapes (dense, GQA, MoE, MoE with MLA) matching the
 * published sizes, the KV bytes per token, and vLLM's divisibility refusals.
 */
class ModelConfigTest {
  static final Path CONFIGS = TestStacks.ROOT.resolve("src/test/resources/fixtures/model-configs");

  static ModelConfig config(String name) throws Exception {
    return ModelConfig.read(CONFIGS.resolve(name).resolve("config.json"), null);
  }

  @Test
  void deepseekLlm7bIsADenseLlamaOf6point9BillionParameters() throws Exception {
    ModelConfig m = config("deepseek-llm-7b-chat");
    long embeddings = 102_400L * 4096 * 2; // embed_tokens + lm_head (not tied)
    long attention = 4L * 4096 * 4096; // q, k, v, o: 32 heads = 32 KV heads of 128
    long mlp = 3L * 4096 * 11_008; // gate, up, down
    assertEquals(embeddings + 30 * (attention + mlp), m.parameters());
    assertEquals(6_910_115_840L, m.parameters());
    assertEquals(2 * 6_910_115_840L, m.weightBytes(), "bfloat16");
    assertEquals(30L * 2 * 32 * 128 * 2, m.kvBytesPerTokenPerGpu(1, 1), "K and V, 32 heads of 128, 2 bytes, 30 layers");
    assertEquals(491_520, m.kvBytesPerTokenPerGpu(1, 1));
    assertEquals(245_760, m.kvBytesPerTokenPerGpu(2, 1), "TP 2: 16 KV heads per GPU");
    assertEquals(163_840, m.kvBytesPerTokenPerGpu(1, 3), "PP 3: 10 layers per stage");
    assertEquals(4096, m.maxPositionEmbeddings());
    assertEquals(List.of(), m.refusals(2, 1));
    assertEquals(List.of("32 attention heads are not divisible by TP 3", "32 KV heads and TP 3: one must divide the other"), m.refusals(3, 1));
  }

  @Test
  void llama31_70bHasGroupedQueryAttention() throws Exception {
    ModelConfig m = config("llama-3.1-70b-instruct");
    long embeddings = 128_256L * 8192 * 2;
    long attention = 8192L * 8192 * 2 + 8192L * (8 * 128) * 2; // q and o; k and v of 8 KV heads
    long mlp = 3L * 8192 * 28_672;
    assertEquals(embeddings + 80 * (attention + mlp), m.parameters());
    assertEquals(70_552_387_584L, m.parameters(), "70.6B, as published");
    assertEquals(80L * 2 * 8 * 128 * 2, m.kvBytesPerTokenPerGpu(1, 1));
    assertEquals(80L * 2 * 1 * 128 * 2, m.kvBytesPerTokenPerGpu(8, 1), "one KV head per GPU at TP 8");
    assertEquals(80L * 2 * 1 * 128 * 2, m.kvBytesPerTokenPerGpu(16, 1), "TP 16 > 8 KV heads: each replicated, still one per GPU");
    assertEquals(131_072, m.maxPositionEmbeddings());
  }

  @Test
  void qwen25_7bRefusesTp8For28Heads() throws Exception {
    ModelConfig m = config("qwen2.5-7b-instruct");
    long embeddings = 152_064L * 3584 * 2;
    long attention = 3584L * 3584 * 2 + 3584L * (4 * 128) * 2;
    long mlp = 3L * 3584 * 18_944;
    assertEquals(embeddings + 28 * (attention + mlp), m.parameters());
    assertEquals(7_615_283_200L, m.parameters(), "7.6B (q/k/v biases left out)");
    assertEquals(List.of(), m.refusals(4, 1));
    assertEquals(List.of("28 attention heads are not divisible by TP 8"), m.refusals(8, 1), "8 GPUs: 28 heads do not split");
    assertEquals(28L * 2 * 1 * 128 * 2, m.kvBytesPerTokenPerGpu(4, 1), "4 KV heads over TP 4");
    assertEquals(List.of("28 layers cannot make 29 pipeline stages"), m.refusals(1, 29));
  }

  @Test
  void mixtral8x7bCountsEveryExpert() throws Exception {
    ModelConfig m = config("mixtral-8x7b-instruct-v0.1");
    assertNotNull(m.moe());
    long embeddings = 32_000L * 4096 * 2;
    long attention = 4096L * 4096 * 2 + 4096L * (8 * 128) * 2;
    long experts = 8L * 3 * 4096 * 14_336; // 8 experts of intermediate 14336
    long router = 4096L * 8;
    assertEquals(embeddings + 32 * (attention + experts + router), m.parameters());
    assertEquals(46_702_526_464L, m.parameters(), "46.7B, as published (all experts are loaded)");
    assertEquals(32L * 2 * 8 * 128 * 2, m.kvBytesPerTokenPerGpu(1, 1));
  }

  @Test
  void deepseekV2LiteHasLatentAttentionAndADenseFirstLayer() throws Exception {
    ModelConfig m = config("deepseek-v2-lite-chat");
    assertNotNull(m.mla());
    long embeddings = 102_400L * 2048 * 2;
    long q = 2048L * 16 * (128 + 64); // no q_lora_rank
    long kvA = 2048L * (512 + 64);
    long kvB = 512L * 16 * (128 + 128);
    long o = 16L * 128 * 2048;
    long dense = 3L * 2048 * 10_944; // layer 0 (first_k_dense_replace 1)
    long moe = 64L * 3 * 2048 * 1408 + 3L * 2048 * (2 * 1408) + 2048L * 64; // routed, 2 shared, router
    assertEquals(embeddings + 27 * (q + kvA + kvB + o) + dense + 26 * moe, m.parameters());
    assertEquals(15_706_357_760L, m.parameters(), "15.7B, as published");
    assertEquals(27L * (512 + 64) * 2, m.kvBytesPerTokenPerGpu(1, 1), "MLA caches the latent and the rope key");
    assertEquals(27L * (512 + 64) * 2, m.kvBytesPerTokenPerGpu(4, 1), "on every TP rank");
    assertEquals(List.of(), m.refusals(4, 1), "MLA: no KV-head rule");
  }

  @Test
  void fp8AndFloat32ChangeTheBytesPerParameter() throws Exception {
    ObjectMapper json = new ObjectMapper();
    String base = "{\"hidden_size\": 64, \"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"vocab_size\": 100,"
        + " \"intermediate_size\": 128";
    assertEquals(1.0, ModelConfig.parse(json.readTree(base + ", \"quantization_config\": {\"quant_method\": \"fp8\"}}"), null).bytesPerParam());
    assertEquals(0.5, ModelConfig.parse(json.readTree(base + ", \"quantization_config\": {\"quant_method\": \"awq\", \"bits\": 4}}"), null).bytesPerParam());
    assertEquals(4.0, ModelConfig.parse(json.readTree(base + "}"), "float32").bytesPerParam());
    assertEquals(2.0, ModelConfig.parse(json.readTree(base + ", \"torch_dtype\": \"float32\"}"), null).bytesPerParam(), "dtype auto loads 16-bit");
    assertNull(ModelConfig.parse(json.readTree(base + "}"), null).moe());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ModelConfig.parse(json.readTree("{\"hidden_size\": 64}"), null));
    assertTrue(e.getMessage().contains("num_hidden_layers"), e.getMessage());
  }
}
