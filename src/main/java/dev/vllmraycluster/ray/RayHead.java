package dev.vllmraycluster.ray;

import dev.vllmraycluster.node.GpuNode;

/**
 * The Ray head ({@code vrc-ray-head.service}): GCS on the head's cluster address, the dashboard
 * on 127.0.0.1 unless the stack says otherwise, the declared GPUs as Ray resources.
 */
public class RayHead extends RayNode {
  /**
   * @param node the head node (its scope)
   * @param id {@code ray}: the resource is {@code <head>_ray}
   */
  public RayHead(GpuNode node, String id, RayNodeProps props) {
    super(node, id, props, RayArgs.head(props.cluster(), node.spec()));
  }
}
