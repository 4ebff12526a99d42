#!/usr/bin/env bash
# firewall check: vrc-firewall.service active and the table as apply loaded it.
set -euo pipefail

readonly COMPONENT=firewall
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly HERE
# shellcheck source=../common/lib.sh
source "$HERE/../common/lib.sh"
# shellcheck source=firewall.sh
source "$HERE/firewall.sh"

main() {
  local listing
  set_phase check
  load_env "$VRC_ETC/$COMPONENT.env" "${FW_ENV_VARS[@]}"
  if [[ "$(fw_backend)" == none ]]; then
    log "ok: network.firewall_backend is none"
    return 0
  fi
  systemctl is-active --quiet "$FW_UNIT" || die "$FW_UNIT is $(systemctl is-active "$FW_UNIT" 2>&1)"
  systemctl is-enabled --quiet "$FW_UNIT" || die "$FW_UNIT is not enabled"
  listing="$(fw_table_listing)" || die "nftables table $FW_TABLE is missing"
  [[ -f "$FW_RECORD" && "$listing" == "$(<"$FW_RECORD")" ]] ||
    die "nftables table $FW_TABLE differs from what apply loaded ($FW_RECORD); re-run apply or systemctl restart $FW_UNIT"
  log "ok: $FW_UNIT active, table $FW_TABLE as loaded"
}

main "$@"
