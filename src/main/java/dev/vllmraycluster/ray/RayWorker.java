package dev.vllmraycluster.ray;

import com.hashicorp.cdktf.ITerraformDependable;
import dev.vllmraycluster.node.GpuNode;
import dev.vllmraycluster.node.HostStep;
import dev.vllmraycluster.node.ProjectLayout;
import dev.vllmraycluster.spec.ClusterSpec;
import java.util.List;

/**
 * A Ray worker ({@code vrc-ray-worker.service}) joining the head; replaced with the head, so a
 * new head always gets its workers back.
 */
public class RayWorker extends RayNode {
  public RayWorker(
      GpuNode node,
      ProjectLayout layout,
      ClusterSpec cluster,
      List<ITerraformDependable> after,
      List<HostStep> restartsWith) {
    super(node, layout, cluster, RayArgs.worker(cluster, node.spec()), after, restartsWith);
  }
}
