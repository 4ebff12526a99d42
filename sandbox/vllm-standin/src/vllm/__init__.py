"""vllm stand-in (0.33.0+standin): for test hosts only.

NOT real vLLM. This package imitates the interface of vLLM 0.33.0 that
vllm-ray-cluster uses: the ``vllm serve MODEL ...`` console script accepting
exactly 0.33.0's options (read from the fixture tools/vllm-flags wrote from the
real wheel), the Ray executor's placement of TP x PP GPU bundles, the Ray
data-parallel backend's DP x TP x PP placement groups answering through one
API, the driver-to-worker environment copy with its non-carry-over list, the
OpenAI-compatible endpoints and the API-key rule. It loads no weights and
generates no tokens. See sandbox/vllm-standin/WHY.md.
"""
from vllm.version import __version__, __version_tuple__  # noqa: F401

STANDIN = True
