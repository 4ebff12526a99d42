package dev.vllmraycluster.preflight;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The rows of a preflight or verify run. Failures of checks named in {@code --ignore} are kept,
 * as warnings that say they were ignored (kubeadm's --ignore-preflight-errors); any other failure
 * makes the run fail.
 */
public record Report(String command, String stack, List<String> nodes, List<Row> rows, List<String> ignored) {
  public Report {
    nodes = List.copyOf(nodes);
    rows = List.copyOf(rows);
    ignored = List.copyOf(ignored);
  }

  public Report(String command, String stack, List<String> nodes, List<Row> rows) {
    this(command, stack, nodes, rows, List.of());
  }

  /** This report with the failures of {@code checks} (or every check, for "all") turned into warnings. */
  public Report ignoring(Set<String> checks) {
    if (checks.isEmpty()) {
      return this;
    }
    List<Row> out = new ArrayList<>();
    for (Row r : rows) {
      if (r.status() == Status.FAIL && (checks.contains(r.check()) || checks.contains("all"))) {
        out.add(new Row(r.node(), r.check(), Status.WARN, "ignored (--ignore): " + r.message(), r.fix()));
      } else {
        out.add(r);
      }
    }
    return new Report(command, stack, nodes, out, checks.stream().sorted().toList());
  }

  public long count(Status status) {
    return rows.stream().filter(r -> r.status() == status).count();
  }

  public boolean failed() {
    return count(Status.FAIL) > 0;
  }
}
