#!/usr/bin/env bash
# proxy remove: stop and delete vrc-proxy.service, its configuration, the key lines, the TLS material
# (the CA too), and HAProxy when we installed it. A replaced step (superseded) leaves all of it.
# Usage: remove.sh [resource-id]
set -euo pipefail

# shellcheck source=proxy.sh
source "$(dirname "${BASH_SOURCE[0]}")/proxy.sh"

main() {
  local id="${1:-}" family
  set_phase remove
  require_root
  load_installed_env
  if superseded "$id"; then
    log "superseded by $(step_owner): its replacement serves the API now, nothing removed"
    return 0
  fi
  unit_remove "$PROXY_UNIT"
  rm -f "$PROXY_CFG"
  rm -rf "${TLS_DIR:?}"
  uninstall_component "$COMPONENT" "$PROXY_AUTH" "$PROXY_TLS_CERT" "$PROXY_TLS_KEY"
  if [[ -f "$PROXY_PACKAGES" ]]; then
    family="$(detect_os_family)"
    pkg_remove_recorded "$family" "$PROXY_PACKAGES"
  fi
  release_step
  rmdir "$VRC_STATE" 2>/dev/null || true
  log "removed"
}

main "$@"
