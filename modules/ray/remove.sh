#!/usr/bin/env bash
# ray remove: stop and delete the unit, end leftover Ray processes of the service user, delete
# Ray's temp dir and our files.
set -euo pipefail

# shellcheck source=ray.sh
source "$(dirname "${BASH_SOURCE[0]}")/ray.sh"

# What `ray stop` looks for, as process command lines.
readonly RAY_PROC_PATTERN='ray::|/raylet|/gcs_server|/site-packages/ray/|bin/ray start'

ray_procs() { pgrep -u "$SERVICE_USER" -f -- "$RAY_PROC_PATTERN" >/dev/null; }

stop_leftovers() {
  id -u "$SERVICE_USER" >/dev/null 2>&1 || return 0
  ray_procs || return 0
  if [[ -x "$VENV_PATH/bin/ray" ]]; then
    log "Ray processes left after the unit stopped: ray stop --force"
    ray_as_user "$VENV_PATH/bin/ray" stop --force >/dev/null 2>&1 || true
  fi
  if ray_procs; then
    log "killing leftover Ray processes of $SERVICE_USER"
    pkill -TERM -u "$SERVICE_USER" -f -- "$RAY_PROC_PATTERN" || true
    wait_for 10 "Ray processes to exit" bash -c '! "$@"' _ pgrep -u "$SERVICE_USER" -f -- "$RAY_PROC_PATTERN" ||
      pkill -KILL -u "$SERVICE_USER" -f -- "$RAY_PROC_PATTERN" || true
  fi
}

main() {
  set_phase remove
  require_root
  if [[ ! -f "$VRC_ETC/$COMPONENT.env" ]]; then
    log "no $VRC_ETC/$COMPONENT.env: nothing to remove"
    uninstall_component "$COMPONENT" "$RAY_TOKEN_NAME"
    return 0
  fi
  load_env "$VRC_ETC/$COMPONENT.env" "${RAY_ENV_VARS[@]}"
  check_service_user
  check_temp_dir
  unit_remove "$(ray_unit)"
  stop_leftovers
  if [[ -d "$RAY_TEMP_DIR" ]]; then
    rm -rf "$RAY_TEMP_DIR"
    log "deleted $RAY_TEMP_DIR"
  fi
  uninstall_component "$COMPONENT" "$RAY_TOKEN_NAME"
  log "removed"
}

main "$@"
