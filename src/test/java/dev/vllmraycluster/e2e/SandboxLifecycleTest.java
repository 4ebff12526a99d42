package dev.vllmraycluster.e2e;

import static dev.vllmraycluster.e2e.Sandbox.assertContains;
import static dev.vllmraycluster.e2e.Sandbox.run;
import static dev.vllmraycluster.e2e.Sandbox.step;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

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
  final TestWatcher journalsOnFailure = sandbox.journalsOnFailure();

  @BeforeAll
  void sandboxUp() {
    Sandbox.assertRoot();
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
      sandbox.onOk(host, "systemctl is-active vrc-firewall " + ray + (host.equals("head") ? " vrc-vllm vrc-proxy" : ""));
      sandbox.onOk(host, "systemctl is-enabled " + ray);
    }

    step("ray status: 3 nodes, the declared GPUs");
    String status = Sandbox.waitFor("3 Ray nodes", Duration.ofSeconds(90),
        () -> sandbox.on("head", rayStatus + " 2>&1"),
        r -> r.exitCode() == 0 && r.output().split(" node_", -1).length - 1 == 3);
    System.out.println(status);
    assertTrue(status.matches("(?s).*/3\\.0 GPU.*"), "3 logical GPUs declared:\n" + status);

    step("a chat completion on 9001 (the proxy, HTTPS with the cluster's CA) with the key");
    String answer = onDeployMachine("curl " + sandbox.caOption() + " -sS -m 30 -H 'Authorization: Bearer " + apiKey + "' -H 'Content-Type: application/json' "
        + "-d '{\"model\": \"tiny-llama\", \"messages\": [{\"role\": \"user\", \"content\": \"hello cluster\"}]}' "
        + sandbox.api() + "/v1/chat/completions");
    System.out.println(answer);
    assertContains(answer, "\"chat.completion\"", "an OpenAI chat completion");
    assertContains(answer, "hello cluster", "the answer went through the workers");
    String unauthorized = onDeployMachine("curl " + sandbox.caOption() + " -s -o /dev/null -w '%{http_code}' -m 10 " + sandbox.api() + "/v1/models");
    assertEquals("401", unauthorized.strip(), "/v1 without the key");

    step("the placement spans the Ray cluster (TP 2 bundles of 1 GPU)");
    String placement = onDeployMachine("curl " + sandbox.caOption() + " -sS -m 10 -H 'Authorization: Bearer " + apiKey + "' " + sandbox.api() + "/standin/placement");
    System.out.println(placement);
    assertContains(placement, sandbox.net() + ".", "ranks placed on sandbox nodes");

    step("vLLM 0.33.0's entry point; uv installed Ray and vLLM through the host's wheel cache; Ray's temp dir 0700");
    sandbox.onOk("head", "pgrep -af '/opt/vllm_env/bin/vllm serve /srv/vrc-models/tiny-llama '");
    for (String host : sandbox.hosts()) {
      assertContains(sandbox.onOk(host, "cat /var/lib/vllm-ray-cluster/bootstrap-install.json"), "\"installer\": \"uv\"", host);
      sandbox.onOk(host, "stat -c '%a %U' /var/cache/vllm-ray-cluster | grep -qx '700 root' && test -x /var/cache/vllm-ray-cluster/uv-0.13.9/bin/uv");
      sandbox.onOk(host, "stat -c '%a %U' /tmp/ray | grep -qx '700 vllm-ray'");
    }

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

    step("every port a process of our units listens on (from ss, not from a list) is closed to the outsider");
    for (String host : sandbox.hosts()) {
      String ip = sandbox.ip(host);
      List<String[]> owned = ownedListeners(host);
      assertFalse(owned.isEmpty(), host + ": no listener of vrc.slice found by ss");
      List<String> tcp = owned.stream().filter(l -> l[0].equals("tcp")).map(l -> l[1]).distinct().toList();
      List<String> udp = owned.stream().filter(l -> l[0].equals("udp")).map(l -> l[1]).distinct().toList();
      System.out.println("[e2e] " + host + ": vrc.slice listens on tcp " + tcp + ", udp " + udp);
      String probe = "for p in " + String.join(" ", tcp) + "; do timeout 2 bash -c \"</dev/tcp/" + ip
          + "/$p\" 2>/dev/null; echo \"$p $?\"; done";
      for (String line : Sandbox.lines(sandbox.onOk("outsider", probe))) {
        String[] f = line.split(" ");
        assertEquals("124", f[1], host + " tcp " + f[0] + " from the outsider must time out (dropped), got exit " + f[1]);
      }
      if (!udp.isEmpty()) {
        assertUdpDropped(host, udp);
      }
    }

    step("ownership, not a list: a listener of vrc.slice on ports nobody listed is closed to outsiders, TCP and UDP");
    sandbox.onOk("head", "systemd-run --unit=e2e-probe --slice=vrc.slice python3 -c '" + PROBE_LISTENER + "'");
    try {
      Sandbox.waitFor("the probe listener", Duration.ofSeconds(20), () -> sandbox.on("head", "ss -ltnH | grep -q ':4444 '"),
          r -> r.exitCode() == 0);
      sandbox.onOk("worker1", "timeout 5 bash -c '</dev/tcp/" + headIp + "/4444' && echo cluster-udp >/dev/udp/" + headIp + "/4445");
      Sandbox.Result tcpOutside = sandbox.on("outsider", "timeout 4 bash -c '</dev/tcp/" + headIp + "/4444'");
      if (tcpOutside.exitCode() != 124) {
        // What the kernel and nft see, for the report: the table (a cgroup shown as a number means
        // the slice was re-created after the table was loaded) and the probe's cgroup.
        fail("tcp 4444 from the outsider connected (exit " + tcpOutside.exitCode() + "):\n"
            + sandbox.on("head", "nft list table inet vllm_ray_cluster; cat /proc/$(systemctl show -p MainPID --value e2e-probe)/cgroup;"
                + " systemctl show -p ActiveEnterTimestamp vrc.slice vrc-firewall.service; ls -d /sys/fs/cgroup/unified/vrc.slice/*").output());
      }
      sandbox.onOk("outsider", "for i in 1 2 3; do echo outsider-udp >/dev/udp/" + headIp + "/4445; sleep 0.2; done");
      Sandbox.sleep(1000);
      String seen = sandbox.onOk("head", "cat /run/e2e-probe.log");
      assertContains(seen, "tcp " + sandbox.ip("worker1"), "the cluster node's TCP connection arrived");
      assertContains(seen, "udp " + sandbox.ip("worker1") + " cluster-udp", "the cluster node's datagram arrived");
      assertFalse(seen.contains("outsider"), "the outsider's datagrams reached the listener:\n" + seen);
      assertFalse(seen.contains(sandbox.ip("outsider")), "the outsider reached the listener:\n" + seen);
    } finally {
      sandbox.on("head", "systemctl stop e2e-probe; rm -f /run/e2e-probe.log");
    }

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
    step("the API key reaches no Ray worker: vLLM's non-carry-over list, no /proc/*/environ on a worker, no rank's environment");
    sandbox.onOk("head", "grep -q '\"VLLM_API_KEY\"' /etc/vllm-ray-cluster/vllm-config/ray_non_carry_over_env_vars.json");
    String keyPattern = java.util.Base64.getEncoder().encodeToString(apiKey.getBytes());
    for (String host : sandbox.hosts()) {
      if (!host.equals("head")) {
        assertEquals("0", sandbox.onOk(host, "grep -lasF -f <(echo " + keyPattern + " | base64 -d) /proc/[0-9]*/environ 2>/dev/null | wc -l").strip(),
            host + ": processes with the API key in their environment");
      }
    }
    String placement = onDeployMachine("curl -sS -m 10 " + sandbox.caOption() + " -H 'Authorization: Bearer " + apiKey + "' " + sandbox.api() + "/standin/placement");
    assertTrue(placement.contains("\"secrets_in_environ\": []") && !placement.contains("\"VLLM_API_KEY\""), placement);
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
    String rayPid = sandbox.mainPid("head", "vrc-ray-head");
    String vllmPid = sandbox.mainPid("head", "vrc-vllm");
    cdktf("deploy", stack, "--auto-approve").ok("cdktf deploy (no-op)");
    assertEquals(before, stateIds(), "a no-op deploy created or replaced a resource");
    assertEquals(rayPid, sandbox.mainPid("head", "vrc-ray-head"), "the Ray head was restarted");
    assertEquals(vllmPid, sandbox.mainPid("head", "vrc-vllm"), "vLLM was restarted");

    step("plan-review after the deploy: no changes, no secret");
    dev.vllmraycluster.review.PlanReview review = dev.vllmraycluster.review.TofuPlans.planAndReview(
        dev.vllmraycluster.review.TofuPlans.binary(Sandbox.ROOT), sandbox.stackDir(), stack, deployEnv);
    String md = review.markdown();
    System.out.println(md);
    assertTrue(review.summary().noChanges(), review.summary().toString());
    assertContains(md, "**No changes.**", "the review of a second plan");
    assertFalse(md.contains(apiKey) || md.contains(rayToken), "a secret is in the review");
  }

  /**
   * The synthesized output moved to another directory deploys from there against the same state:
   * it plans no change; its local_checks runs the preflight staged in it on the hosts; and
   * head_vllm, replaced on request, uploads the host modules staged in it (the installed scripts
   * are the checkout's), while Ray keeps running. Nothing of the original output is left to use.
   */
  @Test
  @Order(4)
  void aMovedOutputDeploysFromWhatIsStagedInIt() throws IOException {
    step("cdktf synth, then the output moved out of the project directory");
    cdktf("synth").ok("cdktf synth");
    Path moved = Sandbox.ROOT.resolve("target/e2e").resolve(sandbox.name + "-moved");
    run(Duration.ofMinutes(1), Map.of(), false, "rm", "-rf", moved.toString()).ok("rm -rf " + moved);
    Files.createDirectories(moved);
    Files.move(sandbox.project.resolve("cdktf.out"), moved.resolve("cdktf.out"));
    Path dir = moved.resolve("cdktf.out/stacks").resolve(stack);
    String tofu = dev.vllmraycluster.review.TofuPlans.binary(Sandbox.ROOT);
    run(dir, Duration.ofMinutes(3), deployEnv, false, tofu, "init", "-input=false", "-no-color").ok("tofu init (moved)");
    Sandbox.Result plan = run(dir, Duration.ofMinutes(3), deployEnv, false, tofu, "plan", "-input=false", "-no-color",
        "-lock=false", "-detailed-exitcode");
    assertEquals(0, plan.exitCode(), "the moved output does not plan 'No changes':\n" + plan.output());

    step("tofu apply in the moved output, local_checks replaced: the preflight staged in it runs on the hosts");
    Path report = moved.resolve("preflight.json");
    Map<String, String> env = new java.util.HashMap<>(deployEnv);
    env.put("VRC_PREFLIGHT_REPORT", report.toString());
    // On a running cluster preflight's ports check takes our own Ray for a stranger: it looks for
    // the units under system.slice, and they run in vrc.slice since the firewall went by
    // ownership (reported; not what this step is about).
    env.put("VRC_PREFLIGHT_IGNORE", "ports");
    run(dir, SandboxInstance.DEPLOY_TIMEOUT, env, true, tofu, "apply", "-input=false", "-no-color", "-auto-approve",
        "-replace=terraform_data.local_checks").ok("tofu apply -replace=terraform_data.local_checks (moved)");
    JsonNode preflight = TestStacks.JSON.readTree(report.toFile());
    assertEquals("preflight", preflight.path("command").asText(), preflight.toString());
    assertEquals(stack, preflight.path("stack").asText(), preflight.toString());
    assertTrue(preflight.path("passed").asBoolean(), "the staged preflight failed:\n" + preflight);
    assertEquals(3, preflight.path("nodes").size(), preflight.toString());

    step("tofu apply in the moved output, head_vllm replaced: it uploads the host modules staged in it");
    String headRayPid = sandbox.mainPid("head", "vrc-ray-head");
    String vllmPid = sandbox.mainPid("head", "vrc-vllm");
    run(dir, SandboxInstance.DEPLOY_TIMEOUT, deployEnv, true, tofu, "apply", "-input=false", "-no-color", "-auto-approve",
        "-replace=terraform_data.head_vllm").ok("tofu apply -replace=terraform_data.head_vllm (moved)");
    assertNotEquals(vllmPid, sandbox.mainPid("head", "vrc-vllm"), "head_vllm was not applied again");
    assertEquals(headRayPid, sandbox.mainPid("head", "vrc-ray-head"), "the Ray head was restarted");
    for (String file : List.of("vllm/apply.sh", "vllm/run.sh", "common/lib.sh")) {
      String installed = sandbox.onOk("head", "sha256sum /opt/vllm-ray-cluster/modules/" + file).split(" ")[0];
      assertEquals(dev.vllmraycluster.node.ProjectLayout.fileDigest(Sandbox.ROOT.resolve("modules").resolve(file)), installed,
          file + " installed from the moved output is not the checkout's");
    }
    Sandbox.Result again = run(dir, Duration.ofMinutes(3), deployEnv, false, tofu, "plan", "-input=false", "-no-color",
        "-lock=false", "-detailed-exitcode");
    assertEquals(0, again.exitCode(), "after the apply the moved output plans changes:\n" + again.output());
    String models = onDeployMachine("curl -s -o /dev/null -w '%{http_code}' -m 10 " + sandbox.caOption() + " -H 'Authorization: Bearer "
        + apiKey + "' " + sandbox.api() + "/v1/models");
    assertEquals("200", models.strip(), "vLLM does not answer after the apply from the moved output");
  }

  @Test
  @Order(5)
  void changingAVllmFlagReplacesOnlyVllmAndRayKeepsRunning() throws IOException {
    String headRayPid = sandbox.mainPid("head", "vrc-ray-head");
    String workerRayPid = sandbox.mainPid("worker1", "vrc-ray-worker");
    String vllmPid = sandbox.mainPid("head", "vrc-vllm");
    String yaml = Files.readString(stackFile);
    String changed = yaml.replace("gpu_memory_utilization: 0.9", "gpu_memory_utilization: 0.85");
    assertNotEquals(yaml, changed, "the sandbox stack sets gpu_memory_utilization: 0.9");
    Files.writeString(stackFile, changed);

    step("plan: only head_vllm is replaced");
    assertEquals(Map.of("terraform_data.head_vllm", "[\"delete\",\"create\"]"), plannedChanges());

    step("cdktf deploy the vLLM-only change");
    cdktf("deploy", stack, "--auto-approve").ok("cdktf deploy (vLLM flag)");
    assertEquals(headRayPid, sandbox.mainPid("head", "vrc-ray-head"), "the Ray head kept running");
    assertEquals(workerRayPid, sandbox.mainPid("worker1", "vrc-ray-worker"), "the Ray worker kept running");
    assertNotEquals(vllmPid, sandbox.mainPid("head", "vrc-vllm"), "vLLM was restarted");
    assertContains(sandbox.onOk("head", "cat /etc/vllm-ray-cluster/vllm.args"), "0.85", "the new flag is in use");
    String code = onDeployMachine("curl " + sandbox.caOption() + " -s -o /dev/null -w '%{http_code}' -m 10 -H 'Authorization: Bearer " + apiKey + "' " + sandbox.api() + "/v1/models");
    assertEquals("200", code.strip());
  }

  @Test
  @Order(7)
  void aChangedHostKeyStopsTheNextDeployBeforeAnyCommandRuns() throws IOException {
    step("the head gets new host keys (as if someone else answered at its address)");
    sandbox.onOk("head", "mkdir -p /root/keep && cp -a /etc/ssh/ssh_host_*_key* /root/keep/ "
        + "&& for t in ecdsa ed25519; do rm -f /etc/ssh/ssh_host_${t}_key*; ssh-keygen -q -t $t -N '' -f /etc/ssh/ssh_host_${t}_key; done "
        + "&& systemctl restart ssh");
    String yaml = Files.readString(stackFile);
    Files.writeString(stackFile, yaml.replace("gpu_memory_utilization: 0.85", "gpu_memory_utilization: 0.8"));
    String vllmPid = sandbox.mainPid("head", "vrc-vllm");
    try {
      step("cdktf deploy of a vLLM change: refused before anything runs on the head");
      Sandbox.Result refused = cdktf("deploy", stack, "--auto-approve");
      assertNotEquals(0, refused.exitCode(), "a deploy to a host with another key must fail");
      assertContains(sandbox.onOk("head", "cat /etc/vllm-ray-cluster/vllm.args"), "0.85", "the head still has the old flag");
      assertEquals(vllmPid, sandbox.mainPid("head", "vrc-vllm"), "vLLM was not even stopped");
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
  @Order(8)
  void destroyLeavesTheHostsCleanButKeepsTheModel() {
    step("cdktf destroy sandbox");
    cdktf("destroy", stack, "--auto-approve").ok("cdktf destroy");
    for (String host : sandbox.hosts()) {
      step("clean: " + host);
      Sandbox.Result procs = sandbox.on(host, "pgrep -af '[r]aylet|[g]cs_server|[r]ay::|[v]llm serve|[v]llm.entrypoints|[d]ashboard/agent' || true");
      assertEquals("", procs.output().strip(), host + " still runs Ray or vLLM processes");
      sandbox.onOk(host, "test ! -e /tmp/ray");
      sandbox.onOk(host, "! ls /etc/systemd/system/vrc-* 2>/dev/null");
      sandbox.onOk(host, "! nft list table inet vllm_ray_cluster >/dev/null 2>&1");
      sandbox.onOk(host, "test ! -e /opt/vllm_env && test ! -e /opt/vllm-ray-cluster && test ! -e /etc/vllm-ray-cluster");
      sandbox.onOk(host, "test ! -e /var/cache/vllm-ray-cluster && test ! -e /var/lib/vllm-ray-cluster");
      sandbox.onOk(host, "! id vllm-ray >/dev/null 2>&1");
      sandbox.onOk(host, "test -f /srv/vrc-models/tiny-llama/config.json");
    }
  }

  @Test
  @Order(6)
  void changingTheClientNetworksNeverOpensAWindow() throws IOException {
    String yaml = Files.readString(stackFile);
    String extra = sandbox.net() + ".250/32";
    String changed = yaml.replace("api_allowed_networks: [" + sandbox.bridgeIp() + "/32]",
        "api_allowed_networks: [" + sandbox.bridgeIp() + "/32, " + extra + "]");
    assertNotEquals(yaml, changed, "the sandbox stack lists its API clients");
    Files.writeString(stackFile, changed);
    String rayPid = sandbox.mainPid("head", "vrc-ray-head");
    step("the outsider knocks on 6379 every 0.1 s while the firewalls are replaced");
    sandbox.onOk("outsider", "rm -f /run/knock.log; systemd-run --unit=e2e-knock bash -c 'while true; do "
        + "if timeout 0.5 bash -c \"</dev/tcp/" + headIp + "/6379\" 2>/dev/null; then echo open; else echo shut; fi >>/run/knock.log; "
        + "sleep 0.1; done'");
    try {
      int before = knocks(1);
      cdktf("deploy", stack, "--auto-approve").ok("cdktf deploy (api_allowed_networks)");
      int during = knocks(before + 1);
      System.out.println("[e2e] " + before + " knocks before the deploy, " + during + " by its end");
    } finally {
      sandbox.on("outsider", "systemctl stop e2e-knock");
    }
    String knocks = sandbox.onOk("outsider", "sort /run/knock.log | uniq -c");
    System.out.println("[e2e] knocks on 6379 around the deploy:\n" + knocks);
    assertFalse(knocks.contains("open"), "6379 was reachable from the outsider during the change:\n" + knocks);
    assertContains(sandbox.onOk("head", "nft list set inet vllm_ray_cluster api_clients_v4"), sandbox.net() + ".250",
        "the new client network is in the rules");
    assertEquals(rayPid, sandbox.mainPid("head", "vrc-ray-head"), "Ray kept running");
    sandbox.onOk("head", "systemctl is-active vrc-firewall && nft list table inet vllm_ray_cluster >/dev/null");
  }

  // ------------------------------------------------------------------ helpers

  /** Waits until the outsider's knock loop has logged at least {@code atLeast} attempts; their count. */
  private int knocks(int atLeast) {
    String out = Sandbox.waitFor(atLeast + " knocks", Duration.ofSeconds(30),
        () -> sandbox.on("outsider", "wc -l </run/knock.log"),
        r -> r.exitCode() == 0 && Integer.parseInt(r.output().strip()) >= atLeast);
    return Integer.parseInt(out.strip());
  }

  /** A TCP (4444) and UDP (4445) listener that logs who reached it, run in vrc.slice by the test. */
  static final String PROBE_LISTENER = String.join("\n",
      "import socket, threading",
      "log = lambda line: open(\"/run/e2e-probe.log\", \"a\").write(line + \"\\n\")",
      "t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
      "t.bind((\"0.0.0.0\", 4444)); t.listen(8)",
      "u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind((\"0.0.0.0\", 4445))",
      "def accept():",
      "    while True:",
      "        c, a = t.accept(); log(\"tcp \" + a[0]); c.close()",
      "threading.Thread(target=accept, daemon=True).start()",
      "while True:",
      "    d, a = u.recvfrom(256); log(\"udp \" + a[0] + \" \" + d.decode().strip())");

  /**
   * Every socket a process of vrc.slice listens on, on an address other hosts can reach: {proto,
   * port} pairs, read from {@code ss -tulnp} and each process's cgroup.
   */
  private List<String[]> ownedListeners(String host) {
    String out = sandbox.onOk(host, "ss -Htulnp | while read -r proto state rq sq local peer procs; do "
        + "case \"$local\" in 127.*|\\[::1\\]*) continue ;; esac; "
        + "for pid in $(grep -o 'pid=[0-9]*' <<<\"$procs\" | cut -d= -f2 | sort -u); do "
        + "grep -q 'vrc.slice' /proc/$pid/cgroup 2>/dev/null && { echo \"$proto ${local##*:}\"; break; }; done; done | sort -u");
    List<String[]> owned = new java.util.ArrayList<>();
    for (String line : Sandbox.lines(out)) {
      owned.add(line.split(" "));
    }
    return owned;
  }

  /**
   * Datagrams from the outsider to the UDP ports never get past our table: a counter in a table of
   * the test's own, hooked after ours, sees none of them (and sees a cluster node's).
   */
  private void assertUdpDropped(String host, List<String> ports) {
    String set = String.join(", ", ports);
    sandbox.onOk(host, "nft -f - <<'EOF'\ntable inet e2e_after {\n chain input {\n  type filter hook input priority 10; policy accept;\n"
        + "  udp dport { " + set + " } ip saddr " + sandbox.ip("outsider") + " counter\n }\n}\nEOF");
    try {
      sandbox.onOk("outsider", "for p in " + String.join(" ", ports) + "; do echo x >/dev/udp/" + sandbox.ip(host) + "/$p; done");
      Sandbox.sleep(500);
      String counted = sandbox.onOk(host, "nft list chain inet e2e_after input | grep -o 'packets [0-9]*'");
      assertEquals("packets 0", counted.strip(), host + ": outsider datagrams to udp " + ports + " passed our table");
    } finally {
      sandbox.on(host, "nft delete table inet e2e_after");
    }
  }

  private Sandbox.Result cdktf(String... args) {
    return sandbox.cdktf(deployEnv, args);
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
    Path dir = sandbox.stackDir();
    // init first: an output synthesized anew (after the moved-output test) has no .terraform yet.
    run(Duration.ofMinutes(3), deployEnv, false, "bash", "-c",
        "cd " + dir + " && tofu init -input=false -no-color >/dev/null && tofu plan -input=false -lock=false -no-color -out=e2e.plan")
        .ok("tofu plan");
    String json = run(Duration.ofMinutes(1), deployEnv, false, "bash", "-c",
        "cd " + dir + " && tofu show -json e2e.plan").ok("tofu show").output();
    Map<String, String> changes = Sandbox.plannedChanges(json);
    System.out.println("[e2e] planned changes: " + changes);
    return changes;
  }

  private static String onDeployMachine(String shell) {
    return Sandbox.onDeployMachine(Duration.ofSeconds(60), shell, shell);
  }
}
