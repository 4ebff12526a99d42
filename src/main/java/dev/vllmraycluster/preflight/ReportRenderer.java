package dev.vllmraycluster.preflight;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A report as a table for people and as JSON for CI. */
public final class ReportRenderer {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final int MESSAGE_WIDTH = 100;

  private ReportRenderer() {}

  /**
   * One line per node and check: node, check, status, what was found; under each warning and
   * failure an indented "fix:" line. Then one summary line.
   */
  public static String table(Report report) {
    int nodeWidth = "NODE".length();
    int checkWidth = "CHECK".length();
    for (Row r : report.rows()) {
      nodeWidth = Math.max(nodeWidth, r.node().length());
      checkWidth = Math.max(checkWidth, r.check().length());
    }
    String format = "%-" + nodeWidth + "s  %-" + checkWidth + "s  %-6s %s%n";
    String indent = " ".repeat(nodeWidth + checkWidth + 11);
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(format, "NODE", "CHECK", "STATUS", "DETAIL"));
    for (Row r : report.rows()) {
      List<String> lines = wrap(r.message(), MESSAGE_WIDTH);
      sb.append(String.format(format, r.node(), r.check(), r.status().label(), lines.get(0)));
      for (String more : lines.subList(1, lines.size())) {
        sb.append(indent).append(more).append('\n');
      }
      if (r.status() != Status.OK && r.fix() != null && !r.fix().isBlank()) {
        List<String> fix = wrap("fix: " + r.fix(), MESSAGE_WIDTH);
        for (String f : fix) {
          sb.append(indent).append(f).append('\n');
        }
      }
    }
    sb.append(summary(report)).append('\n');
    return sb.toString();
  }

  public static String summary(Report report) {
    String verdict = report.failed() ? "FAILED" : "passed";
    String s = report.command() + " " + report.stack() + ": " + verdict + " (" + report.count(Status.FAIL)
        + " failed, " + report.count(Status.WARN) + " warnings, " + report.count(Status.OK) + " ok on "
        + report.nodes().size() + " node" + (report.nodes().size() == 1 ? "" : "s") + ")";
    if (!report.ignored().isEmpty()) {
      s += "; ignored: " + String.join(",", report.ignored());
    }
    return s;
  }

  public static String json(Report report) {
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("command", report.command());
    root.put("stack", report.stack());
    root.put("passed", !report.failed());
    Map<String, Object> counts = new LinkedHashMap<>();
    for (Status s : Status.values()) {
      counts.put(s.label(), report.count(s));
    }
    root.put("counts", counts);
    root.put("nodes", report.nodes());
    root.put("ignored", report.ignored());
    List<Map<String, Object>> rows = new ArrayList<>();
    for (Row r : report.rows()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("node", r.node());
      m.put("check", r.check());
      m.put("status", r.status().label());
      m.put("message", r.message());
      m.put("fix", r.fix());
      rows.add(m);
    }
    root.put("rows", rows);
    try {
      return JSON.writeValueAsString(root) + "\n";
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  static List<String> wrap(String text, int width) {
    List<String> out = new ArrayList<>();
    StringBuilder line = new StringBuilder();
    for (String word : (text == null ? "" : text).split(" ")) {
      if (line.length() > 0 && line.length() + 1 + word.length() > width) {
        out.add(line.toString());
        line.setLength(0);
      }
      if (line.length() > 0) {
        line.append(' ');
      }
      line.append(word);
    }
    out.add(line.toString());
    return out;
  }
}
