#!/usr/bin/env bash
# firewall check: the backend apply used still holds our rules, and it is still the one apply
# would choose.
set -euo pipefail

# shellcheck source=firewall.sh
source "$(dirname "${BASH_SOURCE[0]}")/firewall.sh"

main() {
  local used
  set_phase check
  load_env "$VRC_ETC/$COMPONENT.env" "${FW_ENV_VARS[@]}"
  fw_choose >/dev/null
  if [[ "$FW_CHOSEN" == none ]]; then
    log "ok: network.firewall_backend is none"
    return 0
  fi
  used="$(fw_recorded_backend)" || die "no record of apply's backend ($FW_BACKEND_RECORD): run apply"
  [[ " ${FW_BACKENDS[*]} " == *" $used "* ]] || die "$FW_BACKEND_RECORD names '$used', not one of ${FW_BACKENDS[*]}"
  [[ "$used" == "$FW_CHOSEN" ]] ||
    die "apply put our rules into $used, but the host now calls for $FW_CHOSEN (a firewall was started or stopped since): run apply again"
  "${used}_check" || die "the $used rules are not in place (above)"
}

main "$@"
