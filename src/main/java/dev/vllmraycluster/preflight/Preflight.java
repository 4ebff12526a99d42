package dev.vllmraycluster.preflight;

import dev.vllmraycluster.preflight.check.AddressCheck;
import dev.vllmraycluster.preflight.check.ClockCheck;
import dev.vllmraycluster.preflight.check.DiskCheck;
import dev.vllmraycluster.preflight.check.DriverCheck;
import dev.vllmraycluster.preflight.check.GpuCheck;
import dev.vllmraycluster.preflight.check.GpuMemoryCheck;
import dev.vllmraycluster.preflight.check.ModelCheck;
import dev.vllmraycluster.preflight.check.NvlinkCheck;
import dev.vllmraycluster.preflight.check.OsCheck;
import dev.vllmraycluster.preflight.check.PortsCheck;
import dev.vllmraycluster.preflight.check.PythonCheck;
import dev.vllmraycluster.preflight.check.ReachCheck;
import dev.vllmraycluster.preflight.check.ShmCheck;
import dev.vllmraycluster.preflight.check.SshCheck;
import dev.vllmraycluster.preflight.check.VersionsCheck;
import dev.vllmraycluster.preflight.parse.KeyValues;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.spec.ClusterSpec.NodeSpec;
import dev.vllmraycluster.ssh.CommandResult;
import dev.vllmraycluster.storage.ModelStore;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Preflight: named, read-only checks on every node before anything changes (kubeadm's model).
 * The facts are gathered over SSH on all nodes at once; the checks then only read them, so they
 * are tested on captured outputs.
 */
public final class Preflight {
  /** Every check, in report order. */
  public static final List<Check> CHECKS = List.of(
      new SshCheck(),
      new OsCheck(),
      new GpuCheck(),
      new DriverCheck(),
      new GpuMemoryCheck(),
      new NvlinkCheck(),
      new PythonCheck(),
      new VersionsCheck(),
      new DiskCheck(),
      new ShmCheck(),
      new AddressCheck(),
      new ReachCheck(),
      new PortsCheck(),
      new ClockCheck(),
      new ModelCheck());

  private Preflight() {}

  public static Report run(ClusterSpec spec, ShellFactory shells) {
    Map<String, NodeFacts> facts = new Gatherer(shells).gather(spec, n -> PreflightProbes.forNode(spec, n));
    return evaluate(spec, facts);
  }

  /** The checks on gathered facts: no I/O except reading the local model directory. */
  public static Report evaluate(ClusterSpec spec, Map<String, NodeFacts> facts) {
    String manifest = ModelStore.manifest(spec);
    Context ctx = new Context(spec, facts, modelSize(spec, facts, manifest), manifest, Map.of());
    return new Report("preflight", spec.name(), spec.nodes().stream().map(NodeSpec::name).toList(), run(CHECKS, ctx));
  }

  /** The rows of {@code checks}, ordered by node (as in the stack, "all" last), then by check. */
  static List<Row> run(List<Check> checks, Context ctx) {
    List<Row> rows = new ArrayList<>();
    for (Check c : checks) {
      rows.addAll(c.evaluate(ctx));
    }
    List<String> nodes = new ArrayList<>(ctx.spec().nodes().stream().map(NodeSpec::name).toList());
    nodes.add(Row.ALL);
    List<String> order = checks.stream().map(Check::name).toList();
    // Nodes in the stack's order, then "all", then rows about this machine.
    rows.sort(Comparator.<Row>comparingInt(r -> nodes.contains(r.node()) ? nodes.indexOf(r.node()) : nodes.size())
        .thenComparingInt(r -> order.indexOf(r.check())));
    return rows;
  }

  /** Measured on a node that has a complete copy, else from the stack (local directory, name). */
  static ModelSize.Estimate modelSize(ClusterSpec spec, Map<String, NodeFacts> facts, String manifest) {
    for (NodeFacts f : facts.values()) {
      CommandResult r = f.reachable() ? f.result(PreflightProbes.MODEL) : null;
      if (r == null || !r.ok()) {
        continue;
      }
      Map<String, String> kv = KeyValues.parse(r.stdout());
      if (manifest.equals(kv.get("complete"))) {
        try {
          long weights = Long.parseLong(kv.getOrDefault("weights", "-1"));
          if (weights > 0) {
            return new ModelSize.Estimate(weights, "measured on " + f.node().name());
          }
        } catch (NumberFormatException ignored) {
          // fall back to the stack
        }
      }
    }
    return ModelSize.fromSpec(spec);
  }

  /** The names {@code --ignore} accepts. */
  public static List<String> names(List<Check> checks) {
    return checks.stream().map(Check::name).toList();
  }
}
