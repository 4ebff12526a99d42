#!/usr/bin/env bash
# ExecStartPre of vrc-vllm.service (as the service user, vllm.env in the environment): the start
# order at boot, after a Ray node rejoins, and after a restart. vLLM places its ranks once, when
# it starts, so it starts once every node the stack declares (RAY_EXPECTED_NODES) is alive in the
# Ray cluster. A node that stays away does not keep it down: once the alive GPUs hold its ranks
# (REQUIRED_GPUS = DP x TP x PP, every replica's), it waits SETTLE_SECONDS more for the others (a
# boot's stragglers), then starts without them, with a warning naming them. While the ranks do not
# fit, it waits up to RAY_WAIT_SECONDS, then fails (the unit's Restart= tries again).
set -euo pipefail

# How long a vLLM whose ranks fit waits for the missing nodes.
readonly SETTLE_SECONDS=30

# shellcheck source=vllm.sh
source "$(dirname "${BASH_SOURCE[0]}")/vllm.sh"

main() {
  local start last=-1 elapsed missing fits_since=-1
  set_phase start
  : "${VENV_PATH:?VENV_PATH is not set (EnvironmentFile=/etc/vllm-ray-cluster/vllm.env)}"
  : "${RAY_ADDRESS:?RAY_ADDRESS is not set}"
  if [[ -z "${RAY_EXPECTED_NODES:-}" ]]; then
    log "RAY_EXPECTED_NODES not set: not waiting for the Ray cluster"
    return 0
  fi
  [[ "${RAY_WAIT_SECONDS:-}" =~ ^[0-9]+$ ]] || die "RAY_WAIT_SECONDS '${RAY_WAIT_SECONDS:-}' is not a number of seconds"
  [[ "${REQUIRED_GPUS:-}" =~ ^[0-9]+$ ]] || die "REQUIRED_GPUS '${REQUIRED_GPUS:-}' is not a number"
  service_env
  start=$SECONDS
  while true; do
    ray_cluster_facts "$RAY_ADDRESS"
    missing="$(missing_nodes "$RAY_EXPECTED_NODES" "$RAY_IPS")"
    elapsed=$((SECONDS - start))
    if [[ -z "$RAY_ERROR" && -z "$missing" ]]; then
      log "Ray cluster complete: $RAY_ALIVE node(s) alive with $RAY_GPUS GPU(s); starting vLLM"
      return 0
    fi
    if [[ -z "$RAY_ERROR" ]] && gpus_at_least "$RAY_GPUS" "$REQUIRED_GPUS"; then
      ((fits_since >= 0)) || fits_since=$elapsed
      if ((elapsed - fits_since >= SETTLE_SECONDS)); then
        warn "starting vLLM without $missing (not alive in the Ray cluster): the $RAY_GPUS GPU(s) of $RAY_IPS hold its $REQUIRED_GPUS rank(s)"
        return 0
      fi
    else
      fits_since=-1
      if ((elapsed >= RAY_WAIT_SECONDS)); then
        die "not starting vLLM: ${RAY_ERROR:-the Ray cluster has $RAY_GPUS GPU(s) alive ($RAY_IPS), vLLM needs $REQUIRED_GPUS; missing: $missing} (waited ${RAY_WAIT_SECONDS}s; the unit tries again)"
      fi
    fi
    if ((last < 0 || elapsed - last >= 15)); then
      log "waiting for the Ray cluster (${elapsed}s/${RAY_WAIT_SECONDS}s): ${RAY_ERROR:-$RAY_ALIVE node(s) alive, missing $missing}"
      last=$elapsed
    fi
    sleep 2
  done
}

main "$@"
