#!/usr/bin/env bash
# vllm apply: install vrc-vllm.service, (re)start it, wait for GET /health = 200.
# Usage: apply.sh <stage-dir> [<resource id>]
set -euo pipefail

# shellcheck source=vllm.sh
source "$(dirname "${BASH_SOURCE[0]}")/vllm.sh"

main() {
  local stage="${1:?usage: apply.sh <stage-dir>}" tmp
  set_phase apply
  require_root
  # A failure from here on undoes this step's work on the host (common/lib.sh).
  undo_on_failure "${2:-}"
  load_env "$stage/$COMPONENT.env" "${VLLM_ENV_VARS[@]}"
  check_service_user
  [[ "$API_PORT" =~ ^[0-9]+$ ]] || die "API_PORT '$API_PORT' is not a port number"
  [[ -f "$stage/$COMPONENT.args" ]] || die "$stage/$COMPONENT.args missing"
  require_bootstrap python
  install_component "$stage" "$COMPONENT"
  non_carry_over_write
  cache_dir_check
  if [[ -f "$VRC_SECRETS/$VLLM_SECRET" ]] && grep -q '^VLLM_API_KEY=.' "$VRC_SECRETS/$VLLM_SECRET"; then
    log "API key: $VRC_SECRETS/$VLLM_SECRET (0600 root)"
  elif [[ "${REQUIRE_API_KEY:-true}" == true ]]; then
    rm -f "$VRC_SECRETS/$VLLM_SECRET"
    die "the API key is empty: set the stack's vllm.api_key_env variable (e.g. export TF_VAR_vllm_api_key=...) on the deploy machine and deploy again, or set vllm.require_api_key: false"
  else
    rm -f "$VRC_SECRETS/$VLLM_SECRET"
    warn "no API key (vllm.require_api_key: false): /v1 answers anyone the firewall lets through"
  fi
  tmp="$(mktemp)"
  [[ "${RAY_WAIT_SECONDS:-0}" =~ ^[0-9]+$ ]] || die "RAY_WAIT_SECONDS '${RAY_WAIT_SECONDS:-}' is not a number of seconds"
  render "$HERE/vrc-vllm.service.in" "$tmp" SERVICE_USER="$SERVICE_USER" RAY_UNIT="vrc-ray-$VRC_ROLE.service" \
    SLICE="$SERVICE_SLICE" FIREWALL_UNIT="$FIREWALL_UNIT" START_TIMEOUT="$((${RAY_WAIT_SECONDS:-0} + 60))"
  unit_install "$tmp" "$VLLM_UNIT"
  rm -f "$tmp"
  unit_restart_if_needed "$VLLM_UNIT"
  set_phase wait
  if ! wait_for "$READINESS_TIMEOUT_SECONDS" "vLLM GET http://127.0.0.1:$API_PORT/health" vllm_healthy; then
    dump_journal "$VLLM_UNIT"
    die "vLLM did not become healthy within ${READINESS_TIMEOUT_SECONDS}s"
  fi
  set_phase apply
  log "done: $VLLM_UNIT active, /health on port $API_PORT answers 200"
}

main "$@"
