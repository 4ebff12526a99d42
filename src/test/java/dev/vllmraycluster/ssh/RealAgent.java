package dev.vllmraycluster.ssh;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * OpenSSH's own ssh-agent on a socket in a test's directory. Its confirmations (ssh-add -c) are
 * always declined: the agent's askpass is /bin/false.
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
    assertTrue(Files.isExecutable(Path.of("/usr/bin/ssh-agent")), "ssh-agent is missing: install openssh-client");
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

  /** A new key pair in the test directory (not yet in the agent): the private key's path. */
  Path newKey(String type, String name) throws Exception {
    return TestKeys.generate(dir, type, name);
  }

  /** {@code ssh-add [options] key}. */
  void add(Path key, String... options) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("ssh-add", "-q"));
    cmd.addAll(List.of(options));
    cmd.add(key.toString());
    TestKeys.run(cmd, socket.toString());
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(5, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
  }
}
