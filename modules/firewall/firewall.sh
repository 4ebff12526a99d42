# shellcheck shell=bash disable=SC2034
# Helpers shared by firewall's apply.sh, check.sh and remove.sh.

readonly FW_ENV_VARS=(FIREWALL_BACKEND CLUSTER_ADDRESSES API_PORT API_ALLOWED_NETWORKS DASHBOARD_PORT
  DASHBOARD_ALLOWED_NETWORKS PROTECTED_TCP_PORTS)
readonly FW_UNIT=vrc-firewall.service
readonly FW_TABLE='inet vllm_ray_cluster'
readonly FW_FILE="$VRC_ETC/firewall.nft"
# `nft list table` as loaded by apply, compared by check.
readonly FW_RECORD="$VRC_STATE/firewall.loaded"

# fw_backend: nftables or none, from FIREWALL_BACKEND.
fw_backend() {
  case "$FIREWALL_BACKEND" in
    none) echo none ;;
    nftables)
      command -v nft >/dev/null || die "network.firewall_backend is nftables but nft is not installed (install the nftables package)"
      echo nftables
      ;;
    auto)
      command -v nft >/dev/null ||
        die "network.firewall_backend is auto and nft is not installed: install nftables, or set network.firewall_backend: none and firewall the cluster yourself"
      echo nftables
      ;;
    *) die "FIREWALL_BACKEND '$FIREWALL_BACKEND' is not auto, nftables or none (network.firewall_backend)" ;;
  esac
}

fw_table_listing() { nft list table "$FW_TABLE" 2>/dev/null; }
