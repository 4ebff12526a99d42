package dev.vllmraycluster.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.spec.ClusterSpec.StateBackend;
import dev.vllmraycluster.spec.ClusterSpec.NodeSpec;
import dev.vllmraycluster.spec.Problem;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The nodes a stack's state holds parts of, where synth can read it (a local state file), so that
 * a node deleted from {@code nodes:} without being moved to {@code removed_nodes:} (or {@code
 * forgotten_nodes:}) stops synth instead of leaving its services running: OpenTofu would drop its
 * parts from the state without running any remove.sh. A remote state (s3) is not read here; the
 * plan review flags such a node instead.
 */
public final class DeployedNodes {
  private static final ObjectMapper JSON = new ObjectMapper();

  private DeployedNodes() {}

  /**
   * The local state file of the stack: {@code state.path}, or CDKTF's default {@code
   * terraform.<stack>.tfstate} in {@code projectDir} (where cdktf runs); null for a remote state.
   */
  public static Path localStateFile(ClusterSpec spec, Path projectDir) {
    if (spec.state().backend() == StateBackend.LOCAL) {
      return spec.state().path() != null ? Path.of(spec.state().path()) : projectDir.resolve("terraform." + spec.name() + ".tfstate");
    }
    return null;
  }

  /** The node names ({@code input.node}) of the terraform_data resources in a state file. */
  public static Set<String> inState(Path stateFile) throws IOException {
    Set<String> nodes = new TreeSet<>();
    JsonNode state = JSON.readTree(Files.readString(stateFile));
    for (JsonNode r : state.path("resources")) {
      if (!"terraform_data".equals(r.path("type").asText())) {
        continue;
      }
      for (JsonNode i : r.path("instances")) {
        String node = i.path("attributes").path("input").path("value").path("node").asText("");
        if (!node.isEmpty()) {
          nodes.add(node);
        }
      }
    }
    return nodes;
  }

  /**
   * A problem when the state holds parts of a node that the stack lists nowhere; null otherwise.
   */
  public static Problem unaccounted(ClusterSpec spec, Set<String> deployed, Path stateFile) {
    Set<String> listed = new LinkedHashSet<>();
    spec.nodes().stream().map(NodeSpec::name).forEach(listed::add);
    spec.removedNodes().stream().map(NodeSpec::name).forEach(listed::add);
    listed.addAll(spec.forgottenNodes());
    List<String> missing = deployed.stream().filter(n -> !listed.contains(n)).toList();
    if (missing.isEmpty()) {
      return null;
    }
    String names = String.join(", ", missing);
    return new Problem(
        "nodes",
        "the state " + stateFile + " holds parts of " + names + ", which the stack no longer lists: a deploy would drop them"
            + " from the state and leave their services, units, firewall rules and venv running on the host"
            + (missing.size() == 1 ? "" : "s"),
        "move the node's entry from nodes: to removed_nodes: (the next deploy cleans it, as destroy would), or list it in"
            + " forgotten_nodes: if the host is gone for good (dropped from the state, never contacted)");
  }
}
