package dev.vllmraycluster.preflight;

/**
 * One line of a report: a check on a node (or {@link #ALL} for a check across the nodes), its
 * status, what was found and, unless ok, what to do.
 */
public record Row(String node, String check, Status status, String message, String fix) {
  /** The node column of a check that compares nodes. */
  public static final String ALL = "all";

  public static Row ok(String node, String check, String message) {
    return new Row(node, check, Status.OK, message, null);
  }

  public static Row warn(String node, String check, String message, String fix) {
    return new Row(node, check, Status.WARN, message, fix);
  }

  public static Row fail(String node, String check, String message, String fix) {
    return new Row(node, check, Status.FAIL, message, fix);
  }
}
