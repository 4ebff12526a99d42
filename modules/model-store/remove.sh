#!/usr/bin/env bash
# model-store remove: unmount / unexport, packages we installed; the model data only when
# DELETE_ON_DESTROY=true.
set -euo pipefail

# shellcheck source=store.sh
source "$(dirname "${BASH_SOURCE[0]}")/store.sh"

main() {
  set_phase remove
  require_root
  if [[ ! -f "$VRC_ETC/$COMPONENT.env" ]]; then
    log "no $VRC_ETC/$COMPONENT.env: nothing to remove"
    uninstall_component "$COMPONENT" "$MS_TOKEN_NAME"
    return 0
  fi
  load_env "$VRC_ETC/$COMPONENT.env" "${MS_ENV_VARS[@]}"
  ms_validate
  # The node that wrote the model deletes it only when asked to, before its mount goes.
  if [[ "$FETCH_MODEL" == true && "$DELETE_ON_DESTROY" == true && -d "$MODEL_DIR" ]]; then
    rm -rf "$MODEL_DIR"
    log "deleted $MODEL_DIR (DELETE_ON_DESTROY=true)"
  elif [[ "$FETCH_MODEL" == true && -d "$MODEL_DIR" ]]; then
    log "kept $MODEL_DIR (DELETE_ON_DESTROY=false)"
  fi
  case "$STORE_ROLE" in
    nfs_client) unit_remove "$(mount_unit)" ;;
    nfs_server)
      if [[ -f "$MS_EXPORTS" ]]; then
        rm -f "$MS_EXPORTS"
        ! command -v exportfs >/dev/null || exportfs -ra || warn "exportfs -ra failed"
        log "removed $MS_EXPORTS"
      fi
      if [[ -f "$MS_ENABLED_NFS" ]]; then
        systemctl disable --now --quiet "$NFS_SERVER_UNIT" || true
        rm -f "$MS_ENABLED_NFS"
      fi
      if [[ -f "$MS_NFS_CONF" ]]; then
        rm -f "$MS_NFS_CONF"
        log "removed $MS_NFS_CONF"
      fi
      ;;
  esac
  remove_created_mount_path
  rm -rf "$MS_HF_HOME"
  pkg_remove_recorded "$(detect_os_family)" "$MS_PKG_RECORD"
  uninstall_component "$COMPONENT" "$MS_TOKEN_NAME"
  rmdir "$VRC_STATE" 2>/dev/null || true
  log "removed"
}

main "$@"
