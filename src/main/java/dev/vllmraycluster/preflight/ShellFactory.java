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

  /**
   * The host key the node shows OpenTofu's SSH client ({@code <type> <base64>}), or null when not
   * known (the default, e.g. for captured outputs).
   */
  default String keyShownToOpenTofu(NodeSpec node) {
    return null;
  }

  static ShellFactory ssh(Duration connectTimeout) {
    SshConnector connector = new SshConnector(connectTimeout);
    return new ShellFactory() {
      @Override
      public RemoteShell open(NodeSpec node) throws SshFailure {
        return connector.connect(SshTarget.of(node));
      }

      @Override
      public String keyShownToOpenTofu(NodeSpec node) {
        return connector.keyShownToOpenTofu(SshTarget.of(node));
      }
    };
  }
}
