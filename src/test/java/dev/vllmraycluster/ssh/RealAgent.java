package dev.vllmraycluster.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * OpenSSH's own ssh-agent on a socket in a test's directory, with keys made by ssh-keygen. Its
 * confirmations (ssh-add -c) are always declined: the agent's askpass is /bin/false.
 */
final class RealAgent implements AutoCloseable {
  private final Path dir;
  private final Path socket;
  private final Process process;

  private RealAgent(Path dir, Path socket, Process process) {
    this.dir = dir;
    this.socket = socket;
    this.process = process;
  }

  static RealAgent start(Path dir) throws Exception {
    for (String tool : List.of("/usr/bin/ssh-agent", "/usr/bin/ssh-add", "/usr/bin/ssh-keygen")) {
      assertTrue(Files.isExecutable(Path.of(tool)), tool + " is missing: install openssh-client");
    }
    Path socket = dir.resolve("agent.sock");
    ProcessBuilder pb = new ProcessBuilder("ssh-agent", "-D", "-a", socket.toString()).redirectErrorStream(true);
    pb.environment().remove("DISPLAY");
    pb.environment().remove("WAYLAND_DISPLAY");
    pb.environment().put("SSH_ASKPASS", "/bin/false");
    pb.environment().put("SSH_ASKPASS_REQUIRE", "force");
    Process process = pb.start();
    for (int i = 0; i < 100 && !Files.exists(socket); i++) {
      Thread.sleep(50);
    }
    assertTrue(Files.exists(socket), "ssh-agent did not create " + socket);
    return new RealAgent(dir, socket, process);
  }

  String socket() {
    return socket.toString();
  }

  /** A new key pair ({@code ed25519}, {@code rsa}) in the test directory: the private key's path. */
  Path newKey(String type, String name) throws Exception {
    Path key = dir.resolve(name);
    run(List.of("ssh-keygen", "-q", "-t", type, "-N", "", "-C", name, "-f", key.toString()));
    return key;
  }

  /** {@code ssh-add [options] key}. */
  void add(Path key, String... options) throws Exception {
    List<String> cmd = new java.util.ArrayList<>(List.of("ssh-add", "-q"));
    cmd.addAll(List.of(options));
    cmd.add(key.toString());
    run(cmd);
  }

  static String publicKey(Path key) throws IOException {
    return Files.readString(Path.of(key + ".pub"), StandardCharsets.UTF_8).strip();
  }

  private void run(List<String> cmd) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("SSH_AUTH_SOCK", socket.toString());
    Process p = pb.start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(30, TimeUnit.SECONDS), String.join(" ", cmd) + " hung");
    assertEquals(0, p.exitValue(), String.join(" ", cmd) + ": " + output);
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(5, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
  }
}
