#!/usr/bin/env bash
# watchdog remove: stop and delete the timer and the service, the status file and our files.
# Usage: remove.sh [<resource id>]
set -euo pipefail

# shellcheck source=watchdog.sh
source "$(dirname "${BASH_SOURCE[0]}")/watchdog.sh"

main() {
  set_phase remove
  require_root
  load_installed_env
  unit_remove "$WATCHDOG_TIMER"
  unit_remove "$WATCHDOG_SERVICE"
  rm -f "$WATCHDOG_STATUS" "$WATCHDOG_STATUS.tmp"
  rmdir "$VRC_STATE" 2>/dev/null || true
  uninstall_component "$COMPONENT"
  log "removed"
}

main "$@"
