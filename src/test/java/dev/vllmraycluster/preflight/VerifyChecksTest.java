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

  @Test
  void deployedSandboxVerifies() {
    ClusterSpec spec = spec(true);
    Report report = Verify.evaluate(spec, Fixtures.facts(spec, "sandbox-bookworm/verify-deployed"), local(true));
    assertFalse(report.failed(), ReportRenderer.table(report));
    assertEquals("3/3 nodes alive, 2.0/3.0 GPU in use", row(report, "head", "ray").message());
    assertEquals("active: vrc-firewall, vrc-ray-head, vrc-vllm", row(report, "head", "units").message());
    assertEquals("http://10.215.0.11:9001/v1/models: 200, serves tiny-llama", row(report, "head", "models").message());
    assertTrue(row(report, "head", "chat").message().startsWith("200, 34 tokens: \"[vllm stand-in"), row(report, "head", "chat").message());
    assertStatus(Status.WARN, row(report, "worker1", "gpu-procs"));
    assertStatus(Status.OK, row(report, "here", "api-from-here"));
    assertEquals("here", report.rows().get(report.rows().size() - 1).node(), "rows about this machine come last");
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
    ClusterSpec spec = spec(true);
    Map<String, NodeFacts> facts = Fixtures.facts(spec, "sandbox-bookworm/verify-deployed");
    facts.get("head").put(VerifyProbes.MODELS, CommandResult.ok("{\"error\": \"Unauthorized\"}\n401"));
    Row models = row(Verify.evaluate(spec, facts, local(false)), "head", "models");
    assertStatus(Status.FAIL, models);
    assertEquals("http://10.215.0.11:9001/v1/models: HTTP 401 (TF_VAR_vllm_api_key is not set here)", models.message());
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
}
