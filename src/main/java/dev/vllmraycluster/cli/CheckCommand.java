package dev.vllmraycluster.cli;

import dev.vllmraycluster.preflight.Check;
import dev.vllmraycluster.preflight.Preflight;
import dev.vllmraycluster.preflight.Report;
import dev.vllmraycluster.preflight.ReportRenderer;
import dev.vllmraycluster.preflight.ShellFactory;
import dev.vllmraycluster.spec.ClusterSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.BiFunction;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.UsageMessageSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * What preflight and verify share: one stack (a file, or a name under stacks/), the checks run on
 * every node at once over SSH, the report as a table or {@code --json}, failures of named checks
 * turned into warnings by {@code --ignore}, and also as a JSON file with {@code --report-file}; exit
 * 1 when a check failed, 2 on bad input, 3 when the report file cannot be written.
 */
abstract class CheckCommand implements Callable<Integer> {
  private final Io io;

  @Mixin StackArgument stack;

  @Option(names = "--json", description = "Print the report as JSON (for CI) instead of a table.")
  boolean json;

  @Option(
      names = "--ignore",
      split = ",",
      paramLabel = "CHECK",
      description = "Report these checks' failures as warnings: comma-separated or repeated, all for every"
          + " check (the checks are listed below).")
  List<String> ignore = new ArrayList<>();

  @Option(
      names = "--connect-timeout",
      paramLabel = "SECONDS",
      defaultValue = "10",
      description = "How long to wait for each node's SSH server (default: ${DEFAULT-VALUE}).")
  int connectTimeoutSeconds;

  @Option(
      names = "--report-file",
      paramLabel = "FILE",
      description = "Also write the JSON report to FILE, whatever the output format (for CI and tests); an"
          + " empty FILE writes none.")
  String reportFile;

  @Spec CommandSpec command;

  private final List<Check> checks;
  private final String how;
  private final BiFunction<ClusterSpec, ShellFactory, Report> run;

  /**
   * @param checks this command's checks, in order
   * @param how how it checks the nodes, for what it says first: {@code over SSH (read-only)}
   * @param run runs the checks on every node
   */
  CheckCommand(Io io, List<Check> checks, String how, BiFunction<ClusterSpec, ShellFactory, Report> run) {
    this.io = io;
    this.checks = checks;
    this.how = how;
    this.run = run;
  }

  /** The names of this command's checks, in order. */
  final List<String> checkNames() {
    return Preflight.names(checks);
  }

  /** Adds what every check command's help says: how a check turns out, and the checks by name. */
  final void describe(UsageMessageSpec usage) {
    List<String> description = new ArrayList<>(List.of(usage.description()));
    description.add("Each check is ok, warn or fail; every warning and failure comes with a fix.");
    usage.description(description.toArray(String[]::new));
    usage.footer("", "The checks: " + String.join(", ", checkNames()) + ".");
  }

  /** What this command says before the checks run, e.g. {@code preflight sandbox: checking ...}. */
  private String announce(ClusterSpec spec) {
    return command.name() + " " + spec.name() + ": checking " + spec.nodes().size() + " node(s) " + how + "...";
  }

  @Override
  public Integer call() {
    Set<String> ignored = ignored();
    Duration timeout = Stacks.connectTimeout(connectTimeoutSeconds, command.commandLine());
    ClusterSpec spec = stack.load(io.err(), true);
    if (spec == null) {
      return ExitCodes.BAD_INPUT;
    }
    String announcement = announce(spec);
    if (!json) {
      io.out().println(announcement);
      io.out().flush();
    }
    Report report = run.apply(spec, ShellFactory.ssh(timeout)).ignoring(ignored);
    String jsonReport = ReportRenderer.json(report);
    io.out().print(json ? jsonReport : ReportRenderer.table(report));
    if (!writeReport(jsonReport)) {
      return ExitCodes.UNEXPECTED_STATE;
    }
    return report.failed() ? ExitCodes.FAILED : ExitCodes.OK;
  }

  /**
   * Writes the JSON report to {@code --report-file} when one was given (the outcome as a file
   * rather than as lines in someone else's log), replacing the file at once. False, with the
   * reason printed, when it cannot be written.
   */
  private boolean writeReport(String jsonReport) {
    if (reportFile == null || reportFile.isBlank()) {
      return true;
    }
    Path target = Path.of(reportFile.strip());
    try {
      Path parent = target.toAbsolutePath().getParent();
      Files.createDirectories(parent);
      Path tmp = Files.createTempFile(parent, ".report", ".json");
      Files.writeString(tmp, jsonReport);
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      return true;
    } catch (IOException e) {
      io.err().println("error: cannot write the report to " + target + ": " + e.getMessage());
      return false;
    }
  }

  /**
   * The checks named in {@code --ignore}; empty names are skipped, so {@code --ignore=} (what
   * {@code local_checks} passes when nothing is ignored) ignores nothing.
   */
  private Set<String> ignored() {
    Set<String> names = new LinkedHashSet<>();
    for (String name : ignore) {
      String n = name.strip();
      if (n.isEmpty()) {
        continue;
      }
      if (!n.equals("all") && !checkNames().contains(n)) {
        throw badInput("--ignore: unknown check '" + n + "'; the checks are: " + String.join(", ", checkNames())
            + " (or all)");
      }
      names.add(n);
    }
    return names;
  }

  private ParameterException badInput(String message) {
    return new ParameterException(command.commandLine(), message);
  }
}
