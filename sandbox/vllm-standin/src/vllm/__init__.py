"""vllm stand-in (0.9.2+standin).

NOT real vLLM. This package only imitates the interface of vLLM 0.9.2 that
vllm-ray-cluster uses: ``python -m vllm.entrypoints.openai.api_server`` with
the same flags, a Ray placement group of TP x PP ``{"GPU": 1}`` bundles with one
actor per bundle, and the OpenAI-compatible HTTP endpoints. It loads no
weights and generates no tokens.
"""
from vllm.version import __version__, __version_tuple__  # noqa: F401

STANDIN = True
