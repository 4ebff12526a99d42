package dev.vllmraycluster.ssh;

import java.time.Duration;

/**
 * Runs commands on one host. The SSH implementation is {@link SshShell}; tests use fakes that
 * answer from captured outputs.
 */
public interface RemoteShell extends AutoCloseable {
  /**
   * Runs {@code command} through the login user's shell. Never throws for a failing command or a
   * broken connection: the result says what happened.
   *
   * @param stdin bytes sent to the command's standard input (then end of file), or null for none;
   *     the way to hand a command a secret without putting it in its arguments
   */
  CommandResult run(String command, String stdin, Duration timeout);

  default CommandResult run(String command, Duration timeout) {
    return run(command, null, timeout);
  }

  /** Where commands run, e.g. {@code root@10.0.0.1:22}. */
  String describe();

  @Override
  void close();
}
