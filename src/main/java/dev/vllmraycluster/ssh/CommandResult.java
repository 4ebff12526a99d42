package dev.vllmraycluster.ssh;

import java.time.Duration;

/**
 * What one remote command did: its exit code ({@link #NO_EXIT} when it gave none: timed out, killed
 * by a signal, or the connection broke), what it printed, and how long it took.
 */
public record CommandResult(int exitCode, String stdout, String stderr, boolean timedOut, Duration took) {
  public static final int NO_EXIT = -1;

  public CommandResult {
    stdout = stdout == null ? "" : stdout;
    stderr = stderr == null ? "" : stderr;
    took = took == null ? Duration.ZERO : took;
  }

  /** A result with the given code and output (for tests and fakes). */
  public static CommandResult of(int exitCode, String stdout, String stderr) {
    return new CommandResult(exitCode, stdout, stderr, false, Duration.ZERO);
  }

  public static CommandResult ok(String stdout) {
    return of(0, stdout, "");
  }

  /** The command could not be run at all (connection broken, channel refused). */
  public static CommandResult notRun(String why) {
    return of(NO_EXIT, "", why);
  }

  public boolean ok() {
    return exitCode == 0 && !timedOut;
  }

  /** 127: the shell did not find the command. */
  public boolean commandNotFound() {
    return exitCode == 127;
  }

  /** The first non-blank line of stderr, else of stdout, for a short error message. */
  public String brief() {
    for (String text : new String[] {stderr, stdout}) {
      for (String line : text.split("\n")) {
        if (!line.isBlank()) {
          String l = line.strip();
          return l.length() > 200 ? l.substring(0, 200) + "..." : l;
        }
      }
    }
    return timedOut ? "timed out" : "exit " + exitCode + ", no output";
  }
}
