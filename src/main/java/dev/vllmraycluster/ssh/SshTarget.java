package dev.vllmraycluster.ssh;

import dev.vllmraycluster.spec.ClusterSpec.NodeSpec;

/**
 * Where and how to log in. {@code privateKeyPath} null: use ssh-agent ({@code SSH_AUTH_SOCK});
 * {@code hostKey} null: verify the host key against {@code ~/.ssh/known_hosts}.
 */
public record SshTarget(String host, int port, String user, String privateKeyPath, String hostKey) {
  public static SshTarget of(NodeSpec node) {
    return new SshTarget(
        node.ssh().host(),
        node.ssh().port(),
        node.ssh().user(),
        node.ssh().privateKeyPath(),
        node.ssh().hostKey());
  }

  @Override
  public String toString() {
    return user + "@" + host + ":" + port;
  }
}
