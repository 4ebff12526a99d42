package dev.vllmraycluster.preflight.parse;

import java.util.Map;

/** {@code key=value} lines, as printed by this tool's own probes. */
public final class KeyValues {
  private KeyValues() {}

  public static Map<String, String> parse(String output) {
    return Parse.keyValues(output);
  }
}
