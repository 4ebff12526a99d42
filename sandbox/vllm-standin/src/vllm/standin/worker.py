"""vllm stand-in: the Ray worker actor (one per placement-group bundle / GPU).

Stands in for vLLM's ``RayWorkerWrapper``. It loads no model; it reports where
it runs (node IP, hostname, Ray GPU ids) and whether the model directory is
readable on its node, and answers "generate" calls with a fragment naming its
rank and node. This module must be importable by the Ray workers on every
node (install the stand-in wheel in the Ray workers' Python environment, as
real vLLM must be).
"""
import json
import os
import socket
import time

import ray


def _check_model_dir(model: str):
    """Return (ok, error) for ``model`` being a directory with a readable config.json."""
    try:
        if not os.path.isdir(model):
            raise FileNotFoundError(f"{model} is not a directory")
        with open(os.path.join(model, "config.json"), encoding="utf-8") as f:
            json.load(f)
        return True, None
    except Exception as e:  # noqa: BLE001 - reported to the driver
        return False, f"{type(e).__name__}: {e}"


class StandinWorker:
    """vllm stand-in worker: one rank of the TP x PP world."""

    def __init__(self, rank: int, model: str, tp: int, pp: int):
        self.rank = rank
        self.model = model
        self.tp_rank = rank % tp
        self.pp_rank = rank // tp
        self.node_ip = ray.util.get_node_ip_address()
        self.hostname = socket.gethostname()
        self.gpu_ids = [str(g) for g in ray.get_gpu_ids()]
        self.requests = 0

    def info(self) -> dict:
        ok, err = _check_model_dir(self.model)
        return {
            "rank": self.rank,
            "tp_rank": self.tp_rank,
            "pp_rank": self.pp_rank,
            "node_ip": self.node_ip,
            "hostname": self.hostname,
            "node_id": ray.get_runtime_context().get_node_id(),
            "gpu_ids": self.gpu_ids,
            "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
            "pid": os.getpid(),
            "model": self.model,
            "model_ok": ok,
            "model_error": err,
        }

    def ping(self) -> int:
        return self.rank

    def generate(self, request_id: str, prompt: str) -> dict:
        self.requests += 1
        gpu = ",".join(self.gpu_ids) or "-"
        return {
            "rank": self.rank,
            "node_ip": self.node_ip,
            "hostname": self.hostname,
            "gpu_ids": self.gpu_ids,
            "fragment": f"rank {self.rank} on {self.node_ip} gpu {gpu}",
            "requests_served": self.requests,
            "time": time.time(),
        }
