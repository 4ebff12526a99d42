# shellcheck shell=bash disable=SC2034
# Helpers shared by vllm's apply.sh, check.sh and remove.sh.

readonly VLLM_ENV_VARS=(VENV_PATH SERVICE_USER RAY_ADDRESS VLLM_HOST_IP NETWORK_INTERFACE API_PORT
  READINESS_TIMEOUT_SECONDS SERVICE_SLICE FIREWALL_UNIT)
readonly VLLM_UNIT=vrc-vllm.service
readonly VLLM_SECRET=vllm.env

vllm_healthy() {
  curl -fsS -o /dev/null --max-time 5 "http://127.0.0.1:$API_PORT/health"
}
