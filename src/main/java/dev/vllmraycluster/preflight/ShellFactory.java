package dev.vllmraycluster.preflight;

import dev.vllmraycluster.spec.ClusterSpec.NodeSpec;
import dev.vllmraycluster.ssh.RemoteShell;
import dev.vllmraycluster.ssh.SshConnector;
import dev.vllmraycluster.ssh.SshFailure;
import dev.vllmraycluster.ssh.SshTarget;
import java.time.Duration;

/** Opens a shell on a node: over SSH for real, from captured outputs in tests. */
@FunctionalInterface
public interface ShellFactory {
  RemoteShell open(NodeSpec node) throws SshFailure;

  static ShellFactory ssh(Duration connectTimeout) {
    SshConnector connector = new SshConnector(connectTimeout);
    return node -> connector.connect(SshTarget.of(node));
  }
}
