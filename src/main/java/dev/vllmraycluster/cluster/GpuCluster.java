package dev.vllmraycluster.cluster;

import com.hashicorp.cdktf.ITerraformDependable;
import dev.vllmraycluster.firewall.Firewall;
import dev.vllmraycluster.node.GpuNode;
import dev.vllmraycluster.node.HostStep;
import dev.vllmraycluster.node.ProjectLayout;
import dev.vllmraycluster.ray.RayHead;
import dev.vllmraycluster.ray.RayWorker;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.spec.ClusterSpec.NodeSpec;
import dev.vllmraycluster.spec.SpecValidator;
import dev.vllmraycluster.storage.ModelStore;
import dev.vllmraycluster.vllm.VllmService;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import software.constructs.Construct;

/**
 * A vLLM service on a Ray cluster of GPU servers. On every node: the bootstrap and the firewall
 * (side by side: nothing listens yet), then the model store and Ray (the head first, then the
 * workers); last vLLM on the head, after every worker and the model. Each part is replaced only
 * when its own inputs or a part it restarts with change.
 */
public class GpuCluster extends Construct {
  private final ClusterSpec spec;
  private final Map<String, GpuNode> nodes = new LinkedHashMap<>();
  private final Map<String, Firewall> firewalls = new LinkedHashMap<>();
  private final Map<String, ModelStore> stores = new LinkedHashMap<>();
  private final Map<String, HostStep> rays = new LinkedHashMap<>();
  private final VllmService vllm;

  /**
   * @param after what every host step waits for (the local checks that run before the first SSH)
   */
  public GpuCluster(
      Construct scope,
      String id,
      ProjectLayout layout,
      ClusterSpec spec,
      List<ITerraformDependable> after) {
    super(scope, id);
    SpecValidator.check(spec);
    this.spec = spec;

    NodeSpec headSpec = spec.head();
    List<NodeSpec> ordered = new ArrayList<>();
    ordered.add(headSpec);
    ordered.addAll(spec.workers());

    for (NodeSpec n : ordered) {
      GpuNode node = new GpuNode(this, layout, spec, n, after);
      nodes.put(n.name(), node);
      firewalls.put(n.name(), new Firewall(node, layout, spec, after));
    }

    GpuNode head = nodes.get(headSpec.name());
    ModelStore headStore = store(head, layout, List.of());
    for (NodeSpec w : spec.workers()) {
      // NFS clients mount after the head exports, and are remounted when its store changes.
      store(
          nodes.get(w.name()),
          layout,
          headStore.storeRole() == ModelStore.StoreRole.LOCAL ? List.of() : List.of(headStore));
    }

    RayHead rayHead =
        new RayHead(
            head,
            layout,
            spec,
            List.of(firewalls.get(headSpec.name()).resource()),
            List.of(head.bootstrap()));
    rays.put(headSpec.name(), rayHead);
    for (NodeSpec w : spec.workers()) {
      GpuNode worker = nodes.get(w.name());
      rays.put(
          w.name(),
          new RayWorker(
              worker,
              layout,
              spec,
              List.of(firewalls.get(w.name()).resource()),
              List.of(worker.bootstrap(), rayHead)));
    }

    List<HostStep> vllmUpstream = new ArrayList<>();
    vllmUpstream.add(head.bootstrap());
    vllmUpstream.addAll(stores.values());
    vllmUpstream.addAll(rays.values());
    this.vllm = new VllmService(head, layout, spec, List.of(), vllmUpstream);
  }

  private ModelStore store(GpuNode node, ProjectLayout layout, List<HostStep> restartsWith) {
    // After the bootstrap: the fetch runs in the venv (huggingface_hub comes with vLLM).
    ModelStore store =
        new ModelStore(node, layout, spec, List.of(node.bootstrap().resource()), restartsWith);
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

  public Map<String, HostStep> rays() {
    return rays;
  }

  public VllmService vllm() {
    return vllm;
  }
}
