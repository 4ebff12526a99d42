#!/usr/bin/env bash
# model-store apply: put the model at MODEL_DIR (fetch it on the NFS server / local node, export
# it read-only, or mount the export read-only on an NFS client and wait for it).
# Usage: apply.sh <stage-dir>
set -euo pipefail

readonly COMPONENT=model-store
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly HERE
# shellcheck source=../common/lib.sh
source "$HERE/../common/lib.sh"
# shellcheck source=store.sh
source "$HERE/store.sh"

fetch_model() {
  local stage="$1" marker="$MODEL_DIR/.vrc-complete" want cli
  want="$(ms_want "$stage/model")"
  if [[ -n "$want" && -f "$marker" && "$(<"$marker")" == "$want" ]]; then
    log "$MODEL_DIR already holds $want"
    return 0
  fi
  install -d -m 0755 "$MODEL_DIR"
  rm -f "$marker"
  if [[ "$MODEL_SOURCE" == huggingface ]]; then
    for cli in "$VENV_PATH/bin/hf" "$VENV_PATH/bin/huggingface-cli" ""; do [[ ! -x "$cli" ]] || break; done
    [[ -n "$cli" ]] || die "neither hf nor huggingface-cli in $VENV_PATH/bin (they come with vllm's huggingface_hub)"
    log "downloading $HF_REPO@$HF_REVISION from ${HF_ENDPOINT:-https://huggingface.co} into $MODEL_DIR$([[ ! -s "$VRC_SECRETS/$MS_TOKEN_NAME" ]] || echo ' (with token)')"
    # The token goes through the environment of the download only, never an argument list.
    (
      [[ ! -s "$VRC_SECRETS/$MS_TOKEN_NAME" ]] || HF_TOKEN="$(<"$VRC_SECRETS/$MS_TOKEN_NAME")"
      [[ -z "${HF_TOKEN:-}" ]] || export HF_TOKEN
      [[ -z "$HF_ENDPOINT" ]] || export HF_ENDPOINT
      export HF_HOME="$MS_HF_HOME" HF_HUB_DISABLE_TELEMETRY=1
      exec "$cli" download "$HF_REPO" --revision "$HF_REVISION" --local-dir "$MODEL_DIR"
    ) || die "download of $HF_REPO@$HF_REVISION from ${HF_ENDPOINT:-https://huggingface.co} failed (output above)"
  else
    [[ -d "$stage/model" ]] || die "MODEL_SOURCE is upload but $stage/model was not uploaded"
    log "copying the uploaded model into $MODEL_DIR"
    cp -R --preserve=timestamps "$stage/model/." "$MODEL_DIR/"
    rm -f "$MODEL_DIR/.vrc-manifest"
    rm -rf "${stage:?}/model"
    [[ -n "$want" ]] || want="upload without manifest, copied $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  fi
  chmod -R a+rX "$MODEL_DIR"
  printf '%s\n' "$want" >"$marker.tmp"
  mv "$marker.tmp" "$marker"
  log "$MODEL_DIR complete: $want"
}

export_model() {
  local family client line="$MOUNT_PATH" words=()
  family="$(detect_os_family)"
  case "$family" in
    apt) pkg_ensure apt "$MS_PKG_RECORD" nfs-kernel-server ;;
    dnf) pkg_ensure dnf "$MS_PKG_RECORD" nfs-utils ;;
  esac
  read -ra words <<<"$NFS_CLIENTS"
  ((${#words[@]})) || die "NFS_CLIENTS is empty: nothing to export to"
  for client in "${words[@]}"; do line+=" $client(ro,sync,no_subtree_check,root_squash)"; done
  install -d -m 0755 /etc/exports.d
  if [[ "$(cat "$MS_EXPORTS" 2>/dev/null)" != "$line" ]]; then
    printf '%s\n' "$line" >"$MS_EXPORTS"
    log "wrote $MS_EXPORTS: $line"
  fi
  if ! systemctl is-enabled --quiet "$NFS_SERVER_UNIT" 2>/dev/null; then
    systemctl enable --quiet "$NFS_SERVER_UNIT"
    touch "$MS_ENABLED_NFS"
  fi
  systemctl is-active --quiet "$NFS_SERVER_UNIT" || systemctl start "$NFS_SERVER_UNIT" ||
    die "$NFS_SERVER_UNIT did not start (journalctl -u $NFS_SERVER_UNIT)"
  exportfs -ra || die "exportfs -ra failed"
}

mount_model() {
  local family unit tmp timeout="${MODEL_WAIT_TIMEOUT_SECONDS:-600}"
  family="$(detect_os_family)"
  case "$family" in
    apt) pkg_ensure apt "$MS_PKG_RECORD" nfs-common ;;
    dnf) pkg_ensure dnf "$MS_PKG_RECORD" nfs-utils ;;
  esac
  record_created_mount_path
  unit="$(mount_unit)"
  tmp="$(mktemp)"
  cat >"$tmp" <<UNIT
# Installed by vllm-ray-cluster (modules/model-store)
[Unit]
Description=vllm-ray-cluster model store $NFS_SERVER:$NFS_SERVER_PATH (read-only)
After=network-online.target
Wants=network-online.target

[Mount]
What=$NFS_SERVER:$NFS_SERVER_PATH
Where=$MOUNT_PATH
Type=nfs
Options=${NFS_MOUNT_OPTIONS:+$NFS_MOUNT_OPTIONS,}ro

[Install]
WantedBy=remote-fs.target
UNIT
  unit_install "$tmp" "$unit"
  rm -f "$tmp"
  unit_restart_if_needed "$unit"
  if [[ "$STORAGE_MODE" == head_nfs ]]; then
    wait_for "$timeout" "$MODEL_DIR/.vrc-complete on the NFS mount" test -f "$MODEL_DIR/.vrc-complete" ||
      die "$MODEL_DIR/.vrc-complete not visible through $NFS_SERVER:$NFS_SERVER_PATH"
  else
    [[ -n "$(ls -A "$MODEL_DIR" 2>/dev/null)" ]] ||
      die "$MODEL_DIR is empty or missing on $NFS_SERVER:$NFS_SERVER_PATH: the external export must already hold the model"
  fi
}

main() {
  local stage="${1:?usage: apply.sh <stage-dir>}"
  set_phase apply
  require_root
  load_env "$stage/$COMPONENT.env" "${MS_ENV_VARS[@]}"
  ms_validate
  install_component "$stage" "$COMPONENT"
  install -d -m 0755 "$VRC_STATE"
  if [[ "$STORE_ROLE" == nfs_client ]]; then
    set_phase mount
    mount_model
  else
    record_created_mount_path
    install -d -m 0755 "$MOUNT_PATH"
    set_phase fetch
    fetch_model "$stage"
    if [[ "$STORE_ROLE" == nfs_server ]]; then
      set_phase export
      export_model
    fi
  fi
  set_phase apply
  log "done: model at $MODEL_DIR ($STORAGE_MODE, $STORE_ROLE)"
}

main "$@"
