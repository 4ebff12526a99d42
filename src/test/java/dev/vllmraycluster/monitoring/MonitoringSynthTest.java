package dev.vllmraycluster.monitoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vllmraycluster.TestStacks;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.spec.SpecException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code monitoring:} adds to a synthesized stack: a metrics step per node and a Prometheus
 * step on its node, ordered after what they read; the firewall's monitoring ports and admin
 * networks; Prometheus' configuration with every target; the Grafana token as an ephemeral
 * variable only. And nothing at all with monitoring off.
 */
class MonitoringSynthTest {
  @TempDir Path dir;

  ClusterSpec spec(String monitoring) {
    return TestStacks.load(dir, "mon", TestStacks.cluster(2, 2, "") + monitoring).spec();
  }

  static JsonNode resource(JsonNode synth, String name) {
    return synth.path("resource").path("terraform_data").path(name);
  }

  static List<String> dependsOn(JsonNode r) {
    List<String> out = new ArrayList<>();
    r.path("depends_on").forEach(d -> out.add(d.asText()));
    return out;
  }

  @Test
  void offByDefaultAddsNothing() {
    JsonNode synth = TestStacks.synth(spec(""));
    synth.path("resource").path("terraform_data").fieldNames().forEachRemaining(name ->
        assertFalse(name.endsWith("_metrics") || name.endsWith("_prometheus"), name));
    assertFalse(resource(synth, "worker1_firewall").path("input").path("config").has("MONITORING_PORTS"));
  }

  @Test
  void onAddsMetricsEverywhereAndPrometheusOnTheHead() {
    ClusterSpec spec = spec("monitoring:\n  enabled: true\n  allowed_networks: [10.0.5.0/24]\n");
    JsonNode synth = TestStacks.synth(spec);
    for (String node : List.of("head", "worker1", "worker2")) {
      JsonNode m = resource(synth, node + "_metrics");
      assertEquals("metrics", m.path("input").path("component").asText());
      assertEquals("9100", m.path("input").path("config").path("NODE_EXPORTER_PORT").asText());
      assertEquals("vrc.slice", m.path("input").path("config").path("SERVICE_SLICE").asText());
      List<String> deps = dependsOn(m);
      assertTrue(deps.contains("terraform_data." + node + "_firewall"), deps.toString());
      assertTrue(deps.contains("terraform_data." + node + "_model"), deps.toString());
      assertTrue(deps.contains("terraform_data." + node + "_bootstrap"), deps.toString());
      JsonNode fw = resource(synth, node + "_firewall").path("input").path("config");
      assertEquals(node.equals("head") ? "9090 9100" : "9100", fw.path("MONITORING_PORTS").asText());
      assertEquals("10.0.5.0/24", fw.path("MONITORING_ALLOWED_NETWORKS").asText());
      assertTrue((" " + fw.path("PROTECTED_TCP_PORTS").asText() + " ").contains(" 9100 "), "the exporter's port is protected");
    }
    JsonNode p = resource(synth, "head_prometheus");
    List<String> deps = dependsOn(p);
    for (String node : List.of("head", "worker1", "worker2")) {
      assertTrue(deps.contains("terraform_data." + node + "_metrics"), deps.toString());
    }
    assertTrue(resource(synth, "worker1_prometheus").isMissingNode(), "Prometheus on one node only");
    String config = PrometheusConfig.render(spec);
    for (String target : List.of("10.0.0.10:9100", "10.0.0.11:9100", "10.0.0.12:9100", "10.0.0.10:6383", "10.0.0.12:6383",
        "127.0.0.1:8000", "10.0.0.10:9090")) {
      assertTrue(config.contains("\"" + target + "\""), target + " in\n" + config);
    }
    assertTrue(config.contains("scrape_interval: 15s"), config);
    assertTrue(p.path("triggers_replace").has("upload_prometheus.yml"), "a changed configuration replaces the step: " + p.path("triggers_replace"));
    assertFalse(synth.path("variable").has("grafana_token"));
  }

  @Test
  void prometheusOnAWorkerWithGrafana() {
    String monitoring = "monitoring:\n  enabled: true\n  prometheus_node: worker2\n  prometheus_port: 9095\n"
        + "  grafana_url: https://grafana.example.org\n  grafana_token_env: TF_VAR_grafana_token\n";
    // Behind the API proxy vLLM's /metrics is on the head's 127.0.0.1 only: a worker's Prometheus is refused.
    SpecException refused = assertThrows(SpecException.class, () -> spec(monitoring));
    assertTrue(refused.getMessage().contains("monitoring.prometheus_node: 'worker2' is a worker")
        && refused.getMessage().contains("set vllm.proxy: false"), refused.getMessage());
    ClusterSpec spec = TestStacks.load(dir, "mon", TestStacks.cluster(2, 2, "  proxy: false\n  tls: false\n") + monitoring).spec();
    JsonNode synth = TestStacks.synth(spec);
    assertTrue(resource(synth, "head_prometheus").isMissingNode());
    JsonNode p = resource(synth, "worker2_prometheus");
    JsonNode config = p.path("input").path("config");
    assertEquals("https://grafana.example.org", config.path("GRAFANA_URL").asText());
    assertEquals("http://10.0.0.12:9095", config.path("PROMETHEUS_URL").asText());
    assertFalse(config.has("RAY_TEMP_DIR"), "Ray's dashboards are on the head only");
    assertEquals("9095 9100", resource(synth, "worker2_firewall").path("input").path("config").path("MONITORING_PORTS").asText());
    assertEquals("9100", resource(synth, "head_firewall").path("input").path("config").path("MONITORING_PORTS").asText());
    assertTrue(synth.path("variable").path("grafana_token").path("ephemeral").asBoolean(), synth.path("variable").toString());
    String json = synth.toString();
    assertTrue(json.contains("${var.grafana_token}"), "the token comes from its ephemeral variable");
    assertTrue(PrometheusConfig.render(spec).contains("\"10.0.0.12:9095\""));
  }
}
