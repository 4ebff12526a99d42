package dev.vllmraycluster.ssh;

/** Connecting or logging in failed: what happened, and what the user can do about it. */
public class SshFailure extends Exception {
  private static final long serialVersionUID = 1L;
  private final String fix;

  public SshFailure(String message, String fix, Throwable cause) {
    super(message, cause);
    this.fix = fix;
  }

  public String fix() {
    return fix;
  }
}
