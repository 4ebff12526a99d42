package dev.vllmraycluster.cli;

import java.io.PrintStream;

/** Entry point: wires the streams, runs one command line, exits with its code. */
public final class Main {
  private Main() {}

  public static void main(String[] argv) {
    System.exit(run(argv, System.out, System.err));
  }

  /** Runs one command line with the given streams; the exit code (see {@link ExitCodes}). */
  public static int run(String[] argv, PrintStream out, PrintStream err) {
    return Cli.commandLine(new Io(out, err)).execute(argv);
  }
}
