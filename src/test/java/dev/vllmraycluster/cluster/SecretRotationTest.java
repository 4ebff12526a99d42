package dev.vllmraycluster.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.hashicorp.cdktf.App;
import com.hashicorp.cdktf.Testing;
import dev.vllmraycluster.TestStacks;
import dev.vllmraycluster.contract.HostContract.Component;
import dev.vllmraycluster.contract.HostContract.Secret;
import dev.vllmraycluster.spec.ClusterSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How a rotated secret becomes visible to a plan (the fingerprint resources and what each
 * replaces), and the sweep every node gets so that tainted steps are cleaned at destroy.
 */
class SecretRotationTest {
  static final String KEY = "unit-key-7c2e9a41-never-in-json";
  static final String TOKEN = "unit-token-0f4d8b63-never-in-json";
  static final String HF = "hf_unit-token-5e1a9c27-never-in-json";

  @TempDir Path dir;

  private ClusterSpec spec() {
    return TestStacks.load(dir, "rot", TestStacks.cluster(2, 1, "")
        .replace("model:\n", "model:\n  hf_token_env: TF_VAR_hf_token\n")).spec();
  }

  private static JsonNode synth(ClusterSpec spec, Map<String, String> secrets) {
    App app = Testing.app();
    ClusterStack stack = new ClusterStack(app, spec.name(),
        ClusterStackProps.builder().cluster(spec).layout(TestStacks.layout()).secretValues(secrets::get).build());
    try {
      return TestStacks.JSON.readTree(Testing.synth(stack));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static Map<String, String> all() {
    return Map.of("TF_VAR_vllm_api_key", KEY, "TF_VAR_ray_auth_token", TOKEN, "TF_VAR_hf_token", HF);
  }

  @Test
  void theFingerprintIsTheSameForTheSameValueAndDiffersOtherwise() {
    String a = SecretRotation.fingerprint("rot", Secret.API_KEY, KEY);
    // SHA-256 of "vllm-ray-cluster:rot:api_key:<key>", as Python's hashlib and OpenTofu's sha256() compute it.
    assertEquals("sha256:e87e269d729cc2fd1e4e039ffd57de666098eca7d0ae0bea2b1a6bac9f0c8ca8", a);
    assertNotEquals(a, SecretRotation.fingerprint("rot", Secret.API_KEY, KEY + "x"), "another value");
    assertNotEquals(a, SecretRotation.fingerprint("other", Secret.API_KEY, KEY), "salted with the stack");
    assertNotEquals(a, SecretRotation.fingerprint("rot", Secret.RAY_TOKEN, KEY), "salted with the role");
    assertFalse(a.contains(KEY));
  }

  @Test
  void failsOnASecretTooShortToFingerprintNamingTheVariableNotTheValue() {
    String shortKey = "short-key-123";
    List<String> problems = SecretRotation.problems(spec(), Map.of("TF_VAR_vllm_api_key", shortKey)::get);
    assertEquals(1, problems.size(), problems.toString());
    String p = problems.get(0);
    assertTrue(p.startsWith("TF_VAR_vllm_api_key (the API key) has 13 characters; a secret needs 16 or more"), p);
    assertTrue(p.contains("Fix: export TF_VAR_vllm_api_key="), p);
    assertFalse(p.contains(shortKey), "the message shows the value");
    assertThrows(IllegalArgumentException.class, () -> synth(spec(), Map.of("TF_VAR_vllm_api_key", shortKey)));
    assertTrue(SecretRotation.problems(spec(), Map.<String, String>of()::get).isEmpty(), "unset secrets are not checked here");
  }

  @Test
  void eachSecretReplacesExactlyTheStepsThatKeepIt() {
    JsonNode json = synth(spec(), all());
    Map<String, List<String>> replacedBy = new TreeMap<>();
    Iterator<Map.Entry<String, JsonNode>> it = json.at("/resource/terraform_data").fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      List<String> triggers = new ArrayList<>();
      e.getValue().at("/lifecycle/replace_triggered_by").forEach(t -> triggers.add(t.asText()));
      if (!triggers.isEmpty()) {
        replacedBy.put(e.getKey(), triggers);
      }
    }
    Map<String, List<String>> expected = new TreeMap<>();
    expected.put("head_vllm", List.of("terraform_data.secret_api_key", "terraform_data.secret_ray_token"));
    expected.put("head_proxy", List.of("terraform_data.secret_api_key"));
    for (String ray : List.of("head_ray", "worker1_ray", "worker2_ray")) {
      expected.put(ray, List.of("terraform_data.secret_ray_token"));
    }
    assertEquals(expected, replacedBy, "the HF token replaces nothing: only a fetch uses it");
    assertEquals(List.of(Component.VLLM, Component.PROXY), Secret.API_KEY.keptBy());
  }

  @Test
  void aSetSecretIsFingerprintedAndNeverWritten() {
    JsonNode json = synth(spec(), all());
    String text = json.toString();
    for (String secret : List.of(KEY, TOKEN, HF)) {
      assertFalse(text.contains(secret), "a secret value is in cdk.tf.json");
    }
    for (Secret s : List.of(Secret.API_KEY, Secret.RAY_TOKEN, Secret.HF_TOKEN)) {
      JsonNode r = json.at("/resource/terraform_data/" + s.resourceName());
      assertEquals(s.id(), r.at("/input/secret").asText());
      String fp = r.at("/input/fingerprint").asText();
      assertTrue(fp.matches("\\$\\{sensitive\\(\"sha256:[0-9a-f]{64}\"\\)}"), fp);
      assertTrue(r.at("/lifecycle/ignore_changes").isMissingNode(), "a set secret is compared: " + r);
      assertPlanTimeCheck(r, s);
      assertTrue(r.path("provisioner").isMissingNode(), "nothing runs for a set secret: " + r);
      assertEquals("[\"terraform_data.local_checks\"]", r.get("depends_on").toString());
    }
    assertTrue(json.at("/resource/terraform_data/secret_pip_credentials").isMissingNode(), "the stack has no pip credentials");
  }

  @Test
  void anUnsetSecretKeepsWhatTheStateHasAndStopsACreation() {
    Map<String, String> some = new HashMap<>(all());
    some.remove("TF_VAR_ray_auth_token");
    JsonNode json = synth(spec(), some);
    JsonNode ray = json.at("/resource/terraform_data/secret_ray_token");
    assertEquals("${sensitive(\"" + SecretRotation.NOT_SET + "\")}", ray.at("/input/fingerprint").asText());
    assertEquals("[\"input\"]", ray.at("/lifecycle/ignore_changes").toString());
    String stop = ray.at("/provisioner/0/local-exec/command").asText();
    assertTrue(stop.contains("TF_VAR_ray_auth_token (the Ray token) is not set in the environment of this deploy"), stop);
    assertTrue(stop.contains("synth could not read it to record its fingerprint: run bin/vllm-ray-cluster synth"), stop);
    assertTrue(stop.startsWith("if [ -z \"$TF_VAR_ray_auth_token\" ]") && stop.endsWith("exit 1"), stop);
    assertPlanTimeCheck(ray, Secret.RAY_TOKEN);
    assertTrue(json.at("/resource/terraform_data/secret_api_key/lifecycle/ignore_changes").isMissingNode());
  }

  /** OpenTofu compares the secret it has with the fingerprint, by the same SHA-256 synth computes. */
  private static void assertPlanTimeCheck(JsonNode resource, Secret secret) {
    JsonNode check = resource.at("/lifecycle/postcondition/0");
    String variable = secret == Secret.API_KEY ? "vllm_api_key" : secret == Secret.RAY_TOKEN ? "ray_auth_token" : "hf_token";
    assertEquals("${var." + variable + " == \"\" || self.input.fingerprint == \"" + SecretRotation.NOT_SET + "\" || format(\"sha256:%s\", sha256(format(\"vllm-ray-cluster:%s:%s:%s\", \"rot\", \""
        + secret.id() + "\", var." + variable + "))) == self.input.fingerprint}", check.get("condition").asText());
    String message = check.get("error_message").asText();
    assertTrue(message.startsWith("TF_VAR_" + variable + " (" + secret.label() + ") is not the value deployed"), message);
    assertTrue(message.contains("cdktf deploy rot --skip-synth"), message);
  }

  @Test
  void theDeployEnvironmentIsThisProcessThenTheCdktfProcessThatRunsSynth() {
    DeployEnvironment env = DeployEnvironment.of(Map.of("TF_VAR_a", "own-value-0123456789"),
        DeployEnvironment.parse("PATH=/bin\0TF_VAR_a=cdktf-a\0TF_VAR_b=cdktf-value-b\0HOME=/root\0".getBytes()));
    assertEquals("own-value-0123456789", env.apply("TF_VAR_a"), "synth's own environment first");
    assertEquals("cdktf-value-b", env.apply("TF_VAR_b"), "then the cdktf process's (which cdktf hides from synth)");
    assertEquals(null, env.apply("PATH"), "only TF_VAR_ entries of the cdktf process are kept");
    assertEquals(null, env.apply("TF_VAR_c"));
    assertTrue(DeployEnvironment.isCdktf("node\0/work/x/node_modules/.bin/cdktf\0deploy\0sandbox".getBytes()));
    assertTrue(DeployEnvironment.isCdktf("/usr/bin/node\0/work/x/node_modules/cdktf-cli/bundle/bin/cdktf.js\0synth".getBytes()));
    assertFalse(DeployEnvironment.isCdktf("bash\0/work/x/bin/vllm-ray-cluster\0synth".getBytes()));
    assertFalse(DeployEnvironment.isCdktf("/bin/sh\0-c\0bin/vllm-ray-cluster synth".getBytes()));
  }

  @Test
  void theSweepIsDestroyedAfterTheServicesOfItsNodeAndBeforeTheirFoundation() {
    JsonNode json = synth(spec(), all());
    Iterator<Map.Entry<String, JsonNode>> it = json.at("/resource/terraform_data").fields();
    int services = 0;
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      String node = e.getValue().at("/input/node").asText("");
      String name = e.getKey();
      if (node.isEmpty() || name.endsWith("_sweep")) {
        continue;
      }
      List<String> deps = new ArrayList<>();
      e.getValue().get("depends_on").forEach(d -> deps.add(d.asText()));
      if (name.endsWith("_bootstrap") || name.endsWith("_firewall") || name.endsWith("_wheel_cache")) {
        assertFalse(deps.contains("terraform_data." + node + "_sweep"), name + " is the sweep's foundation: " + deps);
      } else {
        assertTrue(deps.contains("terraform_data." + node + "_sweep"), name + " depends on " + deps);
        services++;
      }
    }
    assertEquals(9, services, "model store and Ray on each of three nodes, vLLM, the API proxy and the watchdog");
    for (String node : List.of("head", "worker1", "worker2")) {
      List<String> deps = new ArrayList<>();
      json.at("/resource/terraform_data/" + node + "_sweep/depends_on").forEach(d -> deps.add(d.asText()));
      assertEquals(List.of("terraform_data.local_checks", "terraform_data." + node + "_bootstrap",
          "terraform_data." + node + "_firewall"), deps);
    }
  }

  @Test
  void theSweepRunsOnlyAtDestroyAndIsNeverReplaced() {
    JsonNode json = synth(spec(), all());
    for (String node : List.of("head", "worker1", "worker2")) {
      JsonNode sweep = json.at("/resource/terraform_data/" + node + "_sweep");
      assertTrue(sweep.path("triggers_replace").isMissingNode(), "no trigger can replace (and so run) the sweep: " + sweep);
      assertEquals("sweep", sweep.at("/input/component").asText());
      assertEquals("prometheus metrics watchdog proxy vllm ray model-store bootstrap wheel-cache firewall",
          sweep.at("/input/config/SWEEP_ORDER").asText());
      JsonNode provisioners = sweep.get("provisioner");
      assertTrue(provisioners.size() >= 5, provisioners.toString());
      for (JsonNode p : provisioners) {
        JsonNode body = p.elements().next();
        assertEquals("destroy", body.get("when").asText(), "every provisioner of the sweep runs at destroy: " + p);
      }
      String run = provisioners.get(provisioners.size() - 1).at("/remote-exec/inline/0").asText();
      // The stage, moved to a directory of this run only, runs sweep.sh and is removed on exit.
      assertTrue(run.contains("mv /run/vrc-stage-root/" + node + "_sweep \"$run\"") && run.contains("\"$run\"/sweep/sweep.sh"), run);
      assertTrue(run.contains("trap 'rm -rf \"$run\"' EXIT"), run);
      assertEquals("${self.input.host}", sweep.at("/connection/host").asText());
    }
  }
}
