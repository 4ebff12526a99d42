# shellcheck shell=bash disable=SC2034
# Helpers shared by model-store's apply.sh, check.sh and remove.sh: the one file they source. It
# sets COMPONENT and HERE (this directory) and loads common/lib.sh.

readonly COMPONENT=model-store
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly HERE
# shellcheck source=../common/lib.sh
source "$HERE/../common/lib.sh"

# Required in model-store.env; optional: MODEL_MANIFEST, HF_TOKEN_ENV (the variable's name, for
# messages), MODEL_WAIT_TIMEOUT_SECONDS.
readonly MS_ENV_VARS=(STORAGE_MODE STORE_ROLE MOUNT_PATH MODEL_DIR NFS_SERVER NFS_SERVER_PATH NFS_CLIENTS
  NFS_MOUNT_OPTIONS NFS_MOUNTD_PORT NFS_STATD_PORT NFS_LOCKD_PORT FETCH_MODEL MODEL_SOURCE HF_REPO
  HF_REVISION HF_ENDPOINT DELETE_ON_DESTROY VENV_PATH SERVICE_USER)
readonly MS_PKG_RECORD="$VRC_STATE/model-store-installed-packages"
readonly MS_CREATED_MOUNT_PATH="$VRC_STATE/model-store-created-mount-path"
readonly MS_ENABLED_NFS="$VRC_STATE/model-store-enabled-nfs-server"
readonly MS_HF_HOME="$VRC_STATE/hf-home"
readonly MS_TOKEN_NAME=hf-token
readonly MS_EXPORTS=/etc/exports.d/vllm-ray-cluster.exports
readonly MS_NFS_CONF=/etc/nfs.conf.d/vllm-ray-cluster.conf
readonly NFS_SERVER_UNIT=nfs-server.service

ms_validate() {
  local p
  for p in "$MOUNT_PATH" "$MODEL_DIR"; do
    [[ "$p" =~ ^/[^[:space:]]+$ && "$p" != *..* && "$p" != */ && "$p" != / ]] ||
      die "'$p' must be an absolute path without spaces, '..' or a trailing /"
  done
  [[ "$MODEL_DIR" == "$MOUNT_PATH"/* ]] || die "MODEL_DIR $MODEL_DIR is not inside MOUNT_PATH $MOUNT_PATH"
  case "$STORAGE_MODE/$STORE_ROLE" in
    head_nfs/nfs_server | head_nfs/nfs_client | external_nfs/nfs_client | local_copy/local) ;;
    *) die "STORE_ROLE $STORE_ROLE does not fit STORAGE_MODE $STORAGE_MODE" ;;
  esac
  [[ "$DELETE_ON_DESTROY" == true || "$DELETE_ON_DESTROY" == false ]] || die "DELETE_ON_DESTROY must be true or false"
  [[ "$FETCH_MODEL" == true || "$FETCH_MODEL" == false ]] || die "FETCH_MODEL must be true or false"
  for p in "$NFS_MOUNTD_PORT" "$NFS_STATD_PORT" "$NFS_LOCKD_PORT"; do
    if ! [[ "$p" =~ ^[1-9][0-9]{0,4}$ ]] || ((p > 65535)); then die "NFS port '$p' is not a port number"; fi
  done
}

# record_created_mount_path: remember the topmost directory of MOUNT_PATH that apply creates.
record_created_mount_path() {
  local d="$MOUNT_PATH"
  [[ ! -e "$d" ]] || return 0
  while [[ ! -e "$(dirname "$d")" ]]; do d="$(dirname "$d")"; done
  echo "$d" >"$MS_CREATED_MOUNT_PATH"
}

# remove_created_mount_path: rmdir MOUNT_PATH up to what apply created, if empty.
remove_created_mount_path() {
  local top d="$MOUNT_PATH"
  [[ -f "$MS_CREATED_MOUNT_PATH" ]] || return 0
  top="$(<"$MS_CREATED_MOUNT_PATH")"
  if [[ "$MOUNT_PATH" == "$top" || "$MOUNT_PATH" == "$top"/* ]]; then
    while rmdir "$d" 2>/dev/null && [[ "$d" != "$top" ]]; do d="$(dirname "$d")"; done
  fi
  rm -f "$MS_CREATED_MOUNT_PATH"
}

mount_unit() { systemd-escape --path --suffix=mount "$MOUNT_PATH"; }

# The content a complete MODEL_DIR/.vrc-complete must have; empty when not known in advance.
ms_want() {
  # Java renders MODEL_MANIFEST: the source and revision, or the uploaded directory's digest.
  if [[ -n "${MODEL_MANIFEST:-}" ]]; then
    echo "$MODEL_MANIFEST"
    return 0
  fi
  case "$MODEL_SOURCE" in
    huggingface) echo "huggingface $HF_REPO@$HF_REVISION" ;;
    upload) [[ ! -f "${1:-}/.vrc-manifest" ]] || cat "$1/.vrc-manifest" ;;
    *) die "MODEL_SOURCE '$MODEL_SOURCE' is not huggingface or upload" ;;
  esac
}
