#!/usr/bin/env bash
# ExecStart of vrc-vllm.service, run as the service user with vllm.env (and the optional
# secrets/vllm.env holding VLLM_API_KEY) in the environment. vllm.args holds the arguments after
# `vllm serve` (the model directory first), one per line. Not exec: see supervise in common/lib.sh.
set -euo pipefail

# shellcheck source=vllm.sh
source "$(dirname "${BASH_SOURCE[0]}")/vllm.sh"

main() {
  service_prepare
  # Empty values mean "not set": vLLM and Ray would otherwise see empty strings.
  if [[ -n "${VLLM_HOST_IP:-}" ]]; then export VLLM_HOST_IP; else unset VLLM_HOST_IP; fi
  if [[ -n "${RAY_ADDRESS:-}" ]]; then export RAY_ADDRESS; else unset RAY_ADDRESS; fi
  [[ -x "$VENV_PATH/bin/vllm" ]] || die "$VENV_PATH/bin/vllm missing: the bootstrap installs vLLM there"
  supervise "$VENV_PATH/bin/vllm" serve "${SERVICE_ARGS[@]}"
}

main "$@"
