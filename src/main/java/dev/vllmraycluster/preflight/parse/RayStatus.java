package dev.vllmraycluster.preflight.parse;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code ray status}: the active nodes (counted per node line), pending nodes, recent failures,
 * and each resource's used/total ({@code 2.0/3.0 GPU}). Both "Usage:" (older Ray) and
 * "Total Usage:" (Ray 2.4x+) sections are read.
 */
public final class RayStatus {
  private static final Pattern NODE = Pattern.compile("^\\s*(\\d+)\\s+(node_\\S+|\\S+)\\s*$");
  private static final Pattern USAGE = Pattern.compile("^\\s*([0-9.]+[A-Za-z]*)/([0-9.]+[A-Za-z]*)\\s+(\\S+)");

  private RayStatus() {}

  /** {@code used}/{@code total} as printed (numbers for CPU/GPU, with units for memory). */
  public record Usage(String used, String total) {
    /** The total as a number, for counted resources (CPU, GPU); -1 when it has a unit. */
    public double totalCount() {
      try {
        return Double.parseDouble(total);
      } catch (NumberFormatException e) {
        return -1;
      }
    }
  }

  public record Status(int activeNodes, List<String> pending, List<String> failures, Map<String, Usage> resources) {
    public Status {
      pending = List.copyOf(pending);
      failures = List.copyOf(failures);
      resources = Map.copyOf(resources);
    }

    /** The total of a counted resource ("GPU", "CPU"), 0 when absent. */
    public double total(String resource) {
      Usage u = resources.get(resource);
      return u == null ? 0 : Math.max(0, u.totalCount());
    }
  }

  public static Status parse(String output) {
    String section = null;
    int active = 0;
    boolean sawNodeStatus = false;
    List<String> pending = new ArrayList<>();
    List<String> failures = new ArrayList<>();
    Map<String, Usage> resources = new LinkedHashMap<>();
    for (String line : output.split("\n")) {
      String t = line.strip();
      if (t.isEmpty() || t.startsWith("---") || t.startsWith("====")) {
        continue;
      }
      if (!Character.isWhitespace(line.charAt(0))) {
        // A heading: entries below it are indented.
        switch (t) {
          case "Node status" -> {
            sawNodeStatus = true;
            section = null;
          }
          case "Active:", "Idle:" -> section = "active";
          case "Pending:" -> section = "pending";
          case "Recent failures:" -> section = "failures";
          case "Usage:", "Total Usage:" -> section = "usage";
          default -> section = null; // Resources, Demands, Constraints, ...
        }
        continue;
      }
      if (section == null || t.startsWith("(")) {
        continue; // "(no pending nodes)", "(no failures)"
      }
      switch (section) {
        case "active" -> {
          Matcher m = NODE.matcher(line);
          if (m.matches()) {
            active += Integer.parseInt(m.group(1));
          }
        }
        case "pending" -> pending.add(t);
        case "failures" -> failures.add(t);
        default -> {
          Matcher m = USAGE.matcher(line);
          if (m.find()) {
            resources.put(m.group(3), new Usage(m.group(1), m.group(2)));
          }
        }
      }
    }
    if (!sawNodeStatus) {
      throw new ParseException("ray status: no 'Node status' section in its output");
    }
    return new Status(active, pending, failures, resources);
  }
}
