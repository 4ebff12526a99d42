package dev.vllmraycluster.cli;

import dev.vllmraycluster.node.ProjectLayout;
import dev.vllmraycluster.spec.SpecException;
import dev.vllmraycluster.spec.StackLoader;
import dev.vllmraycluster.spec.StackLoader.Loaded;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

/** Loads stack files for a command: all of them, reporting every broken one before failing. */
final class Stacks {
  private Stacks() {}

  /** Loaded stacks by name, or null when any failed (the errors are printed). */
  static Map<String, Loaded> loadAll(Path root, List<Path> files, PrintStream err) {
    return loadAll(root, files, err, true);
  }

  /** As above; {@code printWarnings} false when they go elsewhere (synth: CDKTF annotations). */
  static Map<String, Loaded> loadAll(Path root, List<Path> files, PrintStream err, boolean printWarnings) {
    StackLoader loader = new StackLoader(root);
    Map<String, Loaded> loaded = new LinkedHashMap<>();
    List<SpecException> failures = new ArrayList<>();
    for (Path file : files) {
      try {
        loaded.put(StackLoader.stackName(file), loader.load(file));
      } catch (SpecException e) {
        failures.add(e);
      }
    }
    for (SpecException e : failures) {
      err.println("error: " + e.getMessage());
    }
    for (Map.Entry<String, Loaded> e : printWarnings ? loaded.entrySet() : Map.<String, Loaded>of().entrySet()) {
      for (String warning : e.getValue().warnings()) {
        err.println("warning: stacks/" + e.getKey() + ".yaml: " + warning);
      }
    }
    return failures.isEmpty() ? loaded : null;
  }

  /**
   * One stack file, loaded against the project root: the stack, or null when it failed (the
   * errors are printed). {@code printWarnings} false when the warnings go elsewhere or nowhere.
   */
  static Loaded loadOne(Path file, PrintStream err, boolean printWarnings) {
    Map<String, Loaded> loaded = loadAll(ProjectLayout.current().root(), List.of(file), err, printWarnings);
    return loaded == null ? null : loaded.get(StackLoader.stackName(file));
  }

  static List<Path> files(Path root, List<String> given) {
    if (!given.isEmpty()) {
      return given.stream().map(Path::of).toList();
    }
    return inDirectory(root.resolve("stacks"));
  }

  /** Every {@code *.yaml} in {@code dir}, sorted by name. */
  static List<Path> inDirectory(Path dir) {
    try {
      return StackLoader.stackFiles(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The stack file a command's STACK argument names: a path, or the NAME of {@code
   * stacks/NAME.yaml} under the project root; bad input (for {@code cli}) when there is none.
   */
  static Path stackFile(String stack, CommandLine cli) {
    Path file = resolve(stack);
    if (!Files.isRegularFile(file)) {
      throw new ParameterException(cli, noStackFile(file));
    }
    return file;
  }

  /**
   * Where a STACK argument points, whether or not there is a file: the path as given, or {@code
   * stacks/NAME.yaml} under the project root for a NAME.
   */
  static Path resolve(String stack) {
    Path file = Path.of(stack);
    if (!stack.contains("/") && !stack.endsWith(".yaml") && !Files.isRegularFile(file)) {
      file = ProjectLayout.current().root().resolve("stacks").resolve(stack + ".yaml");
    }
    return file;
  }

  /** What to say when {@code file}, from a STACK argument, is not there. */
  static String noStackFile(Path file) {
    return "no stack file " + file + "; STACK is a stack file or the NAME of stacks/NAME.yaml";
  }

  /** A command's {@code --connect-timeout}; bad input (for {@code cli}) below one second. */
  static Duration connectTimeout(int seconds, CommandLine cli) {
    if (seconds < 1) {
      throw new ParameterException(cli, "--connect-timeout: " + seconds + " is not a timeout; give whole seconds, at"
          + " least 1, e.g. --connect-timeout=10");
    }
    return Duration.ofSeconds(seconds);
  }
}
