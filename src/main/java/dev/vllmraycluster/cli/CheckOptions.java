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
 * {@code --json}, {@code --ignore=a,b}, {@code --connect-timeout=SECONDS}. Null from {@link
 * #parse} means bad input (already reported).
 */
record CheckOptions(Path stackFile, boolean json, Set<String> ignore, Duration connectTimeout) {
  static CheckOptions parse(String command, String[] args, List<String> checkNames, PrintStream err) {
    Path file = null;
    boolean json = false;
    Set<String> ignore = new LinkedHashSet<>();
    Duration timeout = Duration.ofSeconds(10);
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
    return new CheckOptions(file, json, ignore, timeout);
  }

  /** A path as given, or a stack name: {@code sandbox} is {@code stacks/sandbox.yaml}. */
  private static Path resolve(String arg) {
    Path p = Path.of(arg);
    if (!arg.contains("/") && !arg.endsWith(".yaml") && !Files.isRegularFile(p)) {
      return ProjectLayout.current().root().resolve("stacks").resolve(arg + ".yaml");
    }
    return p;
  }

  /** The stack these options name, loaded and validated; null when it is broken (errors printed). */
  Loaded load(PrintStream err) {
    Map<String, Loaded> stacks = Stacks.loadAll(ProjectLayout.current().root(), List.of(stackFile), err);
    return stacks == null ? null : stacks.values().iterator().next();
  }
}
