package dev.vllmraycluster.preflight;

import java.util.List;

/** One named check: reads the gathered facts, returns its rows (none when it does not apply). */
public interface Check {
  /** The name in the report and in {@code --ignore}. */
  String name();

  /** What it checks, in a few words (for {@code --help} and the README). */
  String summary();

  List<Row> evaluate(Context ctx);
}
