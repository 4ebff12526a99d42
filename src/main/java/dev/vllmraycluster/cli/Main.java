package dev.vllmraycluster.cli;

import dev.vllmraycluster.preflight.Preflight;
import dev.vllmraycluster.preflight.Verify;
import java.io.PrintStream;
import java.util.Arrays;

/** Entry point: wires streams, runs one subcommand, exits with its code. */
public final class Main {
  private Main() {}

  public static void main(String[] argv) {
    int code = run(argv, System.out, System.err);
    System.exit(code);
  }

  public static int run(String[] argv, PrintStream out, PrintStream err) {
    String command = argv.length == 0 ? "synth" : argv[0];
    String[] rest = argv.length == 0 ? argv : Arrays.copyOfRange(argv, 1, argv.length);
    boolean verbose = Arrays.asList(rest).contains("--verbose");
    try {
      return switch (command) {
        case "synth" -> new SynthCommand(out, err).run(rest);
        case "validate" -> new ValidateCommand(out, err).run(rest);
        case "preflight" -> new PreflightCommand(out, err).run(rest);
        case "verify" -> new VerifyCommand(out, err).run(rest);
        case "plan-review" -> new PlanReviewCommand(out, err).run(rest);
        case "help", "--help", "-h" -> {
          out.println(usage());
          yield ExitCodes.OK;
        }
        default -> {
          err.println("unknown command '" + command + "'\n" + usage());
          yield ExitCodes.BAD_INPUT;
        }
      };
    } catch (RuntimeException e) {
      err.println("internal error: " + e);
      if (verbose) {
        e.printStackTrace(err);
      } else {
        err.println("(run with --verbose for the stack trace)");
      }
      return ExitCodes.INTERNAL;
    }
  }

  static String usage() {
    return String.join(
        "\n",
        "usage: vllm-ray-cluster <command> [options]",
        "  synth [--outdir DIR] [--stacks-dir DIR]",
        "                        synthesize every stacks/*.yaml (what cdktf.json runs)",
        "  validate [FILE...]    check stack files (default: every stacks/*.yaml) and print warnings",
        "  preflight STACK [--json] [--ignore=CHECK,...] [--connect-timeout=S] [--report-file=F]",
        "                        read-only checks on every node before a deploy; exit 1 on a failure",
        "                        checks: " + String.join(" ", Preflight.names(Preflight.CHECKS)),
        "  verify STACK [--json] [--ignore=CHECK,...] [--connect-timeout=S] [--report-file=F]",
        "                        after a deploy: units, ray status, /health, /v1/models, a chat completion",
        "                        (key from the stack's vllm.api_key_env), GPU processes; exit 1 on a failure",
        "                        checks: " + String.join(" ", Preflight.names(Verify.CHECKS)),
        "  STACK is a stack file (stacks/NAME.yaml) or its NAME; a check named in --ignore (or all)",
        "  is reported as a warning instead of a failure; --report-file writes the JSON report to F too.",
        PlanReviewCommand.usage());
  }
}
