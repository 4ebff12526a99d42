package dev.vllmraycluster;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs {@code python3} for the tests of the project's Python tools and scripts. */
public final class Python {
  private Python() {}

  /** The exit code and the output (standard output and error, merged). */
  public record Result(int code, String output) {}

  /** {@code python3 args...}, which must end within {@code timeout}. */
  public static Result run(Duration timeout, String... args) throws IOException, InterruptedException {
    return run(timeout, Map.of(), args);
  }

  /** {@code python3 args...} with {@code env} added to this environment, which must end within {@code timeout}. */
  public static Result run(Duration timeout, Map<String, String> env, String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("python3"));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().putAll(env);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS), String.join(" ", command) + " ran over " + timeout.toSeconds() + " s");
    return new Result(p.exitValue(), out);
  }
}
