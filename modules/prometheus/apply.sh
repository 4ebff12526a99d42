#!/usr/bin/env bash
# prometheus apply: the OS package's Prometheus, run as our unit vrc-prometheus on this node's
# cluster address (in SERVICE_SLICE; the package's own unit, on every address, is stopped and
# disabled when we installed the package), with prometheus.yml rendered by Java, our alert rules
# (alerts.yml), both checked by promtool first, and the DCGM exporters that answer on the GPU
# nodes now. With GRAFANA_URL, the dashboards are provisioned into that Grafana (grafana.sh).
# Usage: apply.sh <stage-dir> [<resource id>]
set -euo pipefail

# shellcheck source=prometheus.sh
source "$(dirname "${BASH_SOURCE[0]}")/prometheus.sh"

ensure_package() {
  monitoring_package_ensure "$PROM_PACKAGE" Prometheus "$PROM_PKG_RECORD" "$PROM_PACKAGE_UNIT" "$PROM_PACKAGE_UNIT_RECORD" \
    "$PROM_UNIT serves $(prom_url)" "$PROM_USER" "$PROM_BIN" "$PROMTOOL"
}

# dcgm_targets FILE: file_sd targets of the GPU nodes whose DCGM exporter answers now.
dcgm_targets() {
  local out="$1" entry name addr first=1 found=()
  printf '[' >"$out"
  for entry in $GPU_NODES; do
    name="${entry%%=*}" addr="${entry#*=}"
    if curl -fsS --max-time 5 "http://$addr:$DCGM_EXPORTER_PORT/metrics" 2>/dev/null | grep -q '^DCGM_FI_'; then
      ((first)) || printf ',' >>"$out"
      first=0
      printf '{"targets": ["%s:%s"], "labels": {"node": "%s"}}' "$addr" "$DCGM_EXPORTER_PORT" "$name" >>"$out"
      found+=("$name")
    fi
  done
  printf ']\n' >>"$out"
  log "DCGM exporters: ${found[*]:-none} (the other GPU nodes report through our nvidia-smi collector)"
}

main() {
  local stage="${1:?usage: apply.sh <stage-dir> [<resource id>]}" tmp changed=0 f
  set_phase apply
  require_root
  load_env "$stage/$COMPONENT.env" "${PROMETHEUS_ENV_VARS[@]}"
  check_prometheus_env
  [[ -f "$stage/prometheus.yml" ]] || die "prometheus.yml was not uploaded"
  install_component "$stage" "$COMPONENT"
  claim_step "${2:-}"
  set_phase packages
  ensure_package
  set_phase config
  install -d -m 0755 -o root -g root "$PROM_DIR"
  tmp="$(mktemp -d)"
  cp "$stage/prometheus.yml" "$tmp/prometheus.yml"
  cp "$HERE/alerts.yml" "$tmp/alerts.yml"
  dcgm_targets "$tmp/dcgm-targets.json"
  # promtool reads the rule file at the path prometheus.yml names: check the files in place, and
  # put the previous ones back when they do not pass.
  for f in prometheus.yml alerts.yml dcgm-targets.json; do
    cmp -s "$tmp/$f" "$PROM_DIR/$f" || changed=1
    [[ ! -f "$PROM_DIR/$f" ]] || cp -p "$PROM_DIR/$f" "$tmp/$f.old"
    install -m 0644 -o root -g root "$tmp/$f" "$PROM_DIR/$f"
  done
  if ! "$PROMTOOL" check config "$PROM_DIR/prometheus.yml"; then
    for f in prometheus.yml alerts.yml dcgm-targets.json; do
      if [[ -f "$tmp/$f.old" ]]; then install -m 0644 "$tmp/$f.old" "$PROM_DIR/$f"; else rm -f "$PROM_DIR/$f"; fi
    done
    rm -rf "$tmp"
    die "promtool check config refused the configuration (above): nothing was changed"
  fi
  rm -rf "$tmp"
  install -d -m 0750 -o "$PROM_USER" -g "$PROM_USER" "$PROM_DATA"
  set_phase unit
  tmp="$(mktemp)"
  render "$HERE/vrc-prometheus.service.in" "$tmp" NODE_IP="$NODE_IP" PORT="$PROMETHEUS_PORT" DIR="$PROM_DIR" \
    DATA="$PROM_DATA" RETENTION="$RETENTION_DAYS" SLICE="$SERVICE_SLICE" FIREWALL_UNIT="$FIREWALL_UNIT"
  unit_install "$tmp" "$PROM_UNIT"
  rm -f "$tmp"
  ((changed)) && VRC_CONFIG_CHANGED=1
  unit_restart_if_needed "$PROM_UNIT"
  wait_for 120 "Prometheus ready on $(prom_url)" curl -fsS --max-time 5 -o /dev/null "$(prom_url)/-/ready" ||
    { dump_journal "$PROM_UNIT"; die "$PROM_UNIT does not answer on $(prom_url) (is the port taken? set monitoring.prometheus_port)"; }
  if [[ -n "${GRAFANA_URL:-}" ]]; then
    set_phase grafana
    grafana_provision "$stage"
  fi
  set_phase apply
  log "done: Prometheus on $(prom_url), $(grep -c -- '- alert:' "$PROM_DIR/alerts.yml") alert rules, keeping ${RETENTION_DAYS}d"
}

main "$@"
