#!/usr/bin/env bash
# ray apply: install vrc-ray-head.service or vrc-ray-worker.service (VRC_ROLE), (re)start it and
# wait until this node is alive in the cluster.
# Usage: apply.sh <stage-dir> [<resource id>]
set -euo pipefail

# shellcheck source=ray.sh
source "$(dirname "${BASH_SOURCE[0]}")/ray.sh"

ensure_temp_dir() {
  local owner
  if [[ -d "$RAY_TEMP_DIR" ]]; then
    owner="$(stat -c %U "$RAY_TEMP_DIR")"
    [[ "$owner" == "$SERVICE_USER" ]] ||
      die "$RAY_TEMP_DIR belongs to $owner, not $SERVICE_USER (left by a Ray started by hand?): run 'ray stop' as $owner, delete $RAY_TEMP_DIR, apply again"
  else
    install -d -m 0700 -o "$SERVICE_USER" -g "$(id -gn "$SERVICE_USER")" "$RAY_TEMP_DIR"
  fi
  # Ray runs in RAY_TEMP_DIR/ray (ray.args --temp-dir), which it makes 0777 at every process
  # start; RAY_TEMP_DIR itself stays 0700, so nobody but the service user reaches anything in it.
  chmod 0700 "$RAY_TEMP_DIR"
}

main() {
  local stage="${1:?usage: apply.sh <stage-dir>}" unit tmp
  set_phase apply
  require_root
  # A failure from here on undoes this step's work on the host (common/lib.sh).
  undo_on_failure "${2:-}"
  load_env "$stage/$COMPONENT.env" "${RAY_ENV_VARS[@]}"
  check_service_user
  check_temp_dir
  [[ -f "$stage/$COMPONENT.args" ]] || die "$stage/$COMPONENT.args missing"
  require_bootstrap ray
  install_component "$stage" "$COMPONENT"
  ray_token_install
  ensure_temp_dir
  unit="$(ray_unit)"
  tmp="$(mktemp)"
  render "$HERE/vrc-ray.service.in" "$tmp" ROLE="$VRC_ROLE" SERVICE_USER="$SERVICE_USER" \
    SLICE="$SERVICE_SLICE" FIREWALL_UNIT="$FIREWALL_UNIT"
  unit_install "$tmp" "$unit"
  rm -f "$tmp"
  unit_restart_if_needed "$unit"
  set_phase wait
  if ! wait_for "$READINESS_TIMEOUT_SECONDS" "this node ($NODE_IP) to be alive in the Ray cluster at $HEAD_ADDRESS" ray_node_alive; then
    dump_journal "$unit"
    die "Ray $VRC_ROLE on $NODE_IP did not join $HEAD_ADDRESS within ${READINESS_TIMEOUT_SECONDS}s"
  fi
  log "$(ray_node_alive)"
  if [[ "$VRC_ROLE" == head ]]; then
    ray_as_user "$VENV_PATH/bin/ray" status --address "$HEAD_ADDRESS" || die "ray status --address $HEAD_ADDRESS failed"
  fi
  set_phase apply
  log "done: $unit active, node $NODE_IP alive"
}

main "$@"
