package dev.vllmraycluster.review;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs the project's OpenTofu to get a plan's JSON: {@code tofu show -json <planfile>} for a saved
 * plan, or {@code tofu plan -out} then {@code show -json} in a synthesized, initialized stack
 * directory ({@code cdktf.out/stacks/<stack>}). A plan connects to no host.
 */
public final class TofuPlans {
  private static final long TIMEOUT_MINUTES = 10;

  private TofuPlans() {}

  /** OpenTofu failed, or could not be started. */
  public static final class TofuException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    TofuException(String message) {
      super(message);
    }
  }

  /**
   * The OpenTofu binary: {@code TERRAFORM_BINARY_NAME} when it names a path (bin/env.sh sets it),
   * else the pinned build in {@code <root>/.tools/bin/tofu}, else {@code tofu} on the PATH.
   */
  public static String binary(Path projectRoot) {
    String named = System.getenv("TERRAFORM_BINARY_NAME");
    if (named != null && named.contains("/") && Files.isExecutable(Path.of(named))) {
      return named;
    }
    Path pinned = projectRoot.resolve(".tools/bin/tofu");
    return Files.isExecutable(pinned) ? pinned.toString() : "tofu";
  }

  /** {@code tofu show -json <planFile>} in {@code workingDir} (where the plan was made). */
  public static String showJson(String tofu, Path workingDir, Path planFile, Map<String, String> env) {
    return run(tofu, workingDir, env, "show", "-json", "-no-color", planFile.toAbsolutePath().toString());
  }

  /**
   * Plans the stack synthesized into {@code stackDir} (already initialized: {@code cdktf diff} or
   * {@code tofu init} did that) and returns the plan's JSON. The plan file is deleted afterwards.
   */
  public static String planJson(String tofu, Path stackDir, Map<String, String> env) {
    Path planFile = stackDir.resolve("plan-review.tfplan");
    try {
      run(tofu, stackDir, env, "plan", "-input=false", "-no-color", "-out=" + planFile);
      return showJson(tofu, stackDir, planFile, env);
    } finally {
      try {
        Files.deleteIfExists(planFile);
      } catch (IOException e) {
        // Best effort: a leftover plan file holds no secret (ephemeral variables).
      }
    }
  }

  /**
   * The review of a stack's plan against its current state, for tests on deployed hosts (the
   * e2e tier): {@code cdktf.out/stacks/<stack>} must have been synthesized and initialized (as
   * {@code cdktf diff} or {@code cdktf deploy} leave it).
   *
   * @param env the environment the deploy runs with (e.g. the API key variable); never printed
   */
  public static PlanReview planAndReview(Path projectRoot, String stack, Map<String, String> env) {
    return planAndReview(binary(projectRoot), projectRoot.resolve("cdktf.out/stacks").resolve(stack), stack, env);
  }

  /** The same for a stack directory anywhere, with a given OpenTofu binary. */
  public static PlanReview planAndReview(String tofu, Path stackDir, String stack, Map<String, String> env) {
    return new PlanReview(PlanParser.parse(planJson(tofu, stackDir, env)), stack, List.of());
  }

  static String run(String tofu, Path dir, Map<String, String> env, String... args) {
    List<String> command = new ArrayList<>();
    command.add(tofu);
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile());
    pb.environment().put("TF_IN_AUTOMATION", "1");
    pb.environment().put("CHECKPOINT_DISABLE", "1");
    String cli = pb.environment().get("TF_CLI_CONFIG_FILE");
    if (cli != null && !Files.exists(Path.of(cli))) {
      pb.environment().remove("TF_CLI_CONFIG_FILE");
    }
    pb.environment().putAll(env);
    try {
      Path err = Files.createTempFile("vrc-tofu", ".err");
      try {
        pb.redirectError(err.toFile());
        Process p = pb.start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
          p.destroyForcibly();
          throw new TofuException("tofu " + args[0] + " did not finish in " + TIMEOUT_MINUTES + " minutes");
        }
        if (p.exitValue() != 0) {
          String stderr = Files.readString(err, StandardCharsets.UTF_8).strip();
          String stdout = new String(out, StandardCharsets.UTF_8).strip();
          throw new TofuException("tofu " + args[0] + " failed (exit " + p.exitValue() + ") in " + dir + ":\n"
              + tail(stderr.isEmpty() ? stdout : stderr));
        }
        return new String(out, StandardCharsets.UTF_8);
      } finally {
        Files.deleteIfExists(err);
      }
    } catch (IOException e) {
      throw new TofuException("cannot run " + tofu + ": " + e.getMessage()
          + " (build it with tools/install-tofu.sh, or set TERRAFORM_BINARY_NAME)");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TofuException("interrupted while running tofu " + args[0]);
    }
  }

  private static String tail(String text) {
    return text.length() <= 4000 ? text : "..." + text.substring(text.length() - 4000);
  }
}
