package dev.vllmraycluster.review;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Reads argument lines as the constructs render them: {@code --flag=value} or {@code --flag value}. */
final class Args {
  private Args() {}

  /** The key of a leading positional argument: {@code vllm serve MODEL ...}. */
  static final String MODEL = "model (positional)";

  /**
   * Flags to values in order; a flag without a value maps to {@code ""}, a repeated flag to its
   * values joined by {@code ", "}, a leading positional argument to {@link #MODEL}, any other
   * positional argument to {@code #<index>}.
   */
  static Map<String, String> flags(List<String> args) {
    Map<String, String> flags = new LinkedHashMap<>();
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      String flag;
      String value;
      if (a.startsWith("-") && a.contains("=")) {
        flag = a.substring(0, a.indexOf('='));
        value = a.substring(a.indexOf('=') + 1);
      } else if (a.startsWith("-")) {
        flag = a;
        boolean hasValue = i + 1 < args.size() && !args.get(i + 1).startsWith("--");
        value = hasValue ? args.get(++i) : "";
      } else {
        flag = i == 0 ? MODEL : "#" + i;
        value = a;
      }
      flags.merge(flag, value, (x, y) -> x + ", " + y);
    }
    return flags;
  }
}
