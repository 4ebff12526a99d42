package dev.vllmraycluster.review;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vllmraycluster.TestStacks;
import dev.vllmraycluster.review.Plan.Action;
import dev.vllmraycluster.review.Plan.Step;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.tofu.Tofu;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Secret rotation as real OpenTofu plans it: a cluster deployed with one set of secrets (the state
 * a deploy leaves, see {@link RealPlans}), then planned with the same secrets, with a rotated one,
 * and without them (as a pull request's plan review runs). Synth reads the secrets where {@code
 * cdktf deploy} runs it; the plan runs with the same environment.
 */
@Tag("tofu")
class SecretRotationTofuTest {
  static final String KEY = "rotation-key-0a4e7c31-first";
  static final String KEY2 = "rotation-key-9d2b5f68-second";
  static final String TOKEN = "rotation-token-61c0e2d9-first";
  static final String TOKEN2 = "rotation-token-b7f3a815-second";
  static final String HF = "hf_rotation-token-3c5e7a9b-first";
  static final String HF2 = "hf_rotation-token-2d4f6a8c-second";

  @TempDir Path dir;

  private ClusterSpec spec() {
    return TestStacks.load(dir, "rot", TestStacks.cluster(2, 1, "")
        .replace("model:\n", "ray:\n  auth_token_env: TF_VAR_ray_auth_token\nmodel:\n  hf_token_env: TF_VAR_hf_token\n")).spec();
  }

  private static Map<String, String> secrets(String key, String token, String hf) {
    Map<String, String> env = new HashMap<>();
    env.put("TF_VAR_vllm_api_key", key);
    env.put("TF_VAR_ray_auth_token", token);
    env.put("TF_VAR_hf_token", hf);
    return env;
  }

  /** Deployed with the first secrets; the plan of the same stack synthesized and planned with {@code env}. */
  private PlanReview planAfterDeploy(Map<String, String> env) {
    RealPlans plans = new RealPlans(dir);
    ClusterSpec spec = spec();
    plans.applyWithoutProvisioners(plans.synth(spec, secrets(KEY, TOKEN, HF)));
    String json = plans.planJson(plans.synth(spec, env), env);
    for (String secret : List.of(KEY, KEY2, TOKEN, TOKEN2, HF, HF2)) {
      assertFalse(json.contains(secret), "a secret is in the plan JSON");
    }
    PlanReview review = new PlanReview(PlanParser.parse(json), "rot", List.of());
    String md = review.markdown();
    for (String secret : List.of(KEY, KEY2, TOKEN, TOKEN2, HF, HF2)) {
      assertFalse(md.contains(secret), "a secret is in the review");
    }
    return review;
  }

  @Test
  void theSameSecretsPlanNoChanges() {
    PlanReview review = planAfterDeploy(secrets(KEY, TOKEN, HF));
    assertEquals(Map.of(), changed(review.plan()));
    assertTrue(review.summary().noChanges(), review.summary().toString());
  }

  @Test
  void aRotatedApiKeyReplacesTheVllmServiceOnly() {
    PlanReview review = planAfterDeploy(secrets(KEY2, TOKEN, HF));
    assertEquals(Map.of("secret_api_key", Action.UPDATE, "head_vllm", Action.REPLACE, "head_proxy", Action.REPLACE),
        changed(review.plan()));
    String md = review.markdown();
    assertTrue(line(md, "head_vllm").contains("the API key changed (rotation)"), md);
    assertTrue(line(md, "head_proxy").contains("the API key changed (rotation)"), md);
    String rotated = md.lines().filter(l -> l.startsWith("Secrets rotated: the API key (restarts ")).findFirst().orElse("");
    assertTrue(rotated.contains("`head_vllm`") && rotated.contains("`head_proxy`"), md);
  }

  @Test
  void aRotatedRayTokenReplacesEveryRayNodeAndVllm() {
    PlanReview review = planAfterDeploy(secrets(KEY, TOKEN2, HF));
    Map<String, Action> expected = new TreeMap<>();
    expected.put("secret_ray_token", Action.UPDATE);
    for (String ray : List.of("head_ray", "worker1_ray", "worker2_ray", "head_vllm")) {
      expected.put(ray, Action.REPLACE);
    }
    assertEquals(expected, changed(review.plan()));
    assertTrue(line(review.markdown(), "worker2_ray").contains("the Ray token changed (rotation)"), review.markdown());
  }

  @Test
  void aRotatedHuggingFaceTokenReplacesNothing() {
    PlanReview review = planAfterDeploy(secrets(KEY, TOKEN, HF2));
    assertEquals(Map.of("secret_hf_token", Action.UPDATE), changed(review.plan()));
    assertTrue(review.markdown().contains("Secrets rotated: the Hugging Face token (no service keeps it: the next apply that needs it"),
        review.markdown());
  }

  @Test
  void aPlanWithoutTheSecretsSeesNoRotationAndReplacesNothing() {
    PlanReview review = planAfterDeploy(Map.of());
    assertEquals(Map.of(), changed(review.plan()));
    assertTrue(review.summary().noChanges(), review.summary().toString());
  }

  /**
   * Deployed with the first secrets; then synthesized where synth cannot read them (the state's
   * fingerprints are kept) and planned by OpenTofu with {@code env}: the postcondition compares.
   */
  private Tofu.Result planWhereSynthCannotReadTheSecrets(Map<String, String> env) {
    RealPlans plans = new RealPlans(dir);
    ClusterSpec spec = spec();
    plans.applyWithoutProvisioners(plans.synth(spec, secrets(KEY, TOKEN, HF)));
    Path stackDir = plans.synth(spec, Map.of());
    Tofu.Result r = Tofu.run(stackDir, env, "plan", "-input=false", "-no-color", "-detailed-exitcode");
    for (String secret : List.of(KEY, KEY2, TOKEN, TOKEN2, HF, HF2)) {
      assertFalse(r.output().contains(secret), "a secret is in the plan's output");
    }
    return r;
  }

  @Test
  void whereSynthCannotReadTheSecretsTheDeployedOnesPlanNoChanges() {
    Tofu.Result r = planWhereSynthCannotReadTheSecrets(secrets(KEY, TOKEN, HF));
    assertEquals(0, r.exitCode(), r.output());
    assertTrue(r.output().contains("No changes."), r.output());
  }

  @Test
  void whereSynthCannotReadTheSecretsARotatedOneStopsThePlanWithTheCommandThatRotatesIt() {
    Tofu.Result r = planWhereSynthCannotReadTheSecrets(secrets(KEY, TOKEN2, HF));
    assertEquals(1, r.exitCode(), r.output());
    String out = r.output().replaceAll("\\s+", " ");
    assertTrue(out.contains("Resource postcondition failed"), out);
    assertTrue(out.contains("TF_VAR_ray_auth_token (the Ray token) is not the value deployed"), out);
    assertTrue(out.contains("then cdktf deploy rot --skip-synth"), out);
    assertFalse(out.contains("TF_VAR_vllm_api_key (the API key) is not"), "the API key did not change: " + out);
  }

  @Test
  void noSecretValueReachesAFile() throws IOException {
    planAfterDeploy(secrets(KEY2, TOKEN2, HF2));
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        String content = new String(Files.readAllBytes(f), java.nio.charset.StandardCharsets.ISO_8859_1);
        for (String secret : List.of(KEY, KEY2, TOKEN, TOKEN2, HF, HF2)) {
          assertFalse(content.contains(secret), "a secret is in " + f);
        }
      }
    }
  }

  static Map<String, Action> changed(Plan plan) {
    Map<String, Action> out = new TreeMap<>();
    for (Step s : plan.steps()) {
      if (s.action() != Action.NO_OP) {
        out.put(s.name(), s.action());
      }
    }
    return out;
  }

  static String line(String md, String needle) {
    return md.lines().filter(l -> l.contains("`" + needle + "`") && l.startsWith("|")).findFirst()
        .orElseThrow(() -> new AssertionError("no table row for " + needle + " in\n" + md));
  }
}
