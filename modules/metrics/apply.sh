#!/usr/bin/env bash
# metrics apply: the OS package prometheus-node-exporter, run as our unit vrc-node-exporter on this
# node's cluster address (in SERVICE_SLICE, whose sockets the firewall closes to outsiders; the
# package's own unit, which listens on every address, is stopped and disabled when we installed
# the package), and our collectors (collect.sh) every COLLECT_INTERVAL_SECONDS.
# Usage: apply.sh <stage-dir> [<resource id>]
set -euo pipefail

# shellcheck source=metrics.sh
source "$(dirname "${BASH_SOURCE[0]}")/metrics.sh"

ensure_exporter_package() {
  monitoring_package_ensure "$EXPORTER_PACKAGE" node_exporter "$METRICS_PKG_RECORD" "$PACKAGE_UNIT" "$PACKAGE_UNIT_RECORD" \
    "$EXPORTER_UNIT serves $NODE_IP:$NODE_EXPORTER_PORT" "$METRICS_USER" "$EXPORTER_BIN"
}

# gpu_source: where this node's GPU metrics come from; a DCGM exporter answering on this node wins.
gpu_source() {
  local source=none
  if ((GPUS > 0)); then
    if dcgm_answers; then
      source=dcgm
      log "a DCGM exporter answers on $NODE_IP:$DCGM_EXPORTER_PORT: GPU metrics come from it, not from nvidia-smi"
    elif command -v nvidia-smi >/dev/null; then
      source=nvidia-smi
    else
      warn "nodes[].gpus is $GPUS but nvidia-smi is not installed: no GPU metrics from this node until it is"
    fi
  fi
  echo "$source" >"$GPU_SOURCE_RECORD"
}

main() {
  local stage="${1:?usage: apply.sh <stage-dir> [<resource id>]}" tmp changed=0
  set_phase apply
  require_root
  load_env "$stage/$COMPONENT.env" "${METRICS_ENV_VARS[@]}"
  check_service_user
  check_metrics_env
  require_venv python
  install_component "$stage" "$COMPONENT"
  claim_step "${2:-}"
  set_phase packages
  ensure_exporter_package
  set_phase collectors
  install -d -m 0755 "$VRC_STATE" "$TEXTFILE_DIR"
  gpu_source
  # The installed copy (the stage's files are not executable).
  "$VRC_MODULES/$COMPONENT/collect.sh" || die "the first collection failed (above)"
  set_phase units
  tmp="$(mktemp)"
  render "$HERE/vrc-node-exporter.service.in" "$tmp" NODE_IP="$NODE_IP" PORT="$NODE_EXPORTER_PORT" \
    TEXTFILE_DIR="$TEXTFILE_DIR" SLICE="$SERVICE_SLICE" FIREWALL_UNIT="$FIREWALL_UNIT"
  unit_install "$tmp" "$EXPORTER_UNIT"
  ((VRC_UNIT_CHANGED)) && changed=1
  render "$HERE/vrc-collectors.service.in" "$tmp" BOUND="$((COLLECT_INTERVAL_SECONDS + 120))" SLICE="$SERVICE_SLICE"
  unit_install "$tmp" "$COLLECTORS_SERVICE"
  # Started by its timer only.
  systemctl disable --quiet "$COLLECTORS_SERVICE" 2>/dev/null || true
  render "$HERE/vrc-collectors.timer.in" "$tmp" INTERVAL="$COLLECT_INTERVAL_SECONDS"
  unit_install "$tmp" "$COLLECTORS_TIMER"
  ((VRC_UNIT_CHANGED)) && changed=1
  rm -f "$tmp"
  VRC_UNIT_CHANGED=$changed
  unit_restart_if_needed "$EXPORTER_UNIT"
  if ((changed || VRC_CONFIG_CHANGED)) || ! systemctl is-active --quiet "$COLLECTORS_TIMER"; then
    systemctl restart "$COLLECTORS_TIMER" || { dump_journal "$COLLECTORS_TIMER"; die "$COLLECTORS_TIMER failed to start"; }
  fi
  wait_for 60 "node exporter on $NODE_IP:$NODE_EXPORTER_PORT" \
    curl -fsS --max-time 5 -o /dev/null "http://$NODE_IP:$NODE_EXPORTER_PORT/metrics" ||
    { dump_journal "$EXPORTER_UNIT"; die "$EXPORTER_UNIT does not answer on $NODE_IP:$NODE_EXPORTER_PORT (is the port taken? set monitoring.node_exporter_port)"; }
  set_phase apply
  log "done: node exporter on $NODE_IP:$NODE_EXPORTER_PORT, collectors every ${COLLECT_INTERVAL_SECONDS}s (GPU metrics: $(cat "$GPU_SOURCE_RECORD"))"
}

main "$@"
