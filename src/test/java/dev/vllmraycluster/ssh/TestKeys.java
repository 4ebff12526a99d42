package dev.vllmraycluster.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** SSH key pairs made by OpenSSH's ssh-keygen, for tests. */
public final class TestKeys {
  private TestKeys() {}

  /** A new key pair without a passphrase ({@code ed25519}, {@code rsa}): the private key's path. */
  public static Path generate(Path dir, String type, String name) throws Exception {
    Path key = dir.resolve(name);
    run(List.of("ssh-keygen", "-q", "-t", type, "-N", "", "-C", name, "-f", key.toString()), null);
    return key;
  }

  /** The OpenSSH public key line of a private key made by {@link #generate}. */
  public static String publicKey(Path key) throws IOException {
    return Files.readString(Path.of(key + ".pub"), StandardCharsets.UTF_8).strip();
  }

  static void run(List<String> cmd, String agentSocket) throws Exception {
    assertTrue(Files.isExecutable(Path.of("/usr/bin", cmd.get(0))), cmd.get(0) + " is missing: install openssh-client");
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    if (agentSocket != null) {
      pb.environment().put("SSH_AUTH_SOCK", agentSocket);
    }
    Process p = pb.start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(30, TimeUnit.SECONDS), String.join(" ", cmd) + " hung");
    assertEquals(0, p.exitValue(), String.join(" ", cmd) + ": " + output);
  }
}
