"""vllm stand-in: the Ray actors (one per GPU bundle, and one engine per data-parallel rank).

``StandinWorkerProc`` stands in for vLLM 0.33.0's ``RayWorkerProc``: created light in its bundle,
asked for its node and GPU ids, then ``initialize_worker`` applies the driver's environment with
``os.environ.setdefault`` (as vLLM does), checks the model directory on its node and opens its
compile cache under ``VLLM_CACHE_ROOT``; ``run`` is its busy loop, whose end the driver's monitor
takes as the worker's death. It loads no model: ``generate`` answers with where it runs.

``StandinEngineCoreActor`` stands in for ``EngineCoreActor`` (data parallelism with
``--data-parallel-backend ray``): one per DP rank, in the CPU bundle of its rank's placement
group, running a TP x PP executor of its own on that group's GPU bundles.

This module must be importable by the Ray workers on every node (install the stand-in wheel in
the Ray workers' Python environment, as real vLLM must be).
"""
import hashlib
import json
import os
import socket
import threading
import time

import ray

SECRET_NAMES = ("VLLM_API_KEY", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")


def _check_model_dir(model: str):
    try:
        if not os.path.isdir(model):
            raise FileNotFoundError(f"{model} is not a directory")
        with open(os.path.join(model, "config.json"), encoding="utf-8") as f:
            json.load(f)
        return True, None
    except Exception as e:  # noqa: BLE001 - reported to the driver
        return False, f"{type(e).__name__}: {e}"


def cache_root() -> str:
    default = os.path.join(os.getenv("XDG_CACHE_HOME", os.path.join(os.path.expanduser("~"), ".cache")), "vllm")
    return os.path.expanduser(os.getenv("VLLM_CACHE_ROOT", default))


def compile_cache(model: str, tp: int, pp: int, dtype: str, rank_dir: str) -> dict:
    """vLLM keeps torch.compile artefacts in VLLM_CACHE_ROOT/torch_compile_cache/<hash>/rank_<r>_<dp>,
    the hash covering the model and the parallel layout: the stand-in writes a marker there the first
    time and reports, on later starts, that it found it (what a kept cache saves real vLLM is the
    compilation)."""
    try:
        with open(os.path.join(model, "config.json"), "rb") as f:
            config = f.read()
    except OSError:
        config = b""
    digest = hashlib.sha256(config + f"|tp={tp}|pp={pp}|dtype={dtype}".encode()).hexdigest()[:10]
    path = os.path.join(cache_root(), "torch_compile_cache", digest, rank_dir)
    marker = os.path.join(path, "standin-compiled.json")
    try:
        if os.path.isfile(marker):
            with open(marker, encoding="utf-8") as f:
                created = json.load(f).get("created")
            return {"path": path, "reused": True, "created": created, "error": None}
        os.makedirs(path, exist_ok=True)
        created = time.time()
        with open(marker + ".tmp", "w", encoding="utf-8") as f:
            json.dump({"created": created, "model": model, "standin": True}, f)
        os.replace(marker + ".tmp", marker)
        return {"path": path, "reused": False, "created": created, "error": None}
    except OSError as e:
        return {"path": path, "reused": False, "created": None, "error": f"{type(e).__name__}: {e}"}


class StandinWorkerProc:
    """One rank of a TP x PP world (vLLM's RayWorkerProc)."""

    def __init__(self, rank: int, model: str, tp: int, pp: int, dp_rank: int, dtype: str):
        self.rank, self.model, self.tp, self.pp, self.dp_rank, self.dtype = rank, model, tp, pp, dp_rank, dtype
        self.tp_rank = rank % tp
        self.pp_rank = (rank // tp) % pp
        self.local_rank = -1
        self.requests = 0
        self.stop_event = threading.Event()
        self.cache = None
        self.received = []

    def get_node_and_physical_gpu_ids(self):
        ids = ray.get_runtime_context().get_accelerator_ids().get("GPU", [])
        return ray.get_runtime_context().get_node_id(), [int(x) for x in ids]

    def initialize_worker(self, local_rank: int, env_vars: dict, driver_env_vars: dict, gpu_ids: list) -> dict:
        for k, v in (driver_env_vars or {}).items():
            os.environ.setdefault(k, v)
        for k, v in (env_vars or {}).items():
            os.environ[k] = v
        self.received = sorted(driver_env_vars or {})
        self.local_rank = local_rank
        self.node_gpu_ids = gpu_ids  # the node's logical-to-physical map, as vLLM passes it
        self.gpu_ids = [str(g) for g in ray.get_runtime_context().get_accelerator_ids().get("GPU", [])]
        self.cache = compile_cache(self.model, self.tp, self.pp, self.dtype,
                                   f"rank_{self.tp_rank}_{self.pp_rank}_dp{self.dp_rank}")
        return self.info()

    def info(self) -> dict:
        ok, err = _check_model_dir(self.model)
        return {
            "rank": self.rank, "tp_rank": self.tp_rank, "pp_rank": self.pp_rank, "dp_rank": self.dp_rank,
            "local_rank": self.local_rank,
            "node_ip": ray.util.get_node_ip_address(), "hostname": socket.gethostname(),
            "node_id": ray.get_runtime_context().get_node_id(),
            "gpu_ids": [str(g) for g in ray.get_runtime_context().get_accelerator_ids().get("GPU", [])],
            "pid": os.getpid(), "model": self.model, "model_ok": ok, "model_error": err,
            "compile_cache": self.cache,
            # What reached this process (names only): the e2e test proves no secret did.
            "env_received": len(self.received),
            "secrets_in_environ": [n for n in SECRET_NAMES if n in os.environ],
        }

    def run(self) -> None:
        """The busy loop: returns on a requested stop; the actor's death ends it with an error."""
        self.stop_event.wait()

    def stop(self) -> None:
        self.stop_event.set()

    def ping(self) -> int:
        return self.rank

    def generate(self, request_id: str, prompt: str) -> dict:
        self.requests += 1
        gpu = ",".join(getattr(self, "gpu_ids", [])) or "-"
        return {"rank": self.rank, "dp_rank": self.dp_rank, "node_ip": ray.util.get_node_ip_address(),
                "hostname": socket.gethostname(),
                "fragment": f"rank {self.rank} on {ray.util.get_node_ip_address()} gpu {gpu}",
                "requests_served": self.requests, "time": time.time()}


class StandinEngineCoreActor:
    """One data-parallel rank (vLLM's EngineCoreActor): its own TP x PP executor on the GPU bundles
    of the placement group it was scheduled in."""

    def __init__(self, cfg: dict, dp_rank: int, local_dp_rank: int, placement_group):
        from vllm.standin.engine import Executor  # noqa: PLC0415 - imported in the actor process
        self.dp_rank, self.local_dp_rank = dp_rank, local_dp_rank
        self.executor = Executor(cfg, dp_rank=dp_rank, placement_group=placement_group, in_actor=True)
        self.stopped = threading.Event()
        self.started = False

    def wait_for_init(self) -> dict:
        self.executor.start()
        self.started = True
        return self.describe()

    def describe(self) -> dict:
        return {"dp_rank": self.dp_rank, "local_dp_rank": self.local_dp_rank,
                "node_ip": ray.util.get_node_ip_address(), "hostname": socket.gethostname(),
                "pid": os.getpid(), "secrets_in_environ": [n for n in SECRET_NAMES if n in os.environ],
                "ranks": self.executor.placement}

    def run(self) -> None:
        """The engine busy loop: ends when asked to stop, or raises when the executor failed."""
        while not self.stopped.wait(0.5):
            if self.executor.failed:
                raise RuntimeError("Executor failed.")
        self.executor.shutdown()

    def stop(self) -> None:
        self.stopped.set()

    def generate(self, request_id: str, prompt: str):
        return self.executor.generate(request_id, prompt)
