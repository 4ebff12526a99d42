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
  load_installed_env "${PROMETHEUS_ENV_VARS[@]}"
  unit_remove "$PROM_UNIT"
  rm -rf "$PROM_DIR" "$PROM_DATA"
  monitoring_package_remove "$PROM_PKG_RECORD" "$PROM_PACKAGE_UNIT_RECORD"
  release_step
  uninstall_component "$COMPONENT"
  log "removed"
}

main "$@"
