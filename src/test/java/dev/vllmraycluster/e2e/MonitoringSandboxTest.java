package dev.vllmraycluster.e2e;

import static dev.vllmraycluster.e2e.Sandbox.assertContains;
import static dev.vllmraycluster.e2e.Sandbox.step;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vllmraycluster.TestStacks;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
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
 * Monitoring on sandbox hosts, one deployment for every check (instance {@code e2e-mon}): the
 * sandbox stack with {@code monitoring:} on (scrapes every 5 s; this machine's bridge address as
 * the admin network) and a stand-in {@code nvidia-smi} on worker1 printing the 2 × H200 captures.
 * Prometheus and node exporter come from Debian's packages through the sandbox's apt mirror.
 * Checks: every target up, the GPU collector's series in Prometheus, the alert rules loaded and
 * passing {@code promtool test rules}, every dashboard query answered; Prometheus and the exporters
 * closed to the outsider host and open to the admin network; {@code status} healthy; worker2's Ray
 * stopped makes status exit 1 naming it and VrcRayNodeDown fire within its window; destroy leaves
 * no unit, file or package of monitoring behind.
 */
@Tag("e2e")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MonitoringSandboxTest {
  /** Ray's alert: `for: 1m`; evaluated every 5 s here, after scrapes every 5 s. */
  static final Duration RAY_ALERT_WINDOW = Duration.ofSeconds(60 + 2 * 5 + 2 * 5);
  /** The upstream versions of Debian bookworm's packages (its stable updates keep them). */
  static final String PROMETHEUS_UPSTREAM = "2.42.0";
  static final String NODE_EXPORTER_UPSTREAM = "1.5.0";
  /**
   * Dashboard queries that may be empty here: metrics the sandbox does not have (no DCGM, no Xid,
   * no streaming), no alert firing, and the watchdog's: the deploy restarts its timer, whose first
   * probe comes interval_seconds (30 by default) later, and a probe while a deploy step holds the
   * host lock ("paused") or of a vLLM still starting records no canary outcome, so the collectors
   * may not have published vrc_watchdog_canary_* yet when the dashboards are queried.
   */
  static final Pattern MAY_BE_EMPTY = Pattern.compile("vrc_watchdog_|DCGM_FI_DEV_ECC|vrc_gpu_xid|time_to_first_token|ALERTS");

  final SandboxInstance sandbox = SandboxInstance.of("e2e-mon", 9);
  final String stack = sandbox.stack();
  final String headIp = sandbox.ip("head");
  final String prometheus = "http://" + headIp + ":9090";
  final String apiKey = "e2e-key-" + UUID.randomUUID();
  final Map<String, String> deployEnv = Map.of("TF_VAR_vllm_api_key", apiKey,
      "TF_VAR_ray_auth_token", "e2e-ray-" + UUID.randomUUID());
  final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  long started;

  @RegisterExtension
  final TestWatcher journalsOnFailure = new TestWatcher() {
    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
      sandbox.journalsOnFailure(context);
      for (String host : sandbox.hosts()) {
        for (String unit : List.of("vrc-node-exporter", "vrc-prometheus", "vrc-collectors")) {
          Sandbox.Result r = sandbox.on(host, "journalctl -u " + unit + " -n 40 --no-pager 2>&1 | grep -v '^-- No entries --' || true");
          if (!r.output().isBlank()) {
            System.out.println("\n[e2e] ---- " + host + ": journalctl -u " + unit + " ----\n" + r.output());
          }
        }
      }
    }
  };

  @BeforeAll
  void sandboxUp() throws IOException {
    Sandbox.assertRoot();
    started = System.nanoTime();
    sandbox.up(3, "--outsider");
    String yaml = Files.readString(sandbox.stackFile);
    assertTrue(yaml.contains("\nvllm:\n"), yaml);
    Files.writeString(sandbox.stackFile, yaml.replace("\nvllm:\n", "\nmonitoring:\n  enabled: true\n"
        + "  scrape_interval_seconds: 5\n  allowed_networks: [" + sandbox.bridgeIp() + "/32]\nvllm:\n"));
    step("a stand-in nvidia-smi on worker1 (the 2 x H200 captures)");
    Files.writeString(hostFile("worker1", "usr/local/bin/nvidia-smi"), StandinNvidiaSmi.script());
    sandbox.onOk("worker1", "chmod 755 /usr/local/bin/nvidia-smi && nvidia-smi -q -x | grep -c '<gpu id=' | grep -qx 2");
  }

  @AfterAll
  void sandboxDown() {
    try {
      sandbox.close();
    } finally {
      System.out.println("[e2e] MonitoringSandboxTest wall time: " + (System.nanoTime() - started) / 1_000_000_000 + " s");
    }
  }

  @Test
  @Order(1)
  void deployScrapesEveryNode() throws Exception {
    step("cdktf deploy with monitoring on");
    sandbox.cdktf(deployEnv, "deploy", stack, "--auto-approve").ok("cdktf deploy");

    step("Prometheus: every target up (node exporter and Ray on 3 nodes, vLLM, itself)");
    Map<String, String> targets = Map.of();
    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    while (System.nanoTime() < deadline) {
      targets = targets();
      if (targets.size() == 8 && targets.values().stream().allMatch("up"::equals)) {
        break;
      }
      Sandbox.sleep(3000);
    }
    System.out.println("[e2e] targets: " + targets);
    Map<String, String> want = new TreeMap<>();
    for (String host : sandbox.hosts()) {
      want.put("node/" + host, "up");
      want.put("ray/" + host, "up");
    }
    want.put("vllm/head", "up");
    want.put("prometheus/head", "up");
    assertEquals(want, new TreeMap<>(targets));

    step("our collectors' series: GPUs from worker1's nvidia-smi, the model store everywhere, no textfile error");
    JsonNode mem = query("vrc_gpu_memory_total_bytes");
    assertEquals(2, mem.size(), mem.toString());
    for (JsonNode s : mem) {
      assertEquals("worker1", s.get("metric").get("node").asText());
      assertEquals(143771.0 * 1024 * 1024, s.get("value").get(1).asDouble());
      assertEquals("NVIDIA H200", s.get("metric").get("name").asText());
    }
    assertEquals(3, query("vrc_model_store_ready == 1").size(), "the model store ready on every node");
    assertEquals(3, query("node_textfile_scrape_error == 0").size(), "node exporter read every textfile");
    assertEquals(3, query("node_systemd_unit_state{name=~\"vrc-ray-(head|worker).service\", state=\"active\"} == 1").size());

    step("Debian bookworm's packages from the apt mirror: Prometheus (and promtool) 2.42.0, node exporter 1.5.0");
    // Debian's archive keeps only a suite's current build; a stable update changes the Debian
    // revision (+deb12uN), never the upstream version these rules and dashboards are tested with.
    for (String host : sandbox.hosts()) {
      String v = sandbox.onOk(host, "dpkg-query -W -f='${Package} ${Version}\\n' prometheus-node-exporter"
          + (host.equals("head") ? " prometheus" : ""));
      assertContains(v, "prometheus-node-exporter " + NODE_EXPORTER_UPSTREAM + "-", host + ": node exporter's version");
      if (host.equals("head")) {
        assertContains(v, "prometheus " + PROMETHEUS_UPSTREAM + "+ds-", "head: Prometheus' version");
        assertContains(sandbox.onOk(host, "promtool --version 2>&1"), "promtool, version " + PROMETHEUS_UPSTREAM + "+ds ",
            "head: promtool's version");
      }
    }

    step("the alert rules are loaded, and pass promtool test rules on the head");
    JsonNode groups = get(prometheus + "/api/v1/rules").get("data").get("groups");
    assertEquals("vllm-ray-cluster", groups.get(0).get("name").asText());
    assertEquals(10, groups.get(0).get("rules").size());
    Path rt = hostFile("head", "var/tmp/vrc-rule-tests");
    Files.createDirectories(rt);
    Files.copy(TestStacks.ROOT.resolve("src/test/resources/prometheus/alerts.test.yml"), rt.resolve("alerts.test.yml"));
    String rules = sandbox.onOk("head", "cp /etc/vllm-ray-cluster/prometheus/alerts.yml /var/tmp/vrc-rule-tests/ && cd /var/tmp/vrc-rule-tests"
        + " && promtool test rules alerts.test.yml; rc=$?; rm -rf /var/tmp/vrc-rule-tests; exit $rc");
    assertContains(rules, "SUCCESS", "promtool test rules");

    step("every dashboard query is answered by this Prometheus");
    chat(20);
    for (String name : List.of("vllm.json", "cluster.json")) {
      JsonNode dash = TestStacks.JSON.readTree(TestStacks.ROOT.resolve("dashboards").resolve(name).toFile());
      for (JsonNode panel : dash.get("panels")) {
        for (JsonNode target : panel.get("targets")) {
          String expr = target.get("expr").asText();
          JsonNode result = query(expr);
          if (!MAY_BE_EMPTY.matcher(expr).find()) {
            assertFalse(result.isEmpty(), name + " / " + panel.get("title").asText() + ": no data for " + expr);
          }
        }
      }
    }
  }

  @Test
  @Order(2)
  void prometheusAndExportersAreClosedToOutsiders() {
    step("from the outsider: Prometheus, every node exporter and Ray's metrics are dropped");
    StringBuilder probe = new StringBuilder();
    List<String> endpoints = new ArrayList<>(List.of(headIp + "/9090"));
    for (String host : sandbox.hosts()) {
      endpoints.add(sandbox.ip(host) + "/9100");
      endpoints.add(sandbox.ip(host) + "/6383");
    }
    for (String e : endpoints) {
      probe.append("timeout 3 bash -c '</dev/tcp/").append(e).append("' 2>/dev/null; echo \"").append(e).append(" $?\"; ");
    }
    for (String line : Sandbox.lines(sandbox.onOk("outsider", probe.toString()))) {
      String[] f = line.split(" ");
      assertEquals("124", f[1], f[0] + " from the outsider must time out (dropped), got exit " + f[1]);
    }
    step("from a cluster node and from this machine (monitoring.allowed_networks): open");
    sandbox.onOk("worker2", "curl -fsS -m 5 -o /dev/null http://" + sandbox.ip("worker1") + ":9100/metrics");
    assertEquals("Prometheus Server is Ready.", text(prometheus + "/-/ready").strip());
    assertContains(text("http://" + sandbox.ip("worker2") + ":9100/metrics"), "vrc_model_store_ready", "worker2's exporter");
  }

  @Test
  @Order(3)
  void statusIsHealthy() throws Exception {
    step("bin/vllm-ray-cluster status: healthy");
    Sandbox.Result table = sandbox.cli(Map.of(), "status", sandbox.stackFile.toString());
    assertEquals(0, table.exitCode(), table.output());
    assertContains(table.output(), "status " + stack + ": healthy", "the table's verdict");
    Sandbox.Result json = sandbox.cli(Map.of(), "status", sandbox.stackFile.toString(), "--json");
    assertEquals(0, json.exitCode(), json.output());
    JsonNode s = TestStacks.JSON.readTree(json.output().substring(json.output().indexOf('{')));
    assertFalse(s.get("degraded").asBoolean(), s.toString());
    assertEquals("200", s.get("api").get("health").asText());
    JsonNode worker1 = s.get("nodes").get(1);
    assertEquals("worker1", worker1.get("name").asText());
    assertEquals(2, worker1.get("gpus").size(), "worker1's stand-in nvidia-smi lists 2 GPUs");
    for (JsonNode n : s.get("nodes")) {
      assertEquals("alive", n.get("ray").asText(), n.toString());
      assertEquals("ready", n.get("modelStore").asText(), n.toString());
    }
  }

  @Test
  @Order(4)
  void aStoppedRayWorkerShowsInStatusAndFiresItsAlert() throws Exception {
    step("stop worker2's Ray (systemctl stop vrc-ray-worker)");
    sandbox.onOk("worker2", "systemctl stop vrc-ray-worker");
    long stopped = System.nanoTime();
    String status = Sandbox.waitFor("status naming worker2's Ray", Duration.ofSeconds(90),
        () -> sandbox.cli(Map.of(), "status", sandbox.stackFile.toString()),
        r -> r.exitCode() == 1 && r.output().contains("worker2: Ray is "));
    assertContains(status, "status " + stack + ": DEGRADED", "the verdict");
    assertContains(status, "worker2: vrc-ray-worker is inactive", "the unit");

    step("VrcRayNodeDown{node=worker2} fires within its window");
    JsonNode firing = null;
    long deadline = stopped + RAY_ALERT_WINDOW.plusSeconds(30).toNanos();
    while (System.nanoTime() < deadline && firing == null) {
      for (JsonNode a : get(prometheus + "/api/v1/alerts").get("data").get("alerts")) {
        if (a.get("labels").get("alertname").asText().equals("VrcRayNodeDown") && a.get("state").asText().equals("firing")) {
          firing = a;
        }
      }
      Sandbox.sleep(2000);
    }
    long took = (System.nanoTime() - stopped) / 1_000_000_000;
    assertTrue(firing != null, "VrcRayNodeDown did not fire within " + RAY_ALERT_WINDOW.plusSeconds(30));
    System.out.println("[e2e] VrcRayNodeDown firing " + took + " s after the stop: " + firing);
    assertEquals("worker2", firing.get("labels").get("node").asText());
    assertEquals("Ray on worker2 is down", firing.get("annotations").get("summary").asText());
  }

  @Test
  @Order(5)
  void destroyRemovesMonitoring() {
    step("cdktf destroy: no unit, file or package of monitoring left");
    sandbox.cdktf(deployEnv, "destroy", stack, "--auto-approve").ok("cdktf destroy");
    for (String host : sandbox.hosts()) {
      sandbox.onOk(host, "! systemctl cat vrc-node-exporter.service vrc-collectors.timer vrc-prometheus.service >/dev/null 2>&1");
      sandbox.onOk(host, "test ! -e /var/lib/vllm-ray-cluster/textfile && test ! -e /etc/vllm-ray-cluster/prometheus"
          + " && test ! -e /var/lib/vllm-ray-cluster/prometheus");
      String pkgs = sandbox.onOk(host, "dpkg-query -W -f='${db:Status-Abbrev} ${Package}\\n' prometheus prometheus-node-exporter 2>/dev/null | grep '^ii' || true");
      assertEquals("", pkgs.strip(), host + ": monitoring packages left installed");
    }
  }

  // ---------------------------------------------------------------- helpers

  /** A path inside a sandbox host's root file system (its overlay, mounted on this machine). */
  private Path hostFile(String host, String path) {
    return Sandbox.ROOT.resolve(".sandbox/instances/" + sandbox.name + "/hosts/" + host + "/merged/" + path);
  }

  /** job/node -> health of every active target. */
  private Map<String, String> targets() {
    Map<String, String> out = new TreeMap<>();
    for (JsonNode t : get(prometheus + "/api/v1/targets").get("data").get("activeTargets")) {
      out.put(t.get("labels").get("job").asText() + "/" + t.get("labels").get("node").asText(), t.get("health").asText());
    }
    return out;
  }

  private JsonNode query(String promql) {
    JsonNode r = get(prometheus + "/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
    assertEquals("success", r.get("status").asText(), promql + ": " + r);
    return r.get("data").get("result");
  }

  private JsonNode get(String url) {
    try {
      return TestStacks.JSON.readTree(text(url));
    } catch (IOException e) {
      throw new AssertionError(url, e);
    }
  }

  private String text(String url) {
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(15)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(200, r.statusCode(), url + ": " + r.body());
      return r.body();
    } catch (IOException e) {
      throw new AssertionError(url, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** A few chat completions, so that vLLM's counters and histograms have data. */
  private void chat(int n) throws Exception {
    for (int i = 0; i < n; i++) {
      // The API is the proxy's HTTPS, checked with the cluster's CA the deploy wrote.
      HttpClient api = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
          .sslContext(ChatClient.trusting(sandbox.apiCaFile())).build();
      HttpResponse<String> r = api.send(HttpRequest.newBuilder(URI.create(sandbox.api() + "/v1/chat/completions"))
          .timeout(Duration.ofSeconds(30)).header("Authorization", "Bearer " + apiKey).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString("{\"model\": \"tiny-llama\", \"messages\": [{\"role\": \"user\", \"content\": \"hello monitoring\"}]}"))
          .build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, r.statusCode(), r.body());
    }
    // Two scrapes, so that rate() has two samples of each counter.
    Sandbox.sleep(12_000);
  }
}
