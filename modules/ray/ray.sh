# shellcheck shell=bash disable=SC2034
# Helpers shared by ray's apply.sh, check.sh and remove.sh.

readonly RAY_ENV_VARS=(VENV_PATH SERVICE_USER RAY_TEMP_DIR NODE_IP HEAD_ADDRESS NETWORK_INTERFACE
  READINESS_TIMEOUT_SECONDS)

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

ray_unit() { echo "vrc-ray-$VRC_ROLE.service"; }

ray_node_alive() {
  as_user "$SERVICE_USER" "$VENV_PATH/bin/python" -c "$NODE_ALIVE_PY" "$HEAD_ADDRESS" "$NODE_IP"
}

# check_temp_dir: RAY_TEMP_DIR is removed on destroy, so refuse anything that is not a dedicated dir.
check_temp_dir() {
  [[ "$RAY_TEMP_DIR" =~ ^/[^/]+/[^/] && "$RAY_TEMP_DIR" != *..* && "$RAY_TEMP_DIR" != */ ]] ||
    die "RAY_TEMP_DIR '$RAY_TEMP_DIR' must be an absolute path two levels deep or more (default /tmp/ray)"
  case "$RAY_TEMP_DIR" in
    /etc/* | /usr/* | /boot/* | /proc/* | /sys/* | /dev/* | /root/* | /run/*) die "RAY_TEMP_DIR '$RAY_TEMP_DIR' is a system path" ;;
  esac
}
