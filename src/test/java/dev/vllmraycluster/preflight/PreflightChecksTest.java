package dev.vllmraycluster.preflight;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vllmraycluster.TestStacks;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.ssh.CommandResult;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The checks on probe results captured on sandbox-style hosts (the deployed sandbox stack), with
 * single probes replaced by other real captures (the 2 × H200 host) or by the failure a check
 * must catch.
 */
class PreflightChecksTest {
  static final String DEPLOYED = "sandbox-bookworm/preflight-deployed";
  static final String H200 = "gpu-host-h200x2/";

  @TempDir Path dir;

  ClusterSpec spec(String yaml) {
    return TestStacks.load(dir, "sandbox", yaml).spec();
  }

  static Row row(Report report, String node, String check) {
    return report.rows().stream().filter(r -> r.node().equals(node) && r.check().equals(check)).findFirst()
        .orElseThrow(() -> new AssertionError("no row " + node + "/" + check + " in\n" + ReportRenderer.table(report)));
  }

  static void assertStatus(Status expected, Row row) {
    assertEquals(expected, row.status(), row.toString());
  }

  @Test
  void deployedSandboxPassesWithLogicalGpusAsWarnings() {
    ClusterSpec spec = spec(Fixtures.sandboxStack(true));
    Report report = Preflight.evaluate(spec, Fixtures.facts(spec, DEPLOYED));
    assertFalse(report.failed(), ReportRenderer.table(report));
    for (String node : List.of("head", "worker1", "worker2")) {
      assertStatus(Status.WARN, row(report, node, "gpus"));
      assertTrue(row(report, node, "gpus").message().contains("testing.logical_gpus"), row(report, node, "gpus").message());
      for (String check : List.of("ssh", "os", "python", "versions", "disk", "address", "reach", "ports", "clock", "model")) {
        assertStatus(Status.OK, row(report, node, check));
      }
    }
    assertTrue(row(report, "head", "ports").message().contains("vrc-ray-head.service 6379"), row(report, "head", "ports").message());
    assertTrue(row(report, "head", "ports").message().contains("vrc-vllm.service 9001"));
    assertTrue(row(report, "head", "model").message().contains("complete (upload:"), row(report, "head", "model").message());
    assertStatus(Status.OK, row(report, Row.ALL, "versions"));
    // No real GPU: nothing about drivers, memory or NVLink.
    assertTrue(report.rows().stream().noneMatch(r -> Set.of("driver", "gpu-memory", "nvlink").contains(r.check())));
  }

  @Test
  void freshSandboxHostsPassBeforeTheFirstDeploy() {
    ClusterSpec spec = spec(Fixtures.sandboxStack(true));
    Report report = Preflight.evaluate(spec, Fixtures.facts(spec, "sandbox-bookworm/preflight-fresh"));
    assertFalse(report.failed(), ReportRenderer.table(report));
    assertEquals("free: 6379 10001 8265 9001 8000 52365 52366 6380 6381 6382 6383", row(report, "head", "ports").message());
    assertTrue(row(report, "worker2", "versions").message().startsWith("no venv at /opt/vllm_env yet"));
    assertTrue(row(report, "worker1", "model").message().startsWith("not here yet: the deploy uploads "), row(report, "worker1", "model").message());
    assertEquals("reaches head 10.215.0.11, worker1 10.215.0.12", row(report, "worker2", "reach").message());
    assertTrue(row(report, "head", "disk").message().contains("venv /opt/vllm_env ~10.0 GiB"), row(report, "head", "disk").message());
  }

  @Test
  void failsOnHostsWithoutGpusUnlessTheStackSaysTheyAreLogical() {
    ClusterSpec spec = spec(Fixtures.sandboxStack(false));
    Report report = Preflight.evaluate(spec, Fixtures.facts(spec, DEPLOYED));
    assertTrue(report.failed());
    Row gpus = row(report, "worker1", "gpus");
    assertStatus(Status.FAIL, gpus);
    assertEquals("nvidia-smi not found: no NVIDIA driver on this host, but nodes[1].gpus is 1", gpus.message());
    assertTrue(gpus.fix().contains("testing: {logical_gpus: true}"), gpus.fix());
  }

  @Test
  void failsWhenTheStacksAddressIsNotOnTheHost() {
    ClusterSpec spec = spec(Fixtures.sandboxStack(true).replace(
        "{name: worker2, address: 10.215.0.13, gpus: 1}", "{name: worker2, address: 10.215.0.99, ssh_host: 10.215.0.13, gpus: 1}"));
    Report report = Preflight.evaluate(spec, Fixtures.facts(spec, DEPLOYED));
    Row address = row(report, "worker2", "address");
    assertStatus(Status.FAIL, address);
    assertEquals("10.215.0.99 (nodes[2].address) is not an address of this host; it has host0 10.215.0.13/24", address.message());
    assertTrue(address.fix().contains("(10.215.0.13)"), address.fix());
    // The other nodes tried to reach 10.215.0.13, not .99: the captures say nothing about .99.
    assertStatus(Status.FAIL, row(report, "head", "reach"));
  }

  @Test
  void asksForTheInterfaceOnAMultiHomedHost() {
    ClusterSpec spec = spec(Fixtures.sandboxStack(true));
    Map<String, NodeFacts> facts = Fixtures.facts(spec, DEPLOYED);
    facts.get("worker1").put(PreflightProbes.ADDR, CommandResult.ok(Fixtures.output("sandbox-bookworm/ip-j-addr.worker1-multihomed.txt")));
    Row address = row(Preflight.evaluate(spec, facts), "worker1", "address");
    assertStatus(Status.WARN, address);
    assertTrue(address.message().contains("vrcpf-x0 192.168.77.5/24"), address.message());
    assertTrue(address.fix().startsWith("set nodes[1].network_interface: host0"), address.fix());

    ClusterSpec pinned = spec(Fixtures.sandboxStack(true).replace(
        "{name: worker1, address: 10.215.0.12, gpus: 1}", "{name: worker1, address: 10.215.0.12, gpus: 1, network_interface: eth1}"));
    Map<String, NodeFacts> facts2 = Fixtures.facts(pinned, DEPLOYED);
    Row wrongNic = row(Preflight.evaluate(pinned, facts2), "worker1", "address");
    assertStatus(Status.FAIL, wrongNic);
    assertEquals("10.215.0.12 is on host0 but nodes[1].network_interface is eth1", wrongNic.message());
  }

  @Test
  void failsWhenThePythonOfTheStackIsMissing() {
    ClusterSpec spec = spec(Fixtures.sandboxStack(true).replace("python: python3.11", "python: python3.9"));
    Map<String, NodeFacts> facts = Fixtures.facts(spec, DEPLOYED);
    facts.get("head").put(PreflightProbes.PYTHON, CommandResult.ok("found=no\ndefault=Python 3.11.2\n"));
    Row python = row(Preflight.evaluate(spec, facts), "head", "python");
    assertStatus(Status.FAIL, python);
    assertEquals("python3.9 not found (software.python); python3 here: Python 3.11.2", python.message());
  }

  @Test
  void warnsWhenHeadersAreMissingAndFailsWhenPythonsDiffer() {
    ClusterSpec spec = spec(Fixtures.sandboxStack(true));
    Map<String, NodeFacts> facts = Fixtures.facts(spec, DEPLOYED);
    facts.get("worker1").put(PreflightProbes.PYTHON, CommandResult.ok("found=yes\nversion=3.11.2\npython_h=no\nvenv=yes\ngcc=yes\ng++=no\n"));
    facts.get("worker2").put(PreflightProbes.PYTHON, CommandResult.ok("found=yes\nversion=3.10.12\npython_h=yes\nvenv=yes\ngcc=yes\ng++=yes\n"));
    Report report = Preflight.evaluate(spec, facts);
    Row headers = row(report, "worker1", "python");
    assertStatus(Status.WARN, headers);
    assertTrue(headers.message().contains("Python.h (python3-dev / python3-devel), g++"), headers.message());
    Row across = row(report, Row.ALL, "versions");
    assertStatus(Status.FAIL, across);
    assertTrue(across.message().contains("3.11 on head, worker1; 3.10 on worker2"), across.message());
    // vLLM 0.33.0's wheels need Python 3.11 to 3.14 (its Requires-Python, kept with its flag list).
    Row old = row(report, "worker2", "python");
    assertStatus(Status.FAIL, old);
    assertTrue(old.message().contains("vLLM 0.33.0+standin installs on Python <3.15,>=3.11 only"), old.message());
  }

  /** The sandbox stack with real GPUs, all on the head (the 2 × H200 captures; TP 2 inside the head). */
  private ClusterSpec twoGpuHead() {
    return spec(Fixtures.sandboxStack(false)
        .replace("{name: head, role: head, address: 10.215.0.11, gpus: 1}", "{name: head, role: head, address: 10.215.0.11, gpus: 2}")
        .replace("{name: worker1, address: 10.215.0.12, gpus: 1}", "{name: worker1, address: 10.215.0.12, gpus: 0}")
        .replace("{name: worker2, address: 10.215.0.13, gpus: 1}", "{name: worker2, address: 10.215.0.13, gpus: 0}"));
  }

  @Test
  void realGpusAgainstTheStack() {
    ClusterSpec spec = twoGpuHead();
    Map<String, NodeFacts> facts = h200(spec, "query-compute-apps.busy.noheader-nounits.txt", "694 vrc-ray-head.service");
    Report report = Preflight.evaluate(spec, facts);
    assertStatus(Status.OK, row(report, "head", "gpus"));
    assertEquals("2 × NVIDIA H200, 140.4 GiB each", row(report, "head", "gpus").message());
    assertEquals("driver 580.159.04, CUDA 13.0", row(report, "head", "driver").message());
    assertEquals("NVLink: GPU0–GPU1 NV18", row(report, "head", "nvlink").message());
    assertStatus(Status.OK, row(report, "head", "gpu-memory")); // the busy process is ours
    assertEquals("no GPUs declared (nodes[1].gpus: 0)", row(report, "worker1", "gpus").message());
  }

  @Test
  void failsWhenAnotherProcessHoldsTheMemoryVllmWants() {
    ClusterSpec spec = twoGpuHead();
    Map<String, NodeFacts> facts = h200(spec, "query-compute-apps.busy.noheader-nounits.txt", "694 -");
    Row memory = row(Preflight.evaluate(spec, facts), "head", "gpu-memory");
    assertStatus(Status.FAIL, memory);
    // GPU0 has 19592 MiB taken: 124179 MiB free < 0.9 × 143771; GPU1 (8148 MiB taken) still fits.
    assertTrue(memory.message().startsWith("GPU memory already taken by other processes: GPU0: python3 (pid 694, 19.1 GiB);"), memory.message());
    assertFalse(memory.message().contains("GPU1"), memory.message());
  }

  @Test
  void failsWhenTheStackDeclaresMoreGpusThanThereAre() {
    String yaml = Fixtures.sandboxStack(false)
        .replace("{name: head, role: head, address: 10.215.0.11, gpus: 1}", "{name: head, role: head, address: 10.215.0.11, gpus: 4}")
        .replace("tensor_parallel_size: 2", "tensor_parallel_size: 4");
    ClusterSpec spec = spec(yaml);
    Report report = Preflight.evaluate(spec, h200(spec, null, null));
    Row gpus = row(report, "head", "gpus");
    assertStatus(Status.FAIL, gpus);
    assertEquals("nodes[0].gpus is 4 but nvidia-smi lists 2 (2 × NVIDIA H200)", gpus.message());
  }

  @Test
  void estimatesGpuMemoryFromTheModelName() {
    String yaml = Fixtures.sandboxStack(false)
        .replace("{name: head, role: head, address: 10.215.0.11, gpus: 1}", "{name: head, role: head, address: 10.215.0.11, gpus: 2}")
        .replace("model: {local_directory: " + Fixtures.MODEL + ", served_model_name: tiny-llama}",
            "model: {huggingface_repo: meta-llama/Llama-3.1-405B-Instruct}");
    ClusterSpec spec = spec(yaml);
    Row memory = row(Preflight.evaluate(spec, h200(spec, null, null)), "head", "gpu-memory");
    // 405e9 × 2 bytes / 2 GPUs ≈ 377 GiB per GPU: far beyond 0.9 × 140 GiB.
    assertStatus(Status.FAIL, memory);
    assertTrue(memory.message().contains("estimated from the name: 405 B parameters × 2 bytes"), memory.message());
  }

  @Test
  void oneUnreachableNodeDoesNotStopTheOthers() {
    ClusterSpec spec = spec(Fixtures.sandboxStack(true));
    Map<String, NodeFacts> facts = Fixtures.facts(spec, DEPLOYED);
    facts.put("worker2", NodeFacts.unreachable(spec.nodes().get(2), "root@10.215.0.13:22",
        "cannot connect to 10.215.0.13:22: No route to host", "check that the host is up"));
    Report report = Preflight.evaluate(spec, facts);
    Row ssh = row(report, "worker2", "ssh");
    assertStatus(Status.FAIL, ssh);
    assertTrue(ssh.message().endsWith("no other check ran on this node"), ssh.message());
    assertEquals(1, report.rows().stream().filter(r -> r.node().equals("worker2")).count());
    assertStatus(Status.OK, row(report, "head", "ports"));
    assertStatus(Status.OK, row(report, "worker1", "model"));
  }

  @Test
  void failsOnAPortHeldBySomethingElse() {
    ClusterSpec spec = spec(Fixtures.sandboxStack(true));
    Map<String, NodeFacts> facts = Fixtures.facts(spec, DEPLOYED);
    String ports = facts.get("head").result(PreflightProbes.PORTS).stdout().replace("724 vrc-ray-head.service", "724 redis-server.service");
    facts.get("head").put(PreflightProbes.PORTS, CommandResult.ok(ports));
    Row row = row(Preflight.evaluate(spec, facts), "head", "ports");
    assertStatus(Status.FAIL, row);
    assertEquals("in use: 6379 (ray.gcs_port) by gcs_server (pid 724, redis-server.service)", row.message());
  }

  @Test
  void withMonitoringTheExporterAndPrometheusPortsMustBeFree() {
    // The OS package's own node exporter (its unit, on every address) holds 9100 on the head.
    String listener = "LISTEN 0      4096                      *:9100        *:* users:((\"prometheus-node\",pid=901,fd=3))\n";
    for (String monitoring : List.of("", "monitoring: {enabled: true}\n")) {
      ClusterSpec spec = spec(Fixtures.sandboxStack(true) + monitoring);
      Map<String, NodeFacts> facts = Fixtures.facts(spec, DEPLOYED);
      String ports = facts.get("head").result(PreflightProbes.PORTS).stdout();
      ports = listener + ports.replace("### units\n", "### units\n901 prometheus-node-exporter.service\n");
      facts.get("head").put(PreflightProbes.PORTS, CommandResult.ok(ports));
      Row row = row(Preflight.evaluate(spec, facts), "head", "ports");
      if (monitoring.isEmpty()) {
        assertStatus(Status.OK, row);
      } else {
        assertStatus(Status.FAIL, row);
        assertEquals("in use: 9100 (monitoring.node_exporter_port) by prometheus-node (pid 901, prometheus-node-exporter.service)",
            row.message());
      }
    }
  }

  @Test
  void clockSkewWarnsThenFails() {
    ClusterSpec spec = spec(Fixtures.sandboxStack(true));
    Map<String, NodeFacts> facts = Fixtures.facts(spec, DEPLOYED);
    facts.get("worker1").clock(5_000, 20);
    facts.get("worker2").clock(-400_000, 20);
    Report report = Preflight.evaluate(spec, facts);
    assertStatus(Status.WARN, row(report, "worker1", "clock"));
    assertStatus(Status.FAIL, row(report, "worker2", "clock"));
    assertEquals("-400000 ms against this machine (±20 ms): certificate checks (model downloads) can fail", row(report, "worker2", "clock").message());
  }

  @Test
  void smallShmAndFullDiskFail() {
    ClusterSpec spec = spec(Fixtures.sandboxStack(true));
    Map<String, NodeFacts> facts = Fixtures.facts(spec, DEPLOYED);
    facts.get("head").put(PreflightProbes.SHM, CommandResult.ok(
        "Filesystem     1024-blocks  Used Available Capacity Mounted on\nshm                  65536     0     65536       0% /dev/shm\n"));
    facts.get("head").put(PreflightProbes.VENV, CommandResult.ok("venv=absent\n"));
    facts.get("head").put(PreflightProbes.DISK_VENV, CommandResult.ok(
        "Filesystem     1024-blocks  Used Available Capacity Mounted on\n/dev/sda1   20000000 17000000   3000000      85% /\n"));
    Report report = Preflight.evaluate(spec, facts);
    assertStatus(Status.FAIL, row(report, "head", "shm"));
    assertTrue(row(report, "head", "shm").message().startsWith("/dev/shm 64 MiB"), row(report, "head", "shm").message());
    Row disk = row(report, "head", "disk");
    assertStatus(Status.FAIL, disk);
    assertTrue(disk.message().contains("/: 2.9 GiB free; needs 11.0 GiB for venv /opt/vllm_env ~10.0 GiB"), disk.message());
  }

  @Test
  void failsWhenTheHeadCannotReachHuggingFace() {
    ClusterSpec spec = spec(Fixtures.sandboxStack(true).replace(
        "model: {local_directory: " + Fixtures.MODEL + ", served_model_name: tiny-llama}",
        "model: {huggingface_repo: deepseek-ai/deepseek-llm-7b-chat}"));
    Map<String, NodeFacts> facts = Fixtures.facts(spec, DEPLOYED);
    facts.get("head").put(PreflightProbes.MODEL, CommandResult.ok("present=no\n"));
    facts.get("head").put(PreflightProbes.HF, CommandResult.of(6, "000", "curl: (6) Could not resolve host: huggingface.co\n"));
    Report report = Preflight.evaluate(spec, facts);
    Row model = row(report, "head", "model");
    assertStatus(Status.FAIL, model);
    assertTrue(model.message().endsWith("which this host cannot reach (curl: (6) Could not resolve host: huggingface.co)"), model.message());
    // local_copy: every node holds a copy, the head fetches; workers in head_nfs mount it.
    Row gpuMemoryAbsent = report.rows().stream().filter(r -> r.check().equals("gpu-memory")).findFirst().orElse(null);
    assertEquals(null, gpuMemoryAbsent);
  }

  @Test
  void probesAreReadOnlyAndQuoteSafely() {
    ClusterSpec spec = spec(Fixtures.sandboxStack(true));
    for (var node : spec.nodes()) {
      for (Probe p : PreflightProbes.forNode(spec, node)) {
        String c = p.command();
        for (String verb : List.of("rm ", "mkdir", "apt", "dnf", "systemctl start", "systemctl stop", "pip ", "tee ")) {
          assertFalse(c.contains(verb), p.name() + " must not change the host: " + c);
        }
        // The only redirections: to /dev/null, stderr, and the TCP reachability probe's socket.
        String rest = c.replaceAll("2?>\\s*/dev/null", "").replace("2>&1", "").replace(">&2", "").replace("3<>/dev/tcp", "");
        assertFalse(rest.contains(">"), p.name() + " writes somewhere: " + c);
        assertTrue(p.shellCommand().startsWith("sh -c '"), p.shellCommand());
      }
    }
    assertEquals("'it'\\''s'", Probe.quote("it's"));
  }

  /** The sandbox captures with the head's GPU probes replaced by the 2 × H200 captures. */
  static Map<String, NodeFacts> h200(ClusterSpec spec, String computeApps, String units) {
    Map<String, NodeFacts> facts = Fixtures.facts(spec, DEPLOYED);
    NodeFacts head = facts.get("head");
    head.put(PreflightProbes.GPUS, CommandResult.ok(Fixtures.output(H200 + "query-gpu.noheader-nounits.txt")));
    head.put(PreflightProbes.SMI, CommandResult.ok(Fixtures.output(H200 + "nvidia-smi.idle.txt")));
    head.put(PreflightProbes.TOPO, CommandResult.ok(Fixtures.output(H200 + "nvidia-smi-topo-m.txt")));
    String apps = computeApps == null ? "" : Fixtures.output(H200 + computeApps);
    head.put(PreflightProbes.GPU_APPS, CommandResult.ok(apps + "### units\n" + (units == null ? "" : units + "\n")));
    return facts;
  }
}
