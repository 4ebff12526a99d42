package dev.vllmraycluster.preflight;

import java.util.ArrayList;
import java.util.List;

/** A check that looks at each reachable node on its own. */
public abstract class NodeCheck implements Check {
  @Override
  public List<Row> evaluate(Context ctx) {
    List<Row> rows = new ArrayList<>();
    for (NodeFacts f : ctx.reachable()) {
      Row r = check(ctx, f);
      if (r != null) {
        rows.add(r);
      }
    }
    return rows;
  }

  /** The node's row, or null when the check does not apply to it. */
  protected abstract Row check(Context ctx, NodeFacts facts);

  protected Row ok(NodeFacts f, String message) {
    return Row.ok(f.node().name(), name(), message);
  }

  protected Row warn(NodeFacts f, String message, String fix) {
    return Row.warn(f.node().name(), name(), message, fix);
  }

  protected Row fail(NodeFacts f, String message, String fix) {
    return Row.fail(f.node().name(), name(), message, fix);
  }
}
