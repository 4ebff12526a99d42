#!/usr/bin/env bash
# firewall remove: our rules out of every backend (whichever apply used, and any left from an
# earlier choice), then our unit and files. Each part is a no-op when it finds nothing of ours.
# Not when a newer firewall step has claimed the host since (a replacement, created before this
# one is destroyed): then the rules are that step's and stay.
# Usage: remove.sh [<resource id>]
set -euo pipefail

# shellcheck source=firewall.sh
source "$(dirname "${BASH_SOURCE[0]}")/firewall.sh"

main() {
  set_phase remove
  require_root
  if superseded "${1:-}"; then
    log "superseded by the firewall step $(step_owner) created in its place: its rules stay"
    return 0
  fi
  load_installed_env
  firewalld_remove
  ufw_remove
  rm -f "$FW_BACKEND_RECORD"
  release_step
  uninstall_component "$COMPONENT"
  rmdir "$VRC_STATE" 2>/dev/null || true
  log "removed"
}

main "$@"
