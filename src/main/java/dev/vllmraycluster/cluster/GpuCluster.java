package dev.vllmraycluster.cluster;

import com.hashicorp.cdktf.Annotations;
import com.hashicorp.cdktf.ITerraformDependable;
import dev.vllmraycluster.contract.HostContract.Component;
import dev.vllmraycluster.firewall.Firewall;
import dev.vllmraycluster.firewall.FirewallProps;
import dev.vllmraycluster.monitoring.NodeMetrics;
import dev.vllmraycluster.monitoring.NodeMetricsProps;
import dev.vllmraycluster.monitoring.Prometheus;
import dev.vllmraycluster.monitoring.PrometheusProps;
import dev.vllmraycluster.node.GpuNode;
import dev.vllmraycluster.node.GpuNodeProps;
import dev.vllmraycluster.node.HostStep;
import dev.vllmraycluster.node.ProjectLayout;
import dev.vllmraycluster.proxy.ApiProxy;
import dev.vllmraycluster.proxy.ApiProxyProps;
import dev.vllmraycluster.ray.RayHead;
import dev.vllmraycluster.ray.RayNode;
import dev.vllmraycluster.ray.RayNodeProps;
import dev.vllmraycluster.ray.RayWorker;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.spec.ClusterSpec.NodeSpec;
import dev.vllmraycluster.spec.SpecValidator;
import dev.vllmraycluster.storage.ModelStore;
import dev.vllmraycluster.storage.ModelStoreProps;
import dev.vllmraycluster.vllm.VllmService;
import dev.vllmraycluster.vllm.VllmServiceProps;
import dev.vllmraycluster.watchdog.Watchdog;
import dev.vllmraycluster.watchdog.WatchdogProps;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import software.constructs.Construct;

/**
 * A vLLM service on a Ray cluster of GPU servers. On every node: the bootstrap and the firewall
 * (side by side: nothing listens yet), then the model store and Ray (the head first, then the
 * workers); last vLLM on the head, after every worker and the model. The API proxy on the head
 * (unless {@code vllm.proxy: false}) comes after the head's firewall, beside the rest. Each part is replaced only
 * when its own inputs or a part it restarts with change.
 *
 * <p>The spec is validated first: a problem fails synth with its path, value and fix; an allowed
 * risk becomes a CDKTF warning annotation on this construct.
 */
public class GpuCluster extends Construct {
  private final ClusterSpec spec;
  private final Map<String, GpuNode> nodes = new LinkedHashMap<>();
  private final Map<String, Firewall> firewalls = new LinkedHashMap<>();
  private final Map<String, ModelStore> stores = new LinkedHashMap<>();
  private final Map<String, RayNode> rays = new LinkedHashMap<>();
  private final VllmService vllm;
  private final ApiProxy proxy;
  private final Watchdog watchdog;
  private final Map<String, NodeMetrics> metrics = new LinkedHashMap<>();
  private final Prometheus prometheus;

  public GpuCluster(Construct scope, String id, GpuClusterProps props) {
    super(scope, id);
    this.spec = props.cluster();
    for (String warning : SpecValidator.check(spec)) {
      Annotations.of(this).addWarning(warning);
    }
    ProjectLayout layout = props.layout();

    NodeSpec headSpec = spec.head();
    List<NodeSpec> ordered = new ArrayList<>();
    ordered.add(headSpec);
    ordered.addAll(spec.workers());

    for (NodeSpec n : ordered) {
      GpuNode node = new GpuNode(this, n.name(),
          GpuNodeProps.builder().cluster(spec).layout(layout).after(props.after()).node(n).build());
      nodes.put(n.name(), node);
      Firewall firewall = new Firewall(node, Component.FIREWALL.stepId(),
          FirewallProps.builder().cluster(spec).layout(layout).after(props.after()).build());
      firewalls.put(n.name(), firewall);
      // Between the node's foundation and its services: destroyed after the services, so that it
      // finds what a tainted one left, while the venv and the service user are still there.
      node.addSweep(List.of(firewall));
    }

    GpuNode head = nodes.get(headSpec.name());
    ModelStore headStore = store(head, layout, null);
    for (NodeSpec w : spec.workers()) {
      // NFS clients mount after the head exports, and are remounted when its store changes.
      store(nodes.get(w.name()), layout, headStore.storeRole() == ModelStore.StoreRole.LOCAL ? null : headStore);
    }

    RayHead rayHead = new RayHead(head, Component.RAY.stepId(), RayNodeProps.builder().cluster(spec).layout(layout)
        .firewall(firewalls.get(headSpec.name())).bootstrap(head.bootstrap()).build());
    rays.put(headSpec.name(), rayHead);
    for (NodeSpec w : spec.workers()) {
      GpuNode worker = nodes.get(w.name());
      rays.put(w.name(), new RayWorker(worker, Component.RAY.stepId(), RayNodeProps.builder().cluster(spec)
          .layout(layout).firewall(firewalls.get(w.name())).bootstrap(worker.bootstrap()).head(rayHead).build()));
    }

    // The API as clients reach it: after the head's firewall, beside (not after) vLLM.
    this.proxy = spec.vllm().proxy()
        ? new ApiProxy(head, Component.PROXY.stepId(), ApiProxyProps.builder().cluster(spec).layout(layout)
            .after(props.after()).firewall(firewalls.get(headSpec.name())).build())
        : null;

    this.vllm = new VllmService(head, Component.VLLM.stepId(), VllmServiceProps.builder().cluster(spec).layout(layout)
        .bootstrap(head.bootstrap()).modelStores(new ArrayList<>(stores.values()))
        .rayNodes(new ArrayList<>(rays.values())).build());
    this.watchdog = spec.watchdog().enabled()
        ? new Watchdog(head, Component.WATCHDOG.stepId(), WatchdogProps.builder().cluster(spec).layout(layout).vllm(vllm).build())
        : null;
    if (!spec.removedNodes().isEmpty() || !spec.forgottenNodes().isEmpty()) {
      new RemovedNodes(this, layout, spec);
    }

    if (spec.monitoring().enabled()) {
      for (NodeSpec n : ordered) {
        GpuNode node = nodes.get(n.name());
        metrics.put(n.name(), new NodeMetrics(node, Component.METRICS.stepId(), NodeMetricsProps.builder().cluster(spec)
            .layout(layout).after(props.after()).firewall(firewalls.get(n.name())).bootstrap(node.bootstrap())
            .modelStore(stores.get(n.name())).build()));
      }
      NodeSpec promNode = spec.monitoring().prometheusNodeOf(spec);
      List<ITerraformDependable> after = new ArrayList<>(props.after());
      metrics.values().forEach(m -> after.add(m.resource()));
      GpuNode node = nodes.get(promNode.name());
      this.prometheus = new Prometheus(node, Component.PROMETHEUS.stepId(), PrometheusProps.builder().cluster(spec)
          .layout(layout).after(after).firewall(firewalls.get(promNode.name())).bootstrap(node.bootstrap()).build());
    } else {
      this.prometheus = null;
    }
  }

  private ModelStore store(GpuNode node, ProjectLayout layout, ModelStore nfsServer) {
    // After the bootstrap: the fetch runs in the venv (huggingface_hub comes with vLLM).
    ModelStore store = new ModelStore(node, Component.MODEL_STORE.stepId(), ModelStoreProps.builder().cluster(spec)
        .layout(layout).bootstrap(node.bootstrap()).nfsServer(nfsServer).build());
    stores.put(node.spec().name(), store);
    return store;
  }

  public ClusterSpec spec() {
    return spec;
  }

  public Map<String, GpuNode> nodes() {
    return nodes;
  }

  public Map<String, Firewall> firewalls() {
    return firewalls;
  }

  public Map<String, ModelStore> stores() {
    return stores;
  }

  public Map<String, RayNode> rays() {
    return rays;
  }

  public VllmService vllm() {
    return vllm;
  }

  /** The API proxy on the head, or null with {@code vllm.proxy: false}. */
  public ApiProxy proxy() {
    return proxy;
  }

  /** The watchdog on the head, or null when the stack turns it off. */
  public Watchdog watchdog() {
    return watchdog;
  }

  /** Each node's metrics step (empty with monitoring off). */
  public Map<String, NodeMetrics> metrics() {
    return metrics;
  }

  /** The Prometheus step, or null with monitoring off. */
  public Prometheus prometheus() {
    return prometheus;
  }

  /** Every host step of the cluster, each node's sweep and bootstrap included. */
  public List<HostStep> steps() {
    List<HostStep> steps = new ArrayList<>();
    for (GpuNode node : nodes.values()) {
      steps.add(node.sweep());
      steps.add(node.wheelCache());
      steps.add(node.bootstrap());
    }
    steps.addAll(firewalls.values());
    steps.addAll(stores.values());
    steps.addAll(rays.values());
    steps.add(vllm);
    if (proxy != null) {
      steps.add(proxy);
    }
    if (watchdog != null) {
      steps.add(watchdog);
    }
    steps.addAll(metrics.values());
    if (prometheus != null) {
      steps.add(prometheus);
    }
    return steps;
  }
}
