package dev.vllmraycluster.tofu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.hashicorp.cdktf.App;
import com.hashicorp.cdktf.AppConfig;
import dev.vllmraycluster.TestStacks;
import dev.vllmraycluster.cluster.ClusterStack;
import dev.vllmraycluster.cluster.ClusterStackProps;
import dev.vllmraycluster.node.ProjectLayout;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.staging.HostModules;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The synthesized output can move: with the jar's host modules and command line staged beside
 * {@code cdk.tf.json}, it names no path of the checkout or of the directory it was written to, a
 * copy moved elsewhere plans "No changes" against the state a deploy of the original left, and
 * its {@code local_checks} runs the staged preflight from the new place (real OpenTofu, real
 * {@code java}; no host is touched: the node's SSH port is a closed port on 127.0.0.1, and its
 * address is this machine's).
 */
@Tag("tofu")
class PortableOutputTofuTest {
  @TempDir Path dir;

  @Test
  void aMovedOutputPlansNoChangesAndRunsItsStagedPreflight() throws Exception {
    int closedPort = closedPort();
    String address = TestStacks.ownAddress();
    Path state = dir.resolve("state/portable.tfstate");
    String yaml = """
        nodes:
          - {name: head, role: head, address: %1$s, gpus: 1, ssh_host: 127.0.0.1, ssh_port: %2$d, ssh_host_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHx0cGF1bmRyb2lkZ29sZGVuaGVhZGtleTAwMDAwMDAw"}
        model:
          huggingface_repo: Qwen/Qwen2.5-1.5B-Instruct
        state:
          path: %3$s
        """.formatted(address, closedPort, state);
    ClusterSpec spec = TestStacks.load(dir, "portable", yaml).spec();
    // The jar's modules (as from an application), not the checkout's directory.
    ProjectLayout layout = new ProjectLayout(TestStacks.ROOT, HostModules.bundled(), dev.vllmraycluster.node.KnownHostKeys.none());
    Path original = dir.resolve("first-place/cdktf.out");
    Files.createDirectories(original.getParent());
    App app = new App(AppConfig.builder().outdir(original.toString()).build());
    new ClusterStack(app, spec.name(), ClusterStackProps.builder().cluster(spec).layout(layout).build());
    app.synth();
    Path stackDir = original.resolve("stacks/portable");
    String text = Files.readString(stackDir.resolve("cdk.tf.json"));
    assertFalse(text.contains(TestStacks.ROOT.toString()), "a path of the checkout in cdk.tf.json");
    assertFalse(text.contains(original.getParent().toString()), "a path of where it was written in cdk.tf.json");
    try (Stream<Path> files = Files.walk(stackDir.resolve("assets"))) {
      assertFalse(files.anyMatch(Files::isSymbolicLink), "a staged file is a link to this machine's files");
    }
    // The staged command line: this library (here its classes directory) and its runtime jars.
    assertTrue(Files.isRegularFile(stackDir.resolve("assets/vrc-cli/runtime/classes/dev/vllmraycluster/cli/Main.class")));
    assertTrue(jars(stackDir).stream().anyMatch(j -> j.startsWith("sshj-")), jars(stackDir).toString());
    assertTrue(jars(stackDir).stream().anyMatch(j -> j.startsWith("picocli-")), jars(stackDir).toString());

    // A deploy's state: the original applied with its provisioners removed (no host needed).
    Path applied = dir.resolve("applied");
    Files.createDirectories(applied);
    ObjectNode json = (ObjectNode) TestStacks.JSON.readTree(text);
    Iterator<JsonNode> resources = json.path("resource").path("terraform_data").elements();
    while (resources.hasNext()) {
      ((ObjectNode) resources.next()).remove("provisioner");
    }
    TestStacks.JSON.writeValue(applied.resolve("cdk.tf.json").toFile(), json);
    Tofu.ok(applied, Map.of(), "init", "-input=false", "-no-color");
    Tofu.ok(applied, Map.of(), "apply", "-input=false", "-no-color", "-auto-approve");

    // The output moved elsewhere (the original is gone) plans no change against that state.
    Path moved = dir.resolve("elsewhere/deeper/out");
    Files.createDirectories(moved.getParent());
    Files.move(original, moved);
    Path movedStack = moved.resolve("stacks/portable");
    Tofu.ok(movedStack, Map.of(), "init", "-input=false", "-no-color");
    Tofu.Result plan = Tofu.run(movedStack, Map.of(), "plan", "-input=false", "-no-color", "-lock=false", "-detailed-exitcode");
    assertEquals(0, plan.exitCode(), "the moved output does not plan 'No changes' (exit 0 of -detailed-exitcode):\n" + plan.output());

    // Its local_checks runs the staged command line on the staged stack file from there: preflight
    // reaches no node (a closed port), writes its report and stops the apply before any host step.
    Path report = dir.resolve("report.json");
    Map<String, String> env = new HashMap<>();
    env.put("TF_VAR_vllm_api_key", "k");
    env.put("TF_VAR_ray_auth_token", "t");
    env.put("VRC_PREFLIGHT_REPORT", report.toString());
    env.put("JAVA_HOME", System.getProperty("java.home"));
    Tofu.Result apply = Tofu.run(movedStack, env, "apply", "-input=false", "-no-color", "-auto-approve",
        "-replace=terraform_data.local_checks", "-target=terraform_data.local_checks");
    assertNotEquals(0, apply.exitCode(), apply.output());
    assertTrue(Files.isRegularFile(report), "the staged preflight wrote no report:\n" + apply.output());
    JsonNode r = TestStacks.JSON.readTree(report.toFile());
    assertEquals("preflight", r.path("command").asText());
    assertEquals("portable", r.path("stack").asText());
    assertFalse(r.path("passed").asBoolean(true));
    int sshFailures = 0;
    for (JsonNode row : r.path("rows")) {
      if (row.path("check").asText().equals("ssh") && row.path("status").asText().equals("fail")) {
        sshFailures++;
        assertTrue(row.path("message").asText().contains("127.0.0.1:" + closedPort), row.toString());
      }
    }
    assertEquals(1, sshFailures, r.toString());
  }

  /**
   * A port on 127.0.0.1 nothing listens on, outside every range the validator keeps SSH from (an
   * ephemeral port could be one of Ray's pinned ones).
   */
  private static int closedPort() {
    for (int port = 2201; port < 2300; port++) {
      try (ServerSocket s = new ServerSocket(port, 1, java.net.InetAddress.getLoopbackAddress())) {
        return port;
      } catch (IOException taken) {
        // in use: the next one
      }
    }
    throw new AssertionError("no free port in 2201-2299 on 127.0.0.1");
  }

  private static java.util.List<String> jars(Path stackDir) throws IOException {
    try (Stream<Path> jars = Files.list(stackDir.resolve("assets/vrc-cli/runtime/lib"))) {
      return jars.map(j -> j.getFileName().toString()).sorted().toList();
    }
  }
}
