#!/usr/bin/env bash
# watchdog check: the timer is active and the last probe is recent and did not fail.
set -euo pipefail

# shellcheck source=watchdog.sh
source "$(dirname "${BASH_SOURCE[0]}")/watchdog.sh"

main() {
  local state last
  set_phase check
  load_env "$VRC_ETC/$COMPONENT.env" "${WATCHDOG_ENV_VARS[@]}"
  require_active "$WATCHDOG_TIMER"
  [[ -f "$WATCHDOG_STATUS" ]] || die "no probe yet ($WATCHDOG_STATUS missing)"
  state="$(sed -n 's/^STATE=//p' "$WATCHDOG_STATUS")"
  last="$(sed -n 's/^LAST_PROBE=//p' "$WATCHDOG_STATUS")"
  (($(date +%s) - ${last:-0} <= 3 * INTERVAL_SECONDS + PROBE_TIMEOUT_SECONDS + 60)) || die "the last probe is older than three intervals"
  case "$state" in
    ok | degraded | starting | paused | restarted) log "ok: $state: $(sed -n 's/^DETAIL=//p' "$WATCHDOG_STATUS")" ;;
    *) die "$state: $(sed -n 's/^DETAIL=//p' "$WATCHDOG_STATUS")" ;;
  esac
}

main "$@"
