package dev.vllmraycluster.e2e;

import static dev.vllmraycluster.e2e.Sandbox.assertContains;
import static dev.vllmraycluster.e2e.Sandbox.run;
import static dev.vllmraycluster.e2e.Sandbox.step;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import dev.vllmraycluster.TestStacks;
import dev.vllmraycluster.preflight.parse.ParseException;
import dev.vllmraycluster.preflight.parse.RayStatus;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
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
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * Day two on sandbox hosts: one cluster (head + 2 workers of 1 logical GPU, TP 2; a fourth host
 * for scaling out), deployed once and put through every fault in turn, each step leaving it healthy
 * for the next: a first deploy interrupted (SIGINT) during the bootstrap and run again; vLLM killed;
 * a worker's raylet killed; vLLM hung (only the watchdog sees it); a worker rebooted; the head
 * rebooted; every host's power cut at once; a step that fails (vLLM never healthy) and its re-run
 * after the fix; scale out and in with plain {@code cdktf deploy}; a deploy killed (SIGKILL) during
 * Ray start and run again; a node down during a deploy, then back; a node down at destroy,
 * forgotten; destroy twice, and destroy of a stack never deployed.
 *
 * <p>After each: a chat completion is answered, {@code ray status} shows the declared nodes and
 * GPUs, nothing is lost (model, state, secrets) and nothing is doubled (units, Ray nodes, Ray and
 * vLLM processes). A {@link ChatClient} sends one request per second throughout; what each fault
 * cost is recorded ({@link FaultBench}, no assertion on it) and written to
 * {@code target/e2e/e2e-day2/faults.md}, or where {@code -Dvrc.faults.out} says (bench/faults).
 * Its own sandbox instance ({@code e2e-day2}) and project directory; needs root.
 */
@Tag("e2e")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DayTwoSandboxTest {
  static final Duration RECOVERY = Duration.ofMinutes(6);
  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory()
      .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
      .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES));

  final SandboxInstance sandbox = SandboxInstance.of("e2e-day2", 6);
  final String headIp = sandbox.ip("head");
  final String stack = sandbox.stack();
  final String apiKey = "e2e-key-" + UUID.randomUUID();
  final String rayToken = "e2e-ray-" + UUID.randomUUID();
  final Map<String, String> deployEnv = Map.of("TF_VAR_vllm_api_key", apiKey, "TF_VAR_ray_auth_token", rayToken);
  final FaultBench bench = new FaultBench();
  /** The hosts in the stack's nodes, in order; worker3 joins and leaves in the scaling steps. */
  final List<String> cluster = new ArrayList<>(List.of("head", "worker1", "worker2"));
  /** worker3's entry, as the sandbox wrote it (not in the stack until it scales out). */
  Map<String, Object> worker3;
  ChatClient client;
  int logs;
  /** Figures go to bench/results only from a run in which every step passed. */
  boolean anyFailed;

  @RegisterExtension
  final TestWatcher journalsOnFailure = new TestWatcher() {
    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
      anyFailed = true;
      sandbox.journalsOnFailure(context);
      for (String host : sandbox.hosts()) {
        Sandbox.Result r = sandbox.on(host, "journalctl -u vrc-watchdog -t vllm-ray-cluster -n 40 --no-pager 2>&1 | grep -v '^-- No entries --' || true");
        System.out.println("\n[e2e] ---- " + host + ": watchdog and failed steps ----\n" + r.output());
      }
    }
  };

  @BeforeAll
  void sandboxUp() {
    Sandbox.assertRoot();
    sandbox.up(4);
    Map<String, Object> yaml = readStack();
    List<Map<String, Object>> nodes = nodes(yaml);
    worker3 = nodes.remove(3);
    assertEquals("worker3", worker3.get("name"), "the sandbox's fourth host");
    // Probes every 5 s and a restart after 2 failures: the watchdog's step is short. Ray waits
    // at most 120 s for a node before vLLM starts without it (its ranks fit on two nodes).
    yaml.put("watchdog", new LinkedHashMap<>(Map.of("interval_seconds", 5, "failures_before_restart", 2, "probe_timeout_seconds", 10)));
    writeStack(yaml);
  }

  @AfterAll
  void cleanUp() {
    try {
      if (client != null) {
        client.close();
      }
      String header = "2 cores shared with other builds, sandbox hosts on one machine, "
          + "head + 2 workers of 1 logical GPU, TP 2, the vLLM stand-in; one request per second, "
          + ChatClient.TIMEOUT.toSeconds() + " s timeout";
      String footer = """
          Written by DayTwoSandboxTest (bench/faults runs it). *detected by*: what reacted first, read from the \
          hosts' journals (systemd seeing a process exit, a Ray worker losing its GCS, vLLM losing a rank, the \
          watchdog's first failed probe); "—" where an operator acts (deploys) or nothing outside the failed hosts \
          is left to notice. *chat answered again*: from the fault to the first successful completion after the \
          last failed one. *failed requests*: of those the client sent from the fault until the cluster was whole \
          again. Test hosts are containers on one kernel: a reboot is a container restart (seconds), not a server's \
          firmware and boot (minutes).
          """;
      bench.write(sandbox.project.resolve("faults.md"), header, footer);
      String out = System.getProperty("vrc.faults.out", "");
      if (!out.isBlank() && !anyFailed) {
        bench.write(Path.of(out), header, footer);
      } else if (!out.isBlank()) {
        System.out.println("[e2e] a step failed: no figures written to " + out);
      }
    } finally {
      sandbox.close();
    }
  }

  // ------------------------------------------------------------------ steps

  @Test
  @Order(1)
  void destroyingAStackNeverDeployedSucceedsAndDoesNothing() {
    step("cdktf destroy of a stack never deployed");
    cdktf("destroy", stack, "--auto-approve").ok("cdktf destroy (never deployed)");
    assertEquals(Map.of(), stateIds(), "resources in the state");
    for (String host : sandbox.hosts()) {
      sandbox.onOk(host, "test ! -e /opt/vllm-ray-cluster && test ! -e /etc/vllm-ray-cluster && ! ls /etc/systemd/system/vrc-* 2>/dev/null");
    }
  }

  @Test
  @Order(2)
  void aFirstDeployInterruptedDuringTheBootstrapConvergesWhenRunAgain() throws Exception {
    step("cdktf deploy, interrupted (SIGINT to its process group, as Ctrl-C) while the bootstrap runs");
    Process deploy = startDeploy();
    long t0;
    try {
      waitOnAnyHost("the bootstrap running", Duration.ofMinutes(6), deploy, "pgrep -f '[b]ootstrap/apply.sh' >/dev/null");
      Sandbox.sleep(3000);
      t0 = System.currentTimeMillis();
      signal(deploy, "INT");
      assertTrue(deploy.waitFor(4, TimeUnit.MINUTES), "cdktf deploy did not end within 4 minutes of SIGINT");
    } finally {
      deploy.destroyForcibly();
    }
    assertNotEquals(0, deploy.exitValue(), "an interrupted deploy fails");
    System.out.println("[e2e] interrupted deploy ended with exit " + deploy.exitValue());

    step("cdktf deploy again: converges");
    long rerun = System.currentTimeMillis();
    cdktf("deploy", stack, "--auto-approve").ok("cdktf deploy (after SIGINT)");
    awaitHealthy(3, RECOVERY);
    long end = System.currentTimeMillis();
    bench.record("deploy interrupted: SIGINT during the bootstrap (first deploy)", null, t0, end, "—", null,
        "re-run until answered: " + (end - rerun) / 1000 + " s");
    assertWholeAndSingle();
  }

  @Test
  @Order(3)
  void verifyReportsTheWatchdogWatching() throws IOException {
    step("the watchdog probes: its timer runs, its status says ok");
    sandbox.onOk("head", "systemctl is-active vrc-watchdog.timer");
    Sandbox.waitFor("the watchdog's status ok", Duration.ofSeconds(60),
        () -> sandbox.on("head", "grep -qx STATE=ok /var/lib/vllm-ray-cluster/watchdog.status"), r -> r.exitCode() == 0);
    JsonNode row = verifyRow("head", "watchdog");
    assertEquals("ok", row.get("status").asText(), row.toString());
    assertContains(row.get("message").asText(), "0 restarts", "the watchdog row");
    step("the client: one chat completion per second from now on");
    client = new ChatClient(sandbox.api(), apiKey, "tiny-llama", sandbox.apiCaFile()).start();
  }

  @Test
  @Order(4)
  void vllmKilledIsRestartedBySystemd() {
    String before = invocation("head", "vrc-vllm");
    step("SIGKILL to vLLM's server process");
    long t0 = System.currentTimeMillis();
    sandbox.onOk("head", "kill -KILL $(pgrep -P $(systemctl show -p MainPID --value vrc-vllm))");
    awaitNewInvocation("head", "vrc-vllm", before);
    fault("vLLM killed (SIGKILL)", t0, List.of(new Seen("head", "vrc-vllm", "Main process exited", "systemd")));
  }

  @Test
  @Order(5)
  void aWorkersRayletKilledRejoinsAndVllmComesBack() {
    String worker = rankWorker();
    String before = invocation(worker, "vrc-ray-worker");
    step("SIGKILL to the raylet of " + worker + " (it holds a vLLM rank)");
    long t0 = System.currentTimeMillis();
    sandbox.onOk(worker, "pkill -KILL -f '[r]aylet/raylet'");
    awaitNewInvocation(worker, "vrc-ray-worker", before);
    fault("a worker's raylet killed (SIGKILL)", t0, List.of(
        new Seen(worker, "vrc-ray-worker", "Main process exited|exited unexpectedly", "systemd (Ray worker unit)"),
        new Seen("head", "vrc-vllm", "died unexpectedly|Main process exited", "vLLM (rank lost)")));
  }

  @Test
  @Order(6)
  void aHungVllmIsRestartedByTheWatchdogWhichSaysWhy() throws IOException {
    String before = invocation("head", "vrc-vllm");
    int restarts = watchdogRestarts();
    step("SIGSTOP to vLLM's server process: its process lives, /health and completions hang");
    long t0 = System.currentTimeMillis();
    sandbox.onOk("head", "kill -STOP $(pgrep -P $(systemctl show -p MainPID --value vrc-vllm))");
    awaitNewInvocation("head", "vrc-vllm", before);
    fault("vLLM hung (SIGSTOP)", t0, List.of(new Seen("head", "vrc-watchdog", "probe failed", "watchdog")));
    step("the journal says why, and verify reports the restart");
    String journal = sandbox.onOk("head", "journalctl -u vrc-watchdog --no-pager -o cat");
    assertTrue(Pattern.compile("\\[head/watchdog/restart\\] WARNING: restarting vrc-vllm.service: 2 failed probes in a row "
        + "\\(completion: no answer").matcher(journal).find(), "the watchdog's reason in its journal:\n" + Sandbox.tail(journal, 3000));
    JsonNode row = verifyRow("head", "watchdog");
    assertContains(row.get("message").asText(), (restarts + 1) + " restart", "verify's watchdog row after one more restart");
    assertEquals(restarts + 1, watchdogRestarts(), "the watchdog restarted vLLM once for the hang");
  }

  /** RESTARTS from the head's watchdog status file (0 before its first probe). */
  private int watchdogRestarts() {
    String v = sandbox.onOk("head", "sed -n 's/^RESTARTS=//p' /var/lib/vllm-ray-cluster/watchdog.status 2>/dev/null || true").strip();
    return v.isEmpty() ? 0 : Integer.parseInt(v);
  }

  @Test
  @Order(7)
  void aRebootedWorkerRejoinsAndVllmStartsAfterIt() {
    String worker = rankWorker();
    String before = invocation("head", "vrc-vllm");
    step("reboot " + worker + " (clean), which holds a vLLM rank");
    long t0 = System.currentTimeMillis();
    sandbox.sandbox(Duration.ofMinutes(3), "reboot", worker).ok("sandbox reboot " + worker);
    awaitNewInvocation("head", "vrc-vllm", before);
    fault("worker reboot", t0, List.of(new Seen("head", "vrc-vllm", "died unexpectedly|Main process exited", "vLLM (rank lost)")));
  }

  @Test
  @Order(8)
  void aRebootedHeadGetsItsWorkersBackThenVllm() {
    step("reboot the head (clean)");
    long t0 = System.currentTimeMillis();
    sandbox.sandbox(Duration.ofMinutes(3), "reboot", "head").ok("sandbox reboot head");
    fault("head reboot", t0, List.of(
        new Seen("worker1", "vrc-ray-worker", "Main process exited", "Ray workers (GCS lost)"),
        new Seen("worker2", "vrc-ray-worker", "Main process exited", "Ray workers (GCS lost)")));
    step("start order after the head's boot: Ray head, then every worker alive, then vLLM");
    String start = sandbox.onOk("head", "journalctl -b -u vrc-vllm --no-pager -o cat | grep -m1 'Ray cluster complete'");
    assertContains(start, "3 node(s) alive", "vLLM started after all three nodes were alive");
  }

  @Test
  @Order(9)
  void aWholeClusterPowerCycleComesBackByItself() {
    step("power cut on every host at once, then all boot");
    long t0 = System.currentTimeMillis();
    sandbox.sandbox(Duration.ofMinutes(3), "reboot", "--hard", "head", "worker1", "worker2").ok("sandbox reboot --hard");
    fault("whole-cluster power cycle", t0, List.of());
  }

  @Test
  @Order(10)
  void aStepThatFailsNamesTheHostThePhaseAndTheJournalAndARerunAfterTheFixConverges() throws IOException {
    step("break the model store (unreadable on every node), and make vLLM give up after 60 s");
    for (String host : cluster) {
      sandbox.onOk(host, "chmod 000 /srv/vrc-models/tiny-llama");
    }
    Map<String, Object> yaml = readStack();
    section(yaml, "vllm").put("readiness_timeout_seconds", 60);
    section(yaml, "vllm").put("gpu_memory_utilization", 0.85);
    writeStack(yaml);
    long t0 = System.currentTimeMillis();
    try {
      step("cdktf synth, then tofu apply (its own output: the step's error as the operator sees it)");
      cdktf("synth").ok("cdktf synth");
      Sandbox.Result failed = run(sandbox.stackDir(), Duration.ofMinutes(8), deployEnv, true,
          Sandbox.ROOT.resolve(".tools/bin/tofu").toString(), "apply", "-auto-approve", "-input=false", "-no-color");
      assertNotEquals(0, failed.exitCode(), "a deploy whose vLLM never gets healthy fails");
      String out = failed.output();
      assertContains(out, "[head/vllm/wait] ERROR: vLLM did not become healthy within 60s", "the host, the phase, the reason");
      assertContains(out, "last 30 journal lines of vrc-vllm.service", "the unit's journal follows");
      assertTrue(Pattern.compile("vrc\\d+-head .*(run\\.sh|wait-ray\\.sh)\\[\\d+\\]").matcher(out).find(),
          "journal lines of the unit in the error:\n" + Sandbox.tail(out, 4000));
      String hostLog = sandbox.onOk("head", "journalctl -t vllm-ray-cluster --no-pager -o cat");
      assertContains(hostLog, "[head/vllm/wait] ERROR: vLLM did not become healthy within 60s", "the failure in the head's journal");
      assertEquals("tainted", stateStatus("terraform_data.head_vllm"), "the failed step is tainted (replaced by the next deploy)");
    } finally {
      step("the fix: the model store readable again");
      for (String host : cluster) {
        sandbox.onOk(host, "chmod 755 /srv/vrc-models/tiny-llama");
      }
    }
    section(yaml, "vllm").put("readiness_timeout_seconds", 300);
    writeStack(yaml);
    step("cdktf deploy again: converges");
    cdktf("deploy", stack, "--auto-approve").ok("cdktf deploy (after the fix)");
    awaitHealthy(3, RECOVERY);
    bench.record("a step fails (vLLM never healthy: the model unreadable), fixed, run again", client, t0,
        System.currentTimeMillis(), "—", null, null);
    assertWholeAndSingle();
  }

  @Test
  @Order(11)
  void scalingOutAddsANodeAndChangesOnlyWhatItMust() {
    Map<String, Object> yaml = readStack();
    nodes(yaml).add(worker3);
    writeStack(yaml);
    String headRay = invocation("head", "vrc-ray-head");
    String w1Ray = invocation("worker1", "vrc-ray-worker");
    step("cdktf deploy with worker3 added to nodes");
    long t0 = System.currentTimeMillis();
    cdktf("deploy", stack, "--auto-approve").ok("cdktf deploy (scale out)");
    cluster.add("worker3");
    awaitHealthy(4, RECOVERY);
    bench.record("scale out (a fourth node added, plain deploy)", client, t0, System.currentTimeMillis(), "—", null, null);
    assertWholeAndSingle();
    assertEquals(headRay, invocation("head", "vrc-ray-head"), "the Ray head kept running");
    assertEquals(w1Ray, invocation("worker1", "vrc-ray-worker"), "worker1's Ray kept running");
    assertContains(sandbox.onOk("head", "nft list table inet vllm_ray_cluster"), sandbox.ip("worker3"), "the head's firewall admits worker3");
  }

  @Test
  @Order(12)
  void scalingInCleansTheRemovedNodeAsDestroyWouldAndTheOthersDropIt() {
    Map<String, Object> yaml = readStack();
    Map<String, Object> entry = nodes(yaml).remove(3);
    assertEquals("worker3", entry.get("name"));
    yaml.put("removed_nodes", new ArrayList<>(List.of(entry)));
    writeStack(yaml);
    step("plan review: worker3's parts are cleaned by remove.sh");
    String review = review();
    assertContains(review, "worker3", "the review names the removed node");
    assertContains(review, "removed_nodes", "the review says the node is cleaned (removed_nodes)");
    step("cdktf deploy with worker3 moved to removed_nodes");
    long t0 = System.currentTimeMillis();
    cdktf("deploy", stack, "--auto-approve").ok("cdktf deploy (scale in)");
    cluster.remove("worker3");
    awaitHealthy(3, RECOVERY);
    bench.record("scale in (the fourth node moved to removed_nodes, plain deploy)", client, t0, System.currentTimeMillis(), "—", null, null);
    assertWholeAndSingle();
    step("worker3 is clean, as destroy leaves a host; the model stays");
    assertHostClean("worker3");
    sandbox.onOk("worker3", "test -f /srv/vrc-models/tiny-llama/config.json");
    assertFalse(stateIds().keySet().stream().anyMatch(a -> a.contains("worker3")), "worker3 left the state");
    for (String host : cluster) {
      assertFalse(sandbox.onOk(host, "nft list table inet vllm_ray_cluster").contains(sandbox.ip("worker3")),
          host + "'s firewall no longer admits worker3");
    }
    step("a second deploy with worker3 still listed in removed_nodes: no changes");
    assertEquals(Map.of(), plannedChanges(), "a plan after the scale-in");
  }

  @Test
  @Order(13)
  void aDeployKilledDuringRayStartConvergesWhenRunAgain() throws Exception {
    Map<String, Object> yaml = readStack();
    section(yaml, "ray").put("readiness_timeout_seconds", 240);
    writeStack(yaml);
    step("cdktf deploy of a Ray change (every Ray node restarts), killed (SIGKILL to its process group) during Ray start");
    Process deploy = startDeploy();
    long t0;
    try {
      waitOnAnyHost("Ray starting on a worker", Duration.ofMinutes(5), deploy,
          "pgrep -f '[r]ay/apply.sh' >/dev/null && test -f /etc/systemd/system/vrc-ray-worker.service");
      t0 = System.currentTimeMillis();
      signal(deploy, "KILL");
      assertTrue(deploy.waitFor(1, TimeUnit.MINUTES), "cdktf deploy did not end after SIGKILL");
    } finally {
      deploy.destroyForcibly();
    }
    step("cdktf deploy again: converges, with no stale lock");
    cdktf("deploy", stack, "--auto-approve").ok("cdktf deploy (after SIGKILL)");
    awaitHealthy(3, RECOVERY);
    bench.record("deploy interrupted: SIGKILL during Ray start (a Ray change on a serving cluster)", client, t0,
        System.currentTimeMillis(), "—", null, null);
    assertWholeAndSingle();
  }

  @Test
  @Order(14)
  void aNodeDownDuringADeployFailsInBoundedTimeNamingItAndARerunWhenItIsBackConverges() {
    Map<String, Object> yaml = readStack();
    List<Object> clients = new ArrayList<>(List.of(sandbox.bridgeIp() + "/32", sandbox.net() + ".250/32"));
    section(yaml, "network").put("api_allowed_networks", clients);
    writeStack(yaml);
    step("worker2 powered off; a firewall change (every node's firewall step) is deployed");
    sandbox.sandbox(Duration.ofMinutes(2), "stop", "worker2").ok("sandbox stop worker2");
    long t0 = System.currentTimeMillis();
    Sandbox.Result failed = cdktf("deploy", stack, "--auto-approve");
    long took = System.currentTimeMillis() - t0;
    assertNotEquals(0, failed.exitCode(), "a deploy to a node that is down fails");
    assertTrue(took < Duration.ofMinutes(6).toMillis(), "the deploy failed only after " + took / 1000 + " s");
    assertEquals("tainted", stateStatus("terraform_data.worker2_firewall"), "the step of the node that is down failed");
    step("worker2 back: it rejoins by itself; the re-run converges");
    sandbox.sandbox(Duration.ofMinutes(2), "start", "worker2").ok("sandbox start worker2");
    cdktf("deploy", stack, "--auto-approve").ok("cdktf deploy (worker2 back)");
    awaitHealthy(3, RECOVERY);
    bench.record("a node down during a deploy (failed after " + took / 1000 + " s), back, run again", client, t0,
        System.currentTimeMillis(), "—", null, null);
    assertWholeAndSingle();
    assertContains(sandbox.onOk("worker2", "nft list table inet vllm_ray_cluster"), sandbox.net() + ".250", "worker2 has the new rules");
  }

  @Test
  @Order(15)
  void aNodeDownAtDestroyFailsInBoundedTimeThenForgettingItLetsDestroyFinish() {
    if (client != null) {
      client.close();
      client = null;
    }
    step("worker2's power cut; cdktf destroy");
    sandbox.sandbox(Duration.ofMinutes(2), "stop", "--hard", "worker2").ok("sandbox stop --hard worker2");
    long t0 = System.currentTimeMillis();
    Sandbox.Result failed = cdktf("destroy", stack, "--auto-approve");
    long took = System.currentTimeMillis() - t0;
    assertNotEquals(0, failed.exitCode(), "destroy with a node down fails");
    assertTrue(took < Duration.ofMinutes(6).toMillis(), "destroy failed only after " + took / 1000 + " s");
    assertTrue(stateIds().keySet().stream().anyMatch(a -> a.startsWith("terraform_data.worker2_")), "worker2's parts stay in the state");
    step("forget worker2 (forgotten_nodes), destroy again: the rest is destroyed, worker2 never contacted");
    Map<String, Object> yaml = readStack();
    nodes(yaml).removeIf(n -> "worker2".equals(n.get("name")));
    yaml.put("forgotten_nodes", new ArrayList<>(List.of("worker2")));
    writeStack(yaml);
    cdktf("destroy", stack, "--auto-approve").ok("cdktf destroy (worker2 forgotten)");
    long end = System.currentTimeMillis();
    bench.record("node down at destroy (failed after " + took / 1000 + " s), forgotten, destroyed", null, t0, end,
        "destroy (SSH timeout)", t0 + took, "until destroyed: " + (end - t0) / 1000 + " s");
    assertEquals(Map.of(), stateIds(), "an empty state");
    for (String host : List.of("head", "worker1")) {
      assertHostClean(host);
      sandbox.onOk(host, "test -f /srv/vrc-models/tiny-llama/config.json");
    }
    step("destroy once more: succeeds, nothing to do");
    cdktf("destroy", stack, "--auto-approve").ok("cdktf destroy (twice)");
    assertEquals(Map.of(), stateIds(), "an empty state");
  }

  // ------------------------------------------------------------------ faults

  /** A journal line after the fault that shows who noticed it. */
  record Seen(String host, String unit, String regex, String who) {}

  /** Waits until the cluster is whole again, then records the fault's figures and checks it. */
  private void fault(String name, long t0, List<Seen> seen) {
    awaitHealthy(cluster.size(), RECOVERY);
    if (client != null) {
      client.awaitAnswerSentAfter(System.currentTimeMillis(), Duration.ofSeconds(15));
    }
    long end = System.currentTimeMillis();
    String who = "—";
    Long first = null;
    for (Seen s : seen) {
      Long at = journalFirst(s.host(), t0, s.unit(), s.regex());
      if (at != null && (first == null || at < first)) {
        first = at;
        who = s.who();
      }
    }
    bench.record(name, client, t0, end, who, first, null);
    assertWholeAndSingle();
  }

  /** The first journal line of {@code unit} on {@code host} since {@code sinceMs} matching {@code regex}: its time. */
  private Long journalFirst(String host, long sinceMs, String unit, String regex) {
    Sandbox.Result r = sandbox.on(host, "journalctl -u " + unit + " --since @" + (sinceMs / 1000) + " -o short-unix --no-pager"
        + " | grep -E -m1 '" + regex + "' | cut -d' ' -f1");
    try {
      return r.exitCode() == 0 && !r.output().isBlank() ? (long) (Double.parseDouble(r.output().strip()) * 1000) : null;
    } catch (NumberFormatException e) {
      return null;
    }
  }

  // ------------------------------------------------------------------ health

  /**
   * Waits (bounded) until a chat completion is answered from this machine and {@code ray status}
   * shows {@code nodes} active nodes with one GPU each.
   */
  private void awaitHealthy(int nodes, Duration timeout) {
    step("waiting for the cluster: a chat completion, and " + nodes + " nodes / " + nodes + " GPUs in ray status");
    Sandbox.waitFor("a chat completion answered", timeout, () -> run(Duration.ofSeconds(40), Map.of(), false, "bash", "-c", chatCommand("are you back?")),
        r -> r.exitCode() == 0 && r.output().contains("\"chat.completion\""));
    String status = Sandbox.waitFor("ray status with " + nodes + " nodes", timeout, () -> sandbox.on("head", rayStatus()),
        r -> r.exitCode() == 0 && rayNodesAndGpus(r.output()).equals(nodes + " nodes, " + nodes + ".0 GPUs"));
    System.out.println(status);
    // ray status is the autoscaler's snapshot of a few seconds ago; the GCS's own node table can
    // still list a killed raylet beside its restarted successor until its health checks fail.
    Sandbox.waitFor("the GCS with " + nodes + " nodes alive", timeout, () -> sandbox.on("head", rayNodesCommand()),
        r -> r.exitCode() == 0 && r.output().contains("alive=" + nodes + " "));
  }

  /** Our own ray_nodes.py on the head (as the service user): "alive=N gpus=G ips=a,b,...". */
  private String rayNodesCommand() {
    return "cd / && runuser -u vllm-ray -- env RAY_AUTH_MODE=token RAY_AUTH_TOKEN_PATH=/etc/vllm-ray-cluster/secrets/ray-token "
        + "/opt/vllm_env/bin/python /opt/vllm-ray-cluster/modules/common/ray_nodes.py " + headIp + ":6379";
  }

  /** What {@code ray status} shows, through verify's own parser: "N nodes, G GPUs". */
  static String rayNodesAndGpus(String output) {
    try {
      RayStatus.Status s = RayStatus.parse(output);
      return s.activeNodes() + " nodes, " + s.total("GPU") + " GPUs";
    } catch (ParseException e) {
      return "unparsable: " + e.getMessage();
    }
  }

  /**
   * Nothing lost: the model on every node, the secrets, the state with every resource once and none
   * tainted. Nothing doubled: each unit once, one raylet per node, one GCS and one vLLM server on
   * the head, each node once in Ray (by address), no stale host lock, nothing staged.
   */
  private void assertWholeAndSingle() {
    step("nothing lost, nothing doubled (" + String.join(", ", cluster) + ")");
    for (String host : cluster) {
      boolean head = host.equals("head");
      sandbox.onOk(host, "test -f /srv/vrc-models/tiny-llama/config.json");
      sandbox.onOk(host, "stat -c '%a %U' /etc/vllm-ray-cluster/secrets/ray-token | grep -qx '400 vllm-ray'");
      String units = sandbox.onOk(host, "cd /etc/systemd/system && ls -d vrc-* vrc.slice | sort | tr '\\n' ' '").strip();
      assertEquals(head ? "vrc-firewall.service vrc-proxy.service vrc-ray-head.service vrc-slice-anchor.service vrc-vllm.service"
          + " vrc-watchdog.service vrc-watchdog.timer vrc.slice"
          : "vrc-firewall.service vrc-ray-worker.service vrc-slice-anchor.service vrc.slice", units, host + ": our units");
      assertEquals("1", sandbox.onOk(host, "pgrep -c -f '[r]aylet/raylet'").strip(), host + ": raylet processes");
      // Free within a bound: the watchdog holds it for the seconds a probe takes; a stale one never frees.
      sandbox.onOk(host, "flock -w 30 /run/lock/vllm-ray-cluster.lock true");
      sandbox.onOk(host, "[ -z \"$(ls -A /run/vrc-stage-root 2>/dev/null)\" ]");
      if (head) {
        sandbox.onOk(host, "stat -c '%a %U' /etc/vllm-ray-cluster/secrets/vllm.env | grep -qx '600 root'");
        assertEquals("1", sandbox.onOk(host, "pgrep -c -f '[g]cs_server'").strip(), "GCS processes");
        assertEquals("1", sandbox.onOk(host, "pgrep -c -P $(systemctl show -p MainPID --value vrc-vllm)").strip(), "vLLM server processes");
      }
    }
    String alive = sandbox.onOk("head", rayNodesCommand()).strip();
    Matcher m = Pattern.compile("alive=(\\d+) gpus=\\S+ ips=(\\S*)").matcher(alive);
    assertTrue(m.find(), alive);
    assertEquals(new TreeSet<>(cluster.stream().map(sandbox::ip).toList()), new TreeSet<>(List.of(m.group(2).split(","))), "Ray's alive nodes");
    assertEquals(cluster.size(), Integer.parseInt(m.group(1)), "each node alive once in Ray: " + alive);
    Map<String, String> state = stateIds();
    // On the deploy machine local_checks, local_api_ca and the two secrets' fingerprints; on every
    // node its sweep, wheel cache, bootstrap, firewall, model store and Ray; on the head also vLLM,
    // the API proxy and the watchdog.
    int perNode = 6;
    assertEquals(4 + 3 + perNode * cluster.size(), state.size(), "resources in the state: " + state.keySet());
    assertFalse(Files.exists(Path.of(sandbox.state() + ".lock.info")), "OpenTofu's state lock left behind");
  }

  /** A host as destroy leaves it: none of our processes, units, rules, files, venv or user. */
  private void assertHostClean(String host) {
    Sandbox.Result procs = sandbox.on(host, "pgrep -af '[r]aylet|[g]cs_server|[r]ay::|[v]llm serve|[v]llm.entrypoints' || true");
    assertEquals("", procs.output().strip(), host + " still runs Ray or vLLM");
    sandbox.onOk(host, "! ls /etc/systemd/system/vrc-* 2>/dev/null");
    sandbox.onOk(host, "! nft list table inet vllm_ray_cluster >/dev/null 2>&1");
    sandbox.onOk(host, "test ! -e /opt/vllm_env && test ! -e /opt/vllm-ray-cluster && test ! -e /etc/vllm-ray-cluster");
    sandbox.onOk(host, "! id vllm-ray >/dev/null 2>&1");
  }

  // ------------------------------------------------------------------ helpers

  private String chatCommand(String message) {
    return "curl -sS -m 30 --cacert " + sandbox.apiCaFile() + " -H 'Authorization: Bearer " + apiKey + "' -H 'Content-Type: application/json' "
        + "-d '{\"model\": \"tiny-llama\", \"max_tokens\": 8, \"messages\": [{\"role\": \"user\", \"content\": \"" + message + "\"}]}' "
        + sandbox.api() + "/v1/chat/completions";
  }

  private String rayStatus() {
    return "cd / && runuser -u vllm-ray -- env RAY_AUTH_MODE=token RAY_AUTH_TOKEN_PATH=/etc/vllm-ray-cluster/secrets/ray-token "
        + "/opt/vllm_env/bin/ray status --address " + headIp + ":6379 2>&1";
  }

  /** A worker that holds a vLLM rank (from the stand-in's placement). */
  private String rankWorker() {
    String placement = Sandbox.onDeployMachine(Duration.ofSeconds(30), "placement", "curl -sS -m 10 --cacert " + sandbox.apiCaFile()
        + " -H 'Authorization: Bearer " + apiKey + "' " + sandbox.api() + "/standin/placement");
    Matcher m = Pattern.compile("\"node_ip\": ?\"([0-9.]+)\"").matcher(placement);
    while (m.find()) {
      for (String host : cluster) {
        if (!host.equals("head") && sandbox.ip(host).equals(m.group(1))) {
          return host;
        }
      }
    }
    throw new AssertionError("no vLLM rank on a worker:\n" + placement);
  }

  /** The unit's invocation id: a new one for every start. */
  private String invocation(String host, String unit) {
    return sandbox.onOk(host, "systemctl show -p InvocationID --value " + unit).strip();
  }

  private void awaitNewInvocation(String host, String unit, String before) {
    Sandbox.waitFor(unit + " on " + host + " started again", RECOVERY, () -> sandbox.on(host, "systemctl show -p InvocationID --value " + unit),
        r -> r.exitCode() == 0 && !r.output().isBlank() && !r.output().strip().equals(before));
  }

  /** verify --report-file: the row of {@code check} on {@code node}. */
  private JsonNode verifyRow(String node, String check) throws IOException {
    Path report = sandbox.project.resolve("verify-" + (++logs) + ".json");
    Sandbox.Result r = sandbox.cli(Map.of("TF_VAR_vllm_api_key", apiKey), "verify", sandbox.stackFile.toString(), "--report-file=" + report);
    System.out.println(r.output());
    for (JsonNode row : TestStacks.JSON.readTree(Files.readString(report)).path("rows")) {
      if (row.path("node").asText().equals(node) && row.path("check").asText().equals(check)) {
        return row;
      }
    }
    throw new AssertionError("no " + check + " row for " + node + " in " + report);
  }

  private Process startDeploy() {
    Path log = sandbox.project.resolve("deploy-" + (++logs) + ".log");
    System.out.println("[e2e] cdktf deploy in the background, its output in " + log);
    return Sandbox.startInOwnGroup(sandbox.project, deployEnv, log,
        Sandbox.ROOT.resolve("node_modules/.bin/cdktf").toString(), "deploy", stack, "--auto-approve");
  }

  private static void signal(Process p, String signal) {
    System.out.println("[e2e] SIG" + signal + " to process group " + p.pid());
    run(Duration.ofSeconds(10), "kill", "-" + signal, "--", "-" + p.pid()).ok("kill -" + signal);
  }

  /** Polls every host until {@code shell} succeeds on one (bounded; fails early when the deploy ends). */
  private void waitOnAnyHost(String what, Duration timeout, Process deploy, String shell) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      for (String host : cluster) {
        if (sandbox.on(host, shell).exitCode() == 0) {
          System.out.println("[e2e] " + what + " on " + host);
          return;
        }
      }
      assertTrue(deploy.isAlive(), "the deploy ended before " + what + " (exit " + (deploy.isAlive() ? "" : deploy.exitValue()) + ")");
      Sandbox.sleep(500);
    }
    throw new AssertionError(what + " not seen within " + timeout);
  }

  private Sandbox.Result cdktf(String... args) {
    return sandbox.cdktf(deployEnv, args);
  }

  /** Synthesizes the current stack file and plans it with OpenTofu into {@code e2e.plan} in the stack's directory. */
  private void synthAndPlan() {
    cdktf("synth").ok("cdktf synth");
    run(Duration.ofMinutes(3), deployEnv, false, "bash", "-c", "cd " + sandbox.stackDir() + " && tofu plan -input=false -lock=false -no-color -out=e2e.plan")
        .ok("tofu plan");
  }

  /** The plan review of a plan of the current stack file. */
  private String review() {
    Path out = sandbox.project.resolve("review-" + (++logs) + ".md");
    synthAndPlan();
    sandbox.cli(deployEnv, "plan-review", sandbox.stackDir().resolve("e2e.plan").toString(), "--chdir", sandbox.stackDir().toString(),
        "--stack", sandbox.stackFile.toString(), "--out", out.toString()).ok("plan-review");
    try {
      String md = Files.readString(out);
      System.out.println(md);
      return md;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Synthesizes, plans and returns each changed address → actions. */
  private Map<String, String> plannedChanges() {
    synthAndPlan();
    String json = run(Duration.ofMinutes(1), deployEnv, false, "bash", "-c", "cd " + sandbox.stackDir() + " && tofu show -json e2e.plan")
        .ok("tofu show").output();
    return Sandbox.plannedChanges(json);
  }

  /** Each resource address in the state with its id; empty when there is no state. */
  private Map<String, String> stateIds() {
    Map<String, String> ids = new TreeMap<>();
    for (JsonNode r : state().path("resources")) {
      for (JsonNode i : r.path("instances")) {
        String address = r.path("type").asText() + "." + r.path("name").asText();
        assertFalse(ids.containsKey(address), "two instances of " + address + " in the state");
        ids.put(address, i.path("attributes").path("id").asText());
      }
    }
    return ids;
  }

  /** An instance's status in the state ("tainted"), or "" for a normal one; null when absent. */
  private String stateStatus(String address) {
    for (JsonNode r : state().path("resources")) {
      if ((r.path("type").asText() + "." + r.path("name").asText()).equals(address)) {
        for (JsonNode i : r.path("instances")) {
          return i.path("status").asText("");
        }
      }
    }
    return null;
  }

  private JsonNode state() {
    try {
      return Files.exists(sandbox.state()) ? TestStacks.JSON.readTree(Files.readString(sandbox.state())) : TestStacks.JSON.createObjectNode();
    } catch (IOException e) {
      throw new AssertionError("cannot read the state " + sandbox.state(), e);
    }
  }

  @SuppressWarnings("unchecked")
  private Map<String, Object> readStack() {
    try {
      return YAML.readValue(sandbox.stackFile.toFile(), LinkedHashMap.class);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void writeStack(Map<String, Object> yaml) {
    try {
      YAML.writeValue(sandbox.stackFile.toFile(), yaml);
      System.out.println("[e2e] stack file now:\n" + Files.readString(sandbox.stackFile));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> nodes(Map<String, Object> yaml) {
    return (List<Map<String, Object>>) yaml.get("nodes");
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> section(Map<String, Object> yaml, String key) {
    return (Map<String, Object>) yaml.computeIfAbsent(key, k -> new LinkedHashMap<String, Object>());
  }
}
