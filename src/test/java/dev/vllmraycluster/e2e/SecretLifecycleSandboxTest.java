package dev.vllmraycluster.e2e;

import static dev.vllmraycluster.e2e.Sandbox.assertContains;
import static dev.vllmraycluster.e2e.Sandbox.run;
import static dev.vllmraycluster.e2e.Sandbox.step;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vllmraycluster.TestStacks;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * Secrets across a cluster's life, on sandbox hosts with real parts: a rotated API key works right
 * after {@code cdktf deploy} and the old one gets 401; a rotated Ray token is the one every node
 * holds and Ray takes, and the old one is refused; a plan made without the secrets changes
 * nothing; a vLLM that fails to start undoes its own step (no key file, no unit, no process) while
 * Ray keeps running, and a deploy after the fix converges; a destroy with failed and tainted steps
 * (OpenTofu runs no remove.sh for those) leaves no secret, no {@code vrc-*} unit, no process and
 * no firewall table, through each node's sweep. Its own sandbox instance ({@code e2e-seclife}, two
 * hosts) and project directory. Needs root.
 */
@Tag("e2e")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SecretLifecycleSandboxTest {
  static final String MODEL_DIR = "/srv/vrc-models/tiny-llama";
  static final String SECRETS = "/etc/vllm-ray-cluster/secrets";

  final SandboxInstance sandbox = SandboxInstance.of("e2e-seclife", 10);
  final String headIp = sandbox.ip("head");
  final String stack = sandbox.stack();

  /** Made for this run; the test only ever compares their digests on the hosts. */
  final String key1 = "e2e-key1-" + UUID.randomUUID();
  final String key2 = "e2e-key2-" + UUID.randomUUID();
  final String token1 = "e2e-ray1-" + UUID.randomUUID();
  final String token2 = "e2e-ray2-" + UUID.randomUUID();
  final Map<String, String> env = new HashMap<>();

  @RegisterExtension
  final TestWatcher journalsOnFailure = sandbox.journalsOnFailure();

  @BeforeAll
  void sandboxUp() throws IOException {
    Sandbox.assertRoot();
    sandbox.up(2);
    env.put("TF_VAR_vllm_api_key", key1);
    env.put("TF_VAR_ray_auth_token", token1);
  }

  @AfterAll
  void sandboxDown() {
    sandbox.close();
  }

  @Test
  @Order(1)
  void deploy() {
    step("cdktf deploy (first key, first token)");
    cdktf("deploy", stack, "--auto-approve").ok("cdktf deploy");
    assertEquals("200", chat(key1), "a chat completion with the first key");
    assertEquals(sha256("VLLM_API_KEY=" + key1 + "\n"), fileDigest("head", SECRETS + "/vllm.env"));
  }

  @Test
  @Order(2)
  void aRotatedApiKeyWorksRightAfterTheDeployAndTheOldOneGets401() {
    String headRay = sandbox.mainPid("head", "vrc-ray-head");
    String workerRay = sandbox.mainPid("worker1", "vrc-ray-worker");
    env.put("TF_VAR_vllm_api_key", key2);
    step("plan with the new key: its fingerprint changes and only vLLM and the API proxy (its key lines) are replaced");
    assertEquals(Map.of("terraform_data.secret_api_key", "[\"update\"]", "terraform_data.head_vllm", "[\"delete\",\"create\"]",
        "terraform_data.head_proxy", "[\"create\",\"delete\"]"), plannedChanges(env));
    step("cdktf deploy with the new key");
    cdktf("deploy", stack, "--auto-approve").ok("cdktf deploy (rotated API key)");
    assertEquals("200", chat(key2), "the new key right after the deploy");
    assertEquals("401", chat(key1), "the old key");
    assertEquals("401", status("/v1/models", null), "no key");
    assertEquals(sha256("VLLM_API_KEY=" + key2 + "\n"), fileDigest("head", SECRETS + "/vllm.env"), "the key file on the head");
    assertEquals(headRay, sandbox.mainPid("head", "vrc-ray-head"), "Ray kept running on the head");
    assertEquals(workerRay, sandbox.mainPid("worker1", "vrc-ray-worker"), "Ray kept running on the worker");
  }

  @Test
  @Order(3)
  void plansWithTheSameSecretsOrWithoutThemChangeNothing() {
    step("plan with the deployed secrets: no changes");
    assertEquals(Map.of(), plannedChanges(env));
    step("plan without any secret set (as a pull request's plan review): no changes");
    assertEquals(Map.of(), plannedChanges(Map.of()));
  }

  @Test
  @Order(4)
  void aRotatedRayTokenIsInEffectOnEveryNode() {
    env.put("TF_VAR_ray_auth_token", token2);
    step("plan with the new token: every Ray node and vLLM are replaced, nothing else");
    Map<String, String> expected = new TreeMap<>();
    expected.put("terraform_data.secret_ray_token", "[\"update\"]");
    for (String r : List.of("head_ray", "worker1_ray", "head_vllm")) {
      expected.put("terraform_data." + r, "[\"delete\",\"create\"]");
    }
    assertEquals(expected, plannedChanges(env));
    step("cdktf deploy with the new token");
    cdktf("deploy", stack, "--auto-approve").ok("cdktf deploy (rotated Ray token)");
    for (String host : sandbox.hosts()) {
      assertEquals(sha256(token2), fileDigest(host, SECRETS + "/ray-token"), host + " holds the new token");
    }
    step("Ray takes the new token (both nodes alive) and refuses the old one");
    String withNew = Sandbox.waitFor("2 Ray nodes with the new token", Duration.ofSeconds(90),
        () -> rayStatus(token2), r -> r.exitCode() == 0 && r.output().split(" node_", -1).length - 1 == 2);
    System.out.println(withNew);
    Sandbox.Result withOld = rayStatus(token1);
    assertNotEquals(0, withOld.exitCode(), "ray status with the old token must fail:\n" + withOld.output());
    assertContains(withOld.output(), "InvalidAuthToken", "Ray's own refusal of the old token");
    assertEquals("200", chat(key2), "vLLM answers through the Ray cluster with the new token");
  }

  @Test
  @Order(5)
  void aVllmThatFailsToStartUndoesItsStepAndRayKeepsRunning() throws IOException {
    String headRay = sandbox.mainPid("head", "vrc-ray-head");
    step("the model's config.json moved away on the head, and vLLM's readiness wait changed: vLLM is replaced and cannot start");
    sandbox.onOk("head", "mv " + MODEL_DIR + "/config.json /root/e2e-config.json");
    boundReadiness(45);
    Sandbox.Result failed = cdktf("deploy", stack, "--auto-approve");
    assertNotEquals(0, failed.exitCode(), "the deploy must fail");
    assertContains(failed.output(), "[head/vllm/undo]", "the failed step says it undoes its work");
    assertContains(failed.output(), "undone: nothing of this step is left here", "the undo finished");
    step("nothing of the failed step is left on the head; Ray is untouched");
    assertNothingOfVllm();
    assertEquals(headRay, sandbox.mainPid("head", "vrc-ray-head"), "Ray kept running");
    sandbox.onOk("head", "test -s " + SECRETS + "/ray-token");
    assertEquals("tainted", stateStatus("head_vllm"), "OpenTofu marks the failed step tainted");

    step("the fix (config.json back, the default readiness wait), then cdktf deploy again: it converges");
    sandbox.onOk("head", "mv /root/e2e-config.json " + MODEL_DIR + "/config.json");
    boundReadiness(0);
    cdktf("deploy", stack, "--auto-approve").ok("cdktf deploy after the fix");
    assertEquals("", stateStatus("head_vllm"), "the step is healthy again");
    assertEquals("200", chat(key2), "vLLM serves again, with the current key");
    assertEquals("401", chat(key1));
    assertEquals(Map.of(), plannedChanges(env), "nothing left to do");
  }

  @Test
  @Order(6)
  void destroyAfterAFailedStartAndWithTaintedStepsLeavesNothing() throws IOException {
    step("a failed vLLM start again (its step undone and tainted)");
    sandbox.onOk("head", "mv " + MODEL_DIR + "/config.json /root/e2e-config.json");
    try {
      boundReadiness(40);
      assertNotEquals(0, cdktf("deploy", stack, "--auto-approve").exitCode(), "the deploy must fail");
    } finally {
      sandbox.onOk("head", "mv /root/e2e-config.json " + MODEL_DIR + "/config.json");
    }
    assertEquals("tainted", stateStatus("head_vllm"));
    step("two healthy, running steps tainted by hand: OpenTofu will run no remove.sh for them");
    for (String r : List.of("worker1_ray", "head_model")) {
      run(sandbox.stackDir(), Duration.ofMinutes(2), env, true, tofu(), "taint", "-no-color", "terraform_data." + r).ok("tofu taint " + r);
    }
    sandbox.onOk("worker1", "systemctl is-active vrc-ray-worker && test -s " + SECRETS + "/ray-token");

    step("cdktf destroy");
    Sandbox.Result destroy = cdktf("destroy", stack, "--auto-approve");
    destroy.ok("cdktf destroy");
    assertContains(destroy.output(), "[worker1/sweep/sweep] ray is still installed", "the worker's sweep ran Ray's remove.sh");
    assertContains(destroy.output(), "[head/sweep/sweep] model-store is still installed", "the head's sweep ran the model store's");
    assertFalse(destroy.output().contains("[head/sweep/sweep] vllm is still installed"), "the failed vLLM step had undone itself");
    for (String host : sandbox.hosts()) {
      step("nothing left on " + host);
      sandbox.onOk(host, "test ! -e " + SECRETS + " && test ! -e /etc/vllm-ray-cluster");
      sandbox.onOk(host, "! ls /etc/systemd/system/vrc-* /etc/systemd/system/vrc.slice 2>/dev/null");
      // Units systemd still has in memory but no file for ("not-found"), and the implicit slice
      // such a unit keeps loaded (systemd's own description "Slice /vrc"), are not ours to remove:
      // no file of ours is left (above), and systemd forgets them when nothing refers to them.
      String units = sandbox.onOk(host, "systemctl list-units --all --plain --no-legend 'vrc-*' 'vrc.slice'"
          + " | grep -v -e not-found -e ' Slice /vrc$' || true");
      assertEquals("", units.strip(), host + ": units of ours systemd still knows");
      Sandbox.Result procs = sandbox.on(host, "pgrep -af '[r]aylet|[g]cs_server|[r]ay::|[v]llm.entrypoints|[d]ashboard/agent' || true");
      assertEquals("", procs.output().strip(), host + " still runs Ray or vLLM");
      sandbox.onOk(host, "! nft list table inet vllm_ray_cluster >/dev/null 2>&1");
      sandbox.onOk(host, "test ! -e /opt/vllm-ray-cluster && test ! -e /opt/vllm_env && ! id vllm-ray >/dev/null 2>&1");
      sandbox.onOk(host, "[ -z \"$(ls -A /run/vrc-stage-root)\" ]");
      String leaks = sandbox.onOk(host, "grep -rlF -f <(echo " + patterns() + " | base64 -d) /etc /opt /var/lib /run /root /tmp 2>/dev/null || true");
      assertEquals("", leaks.strip(), host + ": files that hold a secret of this run");
    }
  }

  // ------------------------------------------------------------------ helpers

  private void assertNothingOfVllm() {
    sandbox.onOk("head", "test ! -e " + SECRETS + "/vllm.env");
    sandbox.onOk("head", "test ! -e /etc/systemd/system/vrc-vllm.service && test ! -e /etc/vllm-ray-cluster/vllm.env");
    sandbox.onOk("head", "! systemctl is-enabled vrc-vllm >/dev/null 2>&1 && ! systemctl is-active vrc-vllm >/dev/null 2>&1");
    sandbox.onOk("head", "! pgrep -f '[v]llm.entrypoints' >/dev/null");
    sandbox.onOk("head", "test ! -e /opt/vllm-ray-cluster/modules/vllm");
  }

  /**
   * Sets {@code vllm.readiness_timeout_seconds} (0: back to the default): a change of vLLM's env,
   * so it replaces the vLLM step; a forced start failure then fails in that many seconds, whatever
   * the load on this machine, since the stand-in exits at once without the model's config.json.
   */
  private void boundReadiness(int seconds) throws IOException {
    String yaml = Files.readString(sandbox.stackFile).replaceAll("(?m)^  readiness_timeout_seconds: \\d+\n", "");
    String changed = seconds == 0 ? yaml : yaml.replace("vllm:\n", "vllm:\n  readiness_timeout_seconds: " + seconds + "\n");
    assertNotEquals(Files.readString(sandbox.stackFile), changed, "the stack changes");
    Files.writeString(sandbox.stackFile, changed);
  }

  /** The secrets of this run, base64 on a command line, so that no search shows one in ps. */
  private String patterns() {
    String all = String.join("\n", key1, key2, token1, token2) + "\n";
    return Base64.getEncoder().encodeToString(all.getBytes(StandardCharsets.UTF_8));
  }

  /** The HTTP status of a chat completion sent from this machine with {@code key}. */
  private String chat(String key) {
    return onDeployMachine("curl -s -o /dev/null -w '%{http_code}' -m 60 -H @<(echo " + header(key) + " | base64 -d) "
        + "-H 'Content-Type: application/json' -d '{\"model\": \"tiny-llama\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}' "
        + "--cacert " + sandbox.apiCaFile() + " " + sandbox.api() + "/v1/chat/completions").strip();
  }

  private String status(String path, String key) {
    String auth = key == null ? "" : "-H @<(echo " + header(key) + " | base64 -d) ";
    return onDeployMachine("curl -s -o /dev/null -w '%{http_code}' -m 30 --cacert " + sandbox.apiCaFile() + " " + auth + sandbox.api() + path).strip();
  }

  private static String header(String key) {
    return Base64.getEncoder().encodeToString(("Authorization: Bearer " + key + "\n").getBytes(StandardCharsets.UTF_8));
  }

  /** {@code ray status} on the head with {@code token} in a root-only file for the call. */
  private Sandbox.Result rayStatus(String token) {
    String b64 = Base64.getEncoder().encodeToString(token.getBytes(StandardCharsets.UTF_8));
    return sandbox.on("head", "f=$(mktemp); echo " + b64 + " | base64 -d >$f; RAY_AUTH_MODE=token RAY_AUTH_TOKEN_PATH=$f "
        + "timeout 60 /opt/vllm_env/bin/ray status --address " + headIp + ":6379 2>&1; rc=$?; rm -f $f; exit $rc");
  }

  private String fileDigest(String host, String file) {
    return sandbox.onOk(host, "sha256sum " + file + " | cut -d' ' -f1").strip();
  }

  private static String sha256(String text) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  private Sandbox.Result cdktf(String... args) {
    return sandbox.cdktf(env, args);
  }

  /** A resource's status in the state: "tainted", or "" for a healthy one. */
  private String stateStatus(String name) {
    try {
      for (JsonNode r : TestStacks.JSON.readTree(Files.readString(sandbox.state())).path("resources")) {
        if (r.path("name").asText().equals(name)) {
          return r.path("instances").path(0).path("status").asText("");
        }
      }
    } catch (IOException e) {
      throw new AssertionError("cannot read the state " + sandbox.state(), e);
    }
    throw new AssertionError(name + " is not in the state");
  }

  /**
   * Synthesizes with {@code secrets} as the environment (what cdktf deploy does), plans with
   * OpenTofu in the same environment, and returns each changed address with its actions.
   */
  private Map<String, String> plannedChanges(Map<String, String> secrets) {
    sandbox.cdktf(secrets, "synth").ok("cdktf synth");
    Path dir = sandbox.stackDir();
    run(dir, Duration.ofMinutes(3), secrets, false, tofu(), "plan", "-input=false", "-lock=false", "-no-color", "-out=e2e.plan")
        .ok("tofu plan");
    String json = run(dir, Duration.ofMinutes(1), secrets, false, tofu(), "show", "-json", "e2e.plan").ok("tofu show").output();
    Map<String, String> changes = Sandbox.plannedChanges(json);
    System.out.println("[e2e] planned changes: " + changes);
    return changes;
  }

  /** The project's OpenTofu (a child's PATH does not decide which program Java starts). */
  private static String tofu() {
    return Sandbox.ROOT.resolve(".tools/bin/tofu").toString();
  }

  private static String onDeployMachine(String shell) {
    return Sandbox.onDeployMachine(Duration.ofSeconds(90), "a command on the deploy machine", shell);
  }
}
