package dev.vllmraycluster.preflight.check;

import dev.vllmraycluster.preflight.Context;
import dev.vllmraycluster.preflight.NodeCheck;
import dev.vllmraycluster.preflight.NodeFacts;
import dev.vllmraycluster.preflight.PreflightProbes;
import dev.vllmraycluster.preflight.Row;
import dev.vllmraycluster.spec.ClusterSpec.NodeSpec;
import dev.vllmraycluster.ssh.CommandResult;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Each node reaches every other node's cluster address (ping, else TCP to its SSH port). */
public final class ReachCheck extends NodeCheck {
  @Override
  public String name() {
    return "reach";
  }

  @Override
  public String summary() {
    return "node-to-node reachability on the cluster addresses";
  }

  @Override
  protected Row check(Context ctx, NodeFacts f) {
    CommandResult r = f.result(PreflightProbes.REACH);
    if (r == null) {
      return null; // a single node
    }
    if (!r.ok()) {
      return warn(f, "cannot test the other nodes: " + r.brief(), "check ping / bash on the host");
    }
    Map<String, String> outcome = new HashMap<>();
    for (String line : r.stdout().split("\n")) {
      String[] parts = line.strip().split("\\s+", 3);
      if (parts.length >= 2) {
        outcome.put(parts[0], parts[1] + (parts.length > 2 ? " " + parts[2].replace('_', ' ') : ""));
      }
    }
    List<String> reached = new ArrayList<>();
    List<String> missed = new ArrayList<>();
    for (NodeSpec peer : ctx.spec().nodes()) {
      if (peer.name().equals(f.node().name())) {
        continue;
      }
      String o = outcome.getOrDefault(peer.address(), "none no answer recorded");
      String who = peer.name() + " " + peer.address();
      if (o.startsWith("icmp") || o.startsWith("tcp") || o.startsWith("refused")) {
        reached.add(who);
      } else {
        missed.add(who + " (" + o.substring(Math.min(o.length(), 5)).strip() + ")");
      }
    }
    if (!missed.isEmpty()) {
      return fail(f, "cannot reach " + String.join(", ", missed) + (reached.isEmpty() ? "" : "; reaches " + String.join(", ", reached)),
          "Ray needs every node to reach every other on its address: check routes, VLANs and firewalls between"
              + " them, and that each nodes[].address is on the cluster network");
    }
    return ok(f, "reaches " + String.join(", ", reached));
  }
}
