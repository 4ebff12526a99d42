package dev.vllmraycluster.monitoring;

import com.hashicorp.cdktf.ITerraformDependable;
import dev.vllmraycluster.contract.HostContract;
import dev.vllmraycluster.contract.HostContract.Component;
import dev.vllmraycluster.firewall.Firewall;
import dev.vllmraycluster.node.Env;
import dev.vllmraycluster.node.GpuNode;
import dev.vllmraycluster.node.HostStep;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.spec.ClusterSpec.MonitoringSpec;
import dev.vllmraycluster.spec.ClusterSpec.NodeSpec;
import dev.vllmraycluster.spec.ClusterSpec.StorageMode;
import java.util.List;
import java.util.Locale;

/**
 * The metrics of one node ({@code modules/metrics}): the OS package's {@code
 * prometheus-node-exporter} as our unit {@code vrc-node-exporter} on the node's cluster address,
 * in {@code vrc.slice}, and our textfile collectors every scrape interval ({@code
 * vrc-collectors.timer}): GPU health from {@code nvidia-smi -q -x} and the kernel's Xid lines (or
 * nothing where a DCGM exporter answers), the model store's readiness, and the watchdog's last
 * probe where there is one.
 */
public class NodeMetrics extends HostStep {
  /**
   * @param node the node (its scope)
   * @param id {@code metrics}: the resource is {@code <node>_metrics}
   */
  public NodeMetrics(GpuNode node, String id, NodeMetricsProps props) {
    super(node, id, props.layout(), props(node.spec(), props));
  }

  private static Props props(NodeSpec node, NodeMetricsProps p) {
    ClusterSpec cluster = p.cluster();
    MonitoringSpec m = cluster.monitoring();
    StorageMode mode = cluster.storage().mode();
    boolean mounted = mode == StorageMode.EXTERNAL_NFS
        || (mode == StorageMode.HEAD_NFS && node.role() != ClusterSpec.Role.HEAD);
    List<ITerraformDependable> after =
        p.modelStore() == null ? p.afterFirewall() : p.afterFirewall(p.modelStore().resource());
    return new Props(
        node,
        Component.METRICS.module(),
        Env.of(node, Component.METRICS.module())
            .put(HostContract.Env.OS_FAMILY, cluster.software().osFamily().name().toLowerCase(Locale.ROOT))
            .put(HostContract.Env.VENV_PATH, cluster.software().venvPath())
            .put(HostContract.Env.SERVICE_USER, GpuNode.SERVICE_USER)
            .put(HostContract.Env.NODE_IP, node.address())
            .put(HostContract.Env.NODE_EXPORTER_PORT, m.nodeExporterPort())
            .put(HostContract.Env.COLLECT_INTERVAL_SECONDS, m.scrapeIntervalSeconds())
            .put(HostContract.Env.GPUS, node.gpus())
            .put(HostContract.Env.DCGM_EXPORTER_PORT, m.dcgmExporterPort())
            .put(HostContract.Env.STORAGE_MODE, mode.yamlName())
            .put(HostContract.Env.MOUNT_REQUIRED, mounted)
            .put(HostContract.Env.MOUNT_PATH, cluster.storage().mountPath())
            .put(HostContract.Env.MODEL_DIR, cluster.storage().modelPath(cluster.model()))
            .put(HostContract.Env.SERVICE_SLICE, Firewall.SERVICE_SLICE)
            .put(HostContract.Env.FIREWALL_UNIT, Firewall.requiredUnit(cluster))
            .build(),
        List.of(),
        after,
        List.of(p.bootstrap()),
        List.of());
  }
}
