package dev.vllmraycluster.status;

import dev.vllmraycluster.preflight.Gatherer;
import dev.vllmraycluster.preflight.NodeFacts;
import dev.vllmraycluster.preflight.ShellFactory;
import dev.vllmraycluster.spec.ClusterSpec;
import java.util.Map;

/** Gathers the facts on every node at once, then evaluates them. */
public final class Status {
  private Status() {}

  public static ClusterStatus run(ClusterSpec spec, ShellFactory shells) {
    Map<String, NodeFacts> facts = new Gatherer(shells).gather(spec, n -> StatusProbes.forNode(spec, n));
    return ClusterStatus.evaluate(spec, facts, System.currentTimeMillis() / 1000);
  }
}
