#!/usr/bin/env bash
# bootstrap remove: the venv and the service user if we created them, the OS packages we
# installed, our state records.
set -euo pipefail

# shellcheck source=state.sh
source "$(dirname "${BASH_SOURCE[0]}")/state.sh"

remove_venv() {
  local venv
  [[ -f "$VENV_MARKER" ]] || return 0
  venv="$(<"$VENV_MARKER")"
  if [[ -f "$venv/pyvenv.cfg" ]]; then
    rm -rf "$venv"
    log "removed venv $venv"
  fi
  rm -f "$VENV_MARKER"
}

remove_user() {
  local user
  [[ -f "$USER_MARKER" ]] || return 0
  user="$(<"$USER_MARKER")"
  if id -u "$user" >/dev/null 2>&1; then
    [[ "$user" != root ]] || die "refusing to delete root"
    # Whatever still runs as our service user is ours (ray/vllm remove ran before).
    pkill -KILL -u "$user" 2>/dev/null || true
    wait_for 30 "processes of $user to exit" bash -c "! pgrep -u '$user' >/dev/null"
    userdel "$user"
    log "removed service user $user"
  fi
  rm -rf "$HOME_DIR"
  rm -f "$USER_MARKER"
}

main() {
  set_phase remove
  require_root
  if [[ -f "$VRC_ETC/$COMPONENT.env" ]]; then
    load_env "$VRC_ETC/$COMPONENT.env" OS_FAMILY
  else
    OS_FAMILY=auto
  fi
  remove_venv
  if [[ -d "$SERVICE_CACHE_DIR" ]]; then
    rm -rf --one-file-system "$SERVICE_CACHE_DIR"
    log "removed $SERVICE_CACHE_DIR (vLLM's compile caches)"
  fi
  rm -f "$INSTALL_RECORD"
  remove_user
  pkg_remove_recorded "$(detect_os_family)" "$PKG_RECORD"
  rm -f "$VRC_ETC/bootstrap.requirements.lock"
  uninstall_component "$COMPONENT" pip-credentials
  rmdir "$VRC_STATE" 2>/dev/null || true
  log "removed"
}

main "$@"
