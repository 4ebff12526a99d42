package dev.vllmraycluster.cluster;

import static dev.vllmraycluster.cluster.SynthTest.names;
import static dev.vllmraycluster.cluster.SynthTest.resource;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vllmraycluster.TestStacks;
import dev.vllmraycluster.cli.Main;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.spec.Problem;
import dev.vllmraycluster.spec.SpecException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Day two in the synthesized JSON: nodes leaving through {@code removed_nodes} (a {@code removed
 * {}} block per part, destroyed with its remove.sh over SSH) and {@code forgotten_nodes} (dropped
 * from the state, no connection), the refusals around them, synth stopping on a node that left the
 * stack unaccounted for, the watchdog's settings and vLLM's start order.
 */
class DayTwoSynthTest {
  static final String KEY = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBHRiNmPRjHvqCeth3yEQFg"
      + "+tefYDT1CsZjVLj7VP4q/YzIlOZjFEXNdqm9gbe6zsgAiiyZynrXZ0D15jznbuWlc=";
  static final String REMOVED_WORKER2 = "removed_nodes:\n  - {name: worker2, address: 10.0.0.12, gpus: 1, ssh_host_key: \""
      + KEY + "\"}\n";

  @TempDir Path dir;

  @Test
  void aRemovedNodeGetsARemovedBlockPerPartThatRunsItsRemoveScriptOverSsh() {
    JsonNode json = TestStacks.synth(load(TestStacks.cluster(1, 1, "") + REMOVED_WORKER2));
    assertFalse(names(json).stream().anyMatch(n -> n.startsWith("worker2_")), "worker2 is not in the configuration");
    JsonNode removed = json.get("removed");
    Set<String> from = new TreeSet<>();
    for (JsonNode block : removed) {
      from.add(block.get("from").asText());
      assertTrue(block.at("/lifecycle/destroy").asBoolean(), block.toString());
      if (block.get("from").asText().endsWith("_sweep")) {
        // The sweep needs its module staged: it leaves the state without running.
        assertNull(block.get("provisioner"), block.toString());
        continue;
      }
      JsonNode provisioners = block.get("provisioner");
      assertEquals(1, provisioners.size(), "the host key is pinned: no local stop first");
      JsonNode exec = provisioners.get(0).get("remote-exec");
      assertEquals("destroy", exec.get("when").asText());
      String stepId = block.get("from").asText().replace("terraform_data.worker2_", "");
      String component = RemovedNodes.workerParts().stream().filter(c -> c.stepId().equals(stepId)).findFirst().orElseThrow().module();
      assertEquals("if [ -f /opt/vllm-ray-cluster/modules/" + component + "/remove.sh ]; then bash /opt/vllm-ray-cluster/modules/"
          + component + "/remove.sh ${self.id}; else echo '[worker2/" + component + "/remove] not installed, nothing to remove'; fi",
          exec.get("inline").get(0).asText());
      // The connection is the one the part was deployed with (its input in the state), checked
      // against the host key the entry pins.
      JsonNode c = exec.get("connection");
      assertEquals("${self.input.host}", c.get("host").asText());
      assertEquals(KEY, c.get("host_key").asText());
      assertEquals("./.vrc-tf-%RAND%.sh", c.get("script_path").asText());
    }
    assertEquals(Set.of("terraform_data.worker2_bootstrap", "terraform_data.worker2_firewall", "terraform_data.worker2_metrics",
        "terraform_data.worker2_model", "terraform_data.worker2_prometheus", "terraform_data.worker2_ray",
        "terraform_data.worker2_sweep", "terraform_data.worker2_wheel_cache"), from);
  }

  @Test
  void theRemovedBlockRunsTheSameRemoveStepAsDestroyWould() {
    // Every part worker2 can have: monitoring on, Prometheus on it (vLLM without the proxy).
    String pinned = TestStacks.cluster(2, 1, "  proxy: false\n  tls: false\n").replace("  - {name: worker2, address: 10.0.0.12, gpus: 1}",
        "  - {name: worker2, address: 10.0.0.12, gpus: 1, ssh_host_key: \"" + KEY + "\"}")
        + "monitoring:\n  enabled: true\n  prometheus_node: worker2\n";
    JsonNode kept = TestStacks.synth(load(pinned));
    JsonNode gone = TestStacks.synth(load(TestStacks.cluster(1, 1, "") + REMOVED_WORKER2));
    for (JsonNode block : gone.get("removed")) {
      String name = block.get("from").asText().replace("terraform_data.", "");
      if (name.endsWith("_sweep")) {
        continue; // no provisioner (above)
      }
      JsonNode own = resource(kept, name);
      JsonNode destroy = null;
      for (JsonNode p : own.get("provisioner")) {
        if ("destroy".equals(p.at("/remote-exec/when").asText())) {
          destroy = p.get("remote-exec");
        }
      }
      assertEquals(destroy.get("inline"), block.at("/provisioner/0/remote-exec/inline"), name);
      assertEquals(own.get("connection"), block.at("/provisioner/0/remote-exec/connection"), name);
    }
  }

  @Test
  void theStepsAWorkerGetsAreTheOnesARemovedNodeLoses() {
    // With monitoring on and Prometheus on the worker (which needs vLLM without the proxy): every part a worker can have.
    JsonNode json = TestStacks.synth(load(TestStacks.cluster(1, 1, "  proxy: false\n  tls: false\n")
        + "monitoring:\n  enabled: true\n  prometheus_node: worker1\n"));
    Set<String> worker = new TreeSet<>();
    for (String n : names(json)) {
      if (n.startsWith("worker1_")) {
        worker.add(n.substring("worker1_".length()) + " " + resource(json, n).at("/input/component").asText());
      }
    }
    Set<String> leaving = new TreeSet<>();
    RemovedNodes.workerParts().forEach(c -> leaving.add(c.stepId() + " " + c.module()));
    assertEquals(leaving, worker);
  }

  @Test
  void aForgottenNodeIsDroppedFromTheStateWithoutAConnection() {
    JsonNode json = TestStacks.synth(load(TestStacks.cluster(1, 1, "") + "forgotten_nodes: [worker2]\n"));
    List<String> from = new ArrayList<>();
    for (JsonNode block : json.get("removed")) {
      from.add(block.get("from").asText());
      assertFalse(block.at("/lifecycle/destroy").asBoolean(true), block.toString());
      assertNull(block.get("provisioner"), "nothing runs for a forgotten node");
    }
    assertEquals(List.of("terraform_data.worker2_bootstrap", "terraform_data.worker2_firewall", "terraform_data.worker2_metrics",
        "terraform_data.worker2_model", "terraform_data.worker2_prometheus", "terraform_data.worker2_ray",
        "terraform_data.worker2_sweep", "terraform_data.worker2_wheel_cache"), from);
  }

  @Test
  void withoutNodesLeavingThereIsNoRemovedBlock() {
    assertNull(TestStacks.synth(load(TestStacks.cluster(2, 1, ""))).get("removed"));
  }

  @Test
  void failsWhenANodeIsBothInTheClusterAndLeavingIt() {
    SpecException both = fails(TestStacks.cluster(2, 1, "") + REMOVED_WORKER2);
    assertEquals("removed_nodes[0].name", both.problems().get(0).path(), both.getMessage());
    assertTrue(both.getMessage().contains("'worker2' is also nodes[2]"), both.getMessage());
    SpecException forgotten = fails(TestStacks.cluster(2, 1, "") + "forgotten_nodes: [worker2]\n");
    assertEquals("forgotten_nodes[0]", forgotten.problems().get(0).path(), forgotten.getMessage());
    assertTrue(forgotten.problems().get(0).fix().contains("removed_nodes:"), forgotten.getMessage());
  }

  @Test
  void failsWhenTheHeadIsRemovedOrAForgottenNameIsNotANodeName() {
    SpecException head = fails(TestStacks.cluster(1, 1, "") + "removed_nodes:\n  - {name: old, role: head, address: 10.0.0.20, gpus: 1}\n");
    assertEquals("removed_nodes[0].role", head.problems().get(0).path(), head.getMessage());
    assertTrue(head.problems().get(0).fix().startsWith("to move the head, cdktf destroy the stack"), head.getMessage());
    SpecException name = fails(TestStacks.cluster(1, 1, "") + "forgotten_nodes: [Worker-2]\n");
    assertEquals("forgotten_nodes[0]", name.problems().get(0).path(), name.getMessage());
  }

  @Test
  void failsWhenTheParallelismNoLongerFitsTheNodesThatStay() {
    SpecException e = fails(TestStacks.cluster(1, 1, "  tensor_parallel_size: 3\n  pipeline_parallel_size: 1\n") + REMOVED_WORKER2);
    Problem p = e.problems().get(0);
    assertEquals("vllm.tensor_parallel_size", p.path(), e.getMessage());
    assertEquals("tensor_parallel_size 3 × pipeline_parallel_size 1 needs 3 GPUs but the nodes declare 2", p.message());
    assertTrue(p.fix().startsWith("lower the parallelism to fit (e.g. tensor_parallel_size: 2, pipeline_parallel_size: 1)"), p.fix());
    assertTrue(p.fix().endsWith("the nodes in removed_nodes/forgotten_nodes no longer count"), p.fix());
  }

  @Test
  void theWatchdogWatchesTheDeclaredNodesAndGpusAndCanBeTurnedOff() {
    JsonNode json = TestStacks.synth(load(TestStacks.cluster(2, 2, "")
        + "watchdog: {interval_seconds: 10, failures_before_restart: 4, probe_timeout_seconds: 20}\n"));
    JsonNode env = resource(json, "head_watchdog").at("/input/config");
    assertEquals("10", env.get("INTERVAL_SECONDS").asText());
    assertEquals("4", env.get("FAILURES_BEFORE_RESTART").asText());
    assertEquals("20", env.get("PROBE_TIMEOUT_SECONDS").asText());
    assertEquals("10.0.0.10 10.0.0.11 10.0.0.12", env.get("EXPECTED_NODES").asText());
    assertEquals("6", env.get("EXPECTED_GPUS").asText());
    assertEquals("6", env.get("REQUIRED_GPUS").asText(), "TP 2 x PP 3");
    assertEquals("900", env.get("STARTUP_GRACE_SECONDS").asText(), "vLLM's readiness timeout");
    assertEquals(List.of("terraform_data.head_vllm", "terraform_data.head_sweep"), SynthTest.dependsOn(json, "head_watchdog"));
    JsonNode off = TestStacks.synth(load(TestStacks.cluster(2, 2, "") + "watchdog: {enabled: false}\n"));
    assertFalse(names(off).contains("head_watchdog"));
    SpecException bad = fails(TestStacks.cluster(1, 1, "") + "watchdog: {interval_seconds: 0}\n");
    assertEquals("watchdog.interval_seconds", bad.problems().get(0).path(), bad.getMessage());
  }

  @Test
  void vllmStartsOnceEveryDeclaredNodeIsAliveInRay() {
    JsonNode env = resource(TestStacks.synth(load(TestStacks.cluster(2, 1, "") + "ray: {readiness_timeout_seconds: 120}\n")),
        "head_vllm").at("/input/config");
    assertEquals("10.0.0.10 10.0.0.11 10.0.0.12", env.get("RAY_EXPECTED_NODES").asText());
    assertEquals("3", env.get("REQUIRED_GPUS").asText());
    assertEquals("120", env.get("RAY_WAIT_SECONDS").asText());
  }

  @Test
  void synthStopsWhenTheStateHoldsANodeTheStackNoLongerLists() throws IOException {
    Path state = dir.resolve("terraform.shrink.tfstate");
    Files.writeString(state, """
        {"version": 4, "resources": [
          {"mode": "managed", "type": "terraform_data", "name": "worker2_ray",
           "instances": [{"attributes": {"id": "x", "input": {"value": {"node": "worker2", "component": "ray"}}}}]},
          {"mode": "managed", "type": "terraform_data", "name": "head_ray",
           "instances": [{"attributes": {"id": "y", "input": {"value": {"node": "head", "component": "ray"}}}}]}]}
        """);
    String stateKey = "state: {backend: local, path: " + state + "}\n";
    Path stacks = Files.createDirectories(dir.resolve("stacks"));
    Files.writeString(stacks.resolve("shrink.yaml"), TestStacks.cluster(1, 1, "") + stateKey);
    Path out = dir.resolve("out");
    Result r = synth(stacks, out);
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("nodes: the state " + state + " holds parts of worker2, which the stack no longer lists"), r.err());
    assertTrue(r.err().contains("fix: move the node's entry from nodes: to removed_nodes:"), r.err());
    assertFalse(Files.exists(out.resolve("stacks/shrink/cdk.tf.json")), "nothing written");

    Files.writeString(stacks.resolve("shrink.yaml"), TestStacks.cluster(1, 1, "") + stateKey + REMOVED_WORKER2);
    Result removed = synth(stacks, out);
    assertEquals(0, removed.code(), removed.err());
    Files.writeString(stacks.resolve("shrink.yaml"), TestStacks.cluster(1, 1, "") + stateKey + "forgotten_nodes: [worker2]\n");
    assertEquals(0, synth(stacks, out).code());
  }

  @Test
  void deployedNodesAreReadFromTheStateFile() throws IOException {
    Path state = dir.resolve("s.tfstate");
    Files.writeString(state, """
        {"resources": [{"type": "terraform_data", "name": "local_checks", "instances": [{"attributes": {"input": null}}]},
          {"type": "terraform_data", "name": "w_ray", "instances": [{"attributes": {"input": {"value": {"node": "w"}}}}]}]}
        """);
    assertEquals(Set.of("w"), DeployedNodes.inState(state));
    ClusterSpec spec = load(TestStacks.cluster(1, 1, ""));
    assertEquals(dir.resolve("terraform.t.tfstate"), DeployedNodes.localStateFile(spec, dir));
    assertNull(DeployedNodes.unaccounted(spec, Set.of("head", "worker1"), state));
    assertEquals("nodes", DeployedNodes.unaccounted(spec, Set.of("head", "w"), state).path());
  }

  // ------------------------------------------------------------------ helpers

  record Result(int code, String out, String err) {}

  private Result synth(Path stacks, Path out) {
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    ByteArrayOutputStream e = new ByteArrayOutputStream();
    int code = Main.run(new String[] {"synth", "--stacks-dir", stacks.toString(), "--outdir", out.toString()},
        new PrintStream(o, true, StandardCharsets.UTF_8), new PrintStream(e, true, StandardCharsets.UTF_8));
    return new Result(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
  }

  private ClusterSpec load(String yaml) {
    return TestStacks.load(dir, "t", yaml).spec();
  }

  private SpecException fails(String yaml) {
    return assertThrows(SpecException.class, () -> TestStacks.load(dir, "t", yaml));
  }
}
