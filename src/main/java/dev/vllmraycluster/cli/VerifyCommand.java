package dev.vllmraycluster.cli;

import dev.vllmraycluster.preflight.Preflight;
import dev.vllmraycluster.preflight.Report;
import dev.vllmraycluster.preflight.ReportRenderer;
import dev.vllmraycluster.preflight.ShellFactory;
import dev.vllmraycluster.preflight.Verify;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.spec.StackLoader.Loaded;
import java.io.PrintStream;

/**
 * {@code verify STACK [--json] [--ignore=a,b]}: after a deploy, checks that the cluster serves.
 * The API key comes from the stack's {@code vllm.api_key_env} variable and is never printed.
 */
final class VerifyCommand {
  private final PrintStream out;
  private final PrintStream err;

  VerifyCommand(PrintStream out, PrintStream err) {
    this.out = out;
    this.err = err;
  }

  int run(String[] args) {
    CheckOptions opts = CheckOptions.parse("verify", args, Preflight.names(Verify.CHECKS), err);
    if (opts == null) {
      return ExitCodes.BAD_INPUT;
    }
    Loaded loaded = opts.load(err);
    if (loaded == null) {
      return ExitCodes.BAD_INPUT;
    }
    ClusterSpec spec = loaded.spec();
    String key = null;
    if (spec.vllm().apiKey() != null) {
      String env = spec.vllm().apiKey().environmentVariable();
      key = System.getenv(env);
      if (key == null || key.isEmpty()) {
        key = null;
        err.println("warning: " + env + " is not set: /v1/models and the chat completion go without the key");
      }
    }
    if (!opts.json()) {
      out.println("verify " + spec.name() + ": checking " + spec.nodes().size() + " node(s) over SSH...");
      out.flush();
    }
    Report report = Verify.run(spec, ShellFactory.ssh(opts.connectTimeout()), key).ignoring(opts.ignore());
    String json = ReportRenderer.json(report);
    out.print(opts.json() ? json : ReportRenderer.table(report));
    if (!opts.writeReport(json, err)) {
      return ExitCodes.UNEXPECTED_STATE;
    }
    return report.failed() ? ExitCodes.FAILED : ExitCodes.OK;
  }
}
