package dev.vllmraycluster.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vllmraycluster.TestStacks;
import dev.vllmraycluster.ssh.LoopbackSshServer;
import dev.vllmraycluster.ssh.TestKeys;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SLF4J's provider per run, seen from outside: the CLI in a JVM of its own (one provider per JVM)
 * logs into a real SSH server on the loopback. Without --verbose nothing but our own output; with
 * it, SSHJ's connection log through slf4j-simple on stderr.
 */
class LoggingTest {
  @TempDir Path dir;

  record Result(int code, String out, String err) {}

  @Test
  void sshjLogsOnStderrOnlyWithVerbose() throws Exception {
    Path key = TestKeys.generate(dir, "ed25519", "id");
    try (LoopbackSshServer server = LoopbackSshServer.start(List.of(TestKeys.publicKey(key)))) {
      Path stack = dir.resolve("loopback.yaml");
      Files.writeString(stack, """
          nodes:
            - {name: head, role: head, address: %s, ssh_host: 127.0.0.1, ssh_port: %d, gpus: 1, ssh_host_key: "%s"}
          ssh: {user: ops, private_key_path: %s}
          model: {huggingface_repo: deepseek-ai/deepseek-llm-7b-chat}
          """.formatted(TestStacks.ownAddress(), server.port(), server.hostKey(), key));

      Result quiet = cli("preflight", stack.toString(), "--ignore=all");
      assertEquals(ExitCodes.OK, quiet.code(), quiet.out() + quiet.err());
      assertTrue(quiet.out().contains("head  ssh "), quiet.out());
      assertFalse(quiet.err().contains("SLF4J"), quiet.err());
      assertFalse(quiet.err().contains("net.schmizz"), quiet.err());

      Result verbose = cli("preflight", stack.toString(), "--ignore=all", "--verbose");
      assertEquals(ExitCodes.OK, verbose.code(), verbose.out() + verbose.err());
      assertTrue(verbose.err().contains(" INFO net.schmizz.sshj.transport.TransportImpl - Server identity string: SSH-2.0-"),
          verbose.err());
      assertFalse(verbose.out().contains("net.schmizz"), "the log stays off stdout: " + verbose.out());
    }
  }

  private static Result cli(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"),
        "-Dvrc.root=" + TestStacks.ROOT,
        Main.class.getName()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().remove("SSH_AUTH_SOCK");
    Process p = pb.start();
    p.getOutputStream().close();
    var err = new java.util.concurrent.CompletableFuture<String>();
    Thread drain = new Thread(() -> {
      try {
        err.complete(new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
      } catch (java.io.IOException e) {
        err.completeExceptionally(e);
      }
    });
    drain.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the CLI did not finish: " + String.join(" ", args));
    return new Result(p.exitValue(), out, err.get(10, TimeUnit.SECONDS));
  }
}
