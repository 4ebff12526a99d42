package dev.vllmraycluster.vllm;

import java.util.List;
import java.util.OptionalInt;

/**
 * Where vLLM 0.33's Ray data-parallel backend ({@code CoreEngineActorManager} with the default
 * {@code VLLM_RAY_DP_PACK_STRATEGY=strict}) puts the replicas: one STRICT_PACK placement group of
 * TP × PP GPUs per replica, so a replica never spans nodes; exactly {@code
 * --data-parallel-size-local} replicas on the DP master (the head), and the same number on every
 * other node that has room for that many (a node with less room is skipped), until there are
 * {@code --data-parallel-size} of them.
 */
public final class DataParallelPlacement {
  private DataParallelPlacement() {}

  /**
   * The largest {@code --data-parallel-size-local} that places {@code replicas} replicas of {@code
   * worldSize} GPUs, given the head's GPUs and the other nodes' GPUs; empty when none does.
   */
  public static OptionalInt sizeLocal(int replicas, int worldSize, int headGpus, List<Integer> otherNodesGpus) {
    if (replicas < 1 || worldSize < 1) {
      return OptionalInt.empty();
    }
    int onHead = Math.min(replicas, headGpus / worldSize);
    for (int local = onHead; local >= 1; local--) {
      int perNode = local;
      long nodes = 1 + otherNodesGpus.stream().filter(g -> g != null && g / worldSize >= perNode).count();
      if (nodes * local >= replicas) {
        return OptionalInt.of(local);
      }
    }
    return OptionalInt.empty();
  }

  /** How many replicas of {@code worldSize} GPUs the nodes hold at most, each on one node. */
  public static int capacity(int worldSize, List<Integer> nodesGpus) {
    return worldSize < 1 ? 0 : nodesGpus.stream().filter(g -> g != null).mapToInt(g -> g / worldSize).sum();
  }
}
