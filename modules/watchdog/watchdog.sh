# shellcheck shell=bash disable=SC2034
# Helpers shared by the watchdog's apply.sh, check.sh, remove.sh and probe.sh: the one file they
# source. It sets COMPONENT and HERE (this directory) and loads common/lib.sh.

readonly COMPONENT=watchdog
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly HERE
# shellcheck source=../common/lib.sh
source "$HERE/../common/lib.sh"

readonly WATCHDOG_ENV_VARS=(VENV_PATH SERVICE_USER RAY_ADDRESS RAY_AUTH_MODE API_PORT SERVED_MODEL_NAME
  REQUIRE_API_KEY VLLM_UNIT INTERVAL_SECONDS FAILURES_BEFORE_RESTART PROBE_TIMEOUT_SECONDS
  STARTUP_GRACE_SECONDS EXPECTED_NODES EXPECTED_GPUS REQUIRED_GPUS)
readonly WATCHDOG_SERVICE=vrc-watchdog.service
readonly WATCHDOG_TIMER=vrc-watchdog.timer
# What the last probe found, for `verify` and for the next probe (KEY=value lines).
readonly WATCHDOG_STATUS="$VRC_STATE/watchdog.status"

# check_numbers: the timing settings are whole numbers within sane bounds.
check_numbers() {
  local v
  for v in INTERVAL_SECONDS FAILURES_BEFORE_RESTART PROBE_TIMEOUT_SECONDS STARTUP_GRACE_SECONDS EXPECTED_GPUS REQUIRED_GPUS; do
    [[ "${!v}" =~ ^[0-9]+$ ]] || die "$v '${!v}' is not a whole number"
  done
  ((INTERVAL_SECONDS >= 1 && FAILURES_BEFORE_RESTART >= 1 && PROBE_TIMEOUT_SECONDS >= 1)) ||
    die "INTERVAL_SECONDS, FAILURES_BEFORE_RESTART and PROBE_TIMEOUT_SECONDS must be at least 1"
  [[ "$VLLM_UNIT" =~ ^vrc-[a-z0-9-]+\.service$ ]] || die "VLLM_UNIT '$VLLM_UNIT' is not one of our units"
}
