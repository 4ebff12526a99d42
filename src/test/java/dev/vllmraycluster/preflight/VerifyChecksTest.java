package dev.vllmraycluster.preflight;

import static dev.vllmraycluster.preflight.PreflightChecksTest.assertStatus;
import static dev.vllmraycluster.preflight.PreflightChecksTest.row;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vllmraycluster.TestStacks;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.ssh.CommandResult;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Verify's checks on probe results captured after a sandbox deploy. */
class VerifyChecksTest {
  @TempDir Path dir;

  ClusterSpec spec(boolean logical) {
    return TestStacks.load(dir, "sandbox", Fixtures.sandboxStack(logical)).spec();
  }

  static Map<String, CommandResult> local(boolean keySet) {
    return Map.of(VerifyProbes.API_KEY, CommandResult.of(keySet ? 0 : 1, "", ""),
        VerifyProbes.API_FROM_HERE, CommandResult.ok("200"));
  }

  /** Verify's {@code check} row on the head once {@code probe} there answers {@code output} (kept in {@code facts}). */
  static Row headRow(ClusterSpec spec, Map<String, NodeFacts> facts, String probe, String output, boolean keySet, String check) {
    facts.get("head").put(probe, CommandResult.ok(output));
    return row(Verify.evaluate(spec, facts, local(keySet)), "head", check);
  }

  /** {@link #headRow} on the probe results captured after the sandbox deploy. */
  Row headRowWith(String probe, String output, boolean keySet, String check) {
    ClusterSpec spec = spec(true);
    return headRow(spec, Fixtures.facts(spec, "sandbox-bookworm/verify-deployed"), probe, output, keySet, check);
  }

  @Test
  void deployedSandboxVerifies() {
    ClusterSpec spec = spec(true);
    Report report = Verify.evaluate(spec, Fixtures.facts(spec, "sandbox-bookworm/verify-deployed"), local(true));
    assertFalse(report.failed(), ReportRenderer.table(report));
    assertEquals("3/3 nodes alive, 2.0/3.0 GPU in use", row(report, "head", "ray").message());
    assertEquals("active: vrc-firewall, vrc-ray-head, vrc-vllm", row(report, "head", "units").message());
    assertEquals("https://10.215.0.11:9001/v1/models: 200, serves tiny-llama", row(report, "head", "models").message());
    assertTrue(row(report, "head", "chat").message().startsWith("200, 34 tokens: \"[vllm stand-in"), row(report, "head", "chat").message());
    assertStatus(Status.WARN, row(report, "worker1", "gpu-procs"));
    assertStatus(Status.OK, row(report, "here", "api-from-here"));
    assertEquals("here", report.rows().get(report.rows().size() - 1).node(), "rows about this machine come last");
  }

  @Test
  void reportsTheWatchdogsStateAndItsRestarts() {
    ClusterSpec spec = spec(true);
    Map<String, NodeFacts> facts = Fixtures.facts(spec, "sandbox-bookworm/verify-deployed");
    Row ok = row(Verify.evaluate(spec, facts, local(true)), "head", "watchdog");
    assertStatus(Status.OK, ok);
    assertEquals("ok: completion: HTTP 200 in 15 ms; Ray: 3 node(s) alive of 3, 3 of 3 GPU(s); 0 restarts of vLLM"
        + " (probe 5 s ago, every 5 s)", ok.message());

    // The status a real probe wrote right after it restarted a SIGSTOPped vLLM (sandbox head, 2026-12-05).
    Row restarted = headRow(spec, facts, VerifyProbes.WATCHDOG, """
        active
        NOW=1796429400
        STATE=restarted
        DETAIL=completion: no answer after 10036 ms: curl: (28) Operation timed out after 10001 milliseconds with 0 bytes received; Ray: 3 node(s) alive of 3, 3 of 3 GPU(s)
        FAILURES=0
        RESTARTS=1
        LAST_PROBE=1796429380
        LAST_OK=1796429352
        LAST_RESTART=1796429380
        LAST_RESTART_REASON=2 failed probes in a row (completion: no answer after 10036 ms: curl: (28) Operation timed out after 10001 milliseconds with 0 bytes received; Ray: 3 node(s) alive of 3, 3 of 3 GPU(s))
        INTERVAL_SECONDS=5
        FAILURES_BEFORE_RESTART=2
        """, true, "watchdog");
    assertStatus(Status.OK, restarted);
    assertTrue(restarted.message().contains("; 1 restart of vLLM, the last 20 s ago: 2 failed probes in a row (completion: no answer"),
        restarted.message());

    Row stopped = headRow(spec, facts, VerifyProbes.WATCHDOG, "inactive\nNOW=1796429400\n", true, "watchdog");
    assertStatus(Status.FAIL, stopped);
    assertEquals("vrc-watchdog.timer is inactive: nothing restarts a vLLM that stops answering", stopped.message());

    Row stale = headRow(spec, facts, VerifyProbes.WATCHDOG, "active\nNOW=1796429400\nSTATE=ok\nLAST_PROBE=1796429000\nRESTARTS=0\n", true, "watchdog");
    assertStatus(Status.FAIL, stale);
    assertTrue(stale.message().startsWith("last probe 400 s ago: the watchdog is not probing"), stale.message());

    assertStatus(Status.FAIL, headRow(spec, facts, VerifyProbes.WATCHDOG, "active\nNOW=1796429400\nSTATE=waiting-for-ray\n"
        + "DETAIL=not restarting vrc-vllm.service: its 2 rank(s) need GPUs Ray does not have\nLAST_PROBE=1796429399\nRESTARTS=0\n", true, "watchdog"));

    ClusterSpec off = TestStacks.load(dir, "sandbox", Fixtures.sandboxStack(true) + "watchdog: {enabled: false}\n").spec();
    assertTrue(Verify.evaluate(off, facts, local(true)).rows().stream().noneMatch(r -> r.check().equals("watchdog")),
        "no watchdog row when the stack turns it off");
  }

  @Test
  void failsWhenAWorkerLeftTheRayCluster() {
    ClusterSpec spec = spec(true);
    Report report = Verify.evaluate(spec, Fixtures.facts(spec, "sandbox-bookworm/verify-worker2-stopped"), local(true));
    assertTrue(report.failed());
    Row ray = row(report, "head", "ray");
    assertStatus(Status.FAIL, ray);
    assertEquals("2/3 nodes alive, 2.0/2.0 GPU in use; 1 declared node(s) missing", ray.message());
    assertStatus(Status.FAIL, row(report, "worker2", "units"));
    assertEquals("not active: vrc-ray-worker inactive; active: vrc-firewall", row(report, "worker2", "units").message());
  }

  @Test
  void saysWhenTheKeyIsMissingHere() {
    Row models = headRowWith(VerifyProbes.MODELS, "{\"error\": \"Unauthorized\"}\n401", false, "models");
    assertStatus(Status.FAIL, models);
    assertEquals("https://10.215.0.11:9001/v1/models: HTTP 401 (TF_VAR_vllm_api_key is not set here)", models.message());
    assertTrue(models.fix().startsWith("export TF_VAR_vllm_api_key"), models.fix());
  }

  @Test
  void gpuProcessesOnARealGpuHost() {
    ClusterSpec spec = spec(false);
    Map<String, NodeFacts> facts = Fixtures.facts(spec, "sandbox-bookworm/verify-deployed");
    String busy = Fixtures.output("gpu-host-h200x2/query-compute-apps.busy.noheader-nounits.txt");
    facts.get("head").put(PreflightProbes.GPU_APPS, CommandResult.ok(busy + "### units\n694 vrc-ray-head.service\n"));
    Report report = Verify.evaluate(spec, facts, local(true));
    Row head = row(report, "head", "gpu-procs");
    assertStatus(Status.OK, head);
    assertEquals("2 GPU(s) in use by python3 pid 694 19.1 GiB (vrc-ray-head.service), python3 pid 694 8.0 GiB (vrc-ray-head.service)",
        head.message());
    // The workers have no nvidia-smi and the stack does not say the GPUs are logical.
    assertStatus(Status.FAIL, row(report, "worker1", "gpu-procs"));
  }

  @Test
  void theKeyTravelsOnStdinNeverInTheCommand() {
    ClusterSpec spec = spec(true);
    String key = "k-3f9c2a7d-never-in-argv";
    for (Probe p : VerifyProbes.forNode(spec, spec.head(), key)) {
      assertFalse(p.command().contains(key), p.name());
      assertFalse(p.toString().contains(key), p.name());
      if (p.name().equals(VerifyProbes.MODELS) || p.name().equals(VerifyProbes.CHAT)) {
        assertEquals("Authorization: Bearer " + key + "\n", p.stdin());
        assertTrue(p.command().contains("-H @-"), p.command());
      }
    }
  }

  @Test
  void theProxyCheckPassesWhenItGuardsWhatVllmLeavesOpen() {
    Row proxy = headRowWith(VerifyProbes.PROXY, "invocations 401\nmetrics 401\nplain 000 52\n", true, "proxy");
    assertStatus(Status.OK, proxy);
    assertEquals("/invocations without the key: 401, /metrics without the key: 401, plain HTTP refused (curl exit 52)", proxy.message());
  }

  @Test
  void theProxyCheckFailsWhenAPathOrPlainHttpGetsThrough() {
    Row proxy = headRowWith(VerifyProbes.PROXY, "invocations 200\nmetrics 401\nplain 400 0\n", true, "proxy");
    assertStatus(Status.FAIL, proxy);
    assertEquals("/invocations without the key: HTTP 200, expected 401; plain HTTP to port 9001 got HTTP 400, expected no answer",
        proxy.message());
    assertTrue(proxy.fix().startsWith("journalctl -u vrc-proxy -n 50 on head"), proxy.fix());
  }

  @Test
  void theProbesGoThroughTheProxyWithTheClustersCa() {
    ClusterSpec spec = spec(true);
    Map<String, String> commands = new java.util.LinkedHashMap<>();
    for (Probe p : VerifyProbes.forNode(spec, spec.head(), "k")) {
      commands.put(p.name(), p.command());
    }
    assertTrue(commands.get(VerifyProbes.HEALTH).startsWith("curl --cacert /etc/vllm-ray-cluster/tls/ca.crt -sS"), commands.toString());
    assertTrue(commands.get(VerifyProbes.HEALTH).endsWith("https://10.215.0.11:9001/health"), commands.toString());
    assertTrue(commands.get(VerifyProbes.PROXY).contains("http://10.215.0.11:9001/health"), "plain HTTP is tried");
    assertEquals("cat /etc/vllm-ray-cluster/tls/ca.crt", commands.get(VerifyProbes.CA));
    assertFalse(String.join(" ", commands.values()).contains(" k "), "the key is never in a command");
  }
}
