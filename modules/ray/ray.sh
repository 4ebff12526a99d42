# shellcheck shell=bash disable=SC2034
# Helpers shared by ray's apply.sh, check.sh, remove.sh and run.sh: the one file they source. It
# sets COMPONENT and HERE (this directory) and loads common/lib.sh.

readonly COMPONENT=ray
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly HERE
# shellcheck source=../common/lib.sh
source "$HERE/../common/lib.sh"

readonly RAY_ENV_VARS=(VENV_PATH SERVICE_USER RAY_TEMP_DIR NODE_IP HEAD_ADDRESS NETWORK_INTERFACE
  READINESS_TIMEOUT_SECONDS SERVICE_SLICE FIREWALL_UNIT)

# Exit 0 when a node with IP argv[2] is ALIVE in the GCS at argv[1]. Ray's CLI has no dashboard-free
# way to list node IPs (`ray list nodes` needs the dashboard, `ray status` shows node ids only);
# GcsClient is what `ray status` itself uses.
readonly NODE_ALIVE_PY='
import sys
from ray._raylet import GcsClient
from ray.core.generated.gcs_pb2 import GcsNodeInfo
nodes = GcsClient(address=sys.argv[1]).get_all_node_info(timeout=10)
alive = sorted(n.node_manager_address for n in nodes.values() if n.state == GcsNodeInfo.ALIVE)
print("alive:", " ".join(alive) or "none")
sys.exit(0 if sys.argv[2] in alive else 1)
'

readonly RAY_TOKEN_NAME=ray-token
readonly RAY_TOKEN_FILE="$VRC_SECRETS/$RAY_TOKEN_NAME"

ray_unit() { echo "vrc-ray-$VRC_ROLE.service"; }

# ray_as_user CMD...: CMD as the service user, with Ray's token settings when auth is on.
ray_as_user() {
  if [[ "${RAY_AUTH_MODE:-disabled}" == token ]]; then
    as_user "$SERVICE_USER" env RAY_AUTH_MODE=token RAY_AUTH_TOKEN_PATH="$RAY_TOKEN_FILE" "$@"
  else
    as_user "$SERVICE_USER" "$@"
  fi
}

# ray_token_install: the token (delivered 0600 root) becomes readable by the service user only.
ray_token_install() {
  if [[ "${RAY_AUTH_MODE:-disabled}" != token ]]; then
    rm -f "$RAY_TOKEN_FILE"
    warn "Ray token authentication is off (ray.require_auth_token: false or Ray before 2.52)"
    return 0
  fi
  [[ -s "$RAY_TOKEN_FILE" ]] ||
    die "the Ray token is empty: set the stack's ray.auth_token_env variable (e.g. export TF_VAR_ray_auth_token=...) on the deploy machine and deploy again, or set ray.require_auth_token: false"
  chown "$SERVICE_USER" "$RAY_TOKEN_FILE"
  chmod 0400 "$RAY_TOKEN_FILE"
  log "Ray token authentication on ($RAY_TOKEN_FILE, readable by $SERVICE_USER only)"
}

ray_node_alive() {
  ray_as_user "$VENV_PATH/bin/python" -c "$NODE_ALIVE_PY" "$HEAD_ADDRESS" "$NODE_IP"
}

# check_temp_dir: RAY_TEMP_DIR is removed on destroy, so refuse anything that is not a dedicated dir.
check_temp_dir() {
  [[ "$RAY_TEMP_DIR" =~ ^/[^/]+/[^/] && "$RAY_TEMP_DIR" != *..* && "$RAY_TEMP_DIR" != */ ]] ||
    die "RAY_TEMP_DIR '$RAY_TEMP_DIR' must be an absolute path two levels deep or more (default /tmp/ray)"
  case "$RAY_TEMP_DIR" in
    /etc/* | /usr/* | /boot/* | /proc/* | /sys/* | /dev/* | /root/* | /run/*) die "RAY_TEMP_DIR '$RAY_TEMP_DIR' is a system path" ;;
  esac
}
