#!/usr/bin/env bash
# prometheus remove: our unit, our configuration and its data, and the package if we installed it.
# Usage: remove.sh [<resource id>]
set -euo pipefail

# shellcheck source=prometheus.sh
source "$(dirname "${BASH_SOURCE[0]}")/prometheus.sh"

main() {
  set_phase remove
  require_root
  if superseded "${1:-}"; then
    log "a newer prometheus step owns this node: nothing to remove"
    return 0
  fi
  if [[ -f "$VRC_ETC/$COMPONENT.env" ]]; then
    load_env "$VRC_ETC/$COMPONENT.env" "${PROMETHEUS_ENV_VARS[@]}"
  fi
  unit_remove "$PROM_UNIT"
  rm -rf "$PROM_DIR" "$PROM_DATA"
  if [[ -f "$PROM_PKG_RECORD" ]]; then
    pkg_remove_recorded "$(detect_os_family)" "$PROM_PKG_RECORD"
    rm -f "$PROM_PACKAGE_UNIT_RECORD"
  fi
  release_step
  uninstall_component "$COMPONENT"
  log "removed"
}

main "$@"
