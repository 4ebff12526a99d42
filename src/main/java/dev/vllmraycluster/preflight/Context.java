package dev.vllmraycluster.preflight;

import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.spec.ClusterSpec.NodeSpec;
import dev.vllmraycluster.ssh.CommandResult;
import java.util.List;
import java.util.Map;

/**
 * What checks read: the stack, the facts gathered on each node, and what is known on this
 * machine (the model's size, the manifest a complete model copy carries, probes run here).
 */
public record Context(
    ClusterSpec spec,
    Map<String, NodeFacts> facts,
    ModelSize.Estimate modelSize,
    String modelManifest,
    Map<String, CommandResult> local) {

  public Context {
    facts = Map.copyOf(facts);
    local = Map.copyOf(local);
  }

  /** The facts of the nodes SSH reached, in the stack's order. */
  public List<NodeFacts> reachable() {
    return spec.nodes().stream().map(n -> facts.get(n.name())).filter(f -> f != null && f.reachable()).toList();
  }

  public NodeFacts facts(NodeSpec node) {
    return facts.get(node.name());
  }

  /** {@code nodes[i]}: the path of a node in the stack file, for fixes. */
  public String path(NodeSpec node) {
    return "nodes[" + spec.nodes().indexOf(node) + "]";
  }

  public boolean logicalGpus() {
    return spec.testing().logicalGpus();
  }
}
