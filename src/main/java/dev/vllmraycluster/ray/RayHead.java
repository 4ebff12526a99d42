package dev.vllmraycluster.ray;

import com.hashicorp.cdktf.ITerraformDependable;
import dev.vllmraycluster.node.GpuNode;
import dev.vllmraycluster.node.HostStep;
import dev.vllmraycluster.node.ProjectLayout;
import dev.vllmraycluster.spec.ClusterSpec;
import java.util.List;

/**
 * The Ray head ({@code vrc-ray-head.service}): GCS on the head's cluster address, the dashboard
 * on 127.0.0.1 unless the stack says otherwise, the declared GPUs as Ray resources.
 */
public class RayHead extends RayNode {
  public RayHead(
      GpuNode node,
      ProjectLayout layout,
      ClusterSpec cluster,
      List<ITerraformDependable> after,
      List<HostStep> restartsWith) {
    super(node, layout, cluster, RayArgs.head(cluster, node.spec()), after, restartsWith);
  }
}
