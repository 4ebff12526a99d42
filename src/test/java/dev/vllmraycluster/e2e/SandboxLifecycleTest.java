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
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * The whole lifecycle on sandbox hosts with real parts: sandbox up 3, cdktf deploy (OpenTofu SSH
 * provisioners), a Ray cluster across the hosts, the vLLM service answering on 9001, a no-op
 * re-deploy, a vLLM-only change, cdktf destroy leaving the hosts clean but the model in place.
 * Needs root (systemd-nspawn). Steps run in order and share the cluster, which is this class's
 * own sandbox instance ({@code e2e-life}) and project directory: a running demo is not touched.
 */
@Tag("e2e")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SandboxLifecycleTest {
  final SandboxInstance sandbox = SandboxInstance.of("e2e-life", 1);
  final String headIp = sandbox.ip("head");
  final Path stackFile = sandbox.stackFile;
  final String stack = sandbox.stack();

  /** Secrets made for this run; the test searches files, processes and journals for them. */
  final String apiKey = "e2e-key-" + UUID.randomUUID();
  final String rayToken = "e2e-ray-" + UUID.randomUUID();
  final Map<String, String> deployEnv = Map.of("TF_VAR_vllm_api_key", apiKey, "TF_VAR_ray_auth_token", rayToken);
  final String rayStatus = "RAY_AUTH_MODE=token RAY_AUTH_TOKEN_PATH=/etc/vllm-ray-cluster/secrets/ray-token "
      + "/opt/vllm_env/bin/ray status --address " + headIp + ":6379";

  @RegisterExtension
  final TestWatcher journalsOnFailure =
      new TestWatcher() {
        @Override
        public void testFailed(ExtensionContext context, Throwable cause) {
          Sandbox.step("failed: " + context.getDisplayName() + " — journals of our units");
          sandbox.dumpJournals();
        }
      };

  @BeforeAll
  void sandboxUp() {
    assertEquals("root", System.getProperty("user.name"), "the e2e tier needs root (systemd-nspawn); run it as root");
    // The outsider: a host on the bridge that is not in the cluster.
    sandbox.up(3, "--outsider");
  }

  @AfterAll
  void sandboxDown() {
    sandbox.close();
  }

  @Test
  @Order(1)
  void deployFormsTheClusterAndServes() {
    step("cdktf deploy sandbox (cold)");
    cdktf("deploy", stack, "--auto-approve").ok("cdktf deploy");

    step("units active on every host");
    for (String host : sandbox.hosts()) {
      String ray = host.equals("head") ? "vrc-ray-head" : "vrc-ray-worker";
      sandbox.onOk(host, "systemctl is-active vrc-firewall " + ray + (host.equals("head") ? " vrc-vllm" : ""));
      sandbox.onOk(host, "systemctl is-enabled " + ray);
    }

    step("ray status: 3 nodes, the declared GPUs");
    String status = Sandbox.waitFor("3 Ray nodes", Duration.ofSeconds(90),
        () -> sandbox.on("head", rayStatus + " 2>&1"),
        r -> r.exitCode() == 0 && r.output().split(" node_", -1).length - 1 == 3);
    System.out.println(status);
    assertTrue(status.matches("(?s).*/3\\.0 GPU.*"), "3 logical GPUs declared:\n" + status);

    step("a chat completion on 9001 with the key");
    String answer = onDeployMachine("curl -sS -m 30 -H 'Authorization: Bearer " + apiKey + "' -H 'Content-Type: application/json' "
        + "-d '{\"model\": \"tiny-llama\", \"messages\": [{\"role\": \"user\", \"content\": \"hello cluster\"}]}' "
        + "http://" + headIp + ":9001/v1/chat/completions");
    System.out.println(answer);
    assertContains(answer, "\"chat.completion\"", "an OpenAI chat completion");
    assertContains(answer, "hello cluster", "the answer went through the workers");
    String unauthorized = onDeployMachine("curl -s -o /dev/null -w '%{http_code}' -m 10 http://" + headIp + ":9001/v1/models");
    assertEquals("401", unauthorized.strip(), "/v1 without the key");

    step("the placement spans the Ray cluster (TP 2 bundles of 1 GPU)");
    String placement = onDeployMachine("curl -sS -m 10 -H 'Authorization: Bearer " + apiKey + "' http://" + headIp + ":9001/standin/placement");
    System.out.println(placement);
    assertContains(placement, sandbox.net() + ".", "ranks placed on sandbox nodes");

    step("our firewall table and the model on every node");
    for (String host : sandbox.hosts()) {
      String table = sandbox.onOk(host, "nft list table inet vllm_ray_cluster");
      assertContains(table, host.equals("head") ? "6379" : "10002-19999", host + " protects Ray's ports");
      sandbox.onOk(host, "test -f /srv/vrc-models/tiny-llama/config.json");
    }
  }

  @Test
  @Order(2)
  void secureByDefault() {
    step("Ray refuses a client without the token");
    Sandbox.Result noToken = sandbox.on("head", "timeout 60 /opt/vllm_env/bin/ray status --address " + headIp + ":6379 2>&1");
    assertNotEquals(0, noToken.exitCode(), "ray status without the token must fail:\n" + noToken.output());
    assertContains(noToken.output(), "InvalidAuthToken", "Ray's own refusal");

    step("from a host outside the cluster: Ray's ports and the API are dropped, SSH is not");
    String workerPort = sandbox.onOk("head", "ss -ltnH | awk '{print $4}' | sed 's/.*://' | sort -un "
        + "| awk '$1 >= 10002 && $1 <= 19999' | head -n 1").strip();
    assertFalse(workerPort.isEmpty(), "a Ray worker listens on a port in 10002-19999");
    for (String port : List.of("6379", "10001", "52365", workerPort, "9001")) {
      // A listener exists: a cluster node connects...
      sandbox.onOk("worker1", "timeout 5 bash -c '</dev/tcp/" + headIp + "/" + port + "'");
      // ...and the outsider's SYN is dropped (a timeout, not a refusal).
      Sandbox.Result outside = sandbox.on("outsider", "timeout 4 bash -c '</dev/tcp/" + headIp + "/" + port + "'");
      assertEquals(124, outside.exitCode(), "port " + port + " from the outsider: " + outside.output());
    }
    Sandbox.Result dashboard = sandbox.on("outsider", "timeout 4 bash -c '</dev/tcp/" + headIp + "/8265'");
    assertNotEquals(0, dashboard.exitCode(), "the dashboard from the outsider");
    sandbox.onOk("head", "ss -ltnH | grep -q '127.0.0.1:8265'");
    sandbox.onOk("outsider", "timeout 5 bash -c '</dev/tcp/" + headIp + "/22'");

    step("no secret in cdktf.out, the state, processes, journals or staging directories");
    String files = onDeployMachine("cd " + sandbox.project + " && grep -rlF -e '" + apiKey + "' -e '" + rayToken + "' . 2>/dev/null || true");
    assertEquals("", files.strip(), "files holding a secret");
    for (String host : sandbox.hosts()) {
      // The patterns reach grep through a pipe, base64-encoded on the command line, so that the
      // search itself never shows a secret in ps or /proc.
      String patterns = java.util.Base64.getEncoder().encodeToString((apiKey + "\n" + rayToken + "\n").getBytes());
      String leaks = sandbox.onOk(host, "{ ps -eo args; journalctl --no-pager -o cat; cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' '; } "
          + "| grep -cF -f <(echo " + patterns + " | base64 -d) || true");
      assertEquals("0", leaks.strip(), host + ": lines with a secret in ps/journal/cmdline");
      // Staging on tmpfs, emptied after every step; OpenTofu's scripts only in root's private home.
      sandbox.onOk(host, "test -d /run/vrc-stage-root && [ -z \"$(ls -A /run/vrc-stage-root)\" ]");
      sandbox.onOk(host, "! ls /tmp/terraform_* /tmp/vrc-stage-* 2>/dev/null");
      sandbox.onOk(host, "stat -c %a /root | grep -qx 700 && ls /root/.vrc-tf-*.sh >/dev/null");
    }
    sandbox.onOk("head", "stat -c '%a %U' /etc/vllm-ray-cluster/secrets/vllm.env | grep -qx '600 root'");
    sandbox.onOk("head", "stat -c '%a %U' /etc/vllm-ray-cluster/secrets/ray-token | grep -qx '400 vllm-ray'");
  }

  @Test
  @Order(3)
  void secondDeployPlansNoChanges() {
    step("plan after the deploy (cdktf synth, tofu plan): no changes");
    assertEquals(Map.of(), plannedChanges(), "a second plan");
    step("cdktf deploy again: nothing to do (same resources in the state, services not restarted)");
    Map<String, String> before = stateIds();
    String rayPid = mainPid("head", "vrc-ray-head");
    String vllmPid = mainPid("head", "vrc-vllm");
    cdktf("deploy", stack, "--auto-approve").ok("cdktf deploy (no-op)");
    assertEquals(before, stateIds(), "a no-op deploy created or replaced a resource");
    assertEquals(rayPid, mainPid("head", "vrc-ray-head"), "the Ray head was restarted");
    assertEquals(vllmPid, mainPid("head", "vrc-vllm"), "vLLM was restarted");

    step("plan-review after the deploy: no changes, no secret");
    dev.vllmraycluster.review.PlanReview review = dev.vllmraycluster.review.TofuPlans.planAndReview(
        dev.vllmraycluster.review.TofuPlans.binary(Sandbox.ROOT), stackDir(), stack, deployEnv);
    String md = review.markdown();
    System.out.println(md);
    assertTrue(review.summary().noChanges(), review.summary().toString());
    assertContains(md, "**No changes.**", "the review of a second plan");
    assertFalse(md.contains(apiKey) || md.contains(rayToken), "a secret is in the review");
  }

  @Test
  @Order(4)
  void changingAVllmFlagReplacesOnlyVllmAndRayKeepsRunning() throws IOException {
    String headRayPid = mainPid("head", "vrc-ray-head");
    String workerRayPid = mainPid("worker1", "vrc-ray-worker");
    String vllmPid = mainPid("head", "vrc-vllm");
    String yaml = Files.readString(stackFile);
    String changed = yaml.replace("gpu_memory_utilization: 0.9", "gpu_memory_utilization: 0.85");
    assertNotEquals(yaml, changed, "the sandbox stack sets gpu_memory_utilization: 0.9");
    Files.writeString(stackFile, changed);

    step("plan: only head_vllm is replaced");
    assertEquals(Map.of("terraform_data.head_vllm", "[\"delete\",\"create\"]"), plannedChanges());

    step("cdktf deploy the vLLM-only change");
    cdktf("deploy", stack, "--auto-approve").ok("cdktf deploy (vLLM flag)");
    assertEquals(headRayPid, mainPid("head", "vrc-ray-head"), "the Ray head kept running");
    assertEquals(workerRayPid, mainPid("worker1", "vrc-ray-worker"), "the Ray worker kept running");
    assertNotEquals(vllmPid, mainPid("head", "vrc-vllm"), "vLLM was restarted");
    assertContains(sandbox.onOk("head", "cat /etc/vllm-ray-cluster/vllm.args"), "0.85", "the new flag is in use");
    String code = onDeployMachine("curl -s -o /dev/null -w '%{http_code}' -m 10 -H 'Authorization: Bearer " + apiKey + "' http://" + headIp + ":9001/v1/models");
    assertEquals("200", code.strip());
  }

  @Test
  @Order(5)
  void aChangedHostKeyStopsTheNextDeployBeforeAnyCommandRuns() throws IOException {
    step("the head gets new host keys (as if someone else answered at its address)");
    sandbox.onOk("head", "mkdir -p /root/keep && cp -a /etc/ssh/ssh_host_*_key* /root/keep/ "
        + "&& for t in ecdsa ed25519; do rm -f /etc/ssh/ssh_host_${t}_key*; ssh-keygen -q -t $t -N '' -f /etc/ssh/ssh_host_${t}_key; done "
        + "&& systemctl restart ssh");
    String yaml = Files.readString(stackFile);
    Files.writeString(stackFile, yaml.replace("gpu_memory_utilization: 0.85", "gpu_memory_utilization: 0.8"));
    String vllmPid = mainPid("head", "vrc-vllm");
    try {
      step("cdktf deploy of a vLLM change: refused before anything runs on the head");
      Sandbox.Result refused = cdktf("deploy", stack, "--auto-approve");
      assertNotEquals(0, refused.exitCode(), "a deploy to a host with another key must fail");
      assertContains(sandbox.onOk("head", "cat /etc/vllm-ray-cluster/vllm.args"), "0.85", "the head still has the old flag");
      assertEquals(vllmPid, mainPid("head", "vrc-vllm"), "vLLM was not even stopped");
      sandbox.onOk("head", "[ -z \"$(ls -A /run/vrc-stage-root)\" ]");
    } finally {
      step("the head's own key back");
      sandbox.onOk("head", "cp -a /root/keep/ssh_host_*_key* /etc/ssh/ && rm -rf /root/keep && systemctl restart ssh");
    }
    step("with the right key the same deploy goes through");
    cdktf("deploy", stack, "--auto-approve").ok("cdktf deploy after the key is back");
    assertContains(sandbox.onOk("head", "cat /etc/vllm-ray-cluster/vllm.args"), "0.8\n", "the new flag is in use");
  }

  @Test
  @Order(6)
  void destroyLeavesTheHostsCleanButKeepsTheModel() {
    step("cdktf destroy sandbox");
    cdktf("destroy", stack, "--auto-approve").ok("cdktf destroy");
    for (String host : sandbox.hosts()) {
      step("clean: " + host);
      Sandbox.Result procs = sandbox.on(host, "pgrep -af '[r]aylet|[g]cs_server|[r]ay::|[v]llm.entrypoints|[d]ashboard/agent' || true");
      assertEquals("", procs.output().strip(), host + " still runs Ray or vLLM processes");
      sandbox.onOk(host, "test ! -e /tmp/ray");
      sandbox.onOk(host, "! ls /etc/systemd/system/vrc-* 2>/dev/null");
      sandbox.onOk(host, "! nft list table inet vllm_ray_cluster >/dev/null 2>&1");
      sandbox.onOk(host, "test ! -e /opt/vllm_env && test ! -e /opt/vllm-ray-cluster && test ! -e /etc/vllm-ray-cluster");
      sandbox.onOk(host, "! id vllm-ray >/dev/null 2>&1");
      sandbox.onOk(host, "test -f /srv/vrc-models/tiny-llama/config.json");
    }
  }

  // ------------------------------------------------------------------ helpers

  private Sandbox.Result cdktf(String... args) {
    return sandbox.cdktf(deployEnv, args);
  }

  private Path stackDir() {
    return sandbox.project.resolve("cdktf.out/stacks").resolve(stack);
  }

  /** Each resource address in the state with its id (a replaced terraform_data gets a new one). */
  private Map<String, String> stateIds() {
    Map<String, String> ids = new TreeMap<>();
    try {
      for (JsonNode r : TestStacks.JSON.readTree(Files.readString(sandbox.state())).path("resources")) {
        for (JsonNode i : r.path("instances")) {
          ids.put(r.path("type").asText() + "." + r.path("name").asText(), i.path("attributes").path("id").asText());
        }
      }
    } catch (IOException e) {
      throw new AssertionError("cannot read the state " + sandbox.state(), e);
    }
    assertFalse(ids.isEmpty(), "the state lists no resource");
    return ids;
  }

  /** Synthesizes, plans the stack with OpenTofu and returns each changed address → actions. */
  private Map<String, String> plannedChanges() {
    cdktf("synth").ok("cdktf synth");
    Path dir = stackDir();
    run(Duration.ofMinutes(3), deployEnv, false, "bash", "-c",
        "cd " + dir + " && tofu plan -input=false -lock=false -no-color -out=e2e.plan").ok("tofu plan");
    String json = run(Duration.ofMinutes(1), deployEnv, false, "bash", "-c",
        "cd " + dir + " && tofu show -json e2e.plan").ok("tofu show").output();
    Map<String, String> changes = new TreeMap<>();
    try {
      for (JsonNode change : TestStacks.JSON.readTree(json).path("resource_changes")) {
        String actions = change.at("/change/actions").toString();
        if (!actions.equals("[\"no-op\"]")) {
          changes.put(change.get("address").asText(), actions);
        }
      }
    } catch (IOException e) {
      throw new AssertionError("tofu show -json printed no JSON:\n" + json, e);
    }
    System.out.println("[e2e] planned changes: " + changes);
    return changes;
  }

  private static String onDeployMachine(String shell) {
    return run(Duration.ofSeconds(60), Map.of(), false, "bash", "-c", shell).ok(shell).output();
  }

  private String mainPid(String host, String unit) {
    String pid = sandbox.onOk(host, "systemctl show -p MainPID --value " + unit).strip();
    assertFalse(pid.isEmpty() || pid.equals("0"), unit + " on " + host + " has no main process");
    return pid;
  }
}
