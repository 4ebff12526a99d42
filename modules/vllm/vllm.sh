# shellcheck shell=bash disable=SC2034
# Helpers shared by vllm's apply.sh, check.sh, remove.sh, run.sh and wait-ray.sh: the one file they
# source. It sets COMPONENT and HERE (this directory) and loads common/lib.sh.

readonly COMPONENT=vllm
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly HERE
# shellcheck source=../common/lib.sh
source "$HERE/../common/lib.sh"

readonly VLLM_ENV_VARS=(VENV_PATH SERVICE_USER RAY_ADDRESS VLLM_HOST_IP NETWORK_INTERFACE API_PORT
  READINESS_TIMEOUT_SECONDS VLLM_CONFIG_ROOT RAY_NON_CARRY_OVER VLLM_CACHE_ROOT SERVICE_SLICE FIREWALL_UNIT)
readonly NON_CARRY_OVER_FILE=ray_non_carry_over_env_vars.json
readonly VLLM_UNIT=vrc-vllm.service
readonly VLLM_SECRET=vllm.env

vllm_healthy() {
  curl -fsS -o /dev/null --max-time 5 "http://127.0.0.1:$API_PORT/health"
}

# non_carry_over_write: <VLLM_CONFIG_ROOT>/ray_non_carry_over_env_vars.json lists RAY_NON_CARRY_OVER
# (the secrets in vLLM's environment): vLLM's Ray executor copies every other variable of the
# driver to the workers on every node. Root-owned, readable by the service user.
non_carry_over_write() {
  local names=() n json tmp
  [[ "$VLLM_CONFIG_ROOT" == /etc/vllm-ray-cluster/* ]] || die "VLLM_CONFIG_ROOT '$VLLM_CONFIG_ROOT' is not under /etc/vllm-ray-cluster"
  read -ra names <<<"$RAY_NON_CARRY_OVER"
  ((${#names[@]})) || die "RAY_NON_CARRY_OVER is empty: the API key would reach every Ray worker"
  for n in "${names[@]}"; do
    [[ "$n" =~ ^[A-Z_][A-Z0-9_]*$ ]] || die "RAY_NON_CARRY_OVER holds '$n', not a variable name"
  done
  json="[$(printf '"%s", ' "${names[@]}")"
  json="${json%, }]"
  install -d -m 0755 -o root -g root "$VLLM_CONFIG_ROOT"
  tmp="$(mktemp)"
  printf '%s\n' "$json" >"$tmp"
  if ! cmp -s "$tmp" "$VLLM_CONFIG_ROOT/$NON_CARRY_OVER_FILE"; then
    install -m 0644 -o root -g root "$tmp" "$VLLM_CONFIG_ROOT/$NON_CARRY_OVER_FILE"
    VRC_CONFIG_CHANGED=1
    log "vLLM's Ray executor will not copy $RAY_NON_CARRY_OVER to the workers ($VLLM_CONFIG_ROOT/$NON_CARRY_OVER_FILE)"
  fi
  rm -f "$tmp"
}

# non_carry_over_remove: the file and its directory (they are ours).
non_carry_over_remove() {
  [[ -n "${VLLM_CONFIG_ROOT:-}" && "$VLLM_CONFIG_ROOT" == /etc/vllm-ray-cluster/* ]] || return 0
  rm -f "$VLLM_CONFIG_ROOT/$NON_CARRY_OVER_FILE"
  rmdir "$VLLM_CONFIG_ROOT" 2>/dev/null || true
}

# cache_dir_check: VLLM_CACHE_ROOT's parent is the service user's cache (made by the bootstrap on
# every node); vLLM creates VLLM_CACHE_ROOT itself. Kept by remove.sh: a restart does not recompile.
cache_dir_check() {
  local parent
  parent="$(dirname "$VLLM_CACHE_ROOT")"
  [[ -d "$parent" ]] || die "$parent (the service user's cache) is missing: bootstrap must run first"
}
