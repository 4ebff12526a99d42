# shellcheck shell=bash disable=SC2034
# Helpers shared by the metrics module's apply.sh, check.sh, remove.sh and collect.sh: the one file
# they source. It sets COMPONENT and HERE (this directory) and loads common/lib.sh.

readonly COMPONENT=metrics
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly HERE
# shellcheck source=../common/lib.sh
source "$HERE/../common/lib.sh"

readonly METRICS_ENV_VARS=(OS_FAMILY VENV_PATH SERVICE_USER NODE_IP NODE_EXPORTER_PORT COLLECT_INTERVAL_SECONDS
  GPUS DCGM_EXPORTER_PORT STORAGE_MODE MOUNT_REQUIRED MOUNT_PATH MODEL_DIR SERVICE_SLICE FIREWALL_UNIT)
readonly EXPORTER_UNIT=vrc-node-exporter.service
readonly COLLECTORS_SERVICE=vrc-collectors.service
readonly COLLECTORS_TIMER=vrc-collectors.timer
# The OS package and its own unit (which listens on every address: ours replaces it).
readonly EXPORTER_PACKAGE=prometheus-node-exporter
readonly EXPORTER_BIN=/usr/bin/prometheus-node-exporter
readonly PACKAGE_UNIT=prometheus-node-exporter.service
# The user the package creates; our exporter runs as it.
readonly METRICS_USER=prometheus
# Where the collectors write *.prom files (node exporter's textfile collector reads them).
readonly TEXTFILE_DIR="$VRC_STATE/textfile"
readonly METRICS_PKG_RECORD="$VRC_STATE/metrics-installed-packages"
# The package's unit, when we stopped and disabled it (it was ours to stop: we installed it).
readonly PACKAGE_UNIT_RECORD="$VRC_STATE/metrics-package-unit-disabled"
# Where the GPU metrics come from on this node (dcgm | nvidia-smi | none), decided at apply.
readonly GPU_SOURCE_RECORD="$VRC_STATE/metrics-gpu-source"
readonly WATCHDOG_STATUS_FILE="$VRC_STATE/watchdog.status"

check_metrics_env() {
  local v
  for v in NODE_EXPORTER_PORT COLLECT_INTERVAL_SECONDS GPUS DCGM_EXPORTER_PORT; do
    [[ "${!v}" =~ ^[0-9]+$ ]] || die "$v '${!v}' is not a whole number"
  done
  [[ "$NODE_IP" =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] || die "NODE_IP '$NODE_IP' is not an IPv4 address"
  [[ "$MOUNT_REQUIRED" == true || "$MOUNT_REQUIRED" == false ]] || die "MOUNT_REQUIRED '$MOUNT_REQUIRED' is not true or false"
  [[ "$SERVICE_SLICE" =~ ^[a-z][a-z0-9-]*\.slice$ ]] || die "SERVICE_SLICE '$SERVICE_SLICE' is not a slice unit name"
}

# dcgm_answers: a DCGM exporter serves GPU metrics on this node's DCGM_EXPORTER_PORT.
dcgm_answers() {
  curl -fsS --max-time 5 "http://$NODE_IP:$DCGM_EXPORTER_PORT/metrics" 2>/dev/null | grep -q '^DCGM_FI_'
}
