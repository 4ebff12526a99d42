package dev.vllmraycluster.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.hashicorp.cdktf.App;
import com.hashicorp.cdktf.Testing;
import dev.vllmraycluster.TestStacks;
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

  JsonNode synth(ClusterSpec spec, boolean preflight) throws IOException {
    App app = Testing.app();
    ClusterStack stack = new ClusterStack(app, spec.name(),
        ClusterStackProps.builder().cluster(spec).layout(TestStacks.layout()).preflight(preflight).build());
    return TestStacks.JSON.readTree(Testing.synth(stack));
  }

  JsonNode localChecks(String yaml) throws IOException {
    ClusterSpec spec = TestStacks.load(dir, "a", yaml).spec();
    return synth(spec, true).at("/resource/terraform_data/local_checks");
  }

  @Test
  void runsTheStagedCommandLineOnTheStagedStackFileUnlessSkipped() throws IOException {
    JsonNode checks = localChecks(TestStacks.cluster(1, 1, ""));
    String command = checks.at("/provisioner/0/local-exec/command").asText();
    // The library's own command line and the cluster as a stack file, both staged beside
    // cdk.tf.json and named relative to it: no path of this checkout or of this machine.
    assertTrue(command.contains("\"$java\" -cp 'assets/vrc-cli/runtime/lib/*:assets/vrc-cli/runtime/classes'"
        + " dev.vllmraycluster.cli.Main preflight 'assets/vrc-preflight/stack/a.yaml'"), command);
    assertFalse(command.contains(TestStacks.ROOT.toString()), command);
    assertFalse(command.contains(dir.toString()), command);
    assertTrue(command.contains("[ \"$VRC_SKIP_PREFLIGHT\" = 1 ]"), command);
    assertTrue(command.contains("--ignore=\"$VRC_PREFLIGHT_IGNORE\""), command);
    assertFalse(command.contains("${"), "OpenTofu would read ${ as its own interpolation: " + command);
    assertTrue(checks.at("/triggers_replace/preflight").isTextual());
  }

  @Test
  void aJavaBuiltStackRunsPreflightTooAndItCanBeTurnedOff() throws IOException {
    ClusterSpec spec = TestStacks.loadReference().spec();
    JsonNode checks = TestStacks.synth(spec).at("/resource/terraform_data/local_checks");
    assertTrue(checks.at("/provisioner/0/local-exec/command").asText().contains(" preflight 'assets/vrc-preflight/stack/reference.yaml'"));
    assertTrue(checks.at("/triggers_replace/preflight").isTextual());

    JsonNode off = synth(spec, false).at("/resource/terraform_data/local_checks");
    assertFalse(off.at("/provisioner/0/local-exec/command").asText().contains("preflight"));
    assertTrue(off.at("/triggers_replace/preflight").isMissingNode());
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

  /** The script with a stand-in {@code java} (from JAVA_HOME) that prints its arguments. */
  @Test
  void theScriptStopsTheDeployWhenPreflightFails() throws Exception {
    Path javaHome = dir.resolve("jdk");
    Path java = Files.createDirectories(javaHome.resolve("bin")).resolve("java");
    Files.writeString(java, "#!/bin/sh\necho \"java called with: $*\"\nexit \"${FAKE_EXIT:-0}\"\n");
    Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
    String script = ClusterStack.preflightScript("assets/vrc-cli/runtime/lib/*:assets/vrc-cli/runtime/classes",
        "assets/vrc-preflight/stack/x.yaml");
    String call = "java called with: -cp assets/vrc-cli/runtime/lib/*:assets/vrc-cli/runtime/classes"
        + " dev.vllmraycluster.cli.Main preflight assets/vrc-preflight/stack/x.yaml";
    Map<String, String> jdk = Map.of("JAVA_HOME", javaHome.toString());

    Result ok = sh(script, with(jdk, "VRC_PREFLIGHT_IGNORE", "gpus,shm"));
    assertEquals(0, ok.code());
    assertEquals(call + " --ignore=gpus,shm --report-file=\n", ok.out());

    Result reported = sh(script, with(jdk, "VRC_PREFLIGHT_REPORT", "/tmp/r.json"));
    assertEquals(call + " --ignore= --report-file=/tmp/r.json\n", reported.out());

    Result failed = sh(script, with(jdk, "FAKE_EXIT", "1"));
    assertEquals(1, failed.code());
    assertTrue(failed.out().contains("[local/checks] preflight failed: nothing was changed on the hosts."), failed.out());

    Result skipped = sh(script, with(jdk, "VRC_SKIP_PREFLIGHT", "1"));
    assertEquals(0, skipped.code());
    assertEquals("[local/checks] preflight skipped (VRC_SKIP_PREFLIGHT=1)\n", skipped.out());

    Result noJava = sh(script, Map.of("JAVA_HOME", dir.resolve("no-jdk").toString()));
    assertEquals(1, noJava.code());
    assertTrue(noJava.out().contains("[local/checks] preflight runs on Java 17 or newer, and there is no "
        + dir.resolve("no-jdk/bin/java") + " here"), noJava.out());
  }

  private static Map<String, String> with(Map<String, String> base, String key, String value) {
    Map<String, String> m = new java.util.HashMap<>(base);
    m.put(key, value);
    return m;
  }

  record Result(int code, String out) {}

  static Result sh(String script, Map<String, String> env) throws Exception {
    ProcessBuilder pb = new ProcessBuilder("/bin/sh", "-c", script).redirectErrorStream(true);
    pb.environment().remove("VRC_SKIP_PREFLIGHT");
    pb.environment().remove("VRC_PREFLIGHT_IGNORE");
    pb.environment().remove("VRC_PREFLIGHT_REPORT");
    pb.environment().remove("JAVA_HOME");
    pb.environment().putAll(env);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(10, TimeUnit.SECONDS));
    return new Result(p.exitValue(), out);
  }
}
