# shellcheck shell=bash
# The instance's host-only bridge (vrcbr<index>) and its guard rules. Sourced, never run.

ensure_bridge() {
  local other
  # Nothing else on this machine may use our subnet.
  other="$(ip -4 -o addr show to "$SUBNET" | awk -v br="$BRIDGE" '$2 != br {print $2" "$4}')"
  [[ -z $other ]] && other="$(ip -4 route show root "$SUBNET" | grep -v "dev $BRIDGE " || true)"
  [[ -z $other ]] || die "network: $SUBNET is already used on this machine ($other): not touching it"

  # The bridge's alias names the sandbox that made it: another checkout's instance with the same
  # index must not be taken over.
  local owner alias
  owner="vrc-sandbox $STATE"
  if ip link show "$BRIDGE" >/dev/null 2>&1; then
    alias="$(cat "/sys/class/net/$BRIDGE/ifalias" 2>/dev/null || true)"
    [[ $alias == "$owner" ]] ||
      die "network: bridge $BRIDGE already exists and is not this instance's (alias '${alias}'): pick another VRC_SANDBOX_INDEX, or take that sandbox down"
  else
    log "network: creating bridge $BRIDGE ($BRIDGE_IP/24) for instance $INSTANCE"
    ip link add "$BRIDGE" type bridge || die "network: cannot create bridge $BRIDGE"
    ip link set dev "$BRIDGE" alias "$owner"
  fi
  # IPv4 only: no link-local IPv6 path between containers and the machine.
  if [[ -w /proc/sys/net/ipv6/conf/$BRIDGE/disable_ipv6 ]]; then
    echo 1 >"/proc/sys/net/ipv6/conf/$BRIDGE/disable_ipv6"
  fi
  ip addr replace "$BRIDGE_IP/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  ensure_guard
}

# Containers get no default route; in addition these rules stop anything arriving on the
# bridge from being forwarded anywhere, or from reaching this machine other than at
# the bridge address (even if ip_forward gets enabled later by someone else). Traffic
# between containers stays allowed: with br_netfilter loaded (bridge-nf-call-iptables=1,
# as here) bridged packets traverse this forward hook with iif = oif = the bridge.
ensure_guard() {
  if ! command -v nft >/dev/null 2>&1; then
    warn "network: nft missing: relying on ip_forward=$(cat /proc/sys/net/ipv4/ip_forward) only"
    return 0
  fi
  load_bridge_guard "$NFT_TABLE" "$BRIDGE" "$BRIDGE_IP" "$NET_PREFIX" ||
    die "network: could not load nftables table inet $NFT_TABLE"
}

# load_bridge_guard TABLE BR ADDRESS PREFIX: (re)loads the nftables table inet TABLE with the
# rules above for the bridge BR, whose own address is ADDRESS in PREFIX.0/24. Also used by
# sandbox/firewall-lab/lab.sh.
load_bridge_guard() {
  local table="$1" br="$2" address="$3" prefix="$4"
  nft -f - <<NFT
table inet $table
delete table inet $table
table inet $table {
  chain forward {
    type filter hook forward priority -10; policy accept;
    iifname "$br" oifname "$br" accept
    iifname "$br" drop
    oifname "$br" drop
  }
  chain input {
    type filter hook input priority -10; policy accept;
    iifname "$br" meta nfproto ipv6 drop
    iifname "$br" ip daddr != { $address, $prefix.255, 255.255.255.255 } drop
  }
}
NFT
}

remove_network() {
  if ip link show "$BRIDGE" >/dev/null 2>&1; then
    log "network: removing bridge $BRIDGE"
    ip link del "$BRIDGE" || warn "network: could not delete $BRIDGE"
  fi
  if command -v nft >/dev/null 2>&1 && nft list table inet "$NFT_TABLE" >/dev/null 2>&1; then
    nft delete table inet "$NFT_TABLE" || warn "network: could not delete table inet $NFT_TABLE"
  fi
}
