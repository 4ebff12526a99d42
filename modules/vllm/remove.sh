#!/usr/bin/env bash
# vllm remove: stop and delete vrc-vllm.service, our config and the API key file.
set -euo pipefail

# shellcheck source=vllm.sh
source "$(dirname "${BASH_SOURCE[0]}")/vllm.sh"

main() {
  set_phase remove
  require_root
  load_installed_env
  unit_remove "$VLLM_UNIT"
  non_carry_over_remove
  # VLLM_CACHE_ROOT stays: the compile caches belong to the service user's persistent directory,
  # removed with the bootstrap (a vLLM-only replacement keeps them).
  uninstall_component "$COMPONENT" "$VLLM_SECRET"
  log "removed"
}

main "$@"
