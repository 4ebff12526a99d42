package dev.vllmraycluster.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Logging in with ssh-agent keys (SSHJ's agent client) against OpenSSH's own ssh-agent and a real
 * SSH server on the loopback, and our messages for each way it fails.
 */
class SshAgentTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  @TempDir Path dir;

  @Test
  void logsInWithAnEd25519KeyTheAgentHolds() throws Exception {
    try (RealAgent agent = RealAgent.start(dir)) {
      Path key = agent.newKey("ed25519", "agent-ed25519");
      agent.add(key);
      try (LoopbackSshServer server = LoopbackSshServer.start(List.of(TestKeys.publicKey(key)));
          SshShell shell = new SshConnector(TIMEOUT, agent.socket()).connect(server.agentTarget("ops"))) {
        assertTrue(shell.describe().startsWith("ops@127.0.0.1:"), shell.describe());
      }
    }
  }

  @Test
  void logsInWithAnRsaKeyTheAgentSignsWithSha2() throws Exception {
    try (RealAgent agent = RealAgent.start(dir)) {
      Path refused = agent.newKey("ed25519", "other");
      Path key = agent.newKey("rsa", "agent-rsa");
      agent.add(refused);
      agent.add(key);
      // the server takes only rsa-sha2-256/512 signatures; the first key the agent offers is refused
      try (LoopbackSshServer server = LoopbackSshServer.start(List.of(TestKeys.publicKey(key)));
          SshShell shell = new SshConnector(TIMEOUT, agent.socket()).connect(server.agentTarget("ops"))) {
        assertTrue(shell.describe().startsWith("ops@127.0.0.1:"), shell.describe());
      }
    }
  }

  @Test
  void failsWithoutAnAgent() throws Exception {
    try (LoopbackSshServer server = LoopbackSshServer.start(List.of())) {
      SshFailure f = assertThrows(SshFailure.class, () -> new SshConnector(TIMEOUT, null).connect(server.agentTarget("ops")));
      assertEquals("no private key in the stack and no ssh-agent (SSH_AUTH_SOCK is not set)", f.getMessage());
      assertEquals("set ssh.private_key_path, or start ssh-agent and ssh-add your key", f.fix());
      assertThrows(SshFailure.class, () -> new SshConnector(TIMEOUT, "").connect(server.agentTarget("ops")));
    }
  }

  @Test
  void failsWhenTheAgentSocketDoesNotAnswer() throws Exception {
    Path gone = dir.resolve("no-agent.sock");
    try (LoopbackSshServer server = LoopbackSshServer.start(List.of())) {
      SshFailure f = assertThrows(SshFailure.class,
          () -> new SshConnector(TIMEOUT, gone.toString()).connect(server.agentTarget("ops")));
      assertTrue(f.getMessage().startsWith("no private key in the stack and cannot reach ssh-agent at " + gone + ": "),
          f.getMessage());
      assertEquals("start ssh-agent and ssh-add your key, or set ssh.private_key_path", f.fix());
    }
  }

  @Test
  void failsWhenTheAgentHoldsNoKeys() throws Exception {
    try (RealAgent agent = RealAgent.start(dir);
        LoopbackSshServer server = LoopbackSshServer.start(List.of())) {
      SshFailure f = assertThrows(SshFailure.class,
          () -> new SshConnector(TIMEOUT, agent.socket()).connect(server.agentTarget("ops")));
      assertEquals("ssh-agent holds no keys", f.getMessage());
      assertEquals("ssh-add the key this host authorizes (a locked agent lists none: ssh-add -X unlocks it),"
          + " or set ssh.private_key_path", f.fix());
    }
  }

  @Test
  void failsWhenTheHostRefusesEveryAgentKey() throws Exception {
    try (RealAgent agent = RealAgent.start(dir)) {
      agent.add(agent.newKey("ed25519", "first"));
      agent.add(agent.newKey("ed25519", "second"));
      Path authorized = agent.newKey("ed25519", "not-in-the-agent");
      try (LoopbackSshServer server = LoopbackSshServer.start(List.of(TestKeys.publicKey(authorized)))) {
        SshTarget target = server.agentTarget("ops");
        SshFailure f = assertThrows(SshFailure.class, () -> new SshConnector(TIMEOUT, agent.socket()).connect(target));
        assertEquals("the host refused every ssh-agent key (2) for user ops", f.getMessage());
        assertEquals("authorize one of them on the host (ssh-copy-id -p " + target.port() + " ops@127.0.0.1), or fix ssh.user",
            f.fix());
      }
    }
  }

  @Test
  void failsWhenTheAgentWillNotSign() throws Exception {
    try (RealAgent agent = RealAgent.start(dir)) {
      Path key = agent.newKey("ed25519", "confirm-me");
      agent.add(key, "-c"); // every use must be confirmed; this agent's askpass declines
      try (LoopbackSshServer server = LoopbackSshServer.start(List.of(TestKeys.publicKey(key)))) {
        SshFailure f = assertThrows(SshFailure.class,
            () -> new SshConnector(TIMEOUT, agent.socket()).connect(server.agentTarget("ops")));
        assertTrue(f.getMessage().startsWith("ssh-agent refused to sign with key ssh-ed25519 SHA256:"), f.getMessage());
        assertTrue(f.getMessage().endsWith(" (confirm-me): a confirmation or touch it asked for did not come, or the key"
            + " is restricted"), f.getMessage());
        assertTrue(f.fix().startsWith("confirm the key's use when the agent asks"), f.fix());
      }
    }
  }
}
