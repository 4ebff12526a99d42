package dev.vllmraycluster.status;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * The Prometheus text exposition format (what vLLM's {@code /metrics} and node exporter serve),
 * read into samples: enough for status to sum, take the maximum of, or find a metric.
 */
public final class PromText {
  private PromText() {}

  /** One sample: the metric name, its labels and its value. */
  public record Sample(String name, Map<String, String> labels, double value) {}

  public static List<Sample> parse(String text) {
    List<Sample> out = new ArrayList<>();
    for (String raw : text.split("\n")) {
      String line = raw.strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      int brace = line.indexOf('{');
      int space;
      String name;
      Map<String, String> labels = new LinkedHashMap<>();
      if (brace >= 0 && brace < indexOfSpace(line)) {
        name = line.substring(0, brace);
        int end = parseLabels(line, brace + 1, labels);
        space = end + 1;
      } else {
        space = indexOfSpace(line);
        if (space < 0) {
          continue;
        }
        name = line.substring(0, space);
      }
      String[] rest = line.substring(Math.min(space, line.length())).strip().split("\\s+");
      if (rest.length == 0 || rest[0].isEmpty()) {
        continue;
      }
      double value;
      try {
        value = switch (rest[0]) {
          case "NaN" -> Double.NaN;
          case "+Inf" -> Double.POSITIVE_INFINITY;
          case "-Inf" -> Double.NEGATIVE_INFINITY;
          default -> Double.parseDouble(rest[0]);
        };
      } catch (NumberFormatException e) {
        continue;
      }
      out.add(new Sample(name, labels, value));
    }
    return out;
  }

  private static int indexOfSpace(String line) {
    int s = line.indexOf(' ');
    int t = line.indexOf('\t');
    return s < 0 ? t : t < 0 ? s : Math.min(s, t);
  }

  /** Reads {@code k="v",...} from {@code i}; returns the index of the closing brace. */
  private static int parseLabels(String line, int i, Map<String, String> labels) {
    int n = line.length();
    while (i < n && line.charAt(i) != '}') {
      int eq = line.indexOf('=', i);
      if (eq < 0) {
        return n - 1;
      }
      String key = line.substring(i, eq).strip();
      int q = line.indexOf('"', eq);
      StringBuilder v = new StringBuilder();
      int j = q + 1;
      while (j < n && line.charAt(j) != '"') {
        char c = line.charAt(j);
        if (c == '\\' && j + 1 < n) {
          char next = line.charAt(++j);
          v.append(next == 'n' ? '\n' : next);
        } else {
          v.append(c);
        }
        j++;
      }
      labels.put(key, v.toString());
      i = j + 1;
      while (i < n && (line.charAt(i) == ',' || line.charAt(i) == ' ')) {
        i++;
      }
    }
    return i;
  }

  /** The sum of a metric's samples, or empty when it has none. */
  public static OptionalDouble sum(List<Sample> samples, String name) {
    boolean any = false;
    double total = 0;
    for (Sample s : samples) {
      if (s.name().equals(name)) {
        any = true;
        total += s.value();
      }
    }
    return any ? OptionalDouble.of(total) : OptionalDouble.empty();
  }

  /** The largest of a metric's samples, or empty. */
  public static OptionalDouble max(List<Sample> samples, String name) {
    return samples.stream().filter(s -> s.name().equals(name)).mapToDouble(Sample::value).max();
  }
}
