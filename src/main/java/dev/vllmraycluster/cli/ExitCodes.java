package dev.vllmraycluster.cli;

import java.util.LinkedHashMap;
import java.util.Map;

/** Named exit codes, shared by every subcommand, and their meaning as each command's help lists it. */
public final class ExitCodes {
  public static final int OK = 0;
  public static final int FAILED = 1;
  public static final int BAD_INPUT = 2;
  public static final int UNEXPECTED_STATE = 3;
  public static final int INTERNAL = 4;

  private ExitCodes() {}

  /** Code → meaning, in the order the help prints them. */
  static Map<String, String> described() {
    Map<String, String> codes = new LinkedHashMap<>();
    codes.put(Integer.toString(OK), "ok (preflight, verify: no check failed; warnings are allowed; status: the cluster is healthy)");
    codes.put(Integer.toString(FAILED), "failed: a check failed (preflight, verify); status: the cluster is degraded; plan-review: tofu show failed"
        + " or the review could not be written; api-ca: the head could not be reached or holds no CA");
    codes.put(Integer.toString(BAD_INPUT), "bad input: an unknown command or option, a bad option value, a missing"
        + " or broken stack file, an unreadable plan");
    codes.put(Integer.toString(UNEXPECTED_STATE), "unexpected state: preflight, verify: the report could not be"
        + " written to --report-file (the checks ran); api-ca: --out could not be written");
    codes.put(Integer.toString(INTERNAL), "internal error, a bug: run again with --verbose for the stack trace");
    return codes;
  }
}
