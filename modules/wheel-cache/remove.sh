#!/usr/bin/env bash
# wheel-cache remove: the cache directory (ours: it holds our marker) and our config.
set -euo pipefail

# shellcheck source=cache.sh
source "$(dirname "${BASH_SOURCE[0]}")/cache.sh"

main() {
  set_phase remove
  require_root
  if [[ -f "$VRC_ETC/$COMPONENT.env" ]]; then
    load_env "$VRC_ETC/$COMPONENT.env" "${WHEEL_CACHE_ENV_VARS[@]}"
    check_cache_dir
    if [[ -f "$CACHE_DIR/.vllm-ray-cluster" ]]; then
      rm -rf --one-file-system "$CACHE_DIR"
      log "deleted $CACHE_DIR"
    fi
  fi
  uninstall_component "$COMPONENT"
  log "removed"
}

main "$@"
