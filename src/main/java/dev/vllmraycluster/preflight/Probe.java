package dev.vllmraycluster.preflight;

import java.time.Duration;

/**
 * One command run on a node to gather facts; checks read its result by {@code name}. {@code
 * stdin} carries what must not be in the command line (the API key), or is null.
 */
public record Probe(String name, String command, String stdin, Duration timeout) {
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(20);

  public static Probe of(String name, String command) {
    return new Probe(name, command, null, DEFAULT_TIMEOUT);
  }

  public Probe withTimeout(Duration t) {
    return new Probe(name, command, stdin, t);
  }

  /** The command as given to the login shell: always through POSIX sh, whatever that shell is. */
  public String shellCommand() {
    return "sh -c " + quote(command);
  }

  /** Single-quotes a string for a POSIX shell. */
  public static String quote(String s) {
    return dev.vllmraycluster.contract.Shell.singleQuoted(s);
  }

  @Override
  public String toString() {
    // Never the stdin: it may hold a secret.
    return "Probe[" + name + "]";
  }
}
