#!/usr/bin/env bash
# watchdog apply: install vrc-watchdog.service (one probe, see probe.sh) and vrc-watchdog.timer
# (every INTERVAL_SECONDS), and start the timer.
# Usage: apply.sh <stage-dir> [<resource id>]
set -euo pipefail

# shellcheck source=watchdog.sh
source "$(dirname "${BASH_SOURCE[0]}")/watchdog.sh"

main() {
  local stage="${1:?usage: apply.sh <stage-dir>}" tmp changed=0
  set_phase apply
  require_root
  load_env "$stage/$COMPONENT.env" "${WATCHDOG_ENV_VARS[@]}"
  check_service_user
  check_numbers
  require_venv python
  install_component "$stage" "$COMPONENT"
  tmp="$(mktemp)"
  render "$HERE/vrc-watchdog.service.in" "$tmp" VLLM_UNIT="$VLLM_UNIT" PROBE_BOUND="$((2 * PROBE_TIMEOUT_SECONDS + 60))"
  unit_install "$tmp" "$WATCHDOG_SERVICE"
  ((VRC_UNIT_CHANGED)) && changed=1
  render "$HERE/vrc-watchdog.timer.in" "$tmp" INTERVAL="$INTERVAL_SECONDS"
  unit_install "$tmp" "$WATCHDOG_TIMER"
  ((VRC_UNIT_CHANGED)) && changed=1
  rm -f "$tmp"
  # The service is started by its timer only (enabled through the timer, not at boot itself).
  systemctl disable --quiet "$WATCHDOG_SERVICE" 2>/dev/null || true
  if ((changed || VRC_CONFIG_CHANGED)) || ! systemctl is-active --quiet "$WATCHDOG_TIMER"; then
    # A new configuration starts counting afresh.
    rm -f "$WATCHDOG_STATUS"
    systemctl restart "$WATCHDOG_TIMER" || { dump_journal "$WATCHDOG_TIMER"; die "$WATCHDOG_TIMER failed to start"; }
    log "restarted $WATCHDOG_TIMER"
  else
    log "$WATCHDOG_TIMER is active and unchanged: not restarted"
  fi
  log "done: a one-token completion and Ray's $(wc -w <<<"$EXPECTED_NODES") node(s) / $EXPECTED_GPUS GPU(s) every ${INTERVAL_SECONDS}s; vLLM restarted after $FAILURES_BEFORE_RESTART failures in a row"
}

main "$@"
