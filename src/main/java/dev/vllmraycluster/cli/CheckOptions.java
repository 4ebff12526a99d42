package dev.vllmraycluster.cli;

import dev.vllmraycluster.node.ProjectLayout;
import dev.vllmraycluster.spec.StackLoader.Loaded;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The arguments preflight and verify share: one stack (a file, or a name under stacks/),
 * {@code --json}, {@code --ignore=a,b}, {@code --connect-timeout=SECONDS}, {@code
 * --report-file=FILE} (the JSON report also written to FILE; empty means none). Null from {@link
 * #parse} means bad input (already reported).
 */
record CheckOptions(
    Path stackFile, boolean json, Set<String> ignore, Duration connectTimeout, Path reportFile) {
  static CheckOptions parse(String command, String[] args, List<String> checkNames, PrintStream err) {
    Path file = null;
    boolean json = false;
    Set<String> ignore = new LinkedHashSet<>();
    Duration timeout = Duration.ofSeconds(10);
    Path reportFile = null;
    List<String> problems = new ArrayList<>();
    for (String a : args) {
      if (a.equals("--json")) {
        json = true;
      } else if (a.startsWith("--ignore=")) {
        for (String name : a.substring("--ignore=".length()).split(",")) {
          String n = name.strip();
          if (n.isEmpty()) {
            continue;
          }
          if (!n.equals("all") && !checkNames.contains(n)) {
            problems.add("--ignore: unknown check '" + n + "'; the checks are: " + String.join(", ", checkNames) + " (or all)");
          }
          ignore.add(n);
        }
      } else if (a.startsWith("--connect-timeout=")) {
        try {
          timeout = Duration.ofSeconds(Integer.parseInt(a.substring("--connect-timeout=".length())));
        } catch (NumberFormatException e) {
          problems.add("--connect-timeout: expected whole seconds, e.g. --connect-timeout=10");
        }
      } else if (a.startsWith("--report-file=")) {
        String f = a.substring("--report-file=".length()).strip();
        reportFile = f.isEmpty() ? null : Path.of(f);
      } else if (a.equals("--verbose")) {
        continue;
      } else if (a.startsWith("-")) {
        problems.add("unknown option '" + a + "'");
      } else if (file != null) {
        problems.add("one stack at a time (got " + file + " and " + a + ")");
      } else {
        file = resolve(a);
      }
    }
    if (file == null && problems.isEmpty()) {
      problems.add("which stack? e.g. " + command + " stacks/sandbox.yaml");
    } else if (file != null && !Files.isRegularFile(file)) {
      problems.add("no stack file " + file);
    }
    if (!problems.isEmpty()) {
      for (String p : problems) {
        err.println("error: " + command + ": " + p);
      }
      err.println(Main.usage());
      return null;
    }
    return new CheckOptions(file, json, ignore, timeout, reportFile);
  }

  /** A path as given, or a stack name: {@code sandbox} is {@code stacks/sandbox.yaml}. */
  private static Path resolve(String arg) {
    Path p = Path.of(arg);
    if (!arg.contains("/") && !arg.endsWith(".yaml") && !Files.isRegularFile(p)) {
      return ProjectLayout.current().root().resolve("stacks").resolve(arg + ".yaml");
    }
    return p;
  }

  /**
   * Writes the JSON report to {@code --report-file} when one was given (for CI and tests: the
   * outcome as a file rather than as lines in someone else's log). Returns false, with the reason
   * printed, when the file cannot be written.
   */
  boolean writeReport(String json, PrintStream err) {
    if (reportFile == null) {
      return true;
    }
    try {
      Path parent = reportFile.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      Path tmp = Files.createTempFile(parent, ".report", ".json");
      Files.writeString(tmp, json);
      Files.move(tmp, reportFile, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
          java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      return true;
    } catch (java.io.IOException e) {
      err.println("error: cannot write the report to " + reportFile + ": " + e.getMessage());
      return false;
    }
  }

  /** The stack these options name, loaded and validated; null when it is broken (errors printed). */
  Loaded load(PrintStream err) {
    Map<String, Loaded> stacks = Stacks.loadAll(ProjectLayout.current().root(), List.of(stackFile), err);
    return stacks == null ? null : stacks.values().iterator().next();
  }
}
