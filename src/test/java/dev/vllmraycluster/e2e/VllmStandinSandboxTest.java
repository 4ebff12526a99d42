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
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
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
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * vLLM 0.33.0's behaviour through the stand-in on sandbox hosts (3 nodes of 1 logical GPU), deployed
 * by cdktf: data parallelism over Ray (DP 2 × TP 1 answering through one API, one placement group
 * per replica on the expected nodes), the API key kept off the Ray workers by our non-carry-over
 * file (and shown to leak without it, so the check can fail), the compile cache kept across a
 * vLLM-only replacement, a re-bootstrap after a version change fetching only the new wheel through
 * the host's wheel cache, and what happens when a Ray node holding a rank dies (DP 2: exit 1 and
 * systemd restarts vLLM; DP 1: /health 503, then exit 0 and the unit stays down).
 */
@Tag("e2e")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class VllmStandinSandboxTest {
  /** DP 2 × TP 1 through the typed field (the constructs render vLLM's Ray data-parallel flags). */
  static final String DP = "tensor_parallel_size: 1\n  data_parallel_size: 2";
  static final String CONFIG = "/etc/vllm-ray-cluster/vllm-config/ray_non_carry_over_env_vars.json";

  final SandboxInstance sandbox = SandboxInstance.of("e2e-vllm", 3);
  final String headIp = sandbox.ip("head");
  final String apiKey = "e2e-key-" + UUID.randomUUID();
  final String rayToken = "e2e-ray-" + UUID.randomUUID();
  final Map<String, String> deployEnv = Map.of("TF_VAR_vllm_api_key", apiKey, "TF_VAR_ray_auth_token", rayToken);
  private final List<Path> extraWheels = new ArrayList<>();
  private double headCacheCreated;

  @RegisterExtension
  final TestWatcher journalsOnFailure = sandbox.journalsOnFailure();

  @BeforeAll
  void sandboxUp() throws IOException {
    Sandbox.assertRoot();
    sandbox.up(3);
    String yaml = Files.readString(sandbox.stackFile);
    String dp = yaml.replace("tensor_parallel_size: 2", DP);
    assertNotEquals(yaml, dp, "the sandbox stack has TP 2");
    Files.writeString(sandbox.stackFile, dp);
  }

  @AfterAll
  void cleanUp() throws IOException {
    for (Path w : extraWheels) {
      Files.deleteIfExists(w);
    }
    sandbox.close();
  }

  @Test
  @Order(1)
  void dataParallelReplicasAnswerThroughOneApiFromTheExpectedNodes() {
    step("cdktf deploy: vllm.data_parallel_size 2 x TP 1 over Ray");
    cdktf("deploy", sandbox.stack(), "--auto-approve").ok("cdktf deploy (DP 2)");
    sandbox.onOk("head", "pgrep -af 'vllm serve' | grep -q -- '--data-parallel-size 2 --data-parallel-size-local 1 --data-parallel-backend ray'");

    step("placement: replica 0 on the head (the DP master), replica 1 on a worker, each its own STRICT_PACK group");
    JsonNode placement = placement();
    JsonNode replicas = placement.get("replicas");
    assertEquals(2, replicas.size(), placement.toString());
    Map<String, String> nodeIdToIp = new LinkedHashMap<>();
    Set<String> replicaNodes = new TreeSet<>();
    for (JsonNode r : replicas) {
      String ip = r.get("node_ip").asText();
      replicaNodes.add(ip);
      assertEquals("STRICT_PACK", r.get("strategy").asText());
      assertEquals("dp_rank_" + r.get("dp_rank").asInt(), r.get("placement_group").asText());
      assertEquals(List.of("{\"GPU\":1.0,\"node:" + ip + "\":0.001}", "{\"CPU\":1.0,\"node:" + ip + "\":0.001}"),
          strings(r.get("bundles")), "TP 1 GPU bundle + the engine's CPU bundle, both pinned to " + ip);
      for (JsonNode rank : r.get("ranks")) {
        assertEquals(ip, rank.get("node_ip").asText(), "a replica's ranks stay on its node");
        nodeIdToIp.put(rank.get("node_id").asText(), ip);
      }
    }
    assertEquals(headIp, replicas.get(0).get("node_ip").asText(), "DP rank 0 on the DP master (the head)");
    assertTrue(Set.of(sandbox.ip("worker1"), sandbox.ip("worker2")).contains(replicas.get(1).get("node_ip").asText()));
    assertEquals(2, replicaNodes.size(), "two replicas on two nodes");

    step("ray status -v: 1 of 1 GPU used on each replica's node, none on the third");
    // ray status prints the autoscaler monitor's last snapshot of the cluster's resources, taken
    // every few seconds: right after the deploy it may predate the worker's rank actor taking the
    // GPU its placement group reserved (seen once in CI: "0.0/1.0 GPU (0.0 used of 1.0 reserved
    // in placement groups)"). So wait, bounded, for a snapshot of the placement above; the wait is
    // the assertion (it fails with the last snapshot when none matches in time).
    Sandbox.waitFor("ray status -v with 3 nodes: 1.0/1.0 GPU used on the replicas' nodes " + nodeIdToIp
        + ", 0.0/1.0 GPU on the third", Duration.ofSeconds(90),
        () -> sandbox.on("head", rayStatus() + " -v 2>&1"),
        r -> {
          Map<String, String> seen = gpuUsageByNode(r.output());
          return seen.size() == 3 && seen.equals(expectedGpuUsage(seen.keySet(), nodeIdToIp.keySet()));
        });

    step("chat completions through the one API on " + headIp + ":9001: both replicas answer");
    Set<String> answered = new TreeSet<>();
    for (int i = 0; i < 6; i++) {
      String answer = chat("hello replica " + i);
      assertContains(answer, "hello replica " + i, "the echo");
      Matcher m = Pattern.compile("data-parallel rank (\\d) of 2").matcher(answer);
      assertTrue(m.find(), answer);
      answered.add(m.group(1));
    }
    assertEquals(Set.of("0", "1"), answered, "requests balanced over both replicas");
  }

  @Test
  @Order(2)
  void theApiKeyStaysOffTheRayWorkersAndWouldLeakWithoutTheNonCarryOverList() {
    String workerNode = replicaWorker();
    step("with " + CONFIG + ": no rank, engine or process on the workers holds the key");
    assertContains(sandbox.onOk("head", "cat " + CONFIG), "\"VLLM_API_KEY\"", "our list");
    assertNoSecretsInPlacement(placement());
    for (String host : List.of("worker1", "worker2")) {
      assertEquals("0", environsWithKey(host), host + ": /proc/*/environ holding the API key");
    }

    step("negative control: without the list, vLLM's Ray backend copies the key to the worker of DP rank 1 (" + workerNode + " before)");
    sandbox.onOk("head", "mv " + CONFIG + " /root/ncf.json && systemctl restart vrc-vllm");
    try {
      waitHealthy();
      JsonNode leaked = placement();
      assertTrue(leaked.get("replicas").get(1).get("secrets_in_environ").toString().contains("VLLM_API_KEY"), leaked.toString());
      // The restarted vLLM places its replicas again: rank 1 may now be on the other worker.
      String leakedTo = replicaWorker(leaked);
      assertNotEquals("0", environsWithKey(leakedTo), leakedTo + ": the engine actor's runtime_env puts the key into its environ");
    } finally {
      sandbox.onOk("head", "mv /root/ncf.json " + CONFIG + " && systemctl restart vrc-vllm");
    }
    waitHealthy();
    assertNoSecretsInPlacement(placement());
    for (String host : List.of("worker1", "worker2")) {
      assertEquals("0", environsWithKey(host), host + " after the list is back");
    }
  }

  @Test
  @Order(3)
  void aVllmOnlyReplacementKeepsTheCompileCache() throws IOException {
    JsonNode before = placement().get("replicas").get(0).get("ranks").get(0).get("compile_cache");
    headCacheCreated = before.get("created").asDouble();
    assertContains(before.get("path").asText(), "/var/lib/vllm-ray-cluster/cache/vllm/torch_compile_cache/", "VLLM_CACHE_ROOT");
    String yaml = Files.readString(sandbox.stackFile);
    Files.writeString(sandbox.stackFile, yaml.replace("gpu_memory_utilization: 0.9", "gpu_memory_utilization: 0.85"));
    step("cdktf deploy of a vLLM-only change");
    cdktf("deploy", sandbox.stack(), "--auto-approve").ok("cdktf deploy (vLLM flag)");
    JsonNode after = placement().get("replicas").get(0).get("ranks").get(0).get("compile_cache");
    assertTrue(after.get("reused").asBoolean(), "the head's DP rank 0 found its compile cache: " + after);
    assertEquals(headCacheCreated, after.get("created").asDouble(), "the same cache, not a new one");
    assertEquals(before.get("path").asText(), after.get("path").asText());
  }

  @Test
  @Order(4)
  void aReBootstrapAfterAVersionChangeFetchesOnlyTheNewWheel() throws IOException {
    step("a second build of the stand-in, 0.33.0+standin.1, in the wheelhouse");
    extraWheels.add(buildStandin("0.33.0+standin.1"));
    Path httpLog = Sandbox.ROOT.resolve(".sandbox/instances").resolve(sandbox.name).resolve("http.log");
    long before = Files.readAllLines(httpLog).size();
    String yaml = Files.readString(sandbox.stackFile);
    Files.writeString(sandbox.stackFile, yaml.replace("vllm_version: 0.33.0+standin\n", "vllm_version: 0.33.0+standin.1\n"));
    step("cdktf deploy: every bootstrap replaced (new vLLM version), the wheel caches kept");
    cdktf("deploy", sandbox.stack(), "--auto-approve").ok("cdktf deploy (vLLM version)");
    List<String> fetched = Files.readAllLines(httpLog).stream().skip(before)
        .filter(l -> l.contains("\"GET /") && l.contains(".whl ")).toList();
    Set<String> wheels = new TreeSet<>();
    Set<String> hosts = new TreeSet<>();
    for (String line : fetched) {
      wheels.add(line.replaceAll(".*\"GET /([^ ]+) HTTP.*", "$1"));
      hosts.add(line.substring(0, line.indexOf(' ')));
    }
    assertEquals(Set.of("vllm-0.33.0%2Bstandin.1-py3-none-any.whl"), wheels, "only the changed wheel was downloaded:\n" + String.join("\n", fetched));
    assertEquals(Set.of(headIp, sandbox.ip("worker1"), sandbox.ip("worker2")), hosts);
    for (String host : sandbox.hosts()) {
      JsonNode record = TestStacks.JSON.readTree(sandbox.onOk(host, "cat /var/lib/vllm-ray-cluster/bootstrap-install.json"));
      assertEquals("uv", record.get("installer").asText(), host);
      assertEquals("0.33.0+standin.1", record.get("vllm").asText(), host);
      sandbox.onOk(host, "stat -c '%a %U' /var/cache/vllm-ray-cluster | grep -qx '700 root'");
    }
    waitHealthy();
    assertContains(chat("after the upgrade"), "data-parallel rank", "serving again with DP 2");
  }

  @Test
  @Order(5)
  void dataParallelEngineDeathEndsVllmWithStatusOneAndSystemdRestartsIt() {
    String worker = replicaWorker();
    String before = sandbox.mainPid("head", "vrc-vllm");
    step("kill the Ray node holding DP rank 1 (" + worker + "): every process of the service user there");
    String since = sandbox.onOk("head", "date +%s").strip();
    killRayNode(worker);
    String journal = Sandbox.waitFor("vLLM to report the engine's death and exit 1", Duration.ofSeconds(90),
        () -> sandbox.on("head", "journalctl -u vrc-vllm --since @" + since + " --no-pager -o cat"),
        r -> r.output().contains("died unexpectedly.") && r.output().contains("status=1/FAILURE"));
    assertContains(journal, "Engine core process", "0.33.0's message for a dead DP engine");
    step("systemd restarts vLLM (Restart=always); it serves again once the Ray node is back");
    waitHealthy();
    assertNotEquals(before, sandbox.mainPid("head", "vrc-vllm"), "a new vLLM process");
    assertContains(chat("after the restart"), "data-parallel rank", "DP 2 again");
  }

  @Test
  @Order(6)
  void tensorParallelRankDeathTurnsHealthTo503ThenVllmExitsZeroAndIsRestarted() throws IOException {
    String yaml = Files.readString(sandbox.stackFile);
    String tp2 = yaml.replace(DP, "tensor_parallel_size: 2");
    assertNotEquals(yaml, tp2, "the stack had DP 2 × TP 1");
    Files.writeString(sandbox.stackFile, tp2);
    step("cdktf deploy: TP 2, DP 1 (a vLLM-only change)");
    cdktf("deploy", sandbox.stack(), "--auto-approve").ok("cdktf deploy (TP 2)");
    JsonNode ranks = placement().get("ranks");
    String victim = null;
    for (JsonNode r : ranks) {
      String ip = r.get("node_ip").asText();
      if (!ip.equals(headIp)) {
        victim = ip.equals(sandbox.ip("worker1")) ? "worker1" : "worker2";
      }
    }
    assertTrue(victim != null, "a rank on a worker: " + ranks);
    step("kill the Ray node of a rank (" + victim + "): every process of the service user there");
    String restarts = sandbox.onOk("head", "systemctl show -p NRestarts --value vrc-vllm").strip();
    String before = sandbox.mainPid("head", "vrc-vllm");
    String since = sandbox.onOk("head", "date +%s").strip();
    killRayNode(victim);
    Set<String> seen = new TreeSet<>();
    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    boolean restarted = false;
    while (System.nanoTime() < deadline && !restarted) {
      seen.add(run(Duration.ofSeconds(10), Map.of(), false, "bash", "-c",
          "curl -s " + sandbox.caOption() + " -o /dev/null -m 3 -w '%{http_code}' " + sandbox.api() + "/health").output().strip());
      restarted = !sandbox.onOk("head", "systemctl show -p NRestarts --value vrc-vllm").strip().equals(restarts);
      Sandbox.sleep(500);
    }
    assertTrue(seen.contains("503"), "/health answered 503 before the server stopped: " + seen);
    assertTrue(restarted, "systemd did not restart vLLM after it ended");
    step("the process returned normally (exit 0: 0.33.0's behaviour), and systemd restarted it (Restart=always)");
    String journal = sandbox.onOk("head", "journalctl -u vrc-vllm --no-pager -o cat --since @" + since);
    assertContains(journal, "died unexpectedly, shutting down executor.", "0.33.0's RayWorkerMonitor message");
    // systemd 252: "Deactivated successfully." for an exit 0; an exit code would be "Failed with result".
    assertContains(journal, "Deactivated successfully.", "systemd's record that the process exited 0");
    assertFalse(journal.contains("Failed with result"), journal);
    step("it serves again once the Ray node is back");
    waitHealthy();
    assertNotEquals(before, sandbox.mainPid("head", "vrc-vllm"), "a new vLLM process");
  }

  @Test
  @Order(7)
  void destroyRemovesTheCachesToo() {
    step("cdktf destroy");
    cdktf("destroy", sandbox.stack(), "--auto-approve").ok("cdktf destroy");
    for (String host : sandbox.hosts()) {
      sandbox.onOk(host, "test ! -e /var/cache/vllm-ray-cluster && test ! -e /var/lib/vllm-ray-cluster && test ! -e /etc/vllm-ray-cluster");
      sandbox.onOk(host, "test ! -e /tmp/ray && test ! -e /opt/vllm_env && ! id vllm-ray >/dev/null 2>&1");
    }
  }

  // ------------------------------------------------------------------ helpers

  private Sandbox.Result cdktf(String... args) {
    return sandbox.cdktf(deployEnv, args);
  }

  private String rayStatus() {
    return "RAY_AUTH_MODE=token RAY_AUTH_TOKEN_PATH=/etc/vllm-ray-cluster/secrets/ray-token "
        + "/opt/vllm_env/bin/ray status --address " + headIp + ":6379";
  }

  private JsonNode placement() {
    String json = Sandbox.onDeployMachine(Duration.ofSeconds(30), "placement",
        "curl -sS -m 20 " + sandbox.caOption() + " -H 'Authorization: Bearer " + apiKey + "' " + sandbox.api() + "/standin/placement");
    try {
      return TestStacks.JSON.readTree(json);
    } catch (IOException e) {
      throw new AssertionError("no placement JSON: " + json, e);
    }
  }

  private String chat(String text) {
    return Sandbox.onDeployMachine(Duration.ofSeconds(60), "chat",
        "curl -sS -m 30 " + sandbox.caOption() + " -H 'Authorization: Bearer " + apiKey + "' -H 'Content-Type: application/json' "
            + "-d '{\"model\": \"tiny-llama\", \"messages\": [{\"role\": \"user\", \"content\": \"" + text + "\"}]}' "
            + sandbox.api() + "/v1/chat/completions");
  }

  private void waitHealthy() {
    Sandbox.waitFor("vLLM /health 200", Duration.ofMinutes(4),
        () -> run(Duration.ofSeconds(10), Map.of(), false, "bash", "-c",
            "curl -s " + sandbox.caOption() + " -o /dev/null -m 3 -w '%{http_code}' " + sandbox.api() + "/health"),
        r -> r.output().strip().equals("200"));
  }

  /**
   * A Ray node's death: SIGKILL to every process of the service user on {@code host} (raylet, its
   * workers and actors), by PID. systemd's Restart=on-failure brings the Ray unit back afterwards.
   */
  private void killRayNode(String host) {
    sandbox.onOk(host, "pids=$(pgrep -u vllm-ray | tr '\\n' ' '); echo \"killing $pids\"; kill -KILL $pids");
  }

  /** The worker hosting DP rank 1. */
  private String replicaWorker() {
    return replicaWorker(placement());
  }

  /** The worker (by name) that holds DP rank 1 in {@code placement}. */
  private String replicaWorker(JsonNode placement) {
    String ip = placement.get("replicas").get(1).get("node_ip").asText();
    return ip.equals(sandbox.ip("worker1")) ? "worker1" : "worker2";
  }

  /** How many processes on {@code host} have the API key in their /proc environ (searched without showing it). */
  private String environsWithKey(String host) {
    String pattern = Base64.getEncoder().encodeToString(apiKey.getBytes());
    return sandbox.onOk(host, "grep -lasF -f <(echo " + pattern + " | base64 -d) /proc/[0-9]*/environ 2>/dev/null | wc -l").strip();
  }

  private static void assertNoSecretsInPlacement(JsonNode placement) {
    for (JsonNode r : placement.get("replicas")) {
      assertEquals("[]", r.get("secrets_in_environ").toString(), "engine actor of DP rank " + r.get("dp_rank"));
      for (JsonNode rank : r.get("ranks")) {
        assertEquals("[]", rank.get("secrets_in_environ").toString(), "rank on " + rank.get("node_ip"));
      }
    }
  }

  /** The usage line ray status -v shows for each of {@code nodes} when {@code replicaNodes} hold a replica's GPU. */
  static Map<String, String> expectedGpuUsage(Set<String> nodes, Set<String> replicaNodes) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String node : nodes) {
      out.put(node, replicaNodes.contains(node) ? "1.0/1.0 GPU (1.0 used of 1.0 reserved in placement groups)" : "0.0/1.0 GPU");
    }
    return out;
  }

  /** ray status -v: node id → its "x/y GPU ..." usage line. */
  static Map<String, String> gpuUsageByNode(String status) {
    Map<String, String> out = new LinkedHashMap<>();
    String node = null;
    for (String line : status.split("\n")) {
      Matcher m = Pattern.compile("^Node: ([0-9a-f]+)").matcher(line.strip());
      if (m.find()) {
        node = m.group(1);
      } else if (node != null && line.strip().matches("[0-9.]+/[0-9.]+ GPU.*")) {
        out.put(node, line.strip());
        node = null;
      }
    }
    return out;
  }

  private static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.toString()));
    return out;
  }

  /** Builds the stand-in with another version into the wheelhouse (removed after the class). */
  private static Path buildStandin(String version) throws IOException {
    Path wheelhouse = Sandbox.ROOT.resolve(".sandbox/wheelhouse");
    String script = "set -e; t=$(mktemp -d); cp -a sandbox/vllm-standin \"$t/src\"; "
        + "sed -i 's/^version = .*/version = \"" + version + "\"/' \"$t/src/pyproject.toml\"; "
        + "sed -i 's/^__version__ = .*/__version__ = \"" + version + "\"/' \"$t/src/src/vllm/version.py\"; "
        + "python3 -m pip wheel -q --no-deps -w \"$t/out\" \"$t/src\"; cp \"$t\"/out/vllm-*.whl " + wheelhouse + "/; rm -rf \"$t\"";
    run(Duration.ofMinutes(5), Map.of(), true, "bash", "-c", script).ok("build the stand-in " + version);
    Path wheel = wheelhouse.resolve("vllm-" + version + "-py3-none-any.whl");
    assertTrue(Files.isRegularFile(wheel), wheel + " built");
    return wheel;
  }
}
