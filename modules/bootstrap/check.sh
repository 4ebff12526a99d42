#!/usr/bin/env bash
# bootstrap check: service user, venv interpreter, pinned Ray and vLLM versions.
set -euo pipefail

# shellcheck source=state.sh
source "$(dirname "${BASH_SOURCE[0]}")/state.sh"

main() {
  local problems=() have want
  set_phase check
  load_env "$VRC_ETC/$COMPONENT.env" PYTHON VENV_PATH RAY_VERSION VLLM_VERSION SERVICE_USER
  id -u "$SERVICE_USER" >/dev/null 2>&1 || problems+=("service user $SERVICE_USER does not exist")
  want="$(python_minor "$PYTHON" 2>/dev/null)" || problems+=("interpreter $PYTHON does not run")
  if have="$(python_minor "$VENV_PATH/bin/python" 2>/dev/null)"; then
    [[ "$have" == "${want:-}" ]] || problems+=("venv $VENV_PATH has Python $have, $PYTHON is ${want:-missing}")
    have="$(pip_version ray)"
    version_matches "$have" "$RAY_VERSION" || problems+=("ray is '${have:-not installed}', expected $RAY_VERSION")
    have="$(pip_version vllm)"
    version_matches "$have" "$VLLM_VERSION" || problems+=("vllm is '${have:-not installed}', expected $VLLM_VERSION")
  else
    problems+=("no venv at $VENV_PATH")
  fi
  if ((${#problems[@]})); then
    for have in "${problems[@]}"; do err "$have"; done
    exit 1
  fi
  log "ok: user $SERVICE_USER, venv $VENV_PATH (Python $want), ray $(pip_version ray), vllm $(pip_version vllm)"
}

main "$@"
