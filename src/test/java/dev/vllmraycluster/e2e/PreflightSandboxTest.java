package dev.vllmraycluster.e2e;

import static dev.vllmraycluster.e2e.Sandbox.assertContains;
import static dev.vllmraycluster.e2e.Sandbox.run;
import static dev.vllmraycluster.e2e.Sandbox.step;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vllmraycluster.TestStacks;
import dev.vllmraycluster.preflight.Preflight;
import dev.vllmraycluster.preflight.Report;
import dev.vllmraycluster.preflight.ReportRenderer;
import dev.vllmraycluster.preflight.Row;
import dev.vllmraycluster.preflight.ShellFactory;
import dev.vllmraycluster.preflight.Status;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.spec.ClusterSpec.NodeSpec;
import dev.vllmraycluster.spec.StackLoader;
import dev.vllmraycluster.ssh.CommandResult;
import dev.vllmraycluster.ssh.RemoteShell;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Preflight and verify on sandbox hosts, for real over SSH: the sandbox stack passes (its
 * logical GPUs as warnings); a wrong address, a missing Python, GPUs declared but absent, more
 * GPUs declared than nvidia-smi lists, an unreachable node and an unknown host key each fail;
 * ssh-agent works; a deploy of a failing stack applies nothing; a deploy runs preflight, then
 * verify passes. Runs on its own sandbox instance ({@code e2e-pf}) and project directory; reads
 * the reports our CLI writes ({@code --report-file}, {@code VRC_PREFLIGHT_REPORT}). Needs root.
 */
@Tag("e2e")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PreflightSandboxTest {
  static final String H200 = "src/test/resources/fixtures/gpu-host-h200x2/";

  final SandboxInstance sandbox = SandboxInstance.of("e2e-pf", 2);
  final String apiKey = "e2e-" + UUID.randomUUID();
  /** Ray's token (the sandbox stack requires one with Ray 2.52+); made for this run, never written. */
  final String rayToken = "e2e-ray-" + UUID.randomUUID();
  @TempDir Path dir;
  String yaml;
  ClusterSpec spec;

  @BeforeAll
  void sandbox() throws IOException {
    Sandbox.assertRoot();
    sandbox.up(3);
    yaml = Files.readString(sandbox.stackFile);
    spec = new StackLoader(Sandbox.ROOT).load(sandbox.stackFile).spec();
    assertTrue(spec.testing().logicalGpus(), "the sandbox stack declares testing.logical_gpus");
  }

  @AfterAll
  void cleanUp() {
    sandbox.close();
  }

  @Test
  @Order(1)
  void sandboxPassesWithLogicalGpusAsWarnings() throws IOException {
    step("preflight " + sandbox.stackFile);
    Sandbox.Result r = cli(Map.of(), "preflight", sandbox.stackFile.toString());
    assertEquals(0, r.exitCode(), r.output());
    JsonNode json = checked(0, Map.of(), "preflight", sandbox.stackFile);
    assertTrue(json.get("passed").asBoolean());
    for (NodeSpec n : spec.nodes()) {
      assertEquals("warn", status(json, n.name(), "gpus"), n.name());
      // The hosts' image has Python but not its headers, venv module or compilers: those come from
      // the instance's apt mirror when the bootstrap runs (as on a server that reaches its mirror).
      JsonNode python = row(json, n.name(), "python");
      assertEquals("warn", python.get("status").asText(), python.toString());
      assertContains(python.get("message").asText(), "lacks Python.h (python3-dev / python3-devel), the venv module (python3-venv), gcc, g++:"
          + " the bootstrap installs them", n.name());
      for (String check : List.of("ssh", "os", "address", "reach", "ports", "clock", "model", "versions", "disk")) {
        assertEquals("ok", status(json, n.name(), check), n.name() + " " + check + ": " + row(json, n.name(), check));
      }
    }
  }

  @Test
  @Order(2)
  void failsOnAnAddressThatIsNotTheHosts() throws IOException {
    NodeSpec head = spec.head();
    String wrong = head.address().replaceAll("\\.\\d+$", ".99");
    JsonNode json = preflightOf("wrongaddr", yaml.replaceFirst(
        "address: " + Pattern.quote(head.address()) + "\n", "address: " + wrong + "\n    ssh_host: " + head.address() + "\n"), 1);
    JsonNode address = row(json, "head", "address");
    assertEquals("fail", address.get("status").asText());
    assertContains(address.get("message").asText(), wrong + " (nodes[0].address) is not an address of this host", "address");
    assertContains(address.get("fix").asText(), "(" + head.address() + ")", "the fix names the host's address");
  }

  @Test
  @Order(3)
  void failsOnAMissingPython() throws IOException {
    JsonNode json = preflightOf("nopython", yaml.replaceFirst("python: python3\\.\\d+", "python: python3.9"), 1);
    for (NodeSpec n : spec.nodes()) {
      JsonNode python = row(json, n.name(), "python");
      assertEquals("fail", python.get("status").asText());
      assertContains(python.get("message").asText(), "python3.9 not found (software.python); python3 here: Python 3.", n.name());
    }
  }

  @Test
  @Order(4)
  void failsOnGpusDeclaredButAbsent() throws IOException {
    JsonNode json = preflightOf("nogpus", withoutTesting(yaml), 1);
    for (NodeSpec n : spec.nodes()) {
      JsonNode gpus = row(json, n.name(), "gpus");
      assertEquals("fail", gpus.get("status").asText());
      assertContains(gpus.get("message").asText(), "nvidia-smi not found: no NVIDIA driver on this host", n.name());
    }
  }

  /**
   * A stand-in nvidia-smi on worker1 prints what a real 2 × H200 host printed (the fixtures); the
   * stack declares 4 GPUs there.
   */
  @Test
  @Order(5)
  void failsOnMoreGpusThanNvidiaSmiLists() throws Exception {
    NodeSpec worker = spec.nodes().get(1);
    try (RemoteShell shell = ShellFactory.ssh(Duration.ofSeconds(10)).open(worker)) {
      CommandResult installed = shell.run("cat > /usr/local/bin/nvidia-smi && chmod 755 /usr/local/bin/nvidia-smi",
          fakeNvidiaSmi(), Duration.ofSeconds(20));
      assertTrue(installed.ok(), installed.toString());
      try {
        String variant = withoutTesting(yaml).replaceFirst(
            "(?<entry>- name: " + worker.name() + "\n    address: [0-9.]+\n    gpus: )\\d+", "${entry}4");
        JsonNode json = preflightOf("moregpus", variant, 1);
        JsonNode gpus = row(json, worker.name(), "gpus");
        assertEquals("fail", gpus.get("status").asText());
        assertEquals("nodes[1].gpus is 4 but nvidia-smi lists 2 (2 × NVIDIA H200)", gpus.get("message").asText());
        assertEquals("ok", status(json, worker.name(), "driver"), row(json, worker.name(), "driver").toString());
      } finally {
        shell.run("rm -f /usr/local/bin/nvidia-smi", Duration.ofSeconds(20));
      }
    }
  }

  @Test
  @Order(6)
  void anUnreachableNodeDoesNotStopTheOthers() throws IOException {
    String missing = spec.head().address().replaceAll("\\.\\d+$", ".98");
    String variant = yaml.replaceFirst("\nssh:\n", "\n  - name: ghost\n    address: " + missing + "\n    gpus: 1\nssh:\n");
    long started = System.nanoTime();
    JsonNode json = preflightOf("ghost", variant, 1);
    JsonNode ssh = row(json, "ghost", "ssh");
    assertEquals("fail", ssh.get("status").asText());
    assertContains(ssh.get("message").asText(), "no other check ran on this node", "ghost");
    for (NodeSpec n : spec.nodes()) {
      assertEquals("ok", status(json, n.name(), "ssh"));
      assertEquals("fail", status(json, n.name(), "reach"), "nobody reaches " + missing);
      assertEquals("ok", status(json, n.name(), "ports"));
    }
    assertTrue(System.nanoTime() - started < Duration.ofSeconds(90).toNanos(), "the nodes are checked in parallel");
  }

  @Test
  @Order(7)
  void logsInWithSshAgentWhenTheStackHasNoKeyFile() throws Exception {
    String variant = yaml.replaceFirst("\n  private_key_path: .*\n", "\n");
    Path socket = dir.resolve("agent.sock");
    Process agent = new ProcessBuilder("ssh-agent", "-D", "-a", socket.toString()).redirectErrorStream(true).start();
    try {
      for (int i = 0; i < 50 && !Files.exists(socket); i++) {
        Thread.sleep(100);
      }
      Sandbox.Result add = run(Duration.ofSeconds(20), Map.of("SSH_AUTH_SOCK", socket.toString()), false,
          "ssh-add", spec.head().ssh().privateKeyPath());
      assertEquals(0, add.exitCode(), add.output());
      Path file = write("agent", variant);
      JsonNode json = checked(0, Map.of("SSH_AUTH_SOCK", socket.toString()), "preflight", file);
      assertEquals("ok", status(json, "head", "ssh"));
    } finally {
      agent.destroy();
      agent.waitFor(5, TimeUnit.SECONDS);
    }
  }

  /**
   * The sandbox hosts have an ECDSA and an Ed25519 key, like stock servers. Pinning the Ed25519 one
   * lets SSH clients that prefer it in (preflight's own login works), but OpenTofu's client asks
   * for ECDSA first and would refuse the host: preflight says so before a deploy does.
   */
  @Test
  @Order(8)
  void failsAPinnedKeyOfAnotherTypeThanOpenTofuIsShown() throws IOException {
    String ed25519 = sandbox.onOk("head", "cut -d' ' -f1,2 /etc/ssh/ssh_host_ed25519_key.pub").strip();
    String variant = yaml.replaceFirst("(?<lead>- name: head\n(    .*\n)*?    ssh_host_key: )\"[^\"]*\"", "${lead}\"" + ed25519 + "\"");
    assertTrue(variant.contains(ed25519), "the head pins its Ed25519 key:\n" + variant);
    JsonNode json = preflightOf("edpin", variant, 1);
    JsonNode ssh = row(json, "head", "ssh");
    assertEquals("fail", ssh.get("status").asText(), ssh.toString());
    assertContains(ssh.get("message").asText(), "OpenTofu's SSH client will be shown this host's ecdsa-sha2-nistp256 key", "why");
    assertContains(ssh.get("fix").asText(), "ssh-keyscan -t ecdsa -p 22 " + spec.head().ssh().host(), "fix");
    assertEquals("ok", status(json, "worker1", "ssh"), "worker1 pins its ECDSA key");
  }

  @Test
  @Order(8)
  void refusesAHostKeyThatIsNeitherPinnedNorKnown() throws IOException {
    String variant = yaml.replaceAll("\n    ssh_host_key: .*", "");
    ClusterSpec unpinned = TestStacks.load(dir, "unpinned", variant).spec();
    String home = System.getProperty("user.home");
    try {
      System.setProperty("user.home", dir.resolve("home").toString());
      Report report = Preflight.run(unpinned, ShellFactory.ssh(Duration.ofSeconds(10)));
      Row ssh = report.rows().stream().filter(r -> r.node().equals("head") && r.check().equals("ssh")).findFirst().orElseThrow();
      assertEquals(Status.FAIL, ssh.status(), ReportRenderer.table(report));
      assertContains(ssh.message(), "is unknown: not pinned in the stack and not in known_hosts", "unknown key");
      assertContains(ssh.fix(), "ssh-keyscan -t ecdsa -p 22 " + spec.head().ssh().host(), "fix");

      Path known = Files.createDirectories(dir.resolve("home/.ssh")).resolve("known_hosts");
      StringBuilder lines = new StringBuilder();
      for (NodeSpec n : spec.nodes()) {
        lines.append(n.ssh().host()).append(' ').append(n.ssh().hostKey()).append('\n');
      }
      Files.writeString(known, lines.toString());
      Report known2 = Preflight.run(unpinned, ShellFactory.ssh(Duration.ofSeconds(10)));
      assertTrue(known2.rows().stream().filter(r -> r.check().equals("ssh")).allMatch(r -> r.status() == Status.OK),
          ReportRenderer.table(known2));
    } finally {
      System.setProperty("user.home", home);
    }
  }

  @Test
  @Order(9)
  void aDeployOfAFailingStackAppliesNothing() throws IOException {
    NodeSpec head = spec.head();
    String wrong = head.address().replaceAll("\\.\\d+$", ".99");
    Path project = sandbox.project("bad", "pfbad", yaml.replaceFirst(
        "address: " + Pattern.quote(head.address()) + "\n", "address: " + wrong + "\n    ssh_host: " + head.address() + "\n"));
    Path report = project.resolve("preflight-report.json");
    step("cdktf deploy pfbad (head address " + wrong + ", not on the host)");
    Sandbox.Result r = sandbox.cdktfIn(project, deployEnv(Map.of("VRC_PREFLIGHT_REPORT", report.toString())),
        "deploy", "pfbad", "--auto-approve");
    assertNotEquals(0, r.exitCode(), "the deploy must fail");

    step("the report preflight wrote inside the deploy names the failed check");
    JsonNode json = TestStacks.JSON.readTree(Files.readString(report));
    assertEquals("preflight", json.get("command").asText());
    assertEquals("pfbad", json.get("stack").asText());
    assertFalse(json.get("passed").asBoolean(), json.toString());
    assertEquals("fail", status(json, "head", "address"));

    step("no host step ran: the state holds at most local_checks, the hosts nothing of ours");
    Path state = project.resolve("terraform.pfbad.tfstate");
    if (Files.exists(state)) {
      for (JsonNode resource : TestStacks.JSON.readTree(Files.readString(state)).path("resources")) {
        assertEquals("local_checks", resource.path("name").asText(), "a host step is in the state: " + resource);
        assertEquals("tainted", resource.path("instances").path(0).path("status").asText(), resource.toString());
      }
    }
    for (String host : sandbox.hosts()) {
      sandbox.onOk(host, "test ! -e /opt/vllm-ray-cluster && test ! -e /etc/vllm-ray-cluster && test ! -e /tmp/vrc-stage-root");
    }
  }

  @Test
  @Order(10)
  void aDeployRunsPreflightThenVerifyPasses() throws IOException {
    Path report = sandbox.project.resolve("preflight-report.json");
    step("cdktf deploy " + sandbox.stack() + " (runs preflight first)");
    sandbox.cdktf(deployEnv(Map.of("VRC_PREFLIGHT_REPORT", report.toString())), "deploy", sandbox.stack(), "--auto-approve")
        .ok("cdktf deploy");
    JsonNode preflight = TestStacks.JSON.readTree(Files.readString(report));
    assertTrue(preflight.get("passed").asBoolean(), "preflight ran before the first host step and passed: " + preflight);

    step("verify " + sandbox.stackFile);
    Sandbox.Result verify = cli(Map.of("TF_VAR_vllm_api_key", apiKey), "verify", sandbox.stackFile.toString());
    assertEquals(0, verify.exitCode(), verify.output());
    assertFalse(verify.output().contains(apiKey), "verify printed the API key");
    assertFalse(verify.output().contains(rayToken), "verify printed Ray's token");
    JsonNode json = checked(0, Map.of("TF_VAR_vllm_api_key", apiKey), "verify", sandbox.stackFile);
    for (String check : List.of("units", "ray", "health", "models", "chat")) {
      assertEquals("ok", status(json, "head", check), check + ": " + row(json, "head", check));
    }
    assertContains(row(json, "head", "ray").get("message").asText(),
        spec.nodes().size() + "/" + spec.nodes().size() + " nodes alive", "ray status");

    step("verify without the key: /v1 refuses");
    assertEquals("fail", status(checked(1, Map.of(), "verify", sandbox.stackFile), "head", "models"));

    step("a second deploy changes nothing and does not run preflight again");
    Files.delete(report);
    sandbox.cdktf(deployEnv(Map.of("VRC_PREFLIGHT_REPORT", report.toString())), "deploy", sandbox.stack(), "--auto-approve")
        .ok("cdktf deploy (no changes)");
    assertFalse(Files.exists(report), "local_checks re-ran preflight on a no-change deploy");
  }

  // ------------------------------------------------------------------ helpers

  private Map<String, String> deployEnv(Map<String, String> extra) {
    Map<String, String> env = new HashMap<>(Map.of("TF_VAR_vllm_api_key", apiKey, "TF_VAR_ray_auth_token", rayToken));
    env.putAll(extra);
    return env;
  }

  private JsonNode preflightOf(String name, String variantYaml, int expectedExit) throws IOException {
    step("preflight " + name);
    return checked(expectedExit, Map.of(), "preflight", write(name, variantYaml));
  }

  /** Runs preflight or verify on {@code file} and returns the JSON report it wrote to a file. */
  private JsonNode checked(int expectedExit, Map<String, String> env, String command, Path file) throws IOException {
    Path report = dir.resolve("reports").resolve(command + "-" + UUID.randomUUID() + ".json");
    Sandbox.Result r = cli(env, command, file.toString(), "--report-file=" + report);
    assertEquals(expectedExit, r.exitCode(), r.output());
    return TestStacks.JSON.readTree(Files.readString(report));
  }

  private Path write(String name, String content) throws IOException {
    Path file = dir.resolve(name + ".yaml");
    Files.writeString(file, content);
    return file;
  }

  private static String withoutTesting(String yaml) {
    String out = yaml.replaceAll("(?m)^testing:\\n(  .*\\n?)*", "");
    assertFalse(out.contains("logical_gpus"), out);
    return out;
  }

  private Sandbox.Result cli(Map<String, String> env, String... args) {
    return sandbox.cli(env, args);
  }

  private static JsonNode row(JsonNode json, String node, String check) {
    for (JsonNode r : json.get("rows")) {
      if (r.get("node").asText().equals(node) && r.get("check").asText().equals(check)) {
        return r;
      }
    }
    throw new AssertionError("no row " + node + "/" + check + " in " + json);
  }

  private static String status(JsonNode json, String node, String check) {
    return row(json, node, check).get("status").asText();
  }

  /** nvidia-smi as a 2 × H200 host answered (the captured fixtures), for the queries preflight makes. */
  private static String fakeNvidiaSmi() throws IOException {
    return "#!/bin/sh\n# Stand-in written by PreflightSandboxTest: prints what a real 2 x H200 host printed.\n"
        + "case \"$*\" in\n"
        + "  --query-gpu=*) cat <<'EOF'\n" + fixture("query-gpu.noheader-nounits.txt") + "EOF\n;;\n"
        + "  --query-compute-apps=*) ;;\n"
        + "  'topo -m') cat <<'EOF'\n" + fixture("nvidia-smi-topo-m.txt") + "EOF\n;;\n"
        + "  '') cat <<'EOF'\n" + fixture("nvidia-smi.idle.txt") + "EOF\n;;\n"
        + "  *) echo \"stand-in nvidia-smi: unsupported: $*\" >&2; exit 2 ;;\n"
        + "esac\n";
  }

  private static String fixture(String name) throws IOException {
    String text = Files.readString(Sandbox.ROOT.resolve(H200 + name));
    return text.substring(text.indexOf('\n') + 1);
  }
}
