#!/usr/bin/env bash
# firewall remove: stop and delete vrc-firewall.service, delete the table and our files.
set -euo pipefail

readonly COMPONENT=firewall
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly HERE
# shellcheck source=../common/lib.sh
source "$HERE/../common/lib.sh"
# shellcheck source=firewall.sh
source "$HERE/firewall.sh"

main() {
  set_phase remove
  require_root
  [[ ! -f "$VRC_ETC/$COMPONENT.env" ]] || load_env "$VRC_ETC/$COMPONENT.env"
  unit_remove "$FW_UNIT"
  if command -v nft >/dev/null && fw_table_listing >/dev/null; then
    nft delete table "$FW_TABLE"
    log "deleted table $FW_TABLE"
  fi
  rm -f "$FW_FILE" "$FW_RECORD"
  uninstall_component "$COMPONENT"
  rmdir "$VRC_STATE" 2>/dev/null || true
  log "removed"
}

main "$@"
