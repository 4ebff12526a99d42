package dev.vllmraycluster.cluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * Where synth reads the secrets' values to fingerprint them ({@link SecretRotation}): the
 * environment {@code cdktf deploy} gives OpenTofu.
 *
 * <p>The cdktf CLI removes every {@code TF_VAR_*} variable from the environment of the app it
 * runs to synthesize (cdktf-cli 0.21.0, the pinned one: {@code @cdktf/cli-core}'s {@code
 * synth-stack.js}, "they should only be used at execution time"), while it passes them to OpenTofu. A variable is therefore read from this process's
 * own environment (synth run directly: {@code bin/vllm-ray-cluster synth}, Java tests), else from
 * the environment of the cdktf CLI process that started this one: the nearest ancestor whose
 * command line is the cdktf CLI (Linux: {@code /proc/<pid>/environ} and {@code cmdline}, readable
 * for processes of the same user). Only its {@code TF_VAR_*} entries are kept, in memory, and only
 * the ones asked for are used. Where neither holds the variable (another OS, synth run elsewhere than
 * the deploy) it counts as not set, and the plan-time check of {@link SecretRotation} stops a
 * deploy whose secret differs from the one deployed.
 */
public final class DeployEnvironment implements Function<String, String> {
  private static final int MAX_ANCESTORS = 12;

  private final Map<String, String> own;
  private final Map<String, String> cdktf;

  private DeployEnvironment(Map<String, String> own, Map<String, String> cdktf) {
    this.own = own;
    this.cdktf = cdktf;
  }

  /** For tests: {@code own} first, then {@code cdktf}. */
  static DeployEnvironment of(Map<String, String> own, Map<String, String> cdktf) {
    return new DeployEnvironment(Map.copyOf(own), Map.copyOf(cdktf));
  }

  /** This process's environment, then the cdktf CLI's that started it (when there is one). */
  public static DeployEnvironment current() {
    return new DeployEnvironment(System.getenv(), cdktfAncestorEnvironment().orElse(Map.of()));
  }

  @Override
  public String apply(String variable) {
    String value = own.get(variable);
    if (value != null && !value.isEmpty()) {
      return value;
    }
    return cdktf.get(variable);
  }

  /** The environment of the nearest ancestor process that is the cdktf CLI, if any can be read. */
  static Optional<Map<String, String>> cdktfAncestorEnvironment() {
    Optional<ProcessHandle> p = ProcessHandle.current().parent();
    for (int i = 0; i < MAX_ANCESTORS && p.isPresent(); i++) {
      long pid = p.get().pid();
      if (pid <= 1) {
        break;
      }
      Optional<byte[]> cmdline = read(Path.of("/proc", String.valueOf(pid), "cmdline"));
      if (cmdline.isPresent() && isCdktf(cmdline.get())) {
        return read(Path.of("/proc", String.valueOf(pid), "environ")).map(DeployEnvironment::parse);
      }
      p = p.get().parent();
    }
    return Optional.empty();
  }

  /** A command line (NUL-separated) of the cdktf CLI: {@code node .../cdktf ...} or the CLI's bundle. */
  static boolean isCdktf(byte[] cmdline) {
    for (String arg : new String(cmdline, StandardCharsets.UTF_8).split("\0")) {
      String name = arg.substring(arg.lastIndexOf('/') + 1);
      if (name.equals("cdktf") || arg.contains("/cdktf-cli/")) {
        return true;
      }
    }
    return false;
  }

  /** The {@code TF_VAR_*} entries of NUL-separated {@code NAME=value} entries; nothing else is kept. */
  static Map<String, String> parse(byte[] environ) {
    Map<String, String> env = new HashMap<>();
    for (String entry : new String(environ, StandardCharsets.UTF_8).split("\0")) {
      int eq = entry.indexOf('=');
      if (eq > 0 && entry.startsWith("TF_VAR_")) {
        env.put(entry.substring(0, eq), entry.substring(eq + 1));
      }
    }
    return env;
  }

  private static Optional<byte[]> read(Path file) {
    try {
      return Optional.of(Files.readAllBytes(file));
    } catch (IOException | SecurityException e) {
      return Optional.empty();
    }
  }
}
