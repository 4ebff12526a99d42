package dev.vllmraycluster.ray;

import dev.vllmraycluster.node.GpuNode;
import java.util.Objects;

/**
 * A Ray worker ({@code vrc-ray-worker.service}) joining the head; replaced with the head, so a
 * new head always gets its workers back.
 */
public class RayWorker extends RayNode {
  /**
   * @param node the worker node (its scope)
   * @param id {@code ray}: the resource is {@code <worker>_ray}
   * @param props with {@link RayNodeProps#head()} set
   */
  public RayWorker(GpuNode node, String id, RayNodeProps props) {
    super(node, id, requireHead(props), RayArgs.worker(props.cluster(), node.spec()));
  }

  private static RayNodeProps requireHead(RayNodeProps props) {
    Objects.requireNonNull(props.head(), "a RayWorker needs RayNodeProps.head: the Ray head it joins");
    return props;
  }
}
