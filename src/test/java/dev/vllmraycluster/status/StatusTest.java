package dev.vllmraycluster.status;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vllmraycluster.TestStacks;
import dev.vllmraycluster.preflight.Fixtures;
import dev.vllmraycluster.preflight.NodeFacts;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.ssh.CommandResult;
import dev.vllmraycluster.status.ClusterStatus.NodeStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * status on probe results captured over SSH from a deployed sandbox cluster with monitoring on
 * (fixtures/sandbox-bookworm/status-*): healthy, then with worker2's Ray stopped; and the watchdog
 * rows from a real watchdog's status file.
 */
class StatusTest {
  @TempDir Path dir;

  ClusterSpec spec() throws Exception {
    String yaml = Files.readString(Fixtures.DIR.resolve("sandbox-bookworm/status-stack.yaml"));
    return TestStacks.load(dir, "mon", yaml).spec();
  }

  ClusterStatus status(String captures) throws Exception {
    ClusterSpec spec = spec();
    return ClusterStatus.evaluate(spec, Fixtures.facts(spec, "sandbox-bookworm/" + captures), 0);
  }

  static NodeStatus node(ClusterStatus s, String name) {
    return s.nodes().stream().filter(n -> n.name().equals(name)).findFirst().orElseThrow();
  }

  @Test
  void aDeployedClusterIsHealthy() throws Exception {
    ClusterStatus s = status("status-deployed");
    assertEquals(List.of(), s.problems());
    assertFalse(s.degraded());
    NodeStatus head = node(s, "head");
    assertEquals("alive", head.ray());
    assertEquals(1.0, head.gpusUsed());
    assertEquals(1.0, head.gpusTotal());
    assertEquals("ready", head.modelStore());
    assertEquals(Map.of("vrc-firewall", "active", "vrc-ray-head", "active", "vrc-vllm", "active",
        "vrc-node-exporter", "active", "vrc-prometheus", "active"), head.units());
    assertEquals("logical GPUs (no nvidia-smi)", head.gpuNote());
    // worker2's Ray was restarted before the capture: the GCS lists its dead entry and its new one.
    assertEquals("alive", node(s, "worker2").ray());
    assertEquals(0.0, node(s, "worker2").gpusUsed());
    // worker1 has the stand-in nvidia-smi printing the 2 x H200 captures.
    NodeStatus w1 = node(s, "worker1");
    assertEquals(2, w1.gpus().size());
    assertEquals("NVIDIA H200", w1.gpus().get(0).name());
    assertEquals(143771, w1.gpus().get(1).memoryTotalMiB());
    assertEquals(0, w1.gpus().get(1).utilizationPercent());
    assertEquals("0/1", StatusRenderer.gpusUsed(node(s, "worker2")));
    assertEquals("0.0/280.8 GiB", StatusRenderer.gpuMemory(w1));
    ClusterStatus.ApiStatus api = s.api();
    assertEquals("200", api.health());
    assertEquals(0.0, api.runningRequests());
    assertEquals(0.0, api.waitingRequests());
    assertEquals(0.0, api.kvCacheUsage());
    // 3384 then 3600 generated tokens, 2 s apart, while a client sent completions.
    assertEquals(108.0, api.generationTokensPerSecond());
    assertFalse(s.watchdog().present());
    String table = StatusRenderer.table(s);
    assertTrue(table.endsWith("status mon: healthy\n"), table);
    assertTrue(table.contains("API       health 200, running 0, waiting 0, KV cache 0.0 %, 108.0 tokens/s generated"), table);
  }

  @Test
  void aStoppedRayWorkerDegradesTheCluster() throws Exception {
    ClusterStatus s = status("status-worker2-stopped");
    assertTrue(s.degraded());
    assertEquals(List.of("worker2: vrc-ray-worker is inactive", "worker2: Ray is dead (the cluster lacks its 1 GPU(s))"),
        s.problems());
    assertEquals("dead", node(s, "worker2").ray());
    String table = StatusRenderer.table(s);
    assertTrue(table.contains("status mon: DEGRADED (2 problem(s))"), table);
    JsonNode json = TestStacks.JSON.readTree(StatusRenderer.json(s));
    assertTrue(json.get("degraded").asBoolean());
    assertEquals("dead", json.get("nodes").get(2).get("ray").asText());
    assertEquals("worker2", json.get("nodes").get(2).get("name").asText());
  }

  @Test
  void anUnreachableNodeAndAFailingWatchdog() throws Exception {
    ClusterSpec spec = spec();
    Map<String, NodeFacts> facts = Fixtures.facts(spec, "sandbox-bookworm/status-deployed");
    facts.put("worker1", NodeFacts.unreachable(spec.nodes().get(1), "root@10.213.240.12:22", "connection timed out", "check it"));
    String failing = Fixtures.output("sandbox-bookworm/watchdog.status.ok.txt")
        .replace("STATE=ok", "STATE=failing").replace("LAST_OK=1796430663", "LAST_OK=1796430600")
        .replace("RESTARTS=0", "RESTARTS=3");
    facts.get("head").put(StatusProbes.WATCHDOG, CommandResult.ok(failing));
    ClusterStatus s = ClusterStatus.evaluate(spec, facts, 1796430673L);
    assertTrue(s.problems().contains("worker1: unreachable over SSH (connection timed out)"), s.problems().toString());
    assertTrue(s.problems().stream().anyMatch(p -> p.startsWith("watchdog: failing: completion: HTTP 200 in 15 ms")), s.problems().toString());
    assertEquals(3, s.watchdog().restarts());
    assertEquals(10L, s.watchdog().lastProbeAgeSeconds());
    assertNull(s.watchdog().canaryLatencySeconds(), "the last probe's completion did not answer");
  }

  @Test
  void aHealthyWatchdogShowsItsCanary() throws Exception {
    ClusterSpec spec = spec();
    Map<String, NodeFacts> facts = Fixtures.facts(spec, "sandbox-bookworm/status-deployed");
    facts.get("head").put(StatusProbes.WATCHDOG, CommandResult.ok(Fixtures.output("sandbox-bookworm/watchdog.status.ok.txt")));
    ClusterStatus s = ClusterStatus.evaluate(spec, facts, 1796430666L);
    assertFalse(s.degraded(), s.problems().toString());
    assertEquals("state ok, restarts 0, canary 15 ms, last probe 3 s ago", StatusRenderer.watchdog(s.watchdog()));
  }
}
