#!/usr/bin/env bash
# Firewall lab: modules/firewall on real firewalld / ufw / nftables hosts, probed from outside.
# Throwaway systemd-nspawn containers vrcfw-* on their own bridge vrcfw0 (10.216.0.0/24), overlays
# over the sandbox's Debian rootfs (read-only lowerdir; build it with `sandbox/sandbox up`, or
# point VRCFW_ROOTFS at one). firewalld and ufw come from .debs downloaded here with apt (the
# containers have no way out). Root needed.
#   lab.sh up     hosts nft (firewalld stopped, ufw inactive), fwd (firewalld running, the admin
#                 opened 6379/tcp), ufw (ufw active: 22/tcp and the admin's 6379/tcp), peer (a
#                 cluster address), out (outsider); listeners on the ports probed
#   lab.sh run    the matrix: every backend value on each host, one result row per case
#   lab.sh down   containers, bridge and guard table gone
#   lab.sh ssh NAME CMD... / fw NAME apply|check|remove [BACKEND [API_NETWORKS]] / probes NAME
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
readonly HERE
PROJECT_ROOT="$(cd "$HERE/../.." && pwd -P)"
readonly PROJECT_ROOT
readonly STATE="$PROJECT_ROOT/.sandbox/firewall-lab"
readonly ROOTFS="${VRCFW_ROOTFS:-$PROJECT_ROOT/.sandbox/rootfs-bookworm}"
readonly BRIDGE=vrcfw0 PREFIX=10.216.0 GUARD=vrcfw_guard
readonly KEY="$STATE/id_ed25519" KNOWN="$STATE/known_hosts"
readonly HOSTS=(nft:11 fwd:12 ufw:13 peer:50 out:200)
readonly PROBED=(6379 8265 10001 12345 52365 9001 4444 7777 22)
# Listened on by lab-listen (outside our slice); 4444 by lab-owned, in vrc.slice like Ray and vLLM,
# on a port no rule lists: only the ownership rule closes it.
readonly LISTENED=(6379 8265 10001 12345 52365 9001 7777)
readonly STAGE=/run/vrc-stage-root/firewall
# load_bridge_guard: the sandbox's guard rules for a bridge.
# shellcheck source=sandbox/lib/net.sh
source "$HERE/../lib/net.sh"

log() { printf '[fwlab] %s\n' "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

ip_of() {
  local h
  for h in "${HOSTS[@]}"; do [[ "${h%%:*}" == "$1" ]] && { echo "$PREFIX.${h#*:}"; return 0; }; done
  die "no lab host '$1'"
}

lab_ssh() {
  local n="$1"
  shift
  ssh -F /dev/null -i "$KEY" -o IdentitiesOnly=yes -o IdentityAgent=none -o UserKnownHostsFile="$KNOWN" \
    -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=3 \
    -o LogLevel=ERROR "root@$(ip_of "$n")" "$@"
}

net_up() {
  ip link show "$BRIDGE" >/dev/null 2>&1 || ip link add "$BRIDGE" type bridge
  echo 1 >"/proc/sys/net/ipv6/conf/$BRIDGE/disable_ipv6"
  ip addr replace "$PREFIX.1/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  # As sandbox/lib/net.sh: nothing from the bridge is forwarded or reaches this machine but
  # at the bridge address.
  load_bridge_guard "$GUARD" "$BRIDGE" "$PREFIX.1" "$PREFIX"
}

# debs: firewalld, ufw and what they need beyond the rootfs, resolved against its dpkg status.
debs() {
  [[ -f "$STATE/debs/.complete" ]] && return 0
  mkdir -p "$STATE/debs/partial"
  apt-get -q -o Dir::State::status="$ROOTFS/var/lib/dpkg/status" -o Dir::Cache::archives="$STATE/debs" \
    -o Debug::NoLocking=1 install --download-only -y --no-install-recommends firewalld ufw >&2
  rm -rf "$STATE/debs/partial"
  touch "$STATE/debs/.complete"
}

host_up() {
  local n="$1" d="$STATE/hosts/$1" ip r i
  ip="$(ip_of "$n")"
  mkdir -p "$d/upper" "$d/work" "$d/merged"
  [[ -s "$d/hostkey" ]] || ssh-keygen -q -t ed25519 -N '' -C "root@vrcfw-$n" -f "$d/hostkey"
  mountpoint -q "$d/merged" ||
    mount -t overlay "overlay-vrcfw-$n" -o "lowerdir=$ROOTFS,upperdir=$d/upper,workdir=$d/work" "$d/merged"
  r="$d/merged"
  tr -d '-' </proc/sys/kernel/random/uuid >"$r/etc/machine-id"
  echo "vrcfw-$n" >"$r/etc/hostname"
  install -m 0600 "$d/hostkey" "$r/etc/ssh/ssh_host_ed25519_key"
  install -m 0644 "$d/hostkey.pub" "$r/etc/ssh/ssh_host_ed25519_key.pub"
  install -d -m 0700 "$r/root/.ssh"
  install -m 0600 "$KEY.pub" "$r/root/.ssh/authorized_keys"
  cat >"$r/etc/systemd/system/lab-net.service" <<UNIT
[Unit]
Before=network.target ssh.service
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c 'until ip link show host0 >/dev/null 2>&1; do sleep 0.1; done; ip link set host0 up; ip -4 addr replace $ip/24 dev host0'
[Install]
WantedBy=multi-user.target
UNIT
  ln -sfn /etc/systemd/system/lab-net.service "$r/etc/systemd/system/multi-user.target.wants/lab-net.service"
  install -m 0755 "$HERE/listen.py" "$HERE/probe.py" "$HERE/snap.sh" "$r/root/"
  [[ "$n" == peer || "$n" == out ]] || { rm -rf "$r/root/debs" && cp -r "$STATE/debs" "$r/root/debs"; }
  echo "$ip $(cut -d' ' -f1,2 "$d/hostkey.pub")" >>"$KNOWN"
  setsid systemd-nspawn -D "$r" -M "vrcfw-$n" --boot --register=no --keep-unit --network-bridge="$BRIDGE" \
    --console=read-only --resolv-conf=off --timezone=off --link-journal=no </dev/null >>"$d/console.log" 2>&1 &
  echo $! >"$d/nspawn.pid"
  for ((i = 0; i < 120; i++)); do
    lab_ssh "$n" true 2>/dev/null && { log "$n up ($ip)"; return 0; }
    sleep 0.5
  done
  die "$n: no SSH after 60 s (see $d/console.log)"
}

# host_setup NAME: packages, the host firewall as the admin left it, and listeners.
host_setup() {
  local n="$1"
  case "$n" in
    nft | fwd | ufw) lab_ssh "$n" 'DEBIAN_FRONTEND=noninteractive dpkg -i /root/debs/*.deb >/root/dpkg.log 2>&1' ;;
  esac
  case "$n" in
    nft | ufw) lab_ssh "$n" 'systemctl disable --now --quiet firewalld' ;;
  esac
  case "$n" in
    fwd) lab_ssh "$n" 'firewall-cmd -q --permanent --add-port=6379/tcp && firewall-cmd -q --add-port=6379/tcp' ;;
    ufw) lab_ssh "$n" 'ufw allow 22/tcp && ufw allow 6379/tcp && ufw --force enable' >/dev/null ;;
  esac
  if [[ "$n" == out ]]; then
    lab_ssh "$n" 'systemd-run -q --unit=lab-listen /root/listen.py 7777'
  else
    lab_ssh "$n" "systemd-run -q --unit=lab-listen /root/listen.py ${LISTENED[*]}"
  fi
}

host_down() {
  local n="$1" d="$STATE/hosts/$1" pid leader i
  if [[ -f "$d/nspawn.pid" ]]; then
    pid="$(cat "$d/nspawn.pid")"
    if kill -0 "$pid" 2>/dev/null; then
      leader="$(pgrep -P "$pid" | head -n1 || true)"
      [[ -z "$leader" ]] || kill -s RTMIN+4 "$leader" 2>/dev/null || true
      for ((i = 0; i < 60; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fi
    fi
  fi
  if mountpoint -q "$d/merged"; then umount "$d/merged" 2>/dev/null || umount -l "$d/merged"; fi
  rm -rf --one-file-system "$d"
  log "$n removed"
}

# fw NODE apply|check|remove [BACKEND [API_NETWORKS]]: the firewall unit as the provisioners run it,
# with the env Firewall.java renders for a head with head_nfs (cluster: the node and peer).
fw() {
  local node="$1" action="$2" backend="${3:-auto}" api="${4:-$PREFIX.1/32}" env
  env="VRC_NODE='$node'
VRC_COMPONENT='firewall'
VRC_ROLE='head'
FIREWALL_BACKEND='$backend'
CLUSTER_ADDRESSES='$(ip_of "$node") $(ip_of peer)'
API_PORT='9001'
API_ALLOWED_NETWORKS='$api'
DASHBOARD_PORT='8265'
DASHBOARD_ALLOWED_NETWORKS=''
PROTECTED_TCP_PORTS='9001 8265 6379 10001 44217 44227 20100-20199 2049 111 52365 52366 6380 6381 6382 6383 10002-19999'
PROTECTED_UDP_PORTS='2049 111'
SERVICE_SLICE='vrc.slice'"
  case "$action" in
    apply)
      tar -C "$PROJECT_ROOT/modules" -cf - common firewall | lab_ssh "$node" "rm -rf $STAGE && install -d -m 0700 $STAGE &&
        tar -C $STAGE -xf - && printf '%s\n' \"$env\" >$STAGE/firewall.env && bash $STAGE/firewall/apply.sh $STAGE; rc=\$?; rm -rf $STAGE; exit \$rc"
      ;;
    check) lab_ssh "$node" bash /opt/vllm-ray-cluster/modules/firewall/check.sh ;;
    remove) # the installed remove.sh, or (already removed) a fresh copy of it
      tar -C "$PROJECT_ROOT/modules" -cf - common firewall | lab_ssh "$node" "if [ -f /opt/vllm-ray-cluster/modules/firewall/remove.sh ]; then
        cat >/dev/null; bash /opt/vllm-ray-cluster/modules/firewall/remove.sh; else rm -rf $STAGE && install -d -m 0700 $STAGE &&
        tar -C $STAGE -xf - && bash $STAGE/firewall/remove.sh; rc=\$?; rm -rf $STAGE; exit \$rc; fi"
      ;;
    *) die "fw: apply, check or remove" ;;
  esac
}

# probes NODE: the node's ports seen from the outsider, the bridge host (API client), the cluster
# peer and itself; and a reply to the node's own connection from a protected source port.
probes() {
  local node="$1" ip
  ip="$(ip_of "$node")"
  printf '%-26s %s\n' "outsider $(ip_of out):" "$(lab_ssh out /root/probe.py "$ip" "${PROBED[@]}")"
  printf '%-26s %s\n' "api client $PREFIX.1:" "$(python3 "$HERE/probe.py" "$ip" "${PROBED[@]}")"
  printf '%-26s %s\n' "cluster peer $(ip_of peer):" "$(lab_ssh peer /root/probe.py "$ip" "${PROBED[@]}")"
  printf '%-26s %s\n' "loopback on node:" "$(lab_ssh "$node" /root/probe.py 127.0.0.1 "${PROBED[@]}")"
  printf '%-26s %s\n' "node -> outsider:7777" "from source port 52366: $(lab_ssh "$node" /root/probe.py "$(ip_of out)" 7777 --from 52366)"
}

snap() { lab_ssh "$1" /root/snap.sh; }

# case_row NODE BACKEND EXPECTED: apply twice, check, probe, remove twice; one table row.
case_row() {
  local node="$1" backend="$2" expected="$3" d spid a1 a2 ck r1 r2 noop same sess chosen out cli peer reply
  d="$STATE/runs/$node-$backend"
  rm -rf "$d" && mkdir -p "$d"
  snap "$node" >"$d/before"
  lab_ssh "$node" 'sleep 20; echo alive' >"$d/ssh-session" 2>&1 &
  spid=$!
  fw "$node" apply "$backend" >"$d/apply1" 2>&1 && a1=0 || a1=$?
  lab_ssh "$node" 'systemd-run -q --unit=lab-owned --slice=vrc.slice /root/listen.py 4444' || true
  snap "$node" >"$d/after-apply1"
  fw "$node" apply "$backend" >"$d/apply2" 2>&1 && a2=0 || a2=$?
  snap "$node" >"$d/after-apply2"
  diff "$d/after-apply1" "$d/after-apply2" >"$d/apply2.diff" && noop=yes || noop=NO
  fw "$node" check >"$d/check" 2>&1 && ck=0 || ck=$?
  probes "$node" >"$d/probes" 2>&1
  wait "$spid" || true
  grep -q alive "$d/ssh-session" && sess=yes || sess=NO
  lab_ssh "$node" 'systemctl stop lab-owned' || true
  fw "$node" remove >"$d/remove1" 2>&1 && r1=0 || r1=$?
  fw "$node" remove >"$d/remove2" 2>&1 && r2=0 || r2=$?
  snap "$node" >"$d/after-remove"
  diff "$d/before" "$d/after-remove" >"$d/remove.diff" && same=yes || same=NO
  chosen="$(sed -n 's/.*\] \(WARNING: \)\{0,1\}backend \([a-z]*\) .*/\2/p' "$d/apply1" | head -n1)"
  out="$(sed -n 's/^outsider[^:]*: *//p' "$d/probes")"
  cli="$(sed -n 's/^api client[^:]*: *//p' "$d/probes")"
  peer="$(sed -n 's/^cluster peer[^:]*: *//p' "$d/probes")"
  reply="$(sed -n 's/.*source port 52366: //p' "$d/probes")"
  printf '| %s | %s | %s%s | %s/%s | %s | %s | %s | %s | %s | %s | %s | %s/%s | %s |\n' "$node" "$backend" "$chosen" \
    "$([[ "$chosen" == "$expected" ]] || echo " (WANTED $expected)")" "$a1" "$a2" "$noop" "$ck" \
    "$(verdict "$out" "6379=timeout 8265=timeout 10001=timeout 12345=timeout 52365=timeout 9001=timeout 4444=timeout")" \
    "$(verdict "$cli" "6379=timeout 8265=timeout 10001=timeout 12345=timeout 52365=timeout 9001=open 4444=timeout")" \
    "$(verdict "$peer" "6379=open 8265=open 10001=open 12345=open 52365=open 9001=open 4444=open")" \
    "${reply:-none}" "$sess" "$r1" "$r2" "$same"
}

# verdict PROBED EXPECTED: ok when the first ports probed are as expected (7777 and 22 are
# the host firewall's business; 4444 is a listener of vrc.slice on an unlisted port).
verdict() { if [[ "${1%% 7777=*}" == "$2" ]]; then echo ok; else echo "FAIL: ${1%% 7777=*}"; fi; }

# run: the matrix as a Markdown table on stdout, and the same cells tab-separated in
# $STATE/results.tsv (what tests read).
run() {
  local c row
  echo "| host | FIREWALL_BACKEND | chosen | apply 1/2 | 2nd apply no-op | check | outsider: all dropped | $PREFIX.1: only 9001 | peer: all | reply to :52366 | SSH session kept | remove 1/2 | host as before |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  printf 'host\tbackend\tchosen\tapply\tnoop\tcheck\toutsider\tclient\tpeer\treply\tsession\tremove\tsame\n' >"$STATE/results.tsv"
  for c in "nft nftables nftables" "nft auto nftables" "nft firewalld nftables" "nft ufw nftables" \
    "fwd auto firewalld" "fwd firewalld firewalld" "ufw auto ufw" "ufw ufw ufw"; do
    # shellcheck disable=SC2086 # three words
    row="$(case_row $c)"
    echo "$row"
    sed -e 's/^| //' -e 's/ |$//' -e 's/ | /\t/g' <<<"$row" >>"$STATE/results.tsv"
  done
}

main() {
  [[ "$(id -u)" -eq 0 ]] || die "run as root (systemd-nspawn, bridge, overlays)"
  local h
  case "${1:-}" in
    up)
      [[ -d "$ROOTFS/etc" ]] || die "no rootfs at $ROOTFS: run sandbox/sandbox up once, or set VRCFW_ROOTFS"
      mkdir -p "$STATE"
      [[ -s "$KEY" ]] || ssh-keygen -q -t ed25519 -N '' -f "$KEY"
      : >"$KNOWN"
      debs
      net_up
      for h in "${HOSTS[@]}"; do host_up "${h%%:*}"; done
      for h in "${HOSTS[@]}"; do host_setup "${h%%:*}"; done
      ;;
    run) run ;;
    down)
      for h in "${HOSTS[@]}"; do host_down "${h%%:*}"; done
      ip link del "$BRIDGE" 2>/dev/null || true
      nft delete table inet "$GUARD" 2>/dev/null || true
      ;;
    ssh) shift && lab_ssh "$@" ;;
    fw) shift && fw "$@" ;;
    probes) probes "$2" ;;
    *) die "usage: lab.sh up|run|down|ssh NAME CMD...|fw NAME ACTION [BACKEND [API_NETWORKS]]|probes NAME" ;;
  esac
}

main "$@"
