#!/usr/bin/env bash
# wheel-cache apply: the host's wheel cache directory (root only). Usage: apply.sh <stage-dir>
set -euo pipefail

# shellcheck source=cache.sh
source "$(dirname "${BASH_SOURCE[0]}")/cache.sh"

main() {
  local stage="${1:?usage: apply.sh <stage-dir>}"
  set_phase apply
  require_root
  load_env "$stage/$COMPONENT.env" "${WHEEL_CACHE_ENV_VARS[@]}"
  check_cache_dir
  install_component "$stage" "$COMPONENT"
  if [[ -e "$CACHE_DIR" && ! -f "$CACHE_DIR/.vllm-ray-cluster" ]]; then
    die "$CACHE_DIR exists and is not ours (no .vllm-ray-cluster marker): pick another path or remove it"
  fi
  install -d -m 0700 -o root -g root "$CACHE_DIR" "$CACHE_DIR/uv" "$CACHE_DIR/pip"
  [[ -f "$CACHE_DIR/.vllm-ray-cluster" ]] || echo "wheel cache of vllm-ray-cluster; removed by cdktf destroy" >"$CACHE_DIR/.vllm-ray-cluster"
  log "done: $CACHE_DIR ($(du -sh "$CACHE_DIR" 2>/dev/null | cut -f1) cached)"
}

main "$@"
