package dev.vllmraycluster.cli;

import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.spec.StackLoader.Loaded;
import java.io.PrintStream;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * The STACK argument of the commands that work on one stack (preflight, verify, status, api-ca,
 * parallelism), as a picocli mixin, and loading the stack it names.
 */
final class StackArgument {
  @Parameters(
      index = "0",
      paramLabel = "STACK",
      description = "The stack: a file (stacks/NAME.yaml, or any path) or the NAME of stacks/NAME.yaml.")
  String stack;

  @Spec(Spec.Target.MIXEE) CommandSpec command;

  /**
   * The validated cluster of the stack, or null when it does not load (the errors are printed);
   * bad input when there is no such stack file. {@code printWarnings} as in {@link Stacks#loadOne}.
   */
  ClusterSpec load(PrintStream err, boolean printWarnings) {
    Loaded loaded = Stacks.loadOne(Stacks.stackFile(stack, command.commandLine()), err, printWarnings);
    return loaded == null ? null : loaded.spec();
  }
}
