#!/usr/bin/env bash
# metrics remove: our units, the collectors' files, and the package if we installed it (the
# package's own unit, which we disabled, goes with it). Usage: remove.sh [<resource id>]
set -euo pipefail

# shellcheck source=metrics.sh
source "$(dirname "${BASH_SOURCE[0]}")/metrics.sh"

main() {
  set_phase remove
  require_root
  if superseded "${1:-}"; then
    log "a newer metrics step owns this node: nothing to remove"
    return 0
  fi
  load_installed_env "${METRICS_ENV_VARS[@]}"
  unit_remove "$COLLECTORS_TIMER"
  unit_remove "$COLLECTORS_SERVICE"
  unit_remove "$EXPORTER_UNIT"
  rm -rf "$TEXTFILE_DIR"
  rm -f "$GPU_SOURCE_RECORD"
  monitoring_package_remove "$METRICS_PKG_RECORD" "$PACKAGE_UNIT_RECORD"
  release_step
  uninstall_component "$COMPONENT"
  log "removed"
}

main "$@"
