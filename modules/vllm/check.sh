#!/usr/bin/env bash
# vllm check: the unit is active and GET /health answers 200.
set -euo pipefail

# shellcheck source=vllm.sh
source "$(dirname "${BASH_SOURCE[0]}")/vllm.sh"

main() {
  set_phase check
  load_env "$VRC_ETC/$COMPONENT.env" "${VLLM_ENV_VARS[@]}"
  require_active "$VLLM_UNIT"
  vllm_healthy || die "GET http://127.0.0.1:$API_PORT/health does not answer 200"
  grep -q '"VLLM_API_KEY"' "$VLLM_CONFIG_ROOT/$NON_CARRY_OVER_FILE" 2>/dev/null ||
    die "$VLLM_CONFIG_ROOT/$NON_CARRY_OVER_FILE does not list VLLM_API_KEY: vLLM would copy the key to every Ray worker"
  log "ok: $VLLM_UNIT active, /health 200 on port $API_PORT"
}

main "$@"
