#!/usr/bin/env bash
# ExecStart of vrc-vllm.service, run as the service user with vllm.env (and the optional
# secrets/vllm.env holding VLLM_API_KEY) in the environment. vllm.args holds the arguments after
# `python -m vllm.entrypoints.openai.api_server`, one per line. Not exec: see supervise in
# common/lib.sh.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly HERE
# shellcheck source=../common/lib.sh
source "$HERE/../common/lib.sh"

readonly ARGS_FILE="$VRC_ETC/vllm.args"

main() {
  local i args=()
  : "${VENV_PATH:?VENV_PATH is not set (EnvironmentFile=/etc/vllm-ray-cluster/vllm.env)}"
  if [[ "${RAY_AUTH_MODE:-disabled}" == token ]]; then
    export RAY_AUTH_MODE RAY_AUTH_TOKEN_PATH=/etc/vllm-ray-cluster/secrets/ray-token
  fi
  if [[ -n "${NETWORK_INTERFACE:-}" ]]; then
    export NCCL_SOCKET_IFNAME="$NETWORK_INTERFACE" GLOO_SOCKET_IFNAME="$NETWORK_INTERFACE"
  fi
  # Empty values mean "not set": vLLM and Ray would otherwise see empty strings.
  if [[ -n "${VLLM_HOST_IP:-}" ]]; then export VLLM_HOST_IP; else unset VLLM_HOST_IP; fi
  if [[ -n "${RAY_ADDRESS:-}" ]]; then export RAY_ADDRESS; else unset RAY_ADDRESS; fi
  mapfile -t args <"$ARGS_FILE"
  for i in "${!args[@]}"; do [[ -n "${args[i]}" ]] || unset 'args[i]'; done
  supervise "$VENV_PATH/bin/python" -m vllm.entrypoints.openai.api_server "${args[@]}"
}

main "$@"
