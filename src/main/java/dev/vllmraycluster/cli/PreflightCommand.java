package dev.vllmraycluster.cli;

import dev.vllmraycluster.preflight.Preflight;
import dev.vllmraycluster.preflight.Report;
import dev.vllmraycluster.preflight.ReportRenderer;
import dev.vllmraycluster.preflight.ShellFactory;
import dev.vllmraycluster.spec.StackLoader.Loaded;
import java.io.PrintStream;

/**
 * {@code preflight STACK [--json] [--ignore=a,b]}: connects to every node at once and runs the
 * named read-only checks; exit 1 when any check failed (and was not ignored), 2 on bad input.
 */
final class PreflightCommand {
  private final PrintStream out;
  private final PrintStream err;

  PreflightCommand(PrintStream out, PrintStream err) {
    this.out = out;
    this.err = err;
  }

  int run(String[] args) {
    CheckOptions opts = CheckOptions.parse("preflight", args, Preflight.names(Preflight.CHECKS), err);
    if (opts == null) {
      return ExitCodes.BAD_INPUT;
    }
    Loaded loaded = opts.load(err);
    if (loaded == null) {
      return ExitCodes.BAD_INPUT;
    }
    if (!opts.json()) {
      out.println("preflight " + loaded.spec().name() + ": checking " + loaded.spec().nodes().size()
          + " node(s) over SSH (read-only)...");
      out.flush();
    }
    Report report = Preflight.run(loaded.spec(), ShellFactory.ssh(opts.connectTimeout())).ignoring(opts.ignore());
    String json = ReportRenderer.json(report);
    out.print(opts.json() ? json : ReportRenderer.table(report));
    if (!opts.writeReport(json, err)) {
      return ExitCodes.UNEXPECTED_STATE;
    }
    return report.failed() ? ExitCodes.FAILED : ExitCodes.OK;
  }
}
