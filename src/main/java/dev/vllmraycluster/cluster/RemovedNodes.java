package dev.vllmraycluster.cluster;

import com.hashicorp.cdktf.TerraformStack;
import dev.vllmraycluster.contract.HostContract.Component;
import dev.vllmraycluster.node.HostStep;
import dev.vllmraycluster.node.ProjectLayout;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.spec.ClusterSpec.NodeSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import software.constructs.Construct;

/**
 * Nodes leaving the cluster through a plain {@code cdktf deploy}. OpenTofu runs no destroy-time
 * provisioner of a resource that has simply left the configuration, so each part of a node in
 * {@code removed_nodes} gets a {@code removed {}} block that destroys it with the part's own
 * remove.sh over SSH, exactly as {@code cdktf destroy} would (services stopped; units, rules,
 * mounts, venv and secrets gone; the model kept unless {@code storage.delete_on_destroy}). The
 * parts go in the order the state recorded (Ray before the bootstrap and the firewall), and vLLM,
 * which depended on the node's Ray, is replaced only after them: it restarts on the smaller
 * cluster. A node in {@code forgotten_nodes} (gone for good) gets {@code removed {}} blocks that
 * drop its parts from the state without connecting to it.
 *
 * <p>A block for a part that is not in the state does nothing, so an entry may stay in the stack
 * after its deploy. The other nodes' firewalls and the head's NFS export drop the node because it
 * is no longer among the nodes their configuration lists.
 */
public class RemovedNodes extends Construct {
  public RemovedNodes(Construct scope, ProjectLayout layout, ClusterSpec spec) {
    super(scope, "removed_nodes");
    List<Map<String, Object>> blocks = new ArrayList<>();
    for (NodeSpec node : spec.removedNodes()) {
      for (Component part : workerParts()) {
        Map<String, Object> block = new LinkedHashMap<>();
        block.put("from", "terraform_data." + node.name() + "_" + part.stepId());
        block.put("lifecycle", Map.of("destroy", true));
        if (part != Component.SWEEP) {
          block.put("provisioner", HostStep.removedStepProvisioners(layout, node, part.module()));
        }
        // The sweep needs its module staged, which a removed block cannot upload: it leaves the
        // state without running; every other part runs its own remove.sh.
        blocks.add(block);
      }
    }
    for (String name : spec.forgottenNodes()) {
      for (Component part : workerParts()) {
        Map<String, Object> block = new LinkedHashMap<>();
        block.put("from", "terraform_data." + name + "_" + part.stepId());
        block.put("lifecycle", Map.of("destroy", false));
        blocks.add(block);
      }
    }
    TerraformStack.of(this).addOverride("removed", blocks);
  }

  /** Every part a worker node has ({@code <node>_<stepId>}), by resource name. */
  public static List<Component> workerParts() {
    return Arrays.stream(Component.values()).filter(c -> !c.headOnly())
        .sorted(Comparator.comparing(Component::stepId)).toList();
  }
}
