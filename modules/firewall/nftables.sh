# shellcheck shell=bash disable=SC2034
# nftables backend: our own table inet vllm_ray_cluster, loaded atomically from
# /etc/vllm-ray-cluster/firewall.nft and at boot by vrc-firewall.service. Also the drop half of
# the ufw and firewalld backends (ufw.sh says why).
#
# Ownership: our services run in SERVICE_SLICE (vrc.slice, a slice unit this module installs and
# starts before it loads the table). `socket cgroupv2 level N "<slice>"` matches a packet whose
# receiving socket belongs to a process of that slice (TCP and UDP, any port). nft resolves the
# path to the slice's cgroup id when the table is loaded, so vrc-firewall.service is ordered after
# the slice and restarts with it; the rule is written for every level 1..FW_MAX_LEVEL because the
# kernel compares the ancestor at that level of the socket's cgroup, counted from the host's root,
# which a container does not see (only the true level can match: ids are unique). A kernel or
# cgroup layout without it (cgroup v1 only, kernel < 5.13) gets the ephemeral port range added to
# the protected sets instead, with a warning.

readonly FW_UNIT=vrc-firewall.service
readonly FW_TABLE='inet vllm_ray_cluster'
readonly FW_FILE="$VRC_ETC/firewall.nft"
# `nft list table` as loaded by apply, compared by check.
readonly FW_RECORD="$VRC_STATE/firewall.loaded"
readonly FW_SLICE_UNIT_DIR=/etc/systemd/system
# A process that keeps the slice's cgroup from ever being empty: systemd removes an empty slice's
# cgroup (on a daemon-reload, for one) and makes a new one, with a new id, when a unit starts in it
# again, and the rules loaded before would then match nothing (seen on sandbox hosts, where other
# steps reload systemd between this apply and Ray's start).
readonly FW_ANCHOR_UNIT=vrc-slice-anchor.service
readonly FW_MAX_LEVEL=10

# fw_slice_path: the slice's cgroup v2 directory relative to /sys/fs/cgroup (where nft looks), or
# nothing when this host has no cgroup v2 hierarchy.
fw_slice_path() {
  if [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
    echo "$SERVICE_SLICE"
  elif [[ -f /sys/fs/cgroup/unified/cgroup.controllers ]]; then
    echo "unified/$SERVICE_SLICE"
  fi
}

# fw_slice_ensure: the slice unit installed and started, and its anchor process in it, so that
# its cgroup exists and stays the same one.
fw_slice_ensure() {
  local unit
  unit="$(mktemp)"
  cat >"$unit" <<UNIT
# Installed by vllm-ray-cluster (modules/firewall): Ray, vLLM and everything they start run here,
# and the firewall closes every socket of this slice to anyone outside the cluster.
[Unit]
Description=vllm-ray-cluster services (Ray, vLLM)
Before=slices.target
UNIT
  if ! cmp -s "$unit" "$FW_SLICE_UNIT_DIR/$SERVICE_SLICE"; then
    install -m 0644 -o root -g root "$unit" "$FW_SLICE_UNIT_DIR/$SERVICE_SLICE"
    systemctl daemon-reload
  fi
  rm -f "$unit"
  systemctl start "$SERVICE_SLICE"
  unit="$(mktemp)"
  cat >"$unit" <<UNIT
# Installed by vllm-ray-cluster (modules/firewall): keeps $SERVICE_SLICE's cgroup in place (the
# firewall's rules name it by its id, which a re-created cgroup would not have).
[Unit]
Description=vllm-ray-cluster: keeps $SERVICE_SLICE's cgroup in place for the firewall's rules
DefaultDependencies=no
After=local-fs.target
Before=$FW_UNIT shutdown.target
Conflicts=shutdown.target

[Service]
Slice=$SERVICE_SLICE
ExecStart=$(command -v sleep) infinity
Restart=always

[Install]
WantedBy=multi-user.target
UNIT
  unit_install "$unit" "$FW_ANCHOR_UNIT"
  rm -f "$unit"
  systemctl is-active --quiet "$FW_ANCHOR_UNIT" || systemctl start "$FW_ANCHOR_UNIT"
}

# fw_ephemeral_range: the kernel's local port range, as LO-HI.
fw_ephemeral_range() {
  local lo hi
  read -r lo hi </proc/sys/net/ipv4/ip_local_port_range
  echo "$lo-$hi"
}

fw_table_listing() { nft list table "$FW_TABLE" 2>/dev/null; }

# set_def NAME TYPE ELEMENT...: an interval set, elements only when there are some.
set_def() {
  local name="$1" type="$2" elements
  shift 2
  printf '\tset %s {\n\t\ttype %s\n\t\tflags interval\n\t\tauto-merge\n' "$name" "$type"
  if (($#)); then
    elements="$(printf '%s, ' "$@")"
    printf '\t\telements = { %s }\n' "${elements%, }"
  fi
  printf '\t}\n'
}

# render_ruleset [OWNED_PATH]: the table; with OWNED_PATH, the ownership rules for that cgroup
# path, else the ephemeral range joins the protected sets.
render_ruleset() {
  local owned="${1:-}" cluster api dash mon protected udp monports c4 c6 a4 a6 d4 d6 m4 m6 level
  # Command substitutions (not <(...)) so that a die inside stops the script.
  cluster="$(split_family "$CLUSTER_ADDRESSES")"
  api="$(split_family "$API_ALLOWED_NETWORKS")"
  dash="$(split_family "$DASHBOARD_ALLOWED_NETWORKS")"
  mon="$(split_family "${MONITORING_ALLOWED_NETWORKS:-}")"
  protected="$(ports)"
  udp="$(udp_ports)"
  monports="$(mon_ports)"
  if [[ -z "$owned" ]]; then
    protected+=$'\n'"$(fw_ephemeral_range)"
    udp+=$'\n'"$(fw_ephemeral_range)"
  fi
  mapfile -t protected < <(grep . <<<"$protected" || true)
  mapfile -t udp < <(grep . <<<"$udp" || true)
  mapfile -t c4 < <(family 4 <<<"$cluster")
  mapfile -t c6 < <(family 6 <<<"$cluster")
  mapfile -t a4 < <(family 4 <<<"$api")
  mapfile -t a6 < <(family 6 <<<"$api")
  mapfile -t d4 < <(family 4 <<<"$dash")
  mapfile -t d6 < <(family 6 <<<"$dash")
  mapfile -t m4 < <(family 4 <<<"$mon")
  mapfile -t m6 < <(family 6 <<<"$mon")
  mapfile -t monports < <(grep . <<<"$monports" || true)
  cat <<HEAD
# Generated by vllm-ray-cluster (modules/firewall) for node $VRC_NODE; loaded by $FW_UNIT.
# Accepts are not final across base chains (other firewalls still apply); the drop is.
# Replies to this host's own connections are accepted (they may land on a protected port in the
# ephemeral range, e.g. 52365); a new connection from outside the cluster never is.
table $FW_TABLE {}
delete table $FW_TABLE
table $FW_TABLE {
HEAD
  set_def cluster_v4 ipv4_addr "${c4[@]}"
  set_def cluster_v6 ipv6_addr "${c6[@]}"
  set_def api_clients_v4 ipv4_addr "${a4[@]}"
  set_def api_clients_v6 ipv6_addr "${a6[@]}"
  set_def dashboard_clients_v4 ipv4_addr "${d4[@]}"
  set_def dashboard_clients_v6 ipv6_addr "${d6[@]}"
  if ((${#monports[@]})); then
    set_def monitoring_clients_v4 ipv4_addr "${m4[@]}"
    set_def monitoring_clients_v6 ipv6_addr "${m6[@]}"
    set_def monitoring_tcp inet_service "${monports[@]}"
  fi
  set_def protected_tcp inet_service "${protected[@]}"
  set_def protected_udp inet_service "${udp[@]}"
  cat <<RULES
	chain input {
		type filter hook input priority -10; policy accept;
		iif "lo" accept
		ct state established,related accept
		ip saddr @cluster_v4 accept
		ip6 saddr @cluster_v6 accept
		tcp dport $API_PORT ip saddr @api_clients_v4 accept
		tcp dport $API_PORT ip6 saddr @api_clients_v6 accept
		tcp dport $DASHBOARD_PORT ip saddr @dashboard_clients_v4 accept
		tcp dport $DASHBOARD_PORT ip6 saddr @dashboard_clients_v6 accept
RULES
  if ((${#monports[@]})); then
    printf '\t\ttcp dport @monitoring_tcp ip saddr @monitoring_clients_v4 accept\n'
    printf '\t\ttcp dport @monitoring_tcp ip6 saddr @monitoring_clients_v6 accept\n'
  fi
  cat <<RULES
		tcp dport @protected_tcp drop
		udp dport @protected_udp drop
RULES
  if [[ -n "$owned" ]]; then
    for ((level = 1; level <= FW_MAX_LEVEL; level++)); do
      printf '\t\tsocket cgroupv2 level %d "%s" drop\n' "$level" "$owned"
    done
  fi
  printf '\t}\n}\n'
}

# fw_render_checked FILE: the ruleset into FILE, with the ownership rules when this kernel and
# cgroup layout take them (checked with nft -c), else the ranges; sets FW_OWNERSHIP to the cgroup
# path used, or empty.
fw_render_checked() {
  local file="$1" path err
  FW_OWNERSHIP=""
  path="$(fw_slice_path)"
  if [[ -n "$path" && -d "/sys/fs/cgroup/$path" ]]; then
    render_ruleset "$path" >"$file"
    if err="$(nft -c -f "$file" 2>&1)"; then
      FW_OWNERSHIP="$path"
      return 0
    fi
    warn "nft refused the ownership rules (socket cgroupv2 needs Linux 5.13+): $(tail -n 2 <<<"$err" | tr '\n' ' ')"
  else
    warn "no cgroup v2 hierarchy for $SERVICE_SLICE on this host (cgroup v1 only)"
  fi
  warn "falling back to ports: the ephemeral range $(fw_ephemeral_range) is closed to outsiders (TCP and UDP) instead of every socket of $SERVICE_SLICE"
  render_ruleset "" >"$file"
  nft -c -f "$file" || die "nft rejected the generated ruleset (above); nothing was changed"
}

# nftables_apply: load the table (only when it differs from what is loaded) and install the unit.
nftables_apply() {
  local rules unit
  rules="$(mktemp)" unit="$(mktemp)"
  fw_slice_ensure
  fw_render_checked "$rules"
  render "$HERE/vrc-firewall.service.in" "$unit" NFT="$(command -v nft)" SLICE="$SERVICE_SLICE"
  if cmp -s "$rules" "$FW_FILE" && [[ -f "$FW_RECORD" && "$(fw_table_listing)" == "$(<"$FW_RECORD")" ]]; then
    log "table $FW_TABLE already loaded from an identical $FW_FILE"
  else
    install -m 0644 -o root -g root "$rules" "$FW_FILE"
    nft -f "$FW_FILE" || die "nft -f $FW_FILE failed"
    install -d -m 0755 "$VRC_STATE"
    fw_table_listing >"$FW_RECORD"
    log "loaded table $FW_TABLE from $FW_FILE (atomically: the old rules stay until the new ones are in)"
  fi
  if [[ -n "$FW_OWNERSHIP" ]]; then
    log "every socket of $SERVICE_SLICE is closed to outsiders (socket cgroupv2 \"$FW_OWNERSHIP\")"
  fi
  unit_install "$unit" "$FW_UNIT"
  rm -f "$rules" "$unit"
  systemctl is-active --quiet "$FW_UNIT" || systemctl start "$FW_UNIT"
}

# nftables_check: prints what is wrong and returns 1, or returns 0.
nftables_check() {
  local listing
  systemctl is-active --quiet "$FW_UNIT" || { err "$FW_UNIT is $(systemctl is-active "$FW_UNIT" 2>&1)"; return 1; }
  systemctl is-enabled --quiet "$FW_UNIT" || { err "$FW_UNIT is not enabled"; return 1; }
  listing="$(fw_table_listing)" || { err "nftables table $FW_TABLE is missing"; return 1; }
  if [[ ! -f "$FW_RECORD" || "$listing" != "$(<"$FW_RECORD")" ]]; then
    err "nftables table $FW_TABLE differs from what apply loaded ($FW_RECORD; a cgroup shown as a number means $SERVICE_SLICE was re-created since); re-run apply or systemctl restart $FW_UNIT"
    return 1
  fi
  log "ok: $FW_UNIT active, table $FW_TABLE as loaded"
}

# nftables_remove: the unit, the table, the slice (our services are gone by now) and our files;
# a no-op when none is there.
nftables_remove() {
  unit_remove "$FW_UNIT"
  if command -v nft >/dev/null && fw_table_listing >/dev/null; then
    nft delete table "$FW_TABLE"
    log "deleted table $FW_TABLE"
  fi
  rm -f "$FW_FILE" "$FW_RECORD"
  # The anchor and the slice both stopped before either file goes, then one reload: systemd then
  # forgets both (a unit it still held, file gone, kept an implicit slice of that name loaded).
  local slice="${SERVICE_SLICE:-vrc.slice}"
  if [[ -f "$VRC_UNIT_DIR/$FW_ANCHOR_UNIT" || -f "$FW_SLICE_UNIT_DIR/$slice" ]]; then
    systemctl disable --now --quiet "$FW_ANCHOR_UNIT" 2>/dev/null || systemctl stop "$FW_ANCHOR_UNIT" 2>/dev/null || true
    systemctl stop "$slice" 2>/dev/null || true
    rm -f "$VRC_UNIT_DIR/$FW_ANCHOR_UNIT" "$FW_SLICE_UNIT_DIR/$slice"
    systemctl daemon-reload
    systemctl reset-failed "$FW_ANCHOR_UNIT" "$slice" 2>/dev/null || true
    log "removed $FW_ANCHOR_UNIT and $slice"
  fi
}
