package dev.vllmraycluster.preflight;

import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.spec.ClusterSpec.NodeSpec;
import dev.vllmraycluster.ssh.CommandResult;
import dev.vllmraycluster.ssh.RemoteShell;
import dev.vllmraycluster.ssh.SshFailure;
import dev.vllmraycluster.ssh.SshTarget;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;

/**
 * Connects to every node at once and runs its probes there, one after the other over one
 * connection. A node that cannot be reached is recorded as such; the others carry on.
 */
public final class Gatherer {
  /** The probe whose timing gives the clock offset: it prints milliseconds since the epoch. */
  public static final String CLOCK = "clock";

  private final ShellFactory shells;

  public Gatherer(ShellFactory shells) {
    this.shells = shells;
  }

  public Map<String, NodeFacts> gather(ClusterSpec spec, Function<NodeSpec, List<Probe>> probes) {
    ExecutorService pool = Executors.newFixedThreadPool(Math.min(32, Math.max(1, spec.nodes().size())), r -> {
      Thread t = new Thread(r, "gather");
      t.setDaemon(true);
      return t;
    });
    try {
      Map<String, Future<NodeFacts>> futures = new LinkedHashMap<>();
      for (NodeSpec node : spec.nodes()) {
        futures.put(node.name(), pool.submit(() -> gather(node, probes.apply(node))));
      }
      Map<String, NodeFacts> out = new LinkedHashMap<>();
      for (NodeSpec node : spec.nodes()) {
        try {
          out.put(node.name(), futures.get(node.name()).get());
        } catch (ExecutionException e) {
          Throwable cause = e.getCause();
          out.put(node.name(), NodeFacts.unreachable(node, SshTarget.of(node).toString(),
              "internal error while checking: " + cause, "run again with --verbose and report it"));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted", e);
        }
      }
      return out;
    } finally {
      pool.shutdownNow();
    }
  }

  private NodeFacts gather(NodeSpec node, List<Probe> probes) {
    String login = SshTarget.of(node).toString();
    RemoteShell shell;
    try {
      shell = shells.open(node);
    } catch (SshFailure f) {
      return NodeFacts.unreachable(node, login, f.getMessage(), f.fix());
    }
    try (shell) {
      NodeFacts facts = NodeFacts.connected(node, login);
      facts.keyShownToOpenTofu(shells.keyShownToOpenTofu(node));
      List<Probe> ordered = new ArrayList<>(probes);
      for (Probe p : ordered) {
        long before = System.currentTimeMillis();
        CommandResult r = shell.run(p.shellCommand(), p.stdin(), p.timeout());
        long after = System.currentTimeMillis();
        facts.put(p.name(), r);
        if (CLOCK.equals(p.name()) && r.ok()) {
          try {
            long remote = Long.parseLong(r.stdout().strip());
            facts.clock(remote - (before + after) / 2, (after - before) / 2 + 1);
          } catch (NumberFormatException ignored) {
            // the clock check reports the unreadable output
          }
        }
      }
      return facts;
    }
  }
}
