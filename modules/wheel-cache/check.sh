#!/usr/bin/env bash
# wheel-cache check: the cache directory is ours and root-only.
set -euo pipefail

# shellcheck source=cache.sh
source "$(dirname "${BASH_SOURCE[0]}")/cache.sh"

main() {
  set_phase check
  load_env "$VRC_ETC/$COMPONENT.env" "${WHEEL_CACHE_ENV_VARS[@]}"
  [[ -f "$CACHE_DIR/.vllm-ray-cluster" ]] || die "$CACHE_DIR is missing or not ours"
  [[ "$(stat -c '%a %U' "$CACHE_DIR")" == "700 root" ]] || die "$CACHE_DIR is $(stat -c '%a %U' "$CACHE_DIR"), expected 700 root"
  log "ok: $CACHE_DIR ($(du -sh "$CACHE_DIR" 2>/dev/null | cut -f1))"
}

main "$@"
