package dev.vllmraycluster.monitoring;

import dev.vllmraycluster.contract.HostContract;
import dev.vllmraycluster.contract.HostContract.Component;
import dev.vllmraycluster.firewall.Firewall;
import dev.vllmraycluster.node.Env;
import dev.vllmraycluster.node.GpuNode;
import dev.vllmraycluster.node.HostStep;
import dev.vllmraycluster.node.ProjectLayout;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.spec.ClusterSpec.MonitoringSpec;
import dev.vllmraycluster.spec.ClusterSpec.NodeSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Prometheus on one node ({@code modules/prometheus}): the OS package's server as our unit {@code
 * vrc-prometheus} on the node's cluster address, in {@code vrc.slice}, with the configuration
 * {@link PrometheusConfig} renders and the alert rules of {@code modules/prometheus/alerts.yml}
 * (checked by {@code promtool} before it starts). With {@code monitoring.grafana_url}, the
 * dashboards of {@code dashboards/} and a data source for this Prometheus are provisioned into that
 * Grafana too.
 */
public class Prometheus extends HostStep {
  /** The rendered configuration in the staging directory. */
  public static final String CONFIG_FILE = "prometheus.yml";
  /** The dashboards directory in the staging directory (uploaded from {@code dashboards/}). */
  public static final String DASHBOARDS = "dashboards";

  /**
   * @param node the node Prometheus runs on (its scope)
   * @param id {@code prometheus}: the resource is {@code <node>_prometheus}
   */
  public Prometheus(GpuNode node, String id, PrometheusProps props) {
    super(node, id, props.layout(), props(node.spec(), props));
  }

  private static Props props(NodeSpec node, PrometheusProps p) {
    ClusterSpec cluster = p.cluster();
    MonitoringSpec m = cluster.monitoring();
    List<String> gpuNodes = cluster.nodes().stream().filter(n -> n.gpus() > 0).map(n -> n.name() + "=" + n.address()).toList();
    Env env = Env.of(node, Component.PROMETHEUS.module())
        .put(HostContract.Env.OS_FAMILY, cluster.software().osFamily().name().toLowerCase(Locale.ROOT))
        .put(HostContract.Env.NODE_IP, node.address())
        .put(HostContract.Env.PROMETHEUS_PORT, m.prometheusPort())
        .put(HostContract.Env.RETENTION_DAYS, m.retentionDays())
        .put(HostContract.Env.GPU_NODES, gpuNodes)
        .put(HostContract.Env.DCGM_EXPORTER_PORT, m.dcgmExporterPort())
        .put(HostContract.Env.SERVICE_SLICE, Firewall.SERVICE_SLICE)
        .put(HostContract.Env.FIREWALL_UNIT, Firewall.requiredUnit(cluster));
    List<Upload> uploads = new ArrayList<>();
    uploads.add(Upload.text(CONFIG_FILE, PrometheusConfig.render(cluster)));
    if (m.grafanaToken() != null) {
      env.put(HostContract.Env.GRAFANA_URL, m.grafanaUrl())
          .put(HostContract.Env.PROMETHEUS_URL, "http://" + node.address() + ":" + m.prometheusPort())
          .put(HostContract.Env.GRAFANA_TOKEN, HostContract.SecretFiles.GRAFANA_TOKEN);
      if (node.role() == ClusterSpec.Role.HEAD) {
        // Ray writes its own Grafana dashboards into its session directory on the head.
        env.put(HostContract.Env.RAY_TEMP_DIR, cluster.ray().tempDir());
      }
      Path dashboards = dashboards(p.layout());
      uploads.add(Upload.directory(DASHBOARDS, dashboards.toString(), p.layout().treeDigest(dashboards)));
      uploads.add(Upload.secretContent(HostContract.SecretFiles.GRAFANA_TOKEN,
          "${var." + m.grafanaToken().variableName() + "}"));
    }
    return new Props(
        node, Component.PROMETHEUS.module(), env.build(), List.of(), p.afterFirewall(), List.of(p.bootstrap()), uploads);
  }

  /** The project's {@code dashboards/}. */
  public static Path dashboards(ProjectLayout layout) {
    return layout.root().resolve(DASHBOARDS).toAbsolutePath().normalize();
  }
}
