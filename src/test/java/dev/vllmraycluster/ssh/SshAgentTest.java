package dev.vllmraycluster.ssh;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ssh-agent client against OpenSSH's own ssh-agent (skipped where it is not installed). */
class SshAgentTest {
  @TempDir Path dir;

  @Test
  void listsKeysAndSignsWithARealAgent() throws Exception {
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/ssh-agent")) && Files.isExecutable(Path.of("/usr/bin/ssh-add")),
        "OpenSSH's ssh-agent is not installed");
    Path key = dir.resolve("id");
    run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "agent-test", "-f", key.toString());
    Path socket = dir.resolve("agent.sock");
    Process agent = new ProcessBuilder("ssh-agent", "-D", "-a", socket.toString()).redirectErrorStream(true).start();
    try {
      for (int i = 0; i < 50 && !Files.exists(socket); i++) {
        Thread.sleep(100);
      }
      ProcessBuilder add = new ProcessBuilder("ssh-add", "-q", key.toString());
      add.environment().put("SSH_AUTH_SOCK", socket.toString());
      assertEquals(0, add.start().waitFor());

      try (SshAgent client = SshAgent.connect(socket)) {
        List<SshAgent.Identity> ids = client.identities();
        assertEquals(1, ids.size());
        SshAgent.Identity id = ids.get(0);
        assertEquals("ssh-ed25519", id.type());
        assertEquals("agent-test", id.comment());

        byte[] data = "session id and request".getBytes(StandardCharsets.UTF_8);
        ByteBuffer sig = ByteBuffer.wrap(client.sign(id.blob(), data, 0));
        assertArrayEquals("ssh-ed25519".getBytes(StandardCharsets.US_ASCII), SshAgent.string(sig));
        byte[] raw = SshAgent.string(sig);
        ByteBuffer blob = ByteBuffer.wrap(id.blob());
        SshAgent.string(blob);
        Ed25519Signer verifier = new Ed25519Signer();
        verifier.init(false, new Ed25519PublicKeyParameters(SshAgent.string(blob), 0));
        verifier.update(data, 0, data.length);
        assertTrue(verifier.verifySignature(raw), "the agent's signature verifies with the listed public key");
      }
    } finally {
      agent.destroy();
      agent.waitFor(5, TimeUnit.SECONDS);
    }
  }

  private static void run(String... cmd) throws Exception {
    assertEquals(0, new ProcessBuilder(cmd).redirectErrorStream(true).start().waitFor(), String.join(" ", cmd));
  }
}
