package dev.vllmraycluster.cli;

/**
 * The SLF4J provider for one run of the CLI, chosen before anything logs (SSHJ logs through
 * SLF4J): slf4j-nop by default, so a user sees our messages only; slf4j-simple with {@code
 * --verbose}, so SSHJ's connection log reaches stderr. A provider named by the caller ({@code
 * -Dslf4j.provider=...}) is kept. The library itself ships no provider: an application that uses
 * the constructs picks its own.
 */
final class Logging {
  static final String PROVIDER = "slf4j.provider";
  static final String NOP = "org.slf4j.nop.NOPServiceProvider";
  static final String SIMPLE = "org.slf4j.simple.SimpleServiceProvider";
  /** SLF4J announces an explicitly named provider on stderr at this level unless told otherwise. */
  private static final String REPORT_LEVEL = "slf4j.internal.verbosity";

  private Logging() {}

  static void configure(boolean verbose) {
    if (System.getProperty(PROVIDER) != null) {
      return;
    }
    System.setProperty(PROVIDER, verbose ? SIMPLE : NOP);
    if (System.getProperty(REPORT_LEVEL) == null) {
      System.setProperty(REPORT_LEVEL, verbose ? "INFO" : "WARN");
    }
    if (verbose) {
      System.setProperty("org.slf4j.simpleLogger.showDateTime", "true");
      System.setProperty("org.slf4j.simpleLogger.dateTimeFormat", "HH:mm:ss.SSS");
    }
  }
}
