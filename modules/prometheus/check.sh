#!/usr/bin/env bash
# prometheus check: the unit runs, Prometheus is ready and loaded our rules.
set -euo pipefail

# shellcheck source=prometheus.sh
source "$(dirname "${BASH_SOURCE[0]}")/prometheus.sh"

main() {
  set_phase check
  load_env "$VRC_ETC/$COMPONENT.env" "${PROMETHEUS_ENV_VARS[@]}"
  require_active "$PROM_UNIT"
  curl -fsS --max-time 10 -o /dev/null "$(prom_url)/-/ready" || die "Prometheus is not ready on $(prom_url)"
  curl -fsS --max-time 10 "$(prom_url)/api/v1/rules" | grep -q '"name":"vllm-ray-cluster"' ||
    die "Prometheus on $(prom_url) has not loaded our alert rules"
  log "ok: $PROM_UNIT ready on $(prom_url) with our rules"
}

main "$@"
