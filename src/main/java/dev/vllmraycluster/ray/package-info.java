/** The Ray head and workers as systemd services ({@link dev.vllmraycluster.ray.RayHead}, {@link dev.vllmraycluster.ray.RayWorker}) with every port pinned. */
package dev.vllmraycluster.ray;
