#!/usr/bin/env bash
# model-store check: the model directory is complete (and exported / mounted).
set -euo pipefail

# shellcheck source=store.sh
source "$(dirname "${BASH_SOURCE[0]}")/store.sh"

main() {
  local unit want
  set_phase check
  load_env "$VRC_ETC/$COMPONENT.env" "${MS_ENV_VARS[@]}"
  case "$STORE_ROLE" in
    nfs_client)
      unit="$(mount_unit)"
      require_active "$unit"
      mountpoint -q "$MOUNT_PATH" || die "$MOUNT_PATH is not mounted"
      ;;
    nfs_server)
      [[ -f "$MS_EXPORTS" ]] || die "$MS_EXPORTS missing"
      systemctl is-active --quiet "$NFS_SERVER_UNIT" || die "$NFS_SERVER_UNIT is not active"
      exportfs -v | awk -v p="$MOUNT_PATH" '$1 == p { f = 1 } END { exit !f }' || die "$MOUNT_PATH is not exported (exportfs -v)"
      ;;
  esac
  [[ -f "$MODEL_DIR/.vrc-complete" ]] || die "$MODEL_DIR/.vrc-complete missing: the model is not (completely) there"
  want="$(ms_want /nonexistent)"
  [[ -z "$want" || "$(<"$MODEL_DIR/.vrc-complete")" == "$want" ]] ||
    die "$MODEL_DIR holds '$(<"$MODEL_DIR/.vrc-complete")', expected '$want'"
  log "ok: $MODEL_DIR ($STORAGE_MODE, $STORE_ROLE): $(cat "$MODEL_DIR/.vrc-complete" 2>/dev/null || echo present)"
}

main "$@"
