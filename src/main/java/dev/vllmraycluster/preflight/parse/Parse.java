package dev.vllmraycluster.preflight.parse;

import java.util.LinkedHashMap;
import java.util.Map;

/** Small helpers shared by the parsers. */
final class Parse {
  private Parse() {}

  static int integer(String text, String what) {
    try {
      return Integer.parseInt(text.strip());
    } catch (NumberFormatException e) {
      throw new ParseException(what + ": '" + text.strip() + "' is not a number");
    }
  }

  /** A MiB count as nvidia-smi prints it with nounits; -1 for [N/A] or [Not Supported]. */
  static long mib(String text) {
    String t = text.strip();
    if (t.startsWith("[") || t.equalsIgnoreCase("N/A")) {
      return -1;
    }
    if (t.endsWith("MiB")) {
      t = t.substring(0, t.length() - 3).strip();
    }
    try {
      return Long.parseLong(t);
    } catch (NumberFormatException e) {
      throw new ParseException("'" + text.strip() + "' is not a MiB count");
    }
  }

  /** {@code key=value} lines; later keys win, lines without '=' are skipped. */
  static Map<String, String> keyValues(String output) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String line : output.split("\n")) {
      int eq = line.indexOf('=');
      if (eq > 0) {
        out.put(line.substring(0, eq).strip(), line.substring(eq + 1).strip());
      }
    }
    return out;
  }

  /** Removes terminal escape sequences (nvidia-smi underlines its topology header). */
  static String stripAnsi(String text) {
    return text.replaceAll("\u001B\\[[0-9;]*[A-Za-z]", "");
  }
}
