"""vllm stand-in: which environment variables reach the Ray actors, as in vLLM 0.33.0.

* ``vllm/ray/ray_env.py``: the names in ``<VLLM_CONFIG_ROOT>/ray_non_carry_over_env_vars.json`` (a
  JSON list; VLLM_CONFIG_ROOT defaults to ``$XDG_CONFIG_HOME/vllm``, else ``~/.config/vllm``) are
  never copied. The file is read once, when the module is imported, in the driver process.
* ``RayExecutorV2`` (TP x PP workers, ``vllm/v1/executor/ray_env_utils.py``): *every* variable of
  the driver's environment is sent to each worker, except ``WORKER_SPECIFIC_ENV_VARS`` and the
  non-carry-over names; the worker applies them with ``os.environ.setdefault``.
* ``CoreEngineActorManager`` (the data-parallel engine actors, ``vllm/v1/engine/utils.py``): the
  variables vLLM registers or that start with ``VLLM_``, ``NCCL_``, ``HF_``... (plus
  ``PYTHONHASHSEED``), minus the same exclusions, as the actor's Ray ``runtime_env`` (so they are
  in the engine actor process's own environment from its start).
"""
import json
import logging
import os
from typing import Dict, Set

logger = logging.getLogger("vllm.standin.env")

WORKER_SPECIFIC_ENV_VARS: Set[str] = {
    "VLLM_HOST_IP", "VLLM_HOST_PORT", "VLLM_NIXL_SIDE_CHANNEL_HOST", "LOCAL_RANK",
    "CUDA_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES",
}
DEFAULT_ENV_VAR_PREFIXES: Set[str] = {"VLLM_", "FLASH_ATTENTION_", "LMCACHE_", "NCCL_", "UCX_", "HF_",
                                      "HUGGING_FACE_"}
DEFAULT_EXTRA_ENV_VARS: Set[str] = {"PYTHONHASHSEED"}


def config_root() -> str:
    default = os.path.join(os.getenv("XDG_CONFIG_HOME", os.path.join(os.path.expanduser("~"), ".config")), "vllm")
    return os.path.expanduser(os.getenv("VLLM_CONFIG_ROOT", default))


RAY_NON_CARRY_OVER_ENV_VARS_FILE = os.path.join(config_root(), "ray_non_carry_over_env_vars.json")


def _read_non_carry_over() -> Set[str]:
    try:
        if os.path.exists(RAY_NON_CARRY_OVER_ENV_VARS_FILE):
            with open(RAY_NON_CARRY_OVER_ENV_VARS_FILE) as f:
                return set(json.load(f))
    except json.JSONDecodeError:
        logger.warning("Failed to parse %s. Using an empty set for non-carry-over env vars.",
                       RAY_NON_CARRY_OVER_ENV_VARS_FILE)
    return set()


RAY_NON_CARRY_OVER_ENV_VARS: Set[str] = _read_non_carry_over()


def _csv(value: str) -> Set[str]:
    return {t.strip() for t in value.split(",") if t.strip()}


def driver_env_vars() -> Dict[str, str]:
    """RayExecutorV2: everything but worker-specific and non-carry-over names."""
    exclude = WORKER_SPECIFIC_ENV_VARS | RAY_NON_CARRY_OVER_ENV_VARS
    return {k: v for k, v in os.environ.items() if k not in exclude}


def env_vars_to_copy(destination: str) -> Dict[str, str]:
    """CoreEngineActorManager: the prefix rule (the stand-in registers no list of its own, so
    vLLM's registered names are approximated by the VLLM_ prefix they all carry)."""
    prefixes = DEFAULT_ENV_VAR_PREFIXES | _csv(os.getenv("VLLM_RAY_EXTRA_ENV_VAR_PREFIXES_TO_COPY", ""))
    names = {n for n in os.environ if any(n.startswith(p) for p in prefixes)}
    names |= DEFAULT_EXTRA_ENV_VARS | _csv(os.getenv("VLLM_RAY_EXTRA_ENV_VARS_TO_COPY", ""))
    names -= WORKER_SPECIFIC_ENV_VARS | RAY_NON_CARRY_OVER_ENV_VARS
    logger.info("Env var prefixes to copy: %s", sorted(prefixes))
    logger.info("Copying the following environment variables to %s: %s", destination,
                sorted(n for n in names if n in os.environ))
    log_exclusions()
    return {n: os.environ[n] for n in names if n in os.environ}


def log_exclusions() -> None:
    if RAY_NON_CARRY_OVER_ENV_VARS:
        logger.info("RAY_NON_CARRY_OVER_ENV_VARS from config: %s", sorted(RAY_NON_CARRY_OVER_ENV_VARS))
    logger.info("To exclude env vars from copying, add them to %s", RAY_NON_CARRY_OVER_ENV_VARS_FILE)
