package dev.vllmraycluster.cli;

/** Named exit codes, shared by every subcommand. */
public final class ExitCodes {
  public static final int OK = 0;
  public static final int FAILED = 1;
  public static final int BAD_INPUT = 2;
  public static final int UNEXPECTED_STATE = 3;
  public static final int INTERNAL = 4;

  private ExitCodes() {}
}
