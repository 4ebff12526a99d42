#!/usr/bin/env bash
# ExecStart of vrc-collectors.service (root, every COLLECT_INTERVAL_SECONDS through
# vrc-collectors.timer): writes the textfile metrics node exporter serves, each file replaced
# atomically so that a scrape never reads half of one:
#   gpu.prom          GPU health (gpu_metrics.py on nvidia-smi -q -x and this boot's Xid lines),
#                     unless a DCGM exporter serves it on this node (recorded by apply.sh)
#   model-store.prom  the model directory complete and readable by the service user (and mounted
#                     where the node mounts it)
#   watchdog.prom     the watchdog's last probe (watchdog_metrics.py), where there is a watchdog
set -euo pipefail

# shellcheck source=metrics.sh
source "$(dirname "${BASH_SOURCE[0]}")/metrics.sh"

# publish NAME: move NAME.tmp (written by the caller) over NAME in the textfile directory.
publish() {
  chmod 0644 "$TEXTFILE_DIR/$1.tmp"
  mv -f "$TEXTFILE_DIR/$1.tmp" "$TEXTFILE_DIR/$1"
}

collect_gpus() {
  local source xid
  source="$(cat "$GPU_SOURCE_RECORD" 2>/dev/null || echo none)"
  # A driver installed since the deploy is picked up: nvidia-smi is looked for at every run.
  [[ "$source" == dcgm ]] || ! command -v nvidia-smi >/dev/null || source=nvidia-smi
  {
    echo "# HELP vrc_gpu_metrics_source Where this node's GPU metrics come from (dcgm: its DCGM exporter)."
    echo "# TYPE vrc_gpu_metrics_source gauge"
    echo "vrc_gpu_metrics_source{source=\"$source\"} 1"
    echo "# HELP vrc_node_declared_gpus GPUs the stack declares for this node (nodes[].gpus)."
    echo "# TYPE vrc_node_declared_gpus gauge"
    echo "vrc_node_declared_gpus $GPUS"
  } >"$TEXTFILE_DIR/node.prom.tmp"
  publish node.prom
  if [[ "$source" != nvidia-smi ]] || ! command -v nvidia-smi >/dev/null; then
    rm -f "$TEXTFILE_DIR/gpu.prom"
    return 0
  fi
  xid="$(mktemp)"
  journalctl -k -b --no-pager -o short -g 'NVRM: Xid' >"$xid" 2>/dev/null || true
  timeout 60 "$VENV_PATH/bin/python" -I "$HERE/gpu_metrics.py" --xid-log "$xid" >"$TEXTFILE_DIR/gpu.prom.tmp" ||
    warn "gpu_metrics.py failed (vrc_gpu_collector_success 0)"
  rm -f "$xid"
  publish gpu.prom
}

collect_model_store() {
  local mounted=1 ready=0
  if [[ "$MOUNT_REQUIRED" == true ]]; then
    timeout 10 mountpoint -q "$MOUNT_PATH" || mounted=0
  fi
  # As the service user, who must read it; bounded: a hard NFS mount whose server is gone blocks.
  if ((mounted)) && timeout 10 runuser -u "$SERVICE_USER" -- test -r "$MODEL_DIR/.vrc-complete" 2>/dev/null; then
    ready=1
  fi
  {
    echo "# HELP vrc_model_store_mounted 1 when the model store is mounted where this node mounts it (always 1 where it does not mount)."
    echo "# TYPE vrc_model_store_mounted gauge"
    echo "vrc_model_store_mounted{path=\"$MOUNT_PATH\",mode=\"$STORAGE_MODE\"} $mounted"
    echo "# HELP vrc_model_store_ready 1 when the model directory is complete and readable by the service user."
    echo "# TYPE vrc_model_store_ready gauge"
    echo "vrc_model_store_ready{path=\"$MODEL_DIR\",mode=\"$STORAGE_MODE\"} $ready"
  } >"$TEXTFILE_DIR/model-store.prom.tmp"
  publish model-store.prom
}

collect_watchdog() {
  if [[ ! -f "$WATCHDOG_STATUS_FILE" ]]; then
    rm -f "$TEXTFILE_DIR/watchdog.prom"
    return 0
  fi
  "$VENV_PATH/bin/python" -I "$HERE/watchdog_metrics.py" "$WATCHDOG_STATUS_FILE" >"$TEXTFILE_DIR/watchdog.prom.tmp" ||
    { warn "watchdog_metrics.py could not read $WATCHDOG_STATUS_FILE"; rm -f "$TEXTFILE_DIR/watchdog.prom.tmp"; return 0; }
  publish watchdog.prom
}

main() {
  set_phase collect
  load_env "$VRC_ETC/$COMPONENT.env" "${METRICS_ENV_VARS[@]}"
  check_metrics_env
  install -d -m 0755 "$TEXTFILE_DIR"
  collect_gpus
  collect_model_store
  collect_watchdog
}

main "$@"
