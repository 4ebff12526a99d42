package dev.vllmraycluster.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * A sandbox instance one e2e test class owns: its own hosts, bridge ({@code vrcbr<index>}),
 * subnet ({@code 10.213.<index>.0/24}) and host names, and its own cdktf project directory
 * ({@code target/e2e/<name>/}: {@code cdktf.json}, {@code stacks/<name>.yaml} written by the
 * sandbox, the state file, {@code cdktf.out}). Nothing it does touches the default instance (the
 * demo's) or the project's own {@code stacks/}, state or {@code cdktf.out}.
 *
 * <p>The index is {@code VRC_SANDBOX_INDEX_BASE} (default 100) plus the class's offset, so that
 * engineers running e2e tests of several checkouts at once pick disjoint bases. A leftover of an
 * earlier run of the same instance (a test JVM that was killed) is this test's own: {@link #up}
 * takes it down first.
 */
final class SandboxInstance implements AutoCloseable {
  static final Duration SANDBOX_TIMEOUT = Duration.ofMinutes(15);
  static final Duration DEPLOY_TIMEOUT = Duration.ofMinutes(25);
  static final Duration CLI_TIMEOUT = Duration.ofMinutes(3);

  final String name;
  final int index;
  final Path project;
  final Path stackFile;
  private final List<String> hosts = new ArrayList<>();

  private SandboxInstance(String name, int index) {
    this.name = name;
    this.index = index;
    this.project = Sandbox.ROOT.resolve("target/e2e").resolve(name);
    this.stackFile = project.resolve("stacks").resolve(name + ".yaml");
  }

  /** The instance {@code name} at index base + {@code offset} (1..40). */
  static SandboxInstance of(String name, int offset) {
    String base = System.getenv().getOrDefault("VRC_SANDBOX_INDEX_BASE", "100");
    int index = Integer.parseInt(base.strip()) + offset;
    if (index < 1 || index > 254) {
      throw new IllegalArgumentException("sandbox index " + index + " (VRC_SANDBOX_INDEX_BASE " + base + " + " + offset + ") is not 1..254");
    }
    return new SandboxInstance(name, index);
  }

  /** The environment that selects this instance for {@code sandbox/sandbox}. */
  Map<String, String> env() {
    return Map.of(
        "VRC_SANDBOX_INSTANCE", name,
        "VRC_SANDBOX_INDEX", String.valueOf(index),
        "VRC_SANDBOX_STACK_FILE", stackFile.toString());
  }

  /** The stack name: the stack file's name. */
  String stack() {
    return name;
  }

  String ip(String host) {
    return switch (host) {
      case "head" -> net() + ".11";
      case "outsider" -> net() + ".200";
      default -> net() + "." + (11 + Integer.parseInt(host.substring("worker".length())));
    };
  }

  /** The first three octets of the instance's subnet, e.g. 10.213.101. */
  String net() {
    return "10.213." + index;
  }

  String bridgeIp() {
    return net() + ".1";
  }

  /** The cluster's hosts (head, worker1, ...), without the outsider. */
  List<String> hosts() {
    return List.copyOf(hosts);
  }

  /**
   * Takes down any leftover of this instance, makes a fresh project directory, and brings up
   * {@code n} hosts (plus the outsider with {@code --outsider}); the sandbox writes the stack file.
   */
  SandboxInstance up(int n, String... options) {
    Sandbox.step("sandbox instance " + name + " (index " + index + ", " + net() + ".0/24): clearing leftovers");
    down();
    deleteTree(project);
    try {
      Files.createDirectories(stackFile.getParent());
      Files.writeString(project.resolve("cdktf.json"), """
          {
            "language": "java",
            "app": "%s synth --stacks-dir %s",
            "codeMakerOutput": "imports",
            "terraformProviders": [],
            "terraformModules": [],
            "context": {}
          }
          """.formatted(Sandbox.ROOT.resolve("bin/vllm-ray-cluster"), stackFile.getParent()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    List<String> args = new ArrayList<>(List.of("up", String.valueOf(n)));
    args.addAll(List.of(options));
    Sandbox.step("sandbox " + String.join(" ", args) + " (instance " + name + ")");
    sandbox(SANDBOX_TIMEOUT, args.toArray(String[]::new)).ok("sandbox up (instance " + name + ")");
    hosts.clear();
    hosts.add("head");
    for (int i = 1; i < n; i++) {
      hosts.add("worker" + i);
    }
    if (!Files.isRegularFile(stackFile)) {
      throw new AssertionError("sandbox up did not write " + stackFile);
    }
    return this;
  }

  /** Stops and deletes the instance's hosts, bridge and wheel server (a no-op when none). */
  void down() {
    sandbox(Duration.ofMinutes(3), "down").ok("sandbox down (instance " + name + ")");
  }

  @Override
  public void close() {
    if ("1".equals(System.getenv("VRC_KEEP_SANDBOX"))) {
      Sandbox.step("VRC_KEEP_SANDBOX=1: leaving instance " + name + " up");
      return;
    }
    Sandbox.step("sandbox down (instance " + name + ")");
    down();
  }

  Sandbox.Result sandbox(Duration timeout, String... args) {
    String[] command = new String[args.length + 1];
    command[0] = "sandbox/sandbox";
    System.arraycopy(args, 0, command, 1, args.length);
    return Sandbox.run(Sandbox.ROOT, timeout, env(), true, command);
  }

  /** A command on one of the instance's hosts, through the sandbox's exec (nsenter, no SSH). */
  Sandbox.Result on(String host, String shellCommand) {
    return Sandbox.run(Sandbox.ROOT, Duration.ofSeconds(90), env(), false,
        "sandbox/sandbox", "exec", host, "bash", "-c", shellCommand);
  }

  String onOk(String host, String shellCommand) {
    Sandbox.Result r = on(host, shellCommand);
    assertEquals(0, r.exitCode(), host + ": " + shellCommand + " failed:\n" + r.output());
    return r.output();
  }

  /** The main process of {@code unit} on {@code host}; fails when the unit has none. */
  String mainPid(String host, String unit) {
    String pid = onOk(host, "systemctl show -p MainPID --value " + unit).strip();
    assertFalse(pid.isEmpty() || pid.equals("0"), unit + " on " + host + " has no main process");
    return pid;
  }

  /** The API as clients reach it: the proxy's HTTPS on 9001 of the head. */
  String api() {
    return "https://" + ip("head") + ":9001";
  }

  /** The cluster's CA the deploy wrote (the file output api_ca_certificate names, in the project directory). */
  Path apiCaFile() {
    return project.resolve(".vrc").resolve(stack()).resolve("api-ca.crt");
  }

  /** curl's option to check the proxy's certificate with {@link #apiCaFile()}. */
  String caOption() {
    return "--cacert " + apiCaFile();
  }

  /** The synthesized stack in the instance's project directory (where OpenTofu runs). */
  Path stackDir() {
    return project.resolve("cdktf.out/stacks").resolve(stack());
  }

  /** The pinned cdktf CLI in the instance's project directory. */
  Sandbox.Result cdktf(Map<String, String> env, String... args) {
    return cdktfIn(project, env, args);
  }

  /** The pinned cdktf CLI in another project directory (made with {@link #project(String)}). */
  Sandbox.Result cdktfIn(Path dir, Map<String, String> env, String... args) {
    String[] command = new String[args.length + 1];
    command[0] = Sandbox.ROOT.resolve("node_modules/.bin/cdktf").toString();
    System.arraycopy(args, 0, command, 1, args.length);
    return Sandbox.run(dir, DEPLOY_TIMEOUT, env, true, command);
  }

  /**
   * A second cdktf project directory beside the instance's ({@code target/e2e/<name>-<suffix>/})
   * holding one stack file {@code <stack>.yaml} with {@code yaml}, for a stack that must not be
   * synthesized with the instance's own.
   */
  Path project(String suffix, String stack, String yaml) {
    Path dir = Sandbox.ROOT.resolve("target/e2e").resolve(name + "-" + suffix);
    deleteTree(dir);
    try {
      Files.createDirectories(dir.resolve("stacks"));
      Files.writeString(dir.resolve("stacks").resolve(stack + ".yaml"), yaml);
      Files.writeString(dir.resolve("cdktf.json"),
          Files.readString(project.resolve("cdktf.json")).replace(stackFile.getParent().toString(), dir.resolve("stacks").toString()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return dir;
  }

  /** The CLI ({@code bin/vllm-ray-cluster}) of this checkout. */
  Sandbox.Result cli(Map<String, String> env, String... args) {
    String[] command = new String[args.length + 1];
    command[0] = Sandbox.ROOT.resolve("bin/vllm-ray-cluster").toString();
    System.arraycopy(args, 0, command, 1, args.length);
    Map<String, String> e = new HashMap<>(env);
    e.putIfAbsent("SSH_AUTH_SOCK", "");
    return Sandbox.run(Sandbox.ROOT, CLI_TIMEOUT, e, true, command);
  }

  /** The local state file of a stack deployed from the instance's project directory. */
  Path state() {
    return project.resolve("terraform." + stack() + ".tfstate");
  }

  /** For a test class's {@code @RegisterExtension}: {@link #journalsOnFailure(ExtensionContext)} when a test fails. */
  TestWatcher journalsOnFailure() {
    return new TestWatcher() {
      @Override
      public void testFailed(ExtensionContext context, Throwable cause) {
        journalsOnFailure(context);
      }
    };
  }

  /** Says which test failed and prints each host's journal of our units. */
  void journalsOnFailure(ExtensionContext context) {
    Sandbox.step("failed: " + context.getDisplayName() + " — journals of our units");
    dumpJournals();
  }

  /** Prints each host's journal of our units: for a failed test. */
  void dumpJournals() {
    for (String host : hosts) {
      for (String unit : List.of("vrc-firewall", "vrc-ray-head", "vrc-ray-worker", "vrc-vllm", "vrc-proxy")) {
        Sandbox.Result r = on(host, "journalctl -u " + unit + " -n 60 --no-pager 2>&1 | grep -v '^-- No entries --' || true");
        if (!r.output().isBlank()) {
          System.out.println("\n[e2e] ---- " + name + "/" + host + ": journalctl -u " + unit + " ----\n" + r.output());
        }
      }
    }
  }

  private static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + dir, e);
    }
  }
}
