package dev.vllmraycluster.tofu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.hashicorp.cdktf.App;
import com.hashicorp.cdktf.AppConfig;
import dev.vllmraycluster.TestStacks;
import dev.vllmraycluster.cluster.ClusterStack;
import dev.vllmraycluster.cluster.ClusterStackProps;
import dev.vllmraycluster.spec.ClusterSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real OpenTofu on the synthesized output: init, validate, plan, show -json. */
@Tag("tofu")
class TofuPlanTest {
  private static final String TEST_KEY = "test-key-3f9c2a7d-never-in-files";

  @TempDir Path dir;

  @Test
  void referencePlansEveryPartAndNothingElse() throws IOException {
    Path stackDir = synth(TestStacks.loadReference().spec());
    Tofu.ok(stackDir, Map.of(), "validate", "-no-color");
    JsonNode plan = plan(stackDir, Map.of());
    List<String> creates = new ArrayList<>();
    for (JsonNode change : plan.get("resource_changes")) {
      assertEquals("[\"create\"]", change.at("/change/actions").toString(), change.get("address").asText());
      creates.add(change.get("address").asText());
    }
    // 14 parts and the proxy, local_api_ca, the watchdog, a wheel cache and a sweep per node, the
    // fingerprints of the API key and the Ray token.
    assertEquals(25, creates.size(), creates.toString());
    assertTrue(creates.contains("terraform_data.head_proxy"), creates.toString());
    for (String node : List.of("head", "worker1", "worker2")) {
      for (String part : List.of("sweep", "wheel_cache", "bootstrap", "firewall", "ray", "model")) {
        assertTrue(creates.contains("terraform_data." + node + "_" + part), node + "_" + part);
      }
    }
    JsonNode vllm = after(plan, "terraform_data.head_vllm");
    String args = vllm.at("/input/args").toString();
    for (String expected : List.of("\"--tensor-parallel-size\",\"2\"", "\"--distributed-executor-backend\",\"ray\"",
        "\"--host\",\"127.0.0.1\",\"--port\",\"8000\"", "\"--gpu-memory-utilization\",\"0.9\"")) {
      assertTrue(args.contains(expected), expected + " in " + args);
    }
  }

  @Test
  void aSecretInTheEnvironmentReachesNoFileOrPlan() throws IOException {
    Path stackDir = synth(TestStacks.loadReference().spec());
    Map<String, String> env = Map.of("TF_VAR_vllm_api_key", TEST_KEY);
    Tofu.ok(stackDir, env, "plan", "-input=false", "-lock=false", "-no-color", "-out=plan.bin");
    String shown = Tofu.ok(stackDir, env, "show", "-json", "plan.bin");
    assertFalse(shown.contains(TEST_KEY), "plan JSON holds the key");
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        String content = new String(Files.readAllBytes(f), java.nio.charset.StandardCharsets.ISO_8859_1);
        assertFalse(content.contains(TEST_KEY), "the key is in " + f);
      }
    }
    // The plan file is a zip: its entries are compressed, so check them uncompressed too.
    try (java.util.zip.ZipFile zip = new java.util.zip.ZipFile(stackDir.resolve("plan.bin").toFile())) {
      for (java.util.zip.ZipEntry e : java.util.Collections.list(zip.entries())) {
        String content = new String(zip.getInputStream(e).readAllBytes(), java.nio.charset.StandardCharsets.ISO_8859_1);
        assertFalse(content.contains(TEST_KEY), "the key is in plan.bin!" + e.getName());
      }
    }
  }

  @Test
  void variantsValidateAndPlan() throws IOException {
    ClusterSpec spec = TestStacks.load(dir, "variant", TestStacks.cluster(4, 2,
        "  tensor_parallel_size: 2\n  pipeline_parallel_size: 5\n") + "storage: {mode: local_copy}\n").spec();
    Path stackDir = synth(spec);
    Tofu.ok(stackDir, Map.of(), "validate", "-no-color");
    JsonNode plan = plan(stackDir, Map.of());
    assertEquals(7 + 6 * 5, plan.get("resource_changes").size());
  }

  private Path synth(ClusterSpec spec) throws IOException {
    App app = new App(AppConfig.builder().outdir(dir.resolve("cdktf.out").toString()).build());
    new ClusterStack(app, spec.name(), ClusterStackProps.builder().cluster(spec).layout(TestStacks.layout()).build());
    app.synth();
    Path stackDir = Path.of(app.getOutdir()).resolve("stacks").resolve(spec.name());
    // Keep state and plans out of the project: point the local backend into the temp dir.
    Path state = dir.resolve("terraform.tfstate");
    Tofu.ok(stackDir, Map.of(), "init", "-input=false", "-no-color", "-reconfigure", "-backend-config=path=" + state);
    return stackDir;
  }

  private static JsonNode plan(Path stackDir, Map<String, String> env) throws IOException {
    Tofu.ok(stackDir, env, "plan", "-input=false", "-lock=false", "-no-color", "-out=plan.bin");
    return TestStacks.JSON.readTree(Tofu.ok(stackDir, env, "show", "-json", "plan.bin"));
  }

  private static JsonNode after(JsonNode plan, String address) {
    for (JsonNode change : plan.get("resource_changes")) {
      if (change.get("address").asText().equals(address)) {
        return change.at("/change/after");
      }
    }
    throw new AssertionError("no " + address + " in the plan");
  }
}
