package dev.vllmraycluster.parallel;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What the planner reads from a Hugging Face {@code config.json}: the shapes that decide the
 * weights and the KV cache. Dense (Llama, Qwen2, DeepSeek-LLM), mixture-of-experts (Mixtral,
 * Qwen2-MoE/Qwen3-MoE, DeepSeek-V2/V3 with their dense first layers) and DeepSeek's multi-head
 * latent attention (MLA: {@code kv_lora_rank}).
 *
 * @param bytesPerParam 2 for bf16/fp16 (what vLLM's {@code dtype: auto} loads, also for a float32
 *     checkpoint), 4 for {@code vllm.dtype: float32}, 1 for an fp8 {@code quantization_config},
 *     bits/8 for another quantization with {@code bits}
 */
public record ModelConfig(
    String modelType,
    int hiddenSize,
    int layers,
    int heads,
    int kvHeads,
    int headDim,
    long vocabSize,
    long intermediateSize,
    int maxPositionEmbeddings,
    boolean tiedEmbeddings,
    double bytesPerParam,
    String dtypeNote,
    Moe moe,
    Mla mla) {

  /**
   * Mixture of experts: {@code experts} routed experts of {@code expertIntermediateSize}, shared
   * experts adding {@code sharedIntermediateSize} (0 when none), on every layer from {@code
   * firstMoeLayer} on.
   */
  public record Moe(int experts, int expertsPerToken, long expertIntermediateSize, long sharedIntermediateSize, int firstMoeLayer) {}

  /** DeepSeek's multi-head latent attention: the KV cache holds {@code kvLoraRank + qkRopeHeadDim} per token and layer. */
  public record Mla(int qLoraRank, int kvLoraRank, int qkNopeHeadDim, int qkRopeHeadDim, int vHeadDim) {}

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Reads {@code file}; {@code dtype} is {@code vllm.dtype} (null for auto). */
  public static ModelConfig read(Path file, String dtype) throws IOException {
    JsonNode root = JSON.readTree(Files.readString(file));
    if (root == null || !root.isObject()) {
      throw new IOException(file + " is not a JSON object");
    }
    return parse(root, dtype);
  }

  /** From the parsed JSON; an {@link IllegalArgumentException} names a missing field. */
  public static ModelConfig parse(JsonNode c, String dtype) {
    if (c.has("text_config") && !c.has("num_hidden_layers")) {
      c = c.get("text_config");
    }
    int hidden = required(c, "hidden_size");
    int layers = required(c, "num_hidden_layers");
    int heads = required(c, "num_attention_heads");
    int kvHeads = c.hasNonNull("num_key_value_heads") ? c.get("num_key_value_heads").asInt() : heads;
    int headDim = c.hasNonNull("head_dim") ? c.get("head_dim").asInt() : hidden / heads;
    long vocab = required(c, "vocab_size");
    long inter = c.path("intermediate_size").asLong(0);
    int maxPos = c.path("max_position_embeddings").asInt(0);
    boolean tied = c.path("tie_word_embeddings").asBoolean(false);
    String type = c.path("model_type").asText("");

    Moe moe = null;
    int experts = firstInt(c, "n_routed_experts", "num_local_experts", "num_experts");
    if (experts > 0) {
      long expertInter = c.hasNonNull("moe_intermediate_size") ? c.get("moe_intermediate_size").asLong() : inter;
      long shared = 0;
      if (c.path("n_shared_experts").asInt(0) > 0) {
        shared = c.get("n_shared_experts").asLong() * expertInter;
      } else if (c.path("shared_expert_intermediate_size").asLong(0) > 0) {
        shared = c.get("shared_expert_intermediate_size").asLong();
      }
      int first = c.path("first_k_dense_replace").asInt(0);
      int perToken = firstInt(c, "num_experts_per_tok", "num_experts_per_token");
      moe = new Moe(experts, perToken, expertInter, shared, first);
    }
    Mla mla = null;
    if (c.path("kv_lora_rank").asInt(0) > 0) {
      mla = new Mla(c.path("q_lora_rank").asInt(0), c.get("kv_lora_rank").asInt(), required(c, "qk_nope_head_dim"),
          required(c, "qk_rope_head_dim"), required(c, "v_head_dim"));
    }

    double bytes = 2;
    String note;
    String torchDtype = c.path("torch_dtype").asText(c.path("dtype").asText("bfloat16"));
    JsonNode q = c.path("quantization_config");
    if (q.isObject()) {
      String method = q.path("quant_method").asText("");
      if (method.toLowerCase(Locale.ROOT).contains("fp8")) {
        bytes = 1;
      } else if (q.path("bits").asInt(0) > 0) {
        bytes = q.get("bits").asInt() / 8.0;
      }
      note = "quantized (" + method + "): " + fmt(bytes) + " byte(s) per parameter, scales left out";
    } else if ("float32".equals(dtype)) {
      bytes = 4;
      note = "vllm.dtype float32: 4 bytes per parameter";
    } else {
      note = (dtype == null || dtype.equals("auto") ? torchDtype + " (dtype auto)" : dtype) + ": 2 bytes per parameter";
      if (dtype == null && "float32".equals(torchDtype)) {
        note = "float32 checkpoint loaded as 16-bit by dtype auto: 2 bytes per parameter";
      }
    }
    return new ModelConfig(type, hidden, layers, heads, kvHeads, headDim, vocab, inter, maxPos, tied, bytes, note, moe, mla);
  }

  /** Parameters of the embeddings, attention and MLP weights (norms and biases left out, well under 0.1%). */
  public long parameters() {
    long h = hiddenSize;
    long embed = vocabSize * h * (tiedEmbeddings ? 1 : 2);
    long attention;
    if (mla != null) {
      long qk = mla.qkNopeHeadDim() + mla.qkRopeHeadDim();
      long q = mla.qLoraRank() > 0 ? h * mla.qLoraRank() + (long) mla.qLoraRank() * heads * qk : h * heads * qk;
      long kvA = h * (mla.kvLoraRank() + mla.qkRopeHeadDim());
      long kvB = (long) mla.kvLoraRank() * heads * (mla.qkNopeHeadDim() + mla.vHeadDim());
      long o = (long) heads * mla.vHeadDim() * h;
      attention = q + kvA + kvB + o;
    } else {
      attention = h * (long) (heads + 2 * kvHeads) * headDim + (long) heads * headDim * h;
    }
    long dense = 3 * h * intermediateSize;
    long mlps;
    if (moe != null) {
      long moeLayer = moe.experts() * 3 * h * moe.expertIntermediateSize() + 3 * h * moe.sharedIntermediateSize() + h * moe.experts();
      int denseLayers = Math.min(layers, moe.firstMoeLayer());
      mlps = denseLayers * dense + (long) (layers - denseLayers) * moeLayer;
    } else {
      mlps = layers * dense;
    }
    return embed + layers * attention + mlps;
  }

  /** Bytes of weights. */
  public long weightBytes() {
    return Math.round(parameters() * bytesPerParam);
  }

  /** KV-cache bytes per element (2: vLLM's {@code kv_cache_dtype: auto} follows the 16-bit model dtype). */
  public int kvBytesPerElement() {
    return bytesPerParam >= 4 ? 4 : 2;
  }

  /**
   * KV-cache bytes one token takes on one GPU of a TP × PP replica: its pipeline stage's layers
   * (the layers split as evenly as vLLM splits them, the larger stage counted); K and V of its
   * share of the KV heads (a KV head is replicated when TP exceeds their number); with MLA the
   * compressed latent and the rope key, on every TP rank.
   */
  public long kvBytesPerTokenPerGpu(int tp, int pp) {
    long layersPerStage = (layers + pp - 1) / pp;
    if (mla != null) {
      return layersPerStage * (mla.kvLoraRank() + mla.qkRopeHeadDim()) * kvBytesPerElement();
    }
    long kvPerGpu = kvHeads >= tp ? kvHeads / tp : 1;
    return layersPerStage * 2 * kvPerGpu * headDim * kvBytesPerElement();
  }

  /** Why vLLM refuses this TP × PP for the model, or an empty list (its checks in {@code ModelConfig.verify_with_parallel_config}). */
  public List<String> refusals(int tp, int pp) {
    List<String> out = new ArrayList<>();
    if (heads % tp != 0) {
      out.add(heads + " attention heads are not divisible by TP " + tp);
    }
    if (mla == null && !(kvHeads >= tp ? kvHeads % tp == 0 : tp % kvHeads == 0)) {
      out.add(kvHeads + " KV heads and TP " + tp + ": one must divide the other");
    }
    if (pp > layers) {
      out.add(layers + " layers cannot make " + pp + " pipeline stages");
    }
    return out;
  }

  /** One line for the plan: family, shape, parameters. */
  public String describe() {
    StringBuilder sb = new StringBuilder(modelType.isEmpty() ? "model" : modelType);
    sb.append(": ").append(layers).append(" layers, hidden ").append(hiddenSize).append(", ").append(heads).append(" heads");
    if (mla != null) {
      sb.append(", MLA (kv_lora_rank ").append(mla.kvLoraRank()).append(" + rope ").append(mla.qkRopeHeadDim()).append(")");
    } else {
      sb.append(" / ").append(kvHeads).append(" KV heads of ").append(headDim);
    }
    if (moe != null) {
      sb.append(", MoE ").append(moe.experts()).append(" experts (").append(moe.expertsPerToken()).append(" per token)");
    }
    sb.append(", vocab ").append(vocabSize);
    return sb.toString();
  }

  static String fmt(double v) {
    return v == Math.rint(v) ? String.valueOf((long) v) : String.format(Locale.ROOT, "%.2f", v);
  }

  private static int required(JsonNode c, String field) {
    JsonNode v = c.get(field);
    if (v == null || !v.canConvertToInt() || v.asInt() <= 0) {
      throw new IllegalArgumentException("config.json has no positive " + field);
    }
    return v.asInt();
  }

  private static int firstInt(JsonNode c, String... fields) {
    for (String f : fields) {
      if (c.path(f).asInt(0) > 0) {
        return c.get(f).asInt();
      }
    }
    return 0;
  }
}
