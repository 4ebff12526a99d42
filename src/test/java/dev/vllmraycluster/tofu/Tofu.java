package dev.vllmraycluster.tofu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vllmraycluster.TestStacks;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs the project's pinned OpenTofu (built by tools/install-tofu.sh) in a directory. */
public final class Tofu {
  private Tofu() {}

  public static Path binary() {
    String named = System.getenv("TERRAFORM_BINARY_NAME");
    Path path = named != null && named.contains("/") ? Path.of(named) : TestStacks.ROOT.resolve(".tools/bin/tofu");
    assertTrue(Files.isExecutable(path), "OpenTofu is not built at " + path + ": run tools/install-tofu.sh (bin/setup does)");
    return path;
  }

  public record Result(int exitCode, String output) {}

  public static Result run(Path dir, Map<String, String> env, String... args) {
    List<String> command = new ArrayList<>();
    command.add(binary().toString());
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
    pb.environment().put("TF_IN_AUTOMATION", "1");
    pb.environment().put("TF_CLI_CONFIG_FILE", "/dev/null");
    pb.environment().putAll(env);
    try {
      Process p = pb.start();
      byte[] out = p.getInputStream().readAllBytes();
      assertTrue(p.waitFor(5, TimeUnit.MINUTES), "tofu " + String.join(" ", args) + " timed out");
      return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new AssertionError("cannot run " + command, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  public static String ok(Path dir, Map<String, String> env, String... args) {
    Result r = run(dir, env, args);
    assertEquals(0, r.exitCode(), "tofu " + String.join(" ", args) + " failed:\n" + r.output());
    return r.output();
  }
}
