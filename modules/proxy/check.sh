#!/usr/bin/env bash
# proxy check: the unit is active and the proxy answers on its port (over TLS, checked with the CA).
set -euo pipefail

# shellcheck source=proxy.sh
source "$(dirname "${BASH_SOURCE[0]}")/proxy.sh"

main() {
  set_phase check
  load_env "$VRC_ETC/$COMPONENT.env" "${PROXY_ENV_VARS[@]}"
  require_active "$PROXY_UNIT"
  proxy_answers || die "the proxy does not answer on port $API_PORT"
  log "ok: $PROXY_UNIT active, answers $API_URL"
}

main "$@"
