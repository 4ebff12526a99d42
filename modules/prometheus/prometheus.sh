# shellcheck shell=bash disable=SC2034
# Helpers shared by the prometheus module's apply.sh, check.sh and remove.sh: the one file they
# source. It sets COMPONENT and HERE (this directory) and loads common/lib.sh, then grafana.sh.

readonly COMPONENT=prometheus
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly HERE
# shellcheck source=../common/lib.sh
source "$HERE/../common/lib.sh"

readonly PROMETHEUS_ENV_VARS=(OS_FAMILY NODE_IP PROMETHEUS_PORT RETENTION_DAYS GPU_NODES DCGM_EXPORTER_PORT
  SERVICE_SLICE FIREWALL_UNIT)
readonly PROM_UNIT=vrc-prometheus.service
readonly PROM_PACKAGE=prometheus
readonly PROM_BIN=/usr/bin/prometheus
readonly PROMTOOL=/usr/bin/promtool
readonly PROM_PACKAGE_UNIT=prometheus.service
readonly PROM_USER=prometheus
# Configuration (prometheus.yml rendered by Java, alerts.yml, the DCGM targets) and data.
readonly PROM_DIR="$VRC_ETC/prometheus"
readonly PROM_DATA="$VRC_STATE/prometheus"
readonly PROM_PKG_RECORD="$VRC_STATE/prometheus-installed-packages"
readonly PROM_PACKAGE_UNIT_RECORD="$VRC_STATE/prometheus-package-unit-disabled"

check_prometheus_env() {
  local v
  for v in PROMETHEUS_PORT RETENTION_DAYS DCGM_EXPORTER_PORT; do
    [[ "${!v}" =~ ^[0-9]+$ ]] || die "$v '${!v}' is not a whole number"
  done
  [[ "$NODE_IP" =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] || die "NODE_IP '$NODE_IP' is not an IPv4 address"
  [[ "$SERVICE_SLICE" =~ ^[a-z][a-z0-9-]*\.slice$ ]] || die "SERVICE_SLICE '$SERVICE_SLICE' is not a slice unit name"
}

prom_url() { echo "http://$NODE_IP:$PROMETHEUS_PORT"; }

# shellcheck source=grafana.sh
source "$HERE/grafana.sh"
