#!/usr/bin/env bash
# ExecStart of vrc-ray-{head,worker}.service, run as the service user with ray.env in
# the environment. ray.args holds the arguments after `ray start --block`, one per line. Not
# exec: see supervise in common/lib.sh.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly HERE
# shellcheck source=../common/lib.sh
source "$HERE/../common/lib.sh"

readonly ARGS_FILE="$VRC_ETC/ray.args"

main() {
  local i args=()
  : "${VENV_PATH:?VENV_PATH is not set (EnvironmentFile=/etc/vllm-ray-cluster/ray.env)}"
  if [[ "${RAY_AUTH_MODE:-disabled}" == token ]]; then
    export RAY_AUTH_MODE RAY_AUTH_TOKEN_PATH=/etc/vllm-ray-cluster/secrets/ray-token
  fi
  if [[ -n "${NETWORK_INTERFACE:-}" ]]; then
    export NCCL_SOCKET_IFNAME="$NETWORK_INTERFACE" GLOO_SOCKET_IFNAME="$NETWORK_INTERFACE"
  fi
  mapfile -t args <"$ARGS_FILE"
  for i in "${!args[@]}"; do [[ -n "${args[i]}" ]] || unset 'args[i]'; done
  supervise "$VENV_PATH/bin/ray" start --block "${args[@]}"
}

main "$@"
