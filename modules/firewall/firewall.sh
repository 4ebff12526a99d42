# shellcheck shell=bash disable=SC2034
# Helpers shared by firewall's apply.sh, check.sh and remove.sh: the env contract, validation of
# its values, and the choice of backend. The one file they source: it sets COMPONENT and HERE (this
# directory) and loads common/lib.sh, then the backends.
#
# Backends: nftables (nftables.sh), firewalld (firewalld.sh), ufw (ufw.sh). They do the same thing
# in each tool's own terms: every address in CLUSTER_ADDRESSES reaches everything; the API port
# only from API_ALLOWED_NETWORKS, the dashboard port only from DASHBOARD_ALLOWED_NETWORKS (both
# also from the cluster and loopback); every port in PROTECTED_TCP_PORTS (and the API and
# dashboard ports) and PROTECTED_UDP_PORTS is dropped from anyone else, even when the host's own
# firewall opened it; and, whatever the port, every socket a process of our services'
# SERVICE_SLICE (vrc.slice: Ray, vLLM and all they start) listens on, so that a port nobody
# listed (an ephemeral one Ray or torch.distributed picked) is closed too (ownership, not a
# list: nftables `socket cgroupv2`, in our own table, whichever backend holds the accepts).
# Replies to this host's own connections and port 22 are never touched.
#
# Why auto prefers firewalld, then ufw, then nftables. Our nftables table and firewalld/ufw
# coexist in the kernel: every base chain on the input hook sees each packet, a drop in any of
# them is final and an accept is not. So our own table can add drops on top of any firewall,
# but it cannot open anything that firewalld's zones or ufw's default "deny incoming" reject:
# with firewalld running or ufw active, nftables alone would leave the Ray cluster's own traffic
# (GCS 6379, workers 10002-19999, ...) dropped by them. The allows must live in the firewall
# that holds the default deny, so auto programs that one; plain nftables only when neither runs.
# A firewall that is installed but not running (ufw inactive, firewalld stopped) is never started
# or enabled by us (enabling it could cut the SSH session the provisioner uses): then the rules
# go into our nftables table, and the log says so.

readonly COMPONENT=firewall
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly HERE
# shellcheck source=../common/lib.sh
source "$HERE/../common/lib.sh"

readonly FW_ENV_VARS=(FIREWALL_BACKEND CLUSTER_ADDRESSES API_PORT API_ALLOWED_NETWORKS DASHBOARD_PORT
  DASHBOARD_ALLOWED_NETWORKS PROTECTED_TCP_PORTS PROTECTED_UDP_PORTS SERVICE_SLICE)
readonly FW_BACKENDS=(nftables firewalld ufw)
# The backend apply used, for check and remove.
readonly FW_BACKEND_RECORD="$VRC_STATE/firewall.backend"
# Marks our rules where a tool has no namespace of its own (ufw comments, firewalld description).
readonly FW_TAG=vllm-ray-cluster

check_port() {
  if [[ "$1" =~ ^[0-9]+$ ]] && (($1 >= 1 && $1 <= 65535)); then return 0; fi
  die "'$1' is not a TCP port"
}

# split_family WORDS: prints "4 addr" / "6 addr" lines; dies on anything not an IP or CIDR.
split_family() {
  local a words=()
  read -ra words <<<"$1"
  for a in "${words[@]}"; do
    if [[ "$a" =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}(/[0-9]{1,2})?$ ]]; then
      echo "4 $a"
    elif [[ "$a" == *:* && "$a" =~ ^[0-9a-fA-F:.]+(/[0-9]{1,3})?$ ]]; then
      echo "6 $a"
    else
      die "'$a' is not an IP address or CIDR"
    fi
  done
}

family() { sed -n "s/^$1 //p"; }

# mon_ports: MONITORING_PORTS (Prometheus, the node exporter; set with monitoring on, absent
# otherwise), which MONITORING_ALLOWED_NETWORKS may reach too (they are in the protected set).
mon_ports() { port_list "${MONITORING_PORTS:-}" MONITORING_PORTS; }

# ports: the protected TCP set, "N" or "LO-HI" per line, in order, without repeats; the API and
# dashboard ports are always in it. udp_ports: the same for PROTECTED_UDP_PORTS.
ports() { port_list "$PROTECTED_TCP_PORTS $API_PORT $DASHBOARD_PORT" PROTECTED_TCP_PORTS; }
udp_ports() { port_list "$PROTECTED_UDP_PORTS" PROTECTED_UDP_PORTS; }

port_list() {
  local p lo hi words=()
  read -ra words <<<"$1"
  for p in "${words[@]}"; do
    lo="${p%-*}" hi="${p#*-}"
    check_port "$lo"
    check_port "$hi"
    ((lo <= hi)) || die "port range '$p' is reversed"
    ((lo > 22 || hi < 22)) || die "$2 contains 22 ('$p'): SSH is never firewalled by this tool"
    echo "$p"
  done | awk '!seen[$0]++'
}

# fw_validate: dies unless every address, network and port in the env is well-formed.
fw_validate() {
  check_port "$API_PORT"
  check_port "$DASHBOARD_PORT"
  split_family "$CLUSTER_ADDRESSES $API_ALLOWED_NETWORKS $DASHBOARD_ALLOWED_NETWORKS ${MONITORING_ALLOWED_NETWORKS:-}" >/dev/null
  ports >/dev/null
  mon_ports >/dev/null
  udp_ports >/dev/null
  [[ "$SERVICE_SLICE" =~ ^[a-z][a-z0-9-]*\.slice$ ]] || die "SERVICE_SLICE '$SERVICE_SLICE' is not a slice unit name"
}

firewalld_running() { command -v firewall-cmd >/dev/null && firewall-cmd --state >/dev/null 2>&1; }
ufw_active() { command -v ufw >/dev/null && [[ "$(ufw status 2>/dev/null | head -n1)" == "Status: active" ]]; }

# nftables_or_die WHY: the nftables backend, or die saying WHY it was wanted.
nftables_or_die() {
  command -v nft >/dev/null ||
    die "$1, and nft is not installed: install nftables, or set network.firewall_backend to a firewall that runs on this host (or none, and firewall the cluster yourself)"
  FW_CHOSEN=nftables
}

# fw_choose: sets FW_CHOSEN (nftables|firewalld|ufw|none) from FIREWALL_BACKEND and what runs on
# the host, and logs why.
fw_choose() {
  local why
  FW_CHOSEN=""
  case "$FIREWALL_BACKEND" in
    none)
      FW_CHOSEN=none why="network.firewall_backend is none"
      ;;
    nftables)
      nftables_or_die "network.firewall_backend is nftables"
      why="network.firewall_backend is nftables"
      ;;
    firewalld)
      command -v firewall-cmd >/dev/null || die "network.firewall_backend is firewalld but firewalld is not installed: install it, or use auto"
      if firewalld_running; then
        FW_CHOSEN=firewalld why="network.firewall_backend is firewalld and it is running"
      else
        nftables_or_die "network.firewall_backend is firewalld but firewalld is not running (not started by us)"
        why="network.firewall_backend is firewalld but firewalld is not running: we do not start it; using our own nftables table instead"
      fi
      ;;
    ufw)
      command -v ufw >/dev/null || die "network.firewall_backend is ufw but ufw is not installed: install it, or use auto"
      if ufw_active; then
        FW_CHOSEN=ufw why="network.firewall_backend is ufw and it is active"
      else
        nftables_or_die "network.firewall_backend is ufw but ufw is inactive (we never enable it)"
        why="network.firewall_backend is ufw but ufw is inactive: we never enable it (that could cut SSH); using our own nftables table instead"
      fi
      ;;
    auto)
      if firewalld_running; then
        FW_CHOSEN=firewalld why="auto: firewalld is running, and only its own rules can let the cluster through its zones"
      elif ufw_active; then
        FW_CHOSEN=ufw why="auto: ufw is active, and only its own rules can let the cluster through its default deny"
      else
        nftables_or_die "network.firewall_backend is auto and neither firewalld nor ufw is running"
        why="auto: neither firewalld running nor ufw active: our own nftables table"
      fi
      ;;
    *) die "FIREWALL_BACKEND '$FIREWALL_BACKEND' is not auto, nftables, firewalld, ufw or none (network.firewall_backend)" ;;
  esac
  if [[ "$FIREWALL_BACKEND" == firewalld || "$FIREWALL_BACKEND" == ufw ]] && [[ "$FW_CHOSEN" != "$FIREWALL_BACKEND" ]]; then
    warn "backend $FW_CHOSEN ($why)"
  else
    log "backend $FW_CHOSEN ($why)"
  fi
  if [[ "$FW_CHOSEN" != firewalld ]] && firewalld_running; then
    warn "firewalld is running and does not hold our rules: its zones may drop the cluster's traffic (set network.firewall_backend: firewalld or auto)"
  fi
  if [[ "$FW_CHOSEN" != ufw ]] && ufw_active; then
    warn "ufw is active and does not hold our rules: its default deny may drop the cluster's traffic (set network.firewall_backend: ufw, or auto without firewalld)"
  fi
}

fw_recorded_backend() { [[ -f "$FW_BACKEND_RECORD" ]] && cat "$FW_BACKEND_RECORD"; }

# shellcheck source=nftables.sh
source "$HERE/nftables.sh"
# shellcheck source=firewalld.sh
source "$HERE/firewalld.sh"
# shellcheck source=ufw.sh
source "$HERE/ufw.sh"
