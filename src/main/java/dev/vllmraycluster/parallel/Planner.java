package dev.vllmraycluster.parallel;

import dev.vllmraycluster.vllm.DataParallelPlacement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

/**
 * Candidate TP × PP × DP layouts of a model on the declared nodes, each with what decides whether
 * vLLM starts it: heads divisible by TP (and KV heads), the weights per GPU, and the KV-cache tokens
 * that fit in what is left of {@code gpu_memory_utilization} of the smallest GPU, against {@code
 * max_model_len} (vLLM refuses to start when one sequence of that length does not fit). Memory
 * figures are estimates: weights from the config's shapes (norms and biases left out), a fixed
 * {@value #RESERVE_GIB} GiB per GPU for activations, CUDA graphs and communication buffers, which
 * vLLM measures itself at start.
 */
public final class Planner {
  /** Per GPU, set aside for activations, CUDA graphs and NCCL buffers. */
  public static final double RESERVE_GIB = 2.0;
  /** A replica should hold at least this many sequences of {@code max_model_len} to be recommended first. */
  public static final int MIN_SEQUENCES = 2;
  static final long GIB = 1L << 30;

  private Planner() {}

  /**
   * The cluster as the planner sees it.
   *
   * @param nodeGpus GPUs per node, the head first
   * @param gpuMemoryGib the smallest GPU's memory, null when unknown
   * @param memorySource where {@code gpuMemoryGib} comes from (for the output)
   * @param maxModelLen {@code vllm.max_model_len}, null for the model's
   * @param fastInterconnect TP across nodes is not penalised ({@code network.interconnect} infiniband, roce, nvlink)
   */
  public record Cluster(List<Integer> nodeGpus, Double gpuMemoryGib, String memorySource, double utilization,
      Integer maxModelLen, boolean fastInterconnect) {
    int totalGpus() {
      return nodeGpus.stream().mapToInt(Integer::intValue).sum();
    }

    int maxPerNode() {
      return nodeGpus.stream().mapToInt(Integer::intValue).max().orElse(0);
    }

    int gpuNodes() {
      return (int) nodeGpus.stream().filter(g -> g > 0).count();
    }
  }

  public record Layout(int tp, int pp, int dp) {
    public int gpus() {
      return tp * pp * dp;
    }

    @Override
    public String toString() {
      return "TP " + tp + " × PP " + pp + " × DP " + dp;
    }
  }

  /**
   * One layout's figures (bytes). {@code budgetPerGpu}, {@code kvBytesPerGpu}, {@code kvTokens}
   * are -1 when the GPU memory is unknown; {@code problems} says why vLLM would not start it.
   */
  public record Row(Layout layout, long weightsPerGpu, long kvPerTokenPerGpu, long budgetPerGpu, long kvBytesPerGpu,
      long kvTokens, boolean tpAcrossNodes, List<String> problems) {
    public boolean memoryKnown() {
      return budgetPerGpu >= 0;
    }

    /** Known to start: nothing refused, memory known and enough. */
    public boolean starts() {
      return memoryKnown() && problems.isEmpty();
    }
  }

  public record Plan(ModelConfig model, Cluster cluster, int maxModelLen, List<Row> rows, Row chosen, Row recommended, String reason) {}

  /** Plans {@code chosen} (the stack's layout) and the candidates. */
  public static Plan plan(ModelConfig model, Cluster cluster, Layout chosen) {
    int maxLen = cluster.maxModelLen() != null ? cluster.maxModelLen() : model.maxPositionEmbeddings();
    TreeSet<Integer> tps = new TreeSet<>();
    for (int t = 1; t <= cluster.totalGpus(); t *= 2) {
      tps.add(t);
    }
    tps.add(chosen.tp());
    List<Row> rows = new ArrayList<>();
    boolean chosenListed = false;
    for (int tp : tps) {
      TreeSet<Integer> pps = new TreeSet<>();
      for (int p = 1; p <= Math.max(1, cluster.gpuNodes()); p++) {
        pps.add(p);
      }
      pps.add(chosen.pp());
      for (int pp : pps) {
        if (tp * pp > cluster.totalGpus()) {
          continue;
        }
        Layout l = new Layout(tp, pp, maxReplicas(cluster, tp * pp));
        chosenListed |= l.equals(chosen);
        rows.add(row(model, cluster, maxLen, l));
      }
    }
    Row chosenRow = row(model, cluster, maxLen, chosen);
    if (!chosenListed) {
      rows.add(chosenRow);
      rows.sort(Comparator.comparingInt((Row r) -> r.layout().tp()).thenComparingInt(r -> r.layout().pp())
          .thenComparingInt(r -> r.layout().dp()));
    }
    Comparator<Row> better = Comparator.comparing((Row r) -> r.tpAcrossNodes() && !cluster.fastInterconnect())
        .thenComparing(r -> r.kvTokens() < (long) MIN_SEQUENCES * maxLen)
        .thenComparing(Comparator.comparingInt((Row r) -> r.layout().dp()).reversed())
        .thenComparingInt(r -> r.layout().pp())
        .thenComparing(Comparator.comparingLong(Row::kvTokens).reversed());
    Row best = rows.stream().filter(Row::starts).min(better).orElse(null);
    return new Plan(model, cluster, maxLen, rows, chosenRow, best, best == null ? null : reason(best, cluster, maxLen));
  }

  private static String reason(Row r, Cluster c, int maxLen) {
    List<String> why = new ArrayList<>();
    long seqs = r.kvTokens() / Math.max(1, maxLen);
    why.add((r.layout().dp() > 1 ? "the most replicas (" + r.layout().dp() + ")" : "one replica")
        + (seqs >= MIN_SEQUENCES ? " whose KV cache holds at least " + MIN_SEQUENCES + " sequences of max_model_len "
            + maxLen + " (" + seqs + " here)" : " that starts (its KV cache holds " + seqs + " sequence(s) of max_model_len " + maxLen
            + "; none holds " + MIN_SEQUENCES + ")"));
    if (!r.tpAcrossNodes()) {
      why.add("TP inside one node");
    } else {
      why.add(c.fastInterconnect() ? "TP across nodes over the declared fast interconnect" : "TP across nodes (nothing inside one node starts)");
    }
    why.add(r.layout().pp() == 1 ? "no pipeline stages" : r.layout().pp() + " pipeline stages (fewer do not fit)");
    return String.join("; ", why);
  }

  /** The most replicas of {@code world} GPUs vLLM's Ray DP backend places (1 when a replica spans nodes). */
  static int maxReplicas(Cluster c, int world) {
    List<Integer> gpus = c.nodeGpus();
    if (world > c.maxPerNode() || gpus.isEmpty() || gpus.get(0) < world) {
      return 1;
    }
    List<Integer> others = gpus.subList(1, gpus.size());
    for (int dp = c.totalGpus() / world; dp > 1; dp--) {
      if (DataParallelPlacement.sizeLocal(dp, world, gpus.get(0), others).isPresent()) {
        return dp;
      }
    }
    return 1;
  }

  static Row row(ModelConfig m, Cluster c, int maxLen, Layout l) {
    int tp = l.tp();
    int pp = l.pp();
    int world = tp * pp;
    List<String> problems = new ArrayList<>(m.refusals(tp, pp));
    if (l.gpus() > c.totalGpus()) {
      problems.add("needs " + l.gpus() + " GPUs, the nodes declare " + c.totalGpus());
    }
    if (l.dp() > 1 && (world > c.maxPerNode() || DataParallelPlacement.sizeLocal(l.dp(), world, c.nodeGpus().get(0),
        c.nodeGpus().subList(1, c.nodeGpus().size())).isEmpty())) {
      problems.add("vLLM's Ray DP backend cannot place " + l.dp() + " replicas of " + world + " GPU(s), each on one node");
    }
    long weights = (m.weightBytes() + world - 1) / world;
    long kvPerToken = m.kvBytesPerTokenPerGpu(tp, pp);
    long budget = -1;
    long kvBytes = -1;
    long tokens = -1;
    if (c.gpuMemoryGib() != null) {
      budget = (long) Math.floor(c.gpuMemoryGib() * c.utilization() * GIB);
      kvBytes = budget - weights - (long) (RESERVE_GIB * GIB);
      tokens = kvBytes <= 0 ? 0 : kvBytes / kvPerToken;
      if (kvBytes <= 0) {
        problems.add("weights " + gib(weights) + " + reserve " + ModelConfig.fmt(RESERVE_GIB) + " GiB per GPU exceed "
            + gib(budget) + " (gpu_memory_utilization " + c.utilization() + " × " + ModelConfig.fmt(c.gpuMemoryGib()) + " GiB)");
      } else if (tokens < maxLen) {
        problems.add("KV cache holds " + tokens + " tokens, fewer than max_model_len " + maxLen);
      }
    }
    return new Row(l, weights, kvPerToken, budget, kvBytes, tokens, tp > c.maxPerNode(), problems);
  }

  static String gib(long bytes) {
    return String.format(Locale.ROOT, "%.2f GiB", bytes / (double) GIB);
  }
}
