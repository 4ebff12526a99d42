"""vllm stand-in: Ray "engine" (placement group + one worker actor per GPU bundle).

Mirrors what vLLM 0.9.2's Ray executor does at startup
(``vllm/executor/ray_utils.py:initialize_ray_cluster``): connect to the Ray
cluster, check that the driver's node has a GPU, create a placement group of
TP x PP bundles ``{"GPU": 1.0}`` with strategy PACK and bundle 0 pinned to the
driver's node (``node:<VLLM_HOST_IP>``), wait for it, then start one actor per
bundle with ``num_gpus=1``. The wait is bounded by VLLM_STANDIN_PG_TIMEOUT
(default 120 s; vLLM waits 1800 s).
"""
import logging
import os
import socket
import threading
import time
import uuid
from typing import List, Optional

import ray
from ray.util.placement_group import placement_group, remove_placement_group
from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

from vllm.standin.worker import StandinWorker

logger = logging.getLogger("vllm.standin.engine")


class StartupError(RuntimeError):
    """Startup failed; the message is meant for the operator (journal)."""


class StartupCancelled(Exception):
    """SIGTERM/SIGINT arrived during startup."""


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


class StandinEngine:
    def __init__(self, model: str, served_model_names: List[str], tp: int, pp: int,
                 max_model_len: int):
        self.model = model
        self.served_model_names = served_model_names
        self.tp = tp
        self.pp = pp
        self.world_size = tp * pp
        self.max_model_len = max_model_len
        self.pg = None
        self.actors = []
        self.placement: List[dict] = []
        self.host_ip: Optional[str] = None
        self.pg_timeout = _env_float("VLLM_STANDIN_PG_TIMEOUT", 120.0)
        self.actor_timeout = _env_float("VLLM_STANDIN_ACTOR_TIMEOUT", 120.0)
        self.request_timeout = _env_float("VLLM_STANDIN_REQUEST_TIMEOUT", 30.0)
        self.stop_event = threading.Event()

    def _check_stop(self) -> None:
        if self.stop_event.is_set():
            raise StartupCancelled()

    # ------------------------------------------------------------------ startup
    def _wait_gcs_reachable(self, address: str) -> None:
        """ray.init blocks (ignoring SIGTERM) while the GCS is unreachable; probe first."""
        host, sep, port = address.rpartition(":")
        if not sep or not port.isdigit() or "://" in address:
            return  # "auto" or another form: leave it to ray.init
        host = host.strip("[]")
        timeout = _env_float("VLLM_STANDIN_RAY_CONNECT_TIMEOUT", 60.0)
        deadline = time.monotonic() + timeout
        while True:
            self._check_stop()
            try:
                socket.create_connection((host, int(port)), timeout=2).close()
                return
            except OSError as e:
                if time.monotonic() >= deadline:
                    raise StartupError(
                        f"Cannot reach the Ray GCS at {address} (RAY_ADDRESS) within "
                        f"{timeout:g} s: {e}. Is the Ray head running?") from None
            time.sleep(1.0)

    def start(self, after_connect=None) -> None:
        address = os.environ.get("RAY_ADDRESS", "auto")
        logger.info("Connecting to Ray cluster at %s", address)
        self._wait_gcs_reachable(address)
        ray.init(address=address, logging_level=logging.WARNING)
        if after_connect is not None:  # ray.init replaces the SIGTERM handler
            after_connect()
        self._check_stop()
        node_id = ray.get_runtime_context().get_node_id()
        nodes = {n["NodeID"]: n for n in ray.nodes() if n.get("Alive")}
        me = nodes.get(node_id, {})
        self.host_ip = os.environ.get("VLLM_HOST_IP") or me.get("NodeManagerAddress") \
            or ray.util.get_node_ip_address()
        cluster_gpus = ray.cluster_resources().get("GPU", 0)
        logger.info("Ray cluster: %d alive node(s) %s, %g GPU(s) in total",
                    len(nodes), sorted(n["NodeManagerAddress"] for n in nodes.values()),
                    cluster_gpus)
        if self.world_size > cluster_gpus:
            logger.warning("The number of required GPUs exceeds the total number of "
                           "available GPUs in the placement group.")
        # vLLM: the engine is also a worker, so the driver's node needs a GPU.
        my_gpus = me.get("Resources", {}).get("GPU", 0)
        if my_gpus < 1:
            raise StartupError(
                f"Current node has no GPU available. current_node_resource="
                f"{me.get('Resources', {})}. vLLM engine cannot start without GPU. "
                f"Make sure you have at least 1 GPU available in a node "
                f"current_node_id={node_id!r} current_ip={self.host_ip!r}.")
        node_key = f"node:{self.host_ip}"
        if node_key not in ray.cluster_resources():
            logger.warning("VLLM_HOST_IP/driver IP %s is not the IP of any Ray node %s: bundle 0 "
                           "is pinned to %s and cannot be placed.", self.host_ip,
                           sorted(n["NodeManagerAddress"] for n in nodes.values()), node_key)

        specs = [{"GPU": 1.0} for _ in range(self.world_size)]
        specs[0][node_key] = 0.001
        logger.info("Creating a placement group of %d bundle(s) (strategy PACK): %s",
                    self.world_size, specs)
        self.pg = placement_group(specs, strategy="PACK",
                                  name=f"vllm-standin-{os.getpid()}-{uuid.uuid4().hex[:6]}")
        self._wait_pg_ready(specs)
        self._start_actors()

    def _wait_pg_ready(self, specs) -> None:
        ready_ref = self.pg.ready()
        start = time.monotonic()
        next_log = 10.0
        while True:
            elapsed = time.monotonic() - start
            remaining = self.pg_timeout - elapsed
            if remaining <= 0:
                break
            self._check_stop()
            ready, _ = ray.wait([ready_ref], timeout=min(0.5, remaining))
            if ready:
                logger.info("Placement group ready after %.1f s", time.monotonic() - start)
                return
            if time.monotonic() - start >= next_log:
                next_log *= 2
                logger.info(
                    "Waiting for creating a placement group of specs for %d seconds. specs=%s. "
                    "Check `ray status` and `ray list nodes` to see if you have enough resources, "
                    "and make sure the IP addresses used by ray cluster are the same as "
                    "VLLM_HOST_IP environment variable specified in each node if you are "
                    "running on a multi-node.", int(time.monotonic() - start), specs)
        total = ray.cluster_resources().get("GPU", 0)
        avail = ray.available_resources().get("GPU", 0)
        self._remove_pg()
        hint = ""
        if total >= self.world_size:
            hint = (f" The cluster has enough GPUs in total ({avail:g} available now): check that "
                    f"VLLM_HOST_IP ({self.host_ip}) is the Ray node IP of this host and that no "
                    f"other placement group holds the GPUs.")
        raise StartupError(
            f"Cannot provide a placement group of placement_group_specs={specs} within "
            f"{self.pg_timeout:g} seconds: tensor_parallel_size ({self.tp}) x "
            f"pipeline_parallel_size ({self.pp}) requires {self.world_size} GPUs but the Ray "
            f"cluster has {total:g}.{hint} See `ray status` and `ray list nodes` to make sure "
            f"the cluster has enough resources.")

    def _bundle_node_ips(self) -> dict:
        try:
            table = ray.util.placement_group_table(self.pg)
            ips = {n["NodeID"]: n["NodeManagerAddress"] for n in ray.nodes()}
            return {int(i): ips.get(nid, nid) for i, nid in table.get("bundles_to_node_id", {}).items()}
        except Exception:  # noqa: BLE001 - best effort, only for messages
            return {}

    def _start_actors(self) -> None:
        worker_cls = ray.remote(StandinWorker)
        for rank in range(self.world_size):
            strategy = PlacementGroupSchedulingStrategy(
                placement_group=self.pg, placement_group_capture_child_tasks=True,
                placement_group_bundle_index=rank)
            self.actors.append(worker_cls.options(
                num_cpus=0, num_gpus=1, max_restarts=0, scheduling_strategy=strategy,
            ).remote(rank, self.model, self.tp, self.pp))
        bundle_ips = self._bundle_node_ips()
        refs = [a.info.remote() for a in self.actors]
        infos = []
        deadline = time.monotonic() + self.actor_timeout
        for rank, ref in enumerate(refs):
            while time.monotonic() < deadline:
                self._check_stop()
                ready, _ = ray.wait([ref], timeout=0.5)
                if ready:
                    break
            try:
                infos.append(ray.get(ref, timeout=0))
            except Exception as e:  # noqa: BLE001
                raise StartupError(
                    f"vllm stand-in worker rank {rank} (placement bundle {rank} on node "
                    f"{bundle_ips.get(rank, '?')}) failed to start within "
                    f"{self.actor_timeout:g} s: {type(e).__name__}: {e}. Is the vllm stand-in "
                    f"installed in the Ray workers' Python environment on that node?") from None
        self.placement = infos
        for info in infos:
            logger.info("Placement: rank %d (tp_rank %d, pp_rank %d) -> node %s (%s, node_id %s) "
                        "gpu %s pid %d", info["rank"], info["tp_rank"], info["pp_rank"],
                        info["node_ip"], info["hostname"], info["node_id"][:12],
                        ",".join(info["gpu_ids"]) or "-", info["pid"])
        bad = [i for i in infos if not i["model_ok"]]
        if bad:
            raise StartupError(
                "The model must be at the same path on every node; it is not readable on: " +
                "; ".join(f"node {i['node_ip']} ({i['hostname']}, node_id {i['node_id'][:12]}, "
                          f"rank {i['rank']}): "
                          f"{i['model_error']}" for i in bad))
        logger.info("All %d worker(s) started on %d node(s); model %s readable on each",
                    len(infos), len(self.nodes()), self.model)

    # ------------------------------------------------------------------ serving
    def nodes(self) -> List[str]:
        return sorted({i["node_ip"] for i in self.placement})

    def placement_json(self) -> dict:
        return {
            "standin": True,
            "model": self.model,
            "served_model_name": self.served_model_names,
            "tensor_parallel_size": self.tp,
            "pipeline_parallel_size": self.pp,
            "world_size": self.world_size,
            "strategy": "PACK",
            "driver_ip": self.host_ip,
            "placement_group_id": self.pg.id.hex() if self.pg is not None else None,
            "nodes": self.nodes(),
            "ranks": self.placement,
        }

    def generate(self, request_id: str, prompt: str) -> List[dict]:
        refs = [a.generate.remote(request_id, prompt) for a in self.actors]
        return ray.get(refs, timeout=self.request_timeout)

    def check_health(self, timeout: float = 10.0) -> None:
        ray.get([a.ping.remote() for a in self.actors], timeout=timeout)

    # ------------------------------------------------------------------ shutdown
    def _remove_pg(self) -> None:
        if self.pg is not None:
            try:
                remove_placement_group(self.pg)
                logger.info("Removed placement group %s", self.pg.id.hex())
            except Exception as e:  # noqa: BLE001
                logger.warning("Could not remove placement group: %s", e)
            self.pg = None

    def shutdown(self) -> None:
        if not ray.is_initialized():
            return
        for a in self.actors:
            try:
                ray.kill(a)
            except Exception:  # noqa: BLE001
                pass
        self.actors = []
        self._remove_pg()
        try:
            ray.shutdown()
        except Exception:  # noqa: BLE001
            pass
