#!/usr/bin/env bash
# metrics check: the exporter and the collectors' timer run, and the exporter serves our metrics.
set -euo pipefail

# shellcheck source=metrics.sh
source "$(dirname "${BASH_SOURCE[0]}")/metrics.sh"

main() {
  local u body
  set_phase check
  load_env "$VRC_ETC/$COMPONENT.env" "${METRICS_ENV_VARS[@]}"
  for u in "$EXPORTER_UNIT" "$COLLECTORS_TIMER"; do
    require_active "$u"
  done
  body="$(curl -fsS --max-time 10 "http://$NODE_IP:$NODE_EXPORTER_PORT/metrics")" ||
    die "node exporter does not answer on $NODE_IP:$NODE_EXPORTER_PORT"
  grep -q '^vrc_model_store_ready' <<<"$body" || die "the exporter serves no vrc_model_store_ready: the collectors have not run"
  grep -q '^node_textfile_scrape_error 0' <<<"$body" || die "node exporter could not read a textfile of $TEXTFILE_DIR"
  log "ok: $EXPORTER_UNIT on $NODE_IP:$NODE_EXPORTER_PORT, $COLLECTORS_TIMER active"
}

main "$@"
