#!/usr/bin/env bash
# model-store apply: put the model at MODEL_DIR (fetch it on the NFS server / local node, export
# it read-only, or mount the export read-only on an NFS client and wait for it).
# Usage: apply.sh <stage-dir> [<resource id>]
set -euo pipefail

# shellcheck source=store.sh
source "$(dirname "${BASH_SOURCE[0]}")/store.sh"

# take_token: the HF token, when one was delivered, into MS_TOKEN; its file is deleted at once, so
# that it stays on the host only as long as this script runs (and never in an argument list).
take_token() {
  MS_TOKEN=""
  if [[ -f "$VRC_SECRETS/$MS_TOKEN_NAME" ]]; then
    MS_TOKEN="$(<"$VRC_SECRETS/$MS_TOKEN_NAME")"
    rm -f "$VRC_SECRETS/$MS_TOKEN_NAME"
  fi
}

# hf_env COMMAND...: run COMMAND with the endpoint, the token and our HF_HOME in its environment.
hf_env() {
  (
    [[ -z "$MS_TOKEN" ]] || export HF_TOKEN="$MS_TOKEN"
    [[ -z "$HF_ENDPOINT" ]] || export HF_ENDPOINT
    export HF_HOME="$MS_HF_HOME" HF_HUB_DISABLE_TELEMETRY=1
    exec "$@"
  )
}

# hf_resolve: the commit HF_REVISION names, or a failure that says which input is wrong.
hf_resolve() {
  local endpoint="${HF_ENDPOINT:-https://huggingface.co}" out kind detail token_name
  token_name="${HF_TOKEN_ENV:-model.hf_token_env}"
  out="$(hf_env "$VENV_PATH/bin/python" "$HERE/hf_resolve.py" "$HF_REPO" "$HF_REVISION" 2>&1 | tail -n 1)" || true
  kind="${out%% *}" detail="${out#* }"
  case "$kind" in
    ok) echo "$detail" ;;
    token) die "$endpoint refused the Hugging Face token from $token_name (401: $detail): set $token_name to a valid token with read access to $HF_REPO" ;;
    revision) die "revision '$HF_REVISION' (model.revision) does not exist in $HF_REPO at $endpoint: use a branch, tag or commit of that repo" ;;
    repo)
      if [[ -n "$MS_TOKEN" ]]; then
        die "$HF_REPO was not found at $endpoint with the token from $token_name: check model.huggingface_repo and that the token may read it"
      fi
      die "$HF_REPO was not found at $endpoint without a token: check model.huggingface_repo, or set model.hf_token_env for a private or gated repo"
      ;;
    unreachable) die "cannot reach the Hugging Face endpoint $endpoint (model.hf_endpoint): $detail" ;;
    *) die "resolving $HF_REPO@$HF_REVISION at $endpoint failed: $out" ;;
  esac
}

fetch_model() {
  local stage="$1" marker="$MODEL_DIR/.vrc-complete" want cli commit
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
    commit="$(hf_resolve)" || exit 1
    # A fetch killed midway leaves a partial *.incomplete that huggingface_hub never reuses: the
    # files it finished are kept (and skipped now), the interrupted one is fetched again.
    find "$MODEL_DIR/.cache/huggingface/download" -name '*.incomplete' -delete 2>/dev/null || true
    log "downloading $HF_REPO@$HF_REVISION (commit $commit) from ${HF_ENDPOINT:-https://huggingface.co} into $MODEL_DIR$([[ -z "$MS_TOKEN" ]] || echo ' (with token)')"
    hf_env "$cli" download "$HF_REPO" --revision "$commit" --local-dir "$MODEL_DIR" ||
      die "download of $HF_REPO@$HF_REVISION (commit $commit) from ${HF_ENDPOINT:-https://huggingface.co} failed (output above)"
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

# pin_nfs_ports: mountd, statd and lockd on the fixed ports the firewall names (NFS_*_PORT),
# instead of ports rpcbind hands out at random. Written before nfs-kernel-server is installed, so
# that its first start already uses them. Sets MS_PORTS_CHANGED=1 when the file changed.
pin_nfs_ports() {
  local content
  content="# Installed by vllm-ray-cluster (modules/model-store): fixed ports the firewall names.
[mountd]
port=$NFS_MOUNTD_PORT
[statd]
port=$NFS_STATD_PORT
[lockd]
port=$NFS_LOCKD_PORT
udp-port=$NFS_LOCKD_PORT"
  install -d -m 0755 "$(dirname "$MS_NFS_CONF")"
  if [[ "$(cat "$MS_NFS_CONF" 2>/dev/null)" != "$content" ]]; then
    printf '%s\n' "$content" >"$MS_NFS_CONF"
    log "wrote $MS_NFS_CONF: mountd $NFS_MOUNTD_PORT, statd $NFS_STATD_PORT, lockd $NFS_LOCKD_PORT"
    MS_PORTS_CHANGED=1
  fi
}

export_model() {
  local family client line="$MOUNT_PATH" words=() was_active=false
  read -ra words <<<"$NFS_CLIENTS"
  ((${#words[@]})) || die "NFS_CLIENTS is empty: nothing to export to"
  MS_PORTS_CHANGED=0
  ! systemctl is-active --quiet "$NFS_SERVER_UNIT" 2>/dev/null || was_active=true
  pin_nfs_ports
  family="$(detect_os_family)"
  case "$family" in
    apt) pkg_ensure apt "$MS_PKG_RECORD" nfs-kernel-server ;;
    dnf) pkg_ensure dnf "$MS_PKG_RECORD" nfs-utils ;;
  esac
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
  if ((MS_PORTS_CHANGED)) && $was_active; then
    # Already running on other ports (installed before, or by the admin): move it.
    log "restarting the NFS server on the pinned ports"
    systemctl restart "$NFS_SERVER_UNIT" rpc-statd.service ||
      die "$NFS_SERVER_UNIT did not restart (journalctl -u $NFS_SERVER_UNIT)"
  fi
  systemctl is-active --quiet "$NFS_SERVER_UNIT" || systemctl start "$NFS_SERVER_UNIT" ||
    die "$NFS_SERVER_UNIT did not start (journalctl -u $NFS_SERVER_UNIT)"
  exportfs -ra || die "exportfs -ra failed"
  log "exported $MOUNT_PATH read-only to ${words[*]}"
}

mount_model() {
  local family unit tmp options="$NFS_MOUNT_OPTIONS" words=() w
  family="$(detect_os_family)"
  case "$family" in
    apt) pkg_ensure apt "$MS_PKG_RECORD" nfs-common ;;
    dnf) pkg_ensure dnf "$MS_PKG_RECORD" nfs-utils ;;
  esac
  # Read-only, except on the node that writes the model into an external export.
  if [[ "$FETCH_MODEL" != true ]]; then
    IFS=, read -ra words <<<"$NFS_MOUNT_OPTIONS"
    options=ro
    for w in "${words[@]}"; do [[ "$w" == ro || "$w" == rw || -z "$w" ]] || options+=",$w"; done
  fi
  record_created_mount_path
  unit="$(mount_unit)"
  tmp="$(mktemp)"
  cat >"$tmp" <<UNIT
# Installed by vllm-ray-cluster (modules/model-store)
[Unit]
Description=vllm-ray-cluster model store $NFS_SERVER:$NFS_SERVER_PATH
After=network-online.target
Wants=network-online.target

[Mount]
What=$NFS_SERVER:$NFS_SERVER_PATH
Where=$MOUNT_PATH
Type=nfs
Options=$options

[Install]
WantedBy=remote-fs.target
UNIT
  unit_install "$tmp" "$unit"
  rm -f "$tmp"
  unit_restart_if_needed "$unit"
  mountpoint -q "$MOUNT_PATH" || die "$MOUNT_PATH is not mounted after starting $unit"
  log "mounted $NFS_SERVER:$NFS_SERVER_PATH on $MOUNT_PATH ($options)"
}

# wait_for_model: an NFS client that does not write the model waits (bounded) for the writer's
# .vrc-complete.
wait_for_model() {
  local timeout="${MODEL_WAIT_TIMEOUT_SECONDS:-600}"
  wait_for "$timeout" "$MODEL_DIR/.vrc-complete on the NFS mount" test -f "$MODEL_DIR/.vrc-complete" ||
    die "$MODEL_DIR/.vrc-complete not visible through $NFS_SERVER:$NFS_SERVER_PATH"
  log "model visible: $(<"$MODEL_DIR/.vrc-complete")"
}

# check_writable: the writer of an external export must be able to write there as root.
check_writable() {
  local probe="$MOUNT_PATH/.vrc-write-test.$$"
  if ! (: >"$probe") 2>/dev/null; then
    die "cannot write to $NFS_SERVER:$NFS_SERVER_PATH as root from $VRC_NODE: export it read-write to this node with no_root_squash (e.g. '$NFS_SERVER_PATH <this node>(rw,no_root_squash) <other nodes>(ro)')"
  fi
  rm -f "$probe"
}

main() {
  local stage="${1:?usage: apply.sh <stage-dir>}"
  set_phase apply
  require_root
  # A failure from here on undoes this step's work on the host (common/lib.sh).
  undo_on_failure "${2:-}"
  load_env "$stage/$COMPONENT.env" "${MS_ENV_VARS[@]}"
  ms_validate
  install_component "$stage" "$COMPONENT"
  take_token
  install -d -m 0755 "$VRC_STATE"
  if [[ "$STORE_ROLE" == nfs_client ]]; then
    set_phase mount
    mount_model
    if [[ "$FETCH_MODEL" == true ]]; then
      check_writable
      set_phase fetch
      fetch_model "$stage"
    else
      set_phase wait
      wait_for_model
    fi
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
