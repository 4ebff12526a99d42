package dev.vllmraycluster.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Help;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The {@code vllm-ray-cluster} command line (picocli): the root command, its subcommands, and the
 * rules every subcommand shares: {@code --help} and {@code --version} exit 0; {@code --opt value}
 * and {@code --opt=value} are the same; an unknown command or option is refused with a
 * suggestion and exit 2; a failure inside a command is one message and exit 4, with the stack
 * trace only under {@code --verbose}.
 */
@Command(
    name = "vllm-ray-cluster",
    scope = ScopeType.INHERIT, // -h/--help and -V/--version on every subcommand too
    mixinStandardHelpOptions = true,
    versionProvider = Version.class,
    synopsisSubcommandLabel = "COMMAND",
    description = {
      "A vLLM service on a multi-node Ray cluster of GPU servers reached over SSH, as CDK for Terraform"
          + " stacks (one per stacks/NAME.yaml).",
      "",
      "Typical use: validate, then preflight STACK, then cdktf deploy STACK (it runs synth and preflight"
          + " itself), then verify STACK."
    },
    commandListHeading = "%nCommands:%n",
    exitCodeListHeading = "%nExit codes:%n",
    footer = {"", "'vllm-ray-cluster COMMAND --help' shows a command's options."})
final class Cli implements Callable<Integer> {
  static final String NAME = "vllm-ray-cluster";

  @Option(
      names = "--verbose",
      scope = ScopeType.INHERIT,
      description = "Log the SSH library's connection details (SLF4J simple logger, stderr), and print the"
          + " stack trace of an internal error.")
  boolean verbose;

  @Spec CommandSpec spec;

  /** No command given. */
  @Override
  public Integer call() {
    throw new ParameterException(spec.commandLine(), "which command? one of: "
        + String.join(", ", spec.subcommands().keySet()));
  }

  /** The whole command line, writing to {@code io}. */
  static CommandLine commandLine(Io io) {
    CommandLine cli = new CommandLine(new Cli())
        .addSubcommand(new SynthCommand(io))
        .addSubcommand(new ValidateCommand(io))
        .addSubcommand(new PreflightCommand(io))
        .addSubcommand(new VerifyCommand(io))
        .addSubcommand(new StatusCommand(io))
        .addSubcommand(new PlanReviewCommand(io))
        .addSubcommand(new ApiCaCommand(io))
        .addSubcommand(new ParallelismCommand(io))
        .addSubcommand(new CommandLine.HelpCommand());
    cli.setOut(new PrintWriter(io.out(), true));
    cli.setErr(new PrintWriter(io.err(), true));
    cli.setColorScheme(Help.defaultColorScheme(Help.Ansi.OFF));
    cli.setParameterExceptionHandler(badInput(io));
    cli.setExecutionExceptionHandler(internalError(io));
    cli.setExecutionStrategy(parsed -> {
      Logging.configure(verbose(parsed));
      return new CommandLine.RunLast().execute(parsed);
    });
    for (CommandLine command : commandsOf(cli)) {
      command.getCommandSpec().usageMessage()
          .exitCodeListHeading("%nExit codes:%n")
          .exitCodeList(ExitCodes.described());
      if (command.getCommand() instanceof CheckCommand check) {
        check.describe(command.getCommandSpec().usageMessage());
      }
    }
    return cli;
  }

  private static List<CommandLine> commandsOf(CommandLine cli) {
    List<CommandLine> all = new ArrayList<>(List.of(cli));
    all.addAll(cli.getSubcommands().values());
    return all;
  }

  /** {@code --verbose} given to the root command or to the subcommand. */
  static boolean verbose(ParseResult parsed) {
    for (ParseResult p = parsed; p != null; p = p.subcommand()) {
      if (p.hasMatchedOption("--verbose")) {
        return true;
      }
    }
    return false;
  }

  /**
   * Bad input, from parsing or from a command's own checks: the message, a suggestion when the
   * word looks like a known one, the command's synopsis, and where the full help is. Exit 2.
   */
  private static IParameterExceptionHandler badInput(Io io) {
    return (ex, args) -> {
      CommandLine command = ex.getCommandLine();
      String name = command.getCommandSpec().qualifiedName();
      io.err().println("error: " + name + ": " + message(ex));
      if (ex instanceof UnmatchedArgumentException unmatched) {
        if (!unmatched.getSuggestions().isEmpty()) {
          io.err().println("  did you mean: " + String.join(" or ", unmatched.getSuggestions()) + "?");
        } else if (unmatched.isUnknownOption()) {
          io.err().println("  the options here are: " + String.join(", ", optionNames(command.getCommandSpec())));
        }
      }
      Help help = command.getHelp();
      io.err().print("usage: " + help.synopsis(help.synopsisHeadingLength()));
      io.err().println("'" + name + " --help' shows every option.");
      io.err().flush();
      return ExitCodes.BAD_INPUT;
    };
  }

  private static String message(ParameterException ex) {
    if (ex instanceof UnmatchedArgumentException unmatched && !unmatched.getUnmatched().isEmpty()) {
      String word = unmatched.getUnmatched().get(0);
      CommandSpec spec = ex.getCommandLine().getCommandSpec();
      if (word.startsWith("-")) {
        return "unknown option '" + word + "'";
      }
      if (!spec.subcommands().isEmpty() && spec.positionalParameters().isEmpty()) {
        return "unknown command '" + word + "'; the commands are: " + String.join(", ", spec.subcommands().keySet());
      }
      return "unexpected argument '" + word + "'";
    }
    String m = ex.getMessage();
    return m.isEmpty() ? m : Character.toLowerCase(m.charAt(0)) + m.substring(1);
  }

  private static List<String> optionNames(CommandSpec spec) {
    List<String> names = new ArrayList<>();
    for (OptionSpec option : spec.options()) {
      names.add(option.longestName());
    }
    return names;
  }

  /** An exception a command did not turn into a message: a bug. Exit 4. */
  private static IExecutionExceptionHandler internalError(Io io) {
    return (ex, command, parsed) -> {
      io.err().println("error: " + command.getCommandSpec().qualifiedName() + ": internal error: " + ex);
      if (verbose(parsed)) {
        ex.printStackTrace(io.err());
      } else {
        io.err().println("  run it again with --verbose for the stack trace, and report it");
      }
      io.err().flush();
      return ExitCodes.INTERNAL;
    };
  }
}
