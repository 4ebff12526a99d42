package dev.vllmraycluster.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.hashicorp.cdktf.App;
import com.hashicorp.cdktf.Testing;
import dev.vllmraycluster.TestStacks;
import dev.vllmraycluster.node.ProjectLayout;
import dev.vllmraycluster.spec.ClusterSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * local_checks runs preflight before any SSH step: its command, its triggers (a no-change deploy
 * stays no-change; a vLLM tuning flag does not re-run it), and the script's behaviour.
 */
class LocalChecksTest {
  @TempDir Path dir;

  JsonNode synth(ClusterSpec spec, Path stackFile) throws IOException {
    App app = Testing.app();
    ClusterStack stack = new ClusterStack(app, spec.name(), ClusterStackProps.builder().cluster(spec).layout(TestStacks.layout()).stackFile(stackFile).build());
    return TestStacks.JSON.readTree(Testing.synth(stack));
  }

  JsonNode localChecks(String yaml) throws IOException {
    ClusterSpec spec = TestStacks.load(dir, "a", yaml).spec();
    return synth(spec, dir.resolve("a.yaml")).at("/resource/terraform_data/local_checks");
  }

  @Test
  void runsPreflightOnTheStackFileUnlessSkipped() throws IOException {
    JsonNode checks = localChecks(TestStacks.cluster(1, 1, ""));
    String command = checks.at("/provisioner/0/local-exec/command").asText();
    assertTrue(command.contains("'" + TestStacks.ROOT.resolve("bin/vllm-ray-cluster") + "' preflight '" + dir.resolve("a.yaml") + "'"), command);
    assertTrue(command.contains("[ \"$VRC_SKIP_PREFLIGHT\" = 1 ]"), command);
    assertTrue(command.contains("--ignore=\"$VRC_PREFLIGHT_IGNORE\""), command);
    assertFalse(command.contains("${"), "OpenTofu would read ${ as its own interpolation: " + command);
    assertTrue(checks.at("/triggers_replace/preflight").isTextual());
  }

  @Test
  void aJavaBuiltStackWithoutFileChecksOnlySecrets() {
    JsonNode json = TestStacks.synth(TestStacks.loadReference().spec());
    JsonNode checks = json.at("/resource/terraform_data/local_checks");
    assertFalse(checks.at("/provisioner/0/local-exec/command").asText().contains("preflight"));
    assertTrue(checks.at("/triggers_replace/preflight").isMissingNode());
  }

  @Test
  void vllmTuningDoesNotRerunPreflightButWhatItChecksDoes() throws IOException {
    JsonNode base = localChecks(TestStacks.cluster(2, 1, "  tensor_parallel_size: 2\n")).get("triggers_replace");
    assertEquals(base, localChecks(TestStacks.cluster(2, 1, "  tensor_parallel_size: 2\n  gpu_memory_utilization: 0.8\n"
        + "  max_model_len: 4096\n  extra_args: [--max-num-seqs, '64']\n")).get("triggers_replace"));
    assertNotEquals(base, localChecks(TestStacks.cluster(2, 2, "  tensor_parallel_size: 2\n")).get("triggers_replace"), "GPUs");
    assertNotEquals(base, localChecks(TestStacks.cluster(2, 1, "  tensor_parallel_size: 3\n")).get("triggers_replace"), "parallelism");
    assertNotEquals(base, localChecks(TestStacks.cluster(2, 1, "  tensor_parallel_size: 2\n") + "software: {python: python3.10}\n")
        .get("triggers_replace"), "python");
    assertNotEquals(base, localChecks(TestStacks.cluster(2, 1, "  tensor_parallel_size: 2\n").replace("10.0.0.12", "10.0.0.42"))
        .get("triggers_replace"), "an address");
  }

  @Test
  void theScriptStopsTheDeployWhenPreflightFails() throws Exception {
    Path root = dir.resolve("project");
    Path cli = Files.createDirectories(root.resolve("bin")).resolve("vllm-ray-cluster");
    Files.writeString(cli, "#!/bin/sh\necho \"preflight called with: $*\"\nexit \"${FAKE_EXIT:-0}\"\n");
    Files.setPosixFilePermissions(cli, PosixFilePermissions.fromString("rwxr-xr-x"));
    String script = ClusterStack.preflightScript(new ProjectLayout(root), Path.of("/stacks/x.yaml"));

    Result ok = sh(script, Map.of("VRC_PREFLIGHT_IGNORE", "gpus,shm"));
    assertEquals(0, ok.code());
    assertEquals("preflight called with: preflight /stacks/x.yaml --ignore=gpus,shm --report-file=\n", ok.out());

    Result reported = sh(script, Map.of("VRC_PREFLIGHT_REPORT", "/tmp/r.json"));
    assertEquals("preflight called with: preflight /stacks/x.yaml --ignore= --report-file=/tmp/r.json\n", reported.out());

    Result failed = sh(script, Map.of("FAKE_EXIT", "1"));
    assertEquals(1, failed.code());
    assertTrue(failed.out().contains("[local/checks] preflight failed: nothing was changed on the hosts."), failed.out());

    Result skipped = sh(script, Map.of("FAKE_EXIT", "1", "VRC_SKIP_PREFLIGHT", "1"));
    assertEquals(0, skipped.code());
    assertEquals("[local/checks] preflight skipped (VRC_SKIP_PREFLIGHT=1)\n", skipped.out());
  }

  record Result(int code, String out) {}

  static Result sh(String script, Map<String, String> env) throws Exception {
    ProcessBuilder pb = new ProcessBuilder("/bin/sh", "-c", script).redirectErrorStream(true);
    pb.environment().remove("VRC_SKIP_PREFLIGHT");
    pb.environment().remove("VRC_PREFLIGHT_IGNORE");
    pb.environment().remove("VRC_PREFLIGHT_REPORT");
    pb.environment().putAll(env);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(10, TimeUnit.SECONDS));
    return new Result(p.exitValue(), out);
  }
}
