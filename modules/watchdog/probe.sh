#!/usr/bin/env bash
# ExecStart of vrc-watchdog.service (root; every INTERVAL_SECONDS through vrc-watchdog.timer).
# One probe: a real one-token chat completion through the API (a /health of 200 proves nothing:
# vLLM issues #16259, #39863, #53157) and the Ray cluster's alive nodes and GPUs against the
# stack's. After FAILURES_BEFORE_RESTART failed completions in a row it restarts vLLM and says
# why, unless Ray lacks the GPUs vLLM's ranks need (a restart could not place them: it waits for
# the nodes instead, and says so). Not counted: a vLLM still starting (within
# STARTUP_GRACE_SECONDS of its start, /health not yet 200), and any probe while a deploy step
# holds the host lock. The outcome goes to $WATCHDOG_STATUS (read by `verify`).
set -euo pipefail

# shellcheck source=watchdog.sh
source "$(dirname "${BASH_SOURCE[0]}")/watchdog.sh"

status_get() {
  if [[ -f "$WATCHDOG_STATUS" ]]; then awk -v k="$1" 'index($0, k "=") == 1 { print substr($0, length(k) + 2); exit }' "$WATCHDOG_STATUS"; fi
}
one_line() { printf '%s' "$1" | tr '\n\r\t' '   ' | cut -c1-300; }

# completion_probe: a one-token chat completion; sets API_OK (true/false) and API_DETAIL.
completion_probe() {
  local body err code key="" headers=() t0 ms
  API_OK=false
  if [[ "$REQUIRE_API_KEY" == true ]]; then
    key="$(sed -n 's/^VLLM_API_KEY=//p' "$VRC_SECRETS/vllm.env" 2>/dev/null | head -n 1)"
    [[ -n "$key" ]] || { API_DETAIL="no API key in $VRC_SECRETS/vllm.env"; return 0; }
    headers=(-H @-)
  fi
  body="$(mktemp)" err="$(mktemp)"
  t0="$(date +%s%3N)"
  # The key reaches curl on its standard input, never in its argv.
  code="$(printf 'Authorization: Bearer %s\n' "$key" | curl -sS -o "$body" -w '%{http_code}' \
    --max-time "$PROBE_TIMEOUT_SECONDS" "${headers[@]}" -H 'Content-Type: application/json' \
    --data "{\"model\": \"${SERVED_MODEL_NAME//\"/\\\"}\", \"messages\": [{\"role\": \"user\", \"content\": \"ping\"}], \"max_tokens\": 1, \"temperature\": 0}" \
    "http://127.0.0.1:$API_PORT/v1/chat/completions" 2>"$err")" || true
  ms=$(($(date +%s%3N) - t0))
  if [[ "$code" == 200 ]] && grep -q '"choices"' "$body"; then
    API_OK=true
    API_DETAIL="completion: HTTP 200 in ${ms} ms"
  elif [[ "$code" =~ ^[1-9][0-9][0-9]$ ]]; then
    API_DETAIL="completion: HTTP $code after ${ms} ms: $(one_line "$(head -c 160 "$body")")"
  else
    API_DETAIL="completion: no answer after ${ms} ms: $(one_line "$(cat "$err")")"
  fi
  rm -f "$body" "$err"
}

# vllm_starting LAST_OK: the unit is activating or deactivating (a restart under way: systemd
# bounds the stop by TimeoutStopSec, and a probe then would count the restart we asked for as a
# failure and ask for a second one), or it started less than STARTUP_GRACE_SECONDS ago, has not
# answered a completion since (LAST_OK is older than its start) and its /health does not answer
# 200 yet: still loading, not wedged. One that answered once and stops is not starting.
vllm_starting() {
  local state started last_ok="${1:-0}"
  state="$(systemctl show -p ActiveState --value "$VLLM_UNIT")"
  [[ "$state" == activating || "$state" == deactivating ]] && return 0
  [[ "$state" == active ]] || return 1
  started="$(systemctl show --timestamp=unix -p ExecMainStartTimestamp --value "$VLLM_UNIT")"
  started="${started#@}"
  [[ "$started" =~ ^[0-9]+$ ]] || return 1
  (($(date +%s) - started < STARTUP_GRACE_SECONDS)) || return 1
  ((${last_ok:-0} < started)) || return 1
  ! curl -fsS -o /dev/null --max-time 5 "http://127.0.0.1:$API_PORT/health" 2>/dev/null
}

main() {
  local now lock state detail failures restarts last_ok last_restart reason prev missing ray_ok ray_detail
  set_phase probe
  load_env "$VRC_ETC/$COMPONENT.env" "${WATCHDOG_ENV_VARS[@]}"
  check_service_user
  check_numbers
  now="$(date +%s)"
  prev="$(status_get STATE)"
  failures="$(status_get FAILURES)" restarts="$(status_get RESTARTS)"
  last_ok="$(status_get LAST_OK)" last_restart="$(status_get LAST_RESTART)" reason="$(status_get LAST_RESTART_REASON)"
  failures="${failures:-0}" restarts="${restarts:-0}"
  install -d -m 0755 /run/lock "$VRC_STATE"
  exec {lock}>/run/lock/vllm-ray-cluster.lock
  if ! flock -n "$lock"; then
    state=paused detail="a deploy step holds /run/lock/vllm-ray-cluster.lock: not probing"
  elif [[ ! -f "$VRC_UNIT_DIR/$VLLM_UNIT" ]]; then
    state=absent detail="$VLLM_UNIT is not installed: nothing to watch"
  else
    ray_cluster_facts "$RAY_ADDRESS" "$SERVICE_USER"
    missing="$(missing_nodes "$EXPECTED_NODES" "$RAY_IPS")"
    ray_ok=false
    if [[ -n "$RAY_ERROR" ]]; then
      ray_detail="Ray: $RAY_ERROR"
    else
      ray_detail="Ray: $RAY_ALIVE node(s) alive of $(wc -w <<<"$EXPECTED_NODES"), $RAY_GPUS of $EXPECTED_GPUS GPU(s)${missing:+, missing $missing}"
      [[ -z "$missing" ]] && gpus_at_least "$RAY_GPUS" "$EXPECTED_GPUS" && ray_ok=true
    fi
    completion_probe
    detail="$API_DETAIL; $ray_detail"
    if $API_OK; then
      failures=0 last_ok="$now"
      if $ray_ok; then state=ok; else state=degraded; fi
    elif vllm_starting "$last_ok"; then
      state=starting detail="$VLLM_UNIT is starting (not counted): $detail"
    else
      failures=$((failures + 1))
      state=failing
      if ((failures >= FAILURES_BEFORE_RESTART)); then
        if [[ -z "$RAY_ERROR" ]] && gpus_at_least "$RAY_GPUS" "$REQUIRED_GPUS"; then
          set_phase restart
          reason="$failures failed probes in a row ($detail)"
          warn "restarting $VLLM_UNIT: $reason"
          systemctl reset-failed "$VLLM_UNIT" 2>/dev/null || true
          systemctl restart --no-block "$VLLM_UNIT"
          restarts=$((restarts + 1)) last_restart="$now" failures=0 state=restarted
          set_phase probe
        else
          state=waiting-for-ray
          detail="not restarting $VLLM_UNIT: its $REQUIRED_GPUS rank(s) need GPUs Ray does not have ($detail)"
        fi
      fi
    fi
  fi
  # Quiet when nothing changes: a line per failure, per restart and per change of state.
  if [[ "$state" == failing ]]; then
    warn "probe failed ($failures/$FAILURES_BEFORE_RESTART): $detail"
  elif [[ "$state" != "$prev" && "$state" != restarted ]]; then
    log "$state: $detail"
  fi
  printf '%s\n' "STATE=$state" "DETAIL=$(one_line "$detail")" "FAILURES=$failures" "RESTARTS=$restarts" \
    "LAST_PROBE=$now" "LAST_OK=$last_ok" "LAST_RESTART=$last_restart" "LAST_RESTART_REASON=$(one_line "$reason")" \
    "INTERVAL_SECONDS=$INTERVAL_SECONDS" "FAILURES_BEFORE_RESTART=$FAILURES_BEFORE_RESTART" >"$WATCHDOG_STATUS.tmp"
  mv -f "$WATCHDOG_STATUS.tmp" "$WATCHDOG_STATUS"
}

main "$@"
