#!/usr/bin/env bash
# ray check: the unit is active and this node is alive in the cluster.
set -euo pipefail

# shellcheck source=ray.sh
source "$(dirname "${BASH_SOURCE[0]}")/ray.sh"

main() {
  local unit out
  set_phase check
  load_env "$VRC_ETC/$COMPONENT.env" "${RAY_ENV_VARS[@]}"
  unit="$(ray_unit)"
  require_active "$unit"
  [[ "$(stat -c %a "$RAY_TEMP_DIR" 2>/dev/null)" == 700 ]] || die "$RAY_TEMP_DIR is mode $(stat -c %a "$RAY_TEMP_DIR" 2>&1), expected 0700"
  out="$(ray_node_alive 2>&1)" || die "node $NODE_IP is not alive in the cluster at $HEAD_ADDRESS: $(tail -n 1 <<<"$out")"
  log "ok: $unit active, node $NODE_IP alive ($out)"
}

main "$@"
