"""vllm stand-in: the Ray executor and the Ray data-parallel backend of vLLM 0.33.0.

``Executor`` follows ``vllm/v1/executor/ray_utils.py:initialize_ray_cluster`` and
``ray_executor_v2.py:RayExecutorV2``: a placement group of TP x PP ``{"GPU": 1}`` bundles with
strategy PACK (0.33.0 no longer pins a bundle to the driver's node), or the placement group it was
given (a DP rank's); bundles ordered driver's node first; one worker actor per bundle (``num_cpus=0,
num_gpus=1``, ``RAY_EXPERIMENTAL_NOSET_CUDA_VISIBLE_DEVICES=1``); the driver's environment copied to
the workers but the non-carry-over names; the workers' ``run`` started and watched by a monitor
thread (``ray.wait`` every 5 s) that fails the executor when one ends.

``DataParallel`` follows ``vllm/v1/engine/utils.py:CoreEngineActorManager`` for
``--data-parallel-backend ray``: one placement group per DP rank, ``[{"GPU": 1, "node:<ip>": 0.001}]
x world_size + [{"CPU": 1, "node:<ip>": 0.001}]`` with STRICT_PACK, the DP master's node first and
given exactly ``--data-parallel-size-local`` ranks, the other nodes taking as many as fit
(``VLLM_RAY_DP_PACK_STRATEGY`` strict/fill); an engine actor per rank in the CPU bundle with the
copied environment as its ``runtime_env``; requests balanced over the ranks (fewest in flight,
rotating start); a monitor that treats an engine actor's death (``RayActorError``) as fatal.

Waits are bounded by VLLM_STANDIN_PG_TIMEOUT (default 120 s; vLLM waits 1800 s),
VLLM_STANDIN_ACTOR_TIMEOUT (120 s) and VLLM_STANDIN_REQUEST_TIMEOUT (30 s).
"""
import logging
import os
import threading
import time
import uuid
from collections import defaultdict
from typing import Callable, List, Optional

import ray
from ray.util.placement_group import placement_group, placement_group_table, remove_placement_group
from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

from vllm.standin import env as ray_env
from vllm.standin.worker import StandinEngineCoreActor, StandinWorkerProc

logger = logging.getLogger("vllm.standin.engine")
MONITOR_INTERVAL = 5.0


class StartupError(RuntimeError):
    """Startup failed; the message is meant for the operator (journal)."""


class StartupCancelled(Exception):
    """SIGTERM/SIGINT arrived during startup."""


class EngineDeadError(RuntimeError):
    """vLLM's EngineDeadError: the engine died, every request fails from now on."""


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


def _wait(refs, timeout: float, stop: Optional[threading.Event], what: str):
    """ray.get with a deadline that also gives way to a stop request."""
    deadline = time.monotonic() + timeout
    pending = list(refs)
    while pending:
        if stop is not None and stop.is_set():
            raise StartupCancelled()
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise StartupError(f"{what}: no answer within {timeout:g} s")
        _, pending = ray.wait(pending, num_returns=len(pending), timeout=min(0.5, remaining))
    return ray.get(list(refs))


class Executor:
    """One TP x PP engine's workers (vLLM's RayExecutorV2)."""

    def __init__(self, cfg: dict, dp_rank: int = 0, placement_group=None, in_actor: bool = False,
                 stop_event: Optional[threading.Event] = None):
        self.cfg = cfg
        self.tp, self.pp = cfg["tp"], cfg["pp"]
        self.world_size = self.tp * self.pp
        self.dp_rank = dp_rank
        self.pg = placement_group
        self.own_pg = placement_group is None
        self.in_actor = in_actor
        self.stop_event = stop_event or threading.Event()
        self.workers: List = []
        self.run_refs: List = []
        self.placement: List[dict] = []
        self.failed = False
        self.shutting_down = False
        self.failure_callback: Optional[Callable[[], None]] = None
        self.lock = threading.Lock()
        self.pg_timeout = _env_float("VLLM_STANDIN_PG_TIMEOUT", 120.0)
        self.actor_timeout = _env_float("VLLM_STANDIN_ACTOR_TIMEOUT", 120.0)
        self.request_timeout = _env_float("VLLM_STANDIN_REQUEST_TIMEOUT", 30.0)

    # ------------------------------------------------------------------ startup
    def _initialize_ray_cluster(self) -> None:
        if self.pg is not None:
            logger.info("Using the existing placement group")
            bundles = self.pg.bundle_specs
            devices = sum(1 for b in bundles if b.get("GPU"))
            if self.world_size > devices:
                raise StartupError(
                    f"The number of required GPUs exceeds the total number of available GPUs in the "
                    f"placement group. Required number of devices: {self.world_size}. Total number of "
                    f"devices: {devices}.")
            return
        logger.info("No current placement group found. Creating a new placement group.")
        if self.world_size > ray.cluster_resources().get("GPU", 0):
            logger.warning("The number of required GPUs exceeds the total number of available GPUs in "
                           "the placement group.")
        specs = [{"GPU": 1.0} for _ in range(self.world_size)]
        self.pg = placement_group(specs, strategy="PACK")
        self._wait_until_pg_ready(specs)

    def _wait_until_pg_ready(self, specs) -> None:
        ref = self.pg.ready()
        start = time.monotonic()
        interval, next_log = 10.0, 10.0
        while time.monotonic() - start < self.pg_timeout:
            if self.stop_event.is_set():
                raise StartupCancelled()
            ready, _ = ray.wait([ref], timeout=0.5)
            if ready:
                return
            if time.monotonic() - start >= next_log:
                interval *= 2
                next_log += interval
                logger.info(
                    "Waiting for creating a placement group of specs for %d seconds. specs=%s. Check "
                    "`ray status` and `ray list nodes` to see if you have enough resources, and make sure "
                    "the IP addresses used by ray cluster are the same as VLLM_HOST_IP environment "
                    "variable specified in each node if you are running on a multi-node.",
                    int(time.monotonic() - start), specs)
        total = sum(s.get("GPU", 0) for s in specs)
        self._remove_pg()
        raise StartupError(
            f"Cannot provide a placement group requiring {total:g} GPUs (placement_group_specs={specs}) "
            f"within {self.pg_timeout:g} seconds. Tensor parallel size may exceed available GPUs in your "
            f"cluster. Check resources with `ray status` and `ray list nodes`.")

    def _bundles_sorted_by_node(self):
        table = placement_group_table(self.pg)
        to_node = table["bundles_to_node_id"]
        ips = {n["NodeID"]: n["NodeManagerAddress"] for n in ray.nodes() if n["Alive"]}
        driver = ray.get_runtime_context().get_node_id()
        out = [(i, to_node.get(i), ips.get(to_node.get(i))) for i, b in enumerate(self.pg.bundle_specs) if b.get("GPU")]
        out.sort(key=lambda x: (0 if x[1] == driver else 1, x[1] or ""))
        per_node = defaultdict(int)
        for _, node, _ in out:
            per_node[node] += 1
        for node, n in per_node.items():
            if n < self.tp:
                logger.warning(
                    "tensor_parallel_size=%d is bigger than a reserved number of GPUs (%d GPUs) in a node %s. "
                    "Tensor parallel workers can be spread out to 2+ nodes which can degrade the performance "
                    "unless you have fast interconnect across nodes, like Infiniband.", self.tp, n, node)
        return out

    def _actor_name(self, rank: int) -> str:
        name = f"vllm_Worker_{self.cfg['instance_id']}" + (f"_dp{self.dp_rank}" if self.cfg.get("dp", 1) > 1 else "")
        if self.tp > 1:
            name += f"_TP{rank % self.tp}"
        if self.pp > 1:
            name += f"_PP{(rank // self.tp) % self.pp}"
        return name

    def start(self) -> None:
        self._initialize_ray_cluster()
        bundles = self._bundles_sorted_by_node()
        worker_cls = ray.remote(StandinWorkerProc)
        runtime_env = {"env_vars": {"RAY_EXPERIMENTAL_NOSET_CUDA_VISIBLE_DEVICES": "1"}}
        for rank, (bundle, _node, _ip) in enumerate(bundles[: self.world_size]):
            self.workers.append(worker_cls.options(
                name=self._actor_name(rank), num_cpus=0, num_gpus=1, max_restarts=0, max_concurrency=8,
                scheduling_strategy=PlacementGroupSchedulingStrategy(placement_group=self.pg,
                                                                     placement_group_bundle_index=bundle),
                runtime_env=runtime_env,
            ).remote(rank, self.cfg["model"], self.tp, self.pp, self.dp_rank, self.cfg.get("dtype") or "auto"))
        ids = _wait([w.get_node_and_physical_gpu_ids.remote() for w in self.workers], self.actor_timeout,
                    self.stop_event, "the workers' node and GPU ids (is the vllm stand-in installed in the "
                                     "Ray workers' Python environment on every node?)")
        node_workers, node_gpus = defaultdict(list), defaultdict(list)
        for i, (node, gpus) in enumerate(ids):
            node_workers[node].append(i)
            node_gpus[node].extend(gpus)
        driver_env = ray_env.driver_env_vars()
        ray_env.log_exclusions()
        init = []
        for i, (node, _) in enumerate(ids):
            init.append(self.workers[i].initialize_worker.remote(
                node_workers[node].index(i), {}, driver_env, sorted(node_gpus[node])))
        self.placement = _wait(init, self.actor_timeout, self.stop_event, "initialize_worker")
        bad = [p for p in self.placement if not p["model_ok"]]
        if bad:
            raise StartupError("The model must be at the same path on every node; it is not readable on: " +
                               "; ".join(f"node {p['node_ip']} ({p['hostname']}, rank {p['rank']}): {p['model_error']}"
                                         for p in bad))
        for p in self.placement:
            cache = p["compile_cache"]
            logger.info("Placement: DP %d rank %d (tp_rank %d, pp_rank %d) -> node %s (%s) gpu %s pid %d; "
                        "compile cache %s%s", p["dp_rank"], p["rank"], p["tp_rank"], p["pp_rank"], p["node_ip"],
                        p["hostname"], ",".join(p["gpu_ids"]) or "-", p["pid"], cache["path"],
                        " (reused)" if cache["reused"] else " (new)" if not cache["error"] else f" ({cache['error']})")
        self.run_refs = [w.run.remote() for w in self.workers]
        self._start_monitor()

    def _start_monitor(self) -> None:
        ref_to_rank = {ref: i for i, ref in enumerate(self.run_refs)}

        def monitor():
            while not self.shutting_down and ray.is_initialized():
                try:
                    done, _ = ray.wait(self.run_refs, num_returns=1, timeout=MONITOR_INTERVAL)
                except Exception:  # noqa: BLE001
                    logger.exception("RayWorkerMonitor: unexpected error, exiting monitor thread")
                    return
                if not done or self.shutting_down:
                    continue
                self.failed = True
                logger.error("RayWorkerProc rank=%s died unexpectedly, shutting down executor.",
                             [ref_to_rank[r] for r in done])
                self.shutdown()
                if self.failure_callback is not None:
                    self.failure_callback()
                return

        threading.Thread(target=monitor, daemon=True, name="RayWorkerMonitor").start()

    # ------------------------------------------------------------------ serving
    def nodes(self) -> List[str]:
        return sorted({p["node_ip"] for p in self.placement})

    def generate(self, request_id: str, prompt: str) -> List[dict]:
        if self.failed:
            raise EngineDeadError("EngineCore encountered an issue. See stack trace (above) for the root cause.")
        return ray.get([w.generate.remote(request_id, prompt) for w in self.workers], timeout=self.request_timeout)

    def placement_json(self) -> dict:
        return {"dp_rank": self.dp_rank, "placement_group_id": self.pg.id.hex() if self.pg is not None else None,
                "strategy": "PACK" if self.own_pg else "STRICT_PACK", "nodes": self.nodes(), "ranks": self.placement}

    # ------------------------------------------------------------------ shutdown
    def _remove_pg(self) -> None:
        if self.pg is not None and self.own_pg:
            try:
                remove_placement_group(self.pg)
            except Exception as e:  # noqa: BLE001
                logger.warning("Could not remove placement group: %s", e)
            self.pg = None

    def shutdown(self) -> None:
        with self.lock:
            if self.shutting_down:
                return
            self.shutting_down = True
        for w in self.workers:
            try:
                ray.kill(w)
            except Exception:  # noqa: BLE001
                pass
        self._remove_pg()


class DataParallel:
    """The DP ranks' engine actors and the load balancing over them (vLLM's CoreEngineActorManager
    plus the DP client's engine choice)."""

    def __init__(self, cfg: dict, stop_event: threading.Event):
        self.cfg = cfg
        self.dp = cfg["dp"]
        self.dp_local = cfg["dp_local"]
        self.world_size = cfg["tp"] * cfg["pp"]
        self.master_ip = cfg["dp_master_ip"]
        self.stop_event = stop_event
        self.pgs: List = []
        self.local_ranks: List[int] = []
        self.engines: List = []
        self.run_refs: List = []
        self.described: List[dict] = []
        self.dead: set = set()
        self.inflight = defaultdict(int)
        self.start_index = 0
        self.lock = threading.Lock()
        self.failed_proc_name: Optional[str] = None
        self.failure_callback: Optional[Callable[[], None]] = None
        self.stopped = False
        self.actor_timeout = _env_float("VLLM_STANDIN_ACTOR_TIMEOUT", 120.0) + _env_float("VLLM_STANDIN_PG_TIMEOUT", 120.0)
        self.request_timeout = _env_float("VLLM_STANDIN_REQUEST_TIMEOUT", 30.0)

    def create_dp_placement_groups(self) -> None:
        from ray._private.state import available_resources_per_node  # as vLLM 0.33.0 does
        logger.info("Creating placement groups for data parallel")
        strategy = os.environ.get("VLLM_RAY_DP_PACK_STRATEGY", "strict")
        if strategy not in ("strict", "fill"):
            raise StartupError(f"vllm stand-in: VLLM_RAY_DP_PACK_STRATEGY={strategy} is not implemented "
                               "(the stand-in does strict and fill)")
        master_key = f"node:{self.master_ip}"
        nodes = sorted(available_resources_per_node().items(), key=lambda item: master_key not in item[1])
        if not nodes or master_key not in nodes[0][1]:
            raise StartupError(f"The DP master node (ip: {self.master_ip}) is missing or dead")
        allowed = {ip.strip() for ip in os.environ.get("VLLM_RAY_DP_PLACEMENT_NODE_IPS", "").split(",") if ip.strip()}
        if allowed:
            allowed.add(self.master_ip)
            nodes = [n for n in nodes if self._ip(n[1]) in allowed]
        if not any("GPU" in r for _, r in nodes):
            raise StartupError("No GPU found in Ray cluster.")
        for _, resources in nodes:
            ip = self._ip(resources)
            available = int(resources.get("GPU", 0)) // self.world_size
            if ip == self.master_ip:
                if available < self.dp_local:
                    raise StartupError(f"Not enough resources to allocate {self.dp_local} DP ranks on DP master "
                                       f"node {self.master_ip}, possible to fit {available} DP ranks.")
                count = self.dp_local
            elif strategy == "strict":
                if available < self.dp_local:
                    logger.info("Skipping node %s as %s DP ranks could not fit, possible to fit %s DP ranks",
                                ip, self.dp_local, available)
                    continue
                count = self.dp_local
            else:
                count = available
            for i in range(count):
                bundles = [{"GPU": 1.0, f"node:{ip}": 0.001}] * self.world_size + [{"CPU": 1.0, f"node:{ip}": 0.001}]
                self.pgs.append(placement_group(name=f"dp_rank_{len(self.pgs)}", strategy="STRICT_PACK", bundles=bundles))
                self.local_ranks.append(i)
                if len(self.pgs) == self.dp:
                    return
        if len(self.pgs) < self.dp:
            raise StartupError(f"Not enough resources to allocate {self.dp} placement groups, only created "
                               f"{len(self.pgs)} placement groups. Available resources: "
                               f"{dict(available_resources_per_node())}")

    @staticmethod
    def _ip(resources: dict) -> Optional[str]:
        for key in resources:
            if key.startswith("node:") and key != "node:__internal_head__" and "_group_" not in key:
                return key.split(":", 1)[1]
        return None

    def start(self) -> None:
        self.create_dp_placement_groups()
        env_vars = ray_env.env_vars_to_copy("EngineCoreActor")
        actor_cls = ray.remote(StandinEngineCoreActor)
        for index, (pg, local) in enumerate(zip(self.pgs, self.local_ranks)):
            self.engines.append(actor_cls.options(
                max_concurrency=16, max_restarts=0,
                scheduling_strategy=PlacementGroupSchedulingStrategy(placement_group=pg,
                                                                     placement_group_bundle_index=self.world_size),
                runtime_env={"env_vars": env_vars},
            ).remote(self.cfg, index, local, pg))
        self.described = _wait([e.wait_for_init.remote() for e in self.engines], self.actor_timeout,
                               self.stop_event, "the data-parallel engine actors")
        for d in self.described:
            logger.info("DP rank %d (local %d): engine on %s, ranks on %s", d["dp_rank"], d["local_dp_rank"],
                        d["node_ip"], sorted({r["node_ip"] for r in d["ranks"]}))
        self.run_refs = [e.run.remote() for e in self.engines]
        threading.Thread(target=self._monitor, daemon=True, name="DPEngineMonitor").start()

    def _monitor(self) -> None:
        """monitor_engine_liveness: an engine actor's death is fatal; an engine whose run() raised
        (its executor failed) escapes the check, as in vLLM 0.33.0, and only its requests fail."""
        refs = list(self.run_refs)
        while refs and not self.stopped:
            done, _ = ray.wait(refs, num_returns=1, timeout=MONITOR_INTERVAL)
            for ref in done:
                refs.remove(ref)
                index = self.run_refs.index(ref)
                try:
                    ray.get(ref)
                except ray.exceptions.RayActorError:
                    if self.stopped:
                        return
                    self.failed_proc_name = f"Actor {ref} (DP rank {index})"
                    logger.error("Engine core process %s died unexpectedly.", self.failed_proc_name)
                    if self.failure_callback is not None:
                        self.failure_callback()
                    return
                except Exception as e:  # noqa: BLE001
                    self.dead.add(index)
                    logger.error("DP rank %d's engine stopped: %s: %s", index, type(e).__name__, e)

    def choose(self) -> int:
        with self.lock:
            n = len(self.engines)
            best, score = 0, None
            for i in range(n):
                idx = (self.start_index + i) % n
                s = self.inflight[idx]
                if score is None or s < score:
                    best, score = idx, s
            self.start_index = (self.start_index + 1) % n
            self.inflight[best] += 1
            return best

    def generate(self, request_id: str, prompt: str) -> List[dict]:
        index = self.choose()
        try:
            return ray.get(self.engines[index].generate.remote(request_id, prompt), timeout=self.request_timeout)
        finally:
            with self.lock:
                self.inflight[index] -= 1

    def nodes(self) -> List[str]:
        return sorted({r["node_ip"] for d in self.described for r in d["ranks"]})

    def placement_json(self) -> dict:
        tables = []
        for d, pg in zip(self.described, self.pgs):
            tables.append({**d, "placement_group": f"dp_rank_{d['dp_rank']}", "placement_group_id": pg.id.hex(),
                           "strategy": "STRICT_PACK", "bundles": [dict(b) for b in pg.bundle_specs]})
        return {"replicas": tables}

    def shutdown(self) -> None:
        self.stopped = True
        for e in self.engines:
            try:
                ray.get(e.stop.remote(), timeout=5)
            except Exception:  # noqa: BLE001
                pass
            try:
                ray.kill(e)
            except Exception:  # noqa: BLE001
                pass
        for pg in self.pgs:
            try:
                remove_placement_group(pg)
            except Exception:  # noqa: BLE001
                pass


def new_instance_id() -> str:
    return uuid.uuid4().hex[:8]
