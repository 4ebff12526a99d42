package dev.vllmraycluster.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vllmraycluster.TestStacks;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Runs commands for end-to-end tests (see {@link SandboxInstance} for the sandbox, the cdktf CLI
 * and commands on sandbox hosts). Every command is bounded in time and its output is echoed to the
 * test log as it runs.
 */
final class Sandbox {
  static final Path ROOT = TestStacks.ROOT;

  private Sandbox() {}

  record Result(int exitCode, String output) {
    Result ok(String what) {
      assertEquals(0, exitCode, what + " failed (exit " + exitCode + "):\n" + tail(output, 4000));
      return this;
    }
  }

  /** The e2e tier makes sandbox hosts (systemd-nspawn): it needs root. */
  static void assertRoot() {
    assertEquals("root", System.getProperty("user.name"), "the e2e tier needs root (systemd-nspawn); run it as root");
  }

  static void step(String message) {
    System.out.println("\n[e2e] ==== " + message + " ====");
    System.out.flush();
  }

  /** Runs a command from the project root, echoing its output live, bounded by {@code timeout}. */
  static Result run(Duration timeout, Map<String, String> env, boolean echo, String... command) {
    return run(ROOT, timeout, env, echo, command);
  }

  /** Runs a command in {@code dir}, echoing its output live, bounded by {@code timeout}. */
  static Result run(Path dir, Duration timeout, Map<String, String> env, boolean echo, String... command) {
    ProcessBuilder pb = builder(dir, env, command).redirectErrorStream(true);
    try {
      Process p = pb.start();
      StringBuilder out = new StringBuilder();
      Thread reader = new Thread(() -> copy(p.getInputStream(), out, echo));
      reader.start();
      if (!p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
        p.destroyForcibly();
        reader.join(5000);
        return new Result(124, out + "\n[e2e] timed out after " + timeout + ": " + String.join(" ", command));
      }
      // A grandchild may still hold the pipe for a moment; wait for the end of the output.
      reader.join(120_000);
      if (reader.isAlive()) {
        System.out.println("[e2e] note: output of " + command[0] + " still open 120 s after it exited");
      }
      synchronized (out) {
        return new Result(p.exitValue(), out.toString());
      }
    } catch (IOException ex) {
      throw new UncheckedIOException(ex);
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
      throw new AssertionError(ex);
    }
  }

  private static ProcessBuilder builder(Path dir, Map<String, String> env, String... command) {
    ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile());
    Map<String, String> e = pb.environment();
    e.put("PATH", ROOT.resolve("node_modules/.bin") + ":" + ROOT.resolve(".tools/bin") + ":" + e.get("PATH"));
    e.put("TERRAFORM_BINARY_NAME", ROOT.resolve(".tools/bin/tofu").toString());
    e.put("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20");
    e.put("CHECKPOINT_DISABLE", "1");
    e.put("CI", "true");
    e.remove("TF_CLI_CONFIG_FILE");
    e.putAll(env);
    return pb;
  }

  /**
   * Starts a command in {@code dir} in a process group of its own ({@code setsid}: its pid is the
   * group's id, so that a signal reaches it and every process it started, as Ctrl-C or a killed
   * CI job would), its output into {@code log}. The caller bounds and ends it.
   */
  static Process startInOwnGroup(Path dir, Map<String, String> env, Path log, String... command) {
    String[] full = new String[command.length + 1];
    full[0] = "setsid";
    System.arraycopy(command, 0, full, 1, command.length);
    try {
      return builder(dir, env, full).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static Result run(Duration timeout, String... command) {
    return run(timeout, Map.of(), true, command);
  }

  /** A shell command on this machine (the deploy machine), its output not echoed: its output, or fails as {@code what}. */
  static String onDeployMachine(Duration timeout, String what, String shell) {
    return run(timeout, Map.of(), false, "bash", "-c", shell).ok(what).output();
  }

  /** Each address a plan changes, with its actions, from the plan's {@code tofu show -json}: no-ops left out. */
  static Map<String, String> plannedChanges(String planJson) {
    Map<String, String> changes = new TreeMap<>();
    try {
      for (JsonNode change : TestStacks.JSON.readTree(planJson).path("resource_changes")) {
        String actions = change.at("/change/actions").toString();
        if (!actions.equals("[\"no-op\"]")) {
          changes.put(change.get("address").asText(), actions);
        }
      }
    } catch (IOException e) {
      throw new AssertionError("tofu show -json printed no JSON:\n" + planJson, e);
    }
    return changes;
  }

  /** Polls {@code check} until {@code done} accepts its result or the deadline passes. */
  static String waitFor(String what, Duration timeout, java.util.function.Supplier<Result> check,
      java.util.function.Predicate<Result> done) {
    long deadline = System.nanoTime() + timeout.toNanos();
    Result last;
    do {
      last = check.get();
      if (done.test(last)) {
        return last.output();
      }
      sleep(2000);
    } while (System.nanoTime() < deadline);
    throw new AssertionError(what + " not reached within " + timeout + "; last output:\n" + last.output());
  }

  static List<String> lines(String text) {
    List<String> out = new ArrayList<>();
    for (String l : text.split("\n")) {
      if (!l.isBlank()) {
        out.add(l.strip());
      }
    }
    return out;
  }

  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  static void assertContains(String haystack, String needle, String what) {
    assertTrue(haystack.contains(needle), what + ": expected '" + needle + "' in:\n" + tail(haystack, 3000));
  }

  static String tail(String s, int n) {
    return s.length() <= n ? s : "..." + s.substring(s.length() - n);
  }

  private static void copy(InputStream in, StringBuilder out, boolean echo) {
    try {
      byte[] buf = new byte[8192];
      int n;
      while ((n = in.read(buf)) > 0) {
        String chunk = new String(buf, 0, n, StandardCharsets.UTF_8);
        synchronized (out) {
          out.append(chunk);
        }
        if (echo) {
          System.out.print(chunk);
          System.out.flush();
        }
      }
    } catch (IOException e) {
      // the process ended
    }
  }
}
