# shellcheck shell=bash
# firewalld backend: one policy of ours, vrc-ray-cluster (ingress zone ANY, egress zone HOST,
# priority -32768), in the permanent and the runtime configuration. Needs firewalld >= 0.9.
#
# Why a policy rather than zones of ours: firewalld puts each packet in exactly one zone (by
# source, else interface, else the default zone), and every zone's input chain first runs the
# policies from ANY to HOST with a negative priority. So one object of ours applies before the
# rules of the default zone, of every zone with interfaces or sources, and of zones that become
# active later; a port the admin opened (`firewall-cmd --add-port=6379/tcp`) is still dropped
# for outsiders. No zone of the host's is edited (their files stay untouched) and no address is
# moved into a zone of ours (which would take its other services from it, SSH included).
# Inside: rich rules accepting the cluster addresses (everything) and the client networks (API,
# dashboard port) at priority -32768, then dropping the protected ports at -32767. firewalld
# accepts established/related packets (replies to this host's connections) and loopback before
# any policy.
#
# A new policy reaches the runtime only through `firewall-cmd --reload`, which also discards
# runtime-only changes the admin made. So we reload only to create or delete the policy, and
# only when the runtime and permanent configurations agree (apart from ours and interface
# bindings); otherwise apply stops and says how to settle it. Rule changes to an existing policy
# are made in both configurations without a reload.

readonly FWD_POLICY=vrc-ray-cluster
readonly FWD_PRIORITY=-32768
readonly FWD_DIR=/etc/firewalld/policies

fwd_version_ok() {
  local v
  v="$(firewall-cmd --version)"
  [[ "$(printf '0.9.0\n%s\n' "$v" | sort -V | head -n1)" == 0.9.0 ]] ||
    die "firewalld $v is older than 0.9 (no policies): upgrade it, or stop firewalld and use network.firewall_backend: nftables"
}

# fwd_rules: our policy's rich rules, spelt as `firewall-cmd --list-rich-rules` prints them.
fwd_rules() {
  local f a p cluster api dash mon protected
  cluster="$(split_family "$CLUSTER_ADDRESSES")"
  mon="$(split_family "${MONITORING_ALLOWED_NETWORKS:-}")"
  api="$(split_family "$API_ALLOWED_NETWORKS")"
  dash="$(split_family "$DASHBOARD_ALLOWED_NETWORKS")"
  protected="$(ports)"
  while read -r f a; do
    [[ -z "$a" ]] || printf 'rule priority="%s" family="ipv%s" source address="%s" accept\n' "$FWD_PRIORITY" "$f" "$a"
  done <<<"$cluster"
  while read -r f a; do
    [[ -z "$a" ]] || printf 'rule priority="%s" family="ipv%s" source address="%s" port port="%s" protocol="tcp" accept\n' "$FWD_PRIORITY" "$f" "$a" "$API_PORT"
  done <<<"$api"
  while read -r f a; do
    [[ -z "$a" ]] || printf 'rule priority="%s" family="ipv%s" source address="%s" port port="%s" protocol="tcp" accept\n' "$FWD_PRIORITY" "$f" "$a" "$DASHBOARD_PORT"
  done <<<"$dash"
  while read -r p; do
    while read -r f a; do
      [[ -z "$a" || -z "$p" ]] || printf 'rule priority="%s" family="ipv%s" source address="%s" port port="%s" protocol="tcp" accept\n' "$FWD_PRIORITY" "$f" "$a" "$p"
    done <<<"$mon"
  done < <(mon_ports)
  while read -r p; do
    printf 'rule priority="%s" port port="%s" protocol="tcp" drop\n' "$((FWD_PRIORITY + 1))" "$p"
  done <<<"$protected"
}

# fwd_has_policy [--permanent]
fwd_has_policy() { firewall-cmd "$@" --get-policies | tr ' ' '\n' | grep -qxF "$FWD_POLICY"; }

# fwd_shape [--permanent]: "priority target ingress egress" of our policy.
fwd_shape() {
  firewall-cmd "$@" --info-policy="$FWD_POLICY" |
    awk -F': ' '$1 ~ /^ *(priority|target|ingress-zones|egress-zones)$/ {v[$1]=$2} END {printf "%s %s %s %s\n", v["  priority"], v["  target"], v["  ingress-zones"], v["  egress-zones"]}'
}
fwd_shape_ok() { [[ "$(fwd_shape "$@")" == "$FWD_PRIORITY CONTINUE ANY HOST" ]]; }

# fwd_sync_rules WANT [--permanent]: add the missing rich rules, then drop the others.
fwd_sync_rules() {
  local want="$1" have r
  shift
  have="$(firewall-cmd "$@" --policy="$FWD_POLICY" --list-rich-rules)"
  while IFS= read -r r; do
    [[ -z "$r" ]] || grep -qxF -- "$r" <<<"$have" || firewall-cmd -q "$@" --policy="$FWD_POLICY" --add-rich-rule="$r"
  done <<<"$want"
  while IFS= read -r r; do
    [[ -z "$r" ]] || grep -qxF -- "$r" <<<"$want" || firewall-cmd -q "$@" --policy="$FWD_POLICY" --remove-rich-rule="$r"
  done <<<"$have"
}

fwd_rules_ok() { # WANT [--permanent]
  local want="$1"
  shift
  [[ "$(firewall-cmd "$@" --policy="$FWD_POLICY" --list-rich-rules | sort)" == "$(sort <<<"$want")" ]]
}

# fwd_config [--permanent]: what a reload would set, without our policy and interface bindings
# (those are kept or re-made by NetworkManager; a reload does not lose them).
fwd_config() {
  local p s
  firewall-cmd "$@" --list-all-zones | sed -e '/^  interfaces:/d' -e 's/ (active)//; s/ (default)//'
  for p in $(firewall-cmd "$@" --get-policies); do
    [[ "$p" == "$FWD_POLICY" ]] || firewall-cmd "$@" --info-policy="$p" | sed 's/ (active)//'
  done
  for s in $(firewall-cmd "$@" --get-ipsets); do firewall-cmd "$@" --info-ipset="$s"; done
  firewall-cmd "$@" --direct --get-all-chains
  firewall-cmd "$@" --direct --get-all-rules
  firewall-cmd "$@" --direct --get-all-passthroughs
}

# fwd_reload WHY: `firewall-cmd --reload`, unless the runtime holds changes it would discard
# (then prints them and returns 1).
fwd_reload() {
  local permanent runtime
  permanent="$(fwd_config --permanent)"
  runtime="$(fwd_config)"
  if [[ "$permanent" != "$runtime" ]]; then
    warn "firewalld's runtime configuration differs from its permanent one (- permanent, + runtime):"
    diff <(printf '%s\n' "$permanent") <(printf '%s\n' "$runtime") | sed -n 's/^< /  - /p; s/^> /  + /p' >&2 || true
    warn "a reload (needed $1) would apply or discard those; not reloading. Settle them first: 'firewall-cmd --runtime-to-permanent' keeps the runtime ones, 'firewall-cmd --reload' the permanent ones"
    return 1
  fi
  log "firewall-cmd --reload ($1; runtime and permanent configuration agree)"
  firewall-cmd -q --reload
}

fwd_policy_xml() {
  cat <<XML
<?xml version="1.0" encoding="utf-8"?>
<policy priority="$FWD_PRIORITY" target="CONTINUE">
  <short>$FW_TAG</short>
  <description>Managed by $FW_TAG (modules/firewall on node $VRC_NODE): Ray and vLLM ports only for the cluster and the allowed client networks. Removed by its remove.sh.</description>
  <ingress-zone name="ANY"/>
  <egress-zone name="HOST"/>
</policy>
XML
}

firewalld_apply() {
  local want dir
  fwd_version_ok
  want="$(fwd_rules)"
  if fwd_has_policy --permanent && ! fwd_shape_ok --permanent; then
    log "policy $FWD_POLICY is not as we made it ($(fwd_shape --permanent)): making it again"
    firewall-cmd -q --permanent --delete-policy="$FWD_POLICY"
  fi
  if ! fwd_has_policy --permanent; then
    # firewall-cmd checks the file's base name as a policy name, even with --name.
    dir="$(mktemp -d)"
    fwd_policy_xml >"$dir/$FWD_POLICY.xml"
    firewall-cmd -q --permanent --new-policy-from-file="$dir/$FWD_POLICY.xml" || { rm -rf "$dir"; die "firewalld refused policy $FWD_POLICY"; }
    rm -rf "$dir"
    log "created firewalld policy $FWD_POLICY (permanent)"
  fi
  fwd_rules_ok "$want" --permanent || { fwd_sync_rules "$want" --permanent && log "updated the rules of policy $FWD_POLICY (permanent)"; }
  if fwd_has_policy && fwd_shape_ok; then
    fwd_rules_ok "$want" || { fwd_sync_rules "$want" && log "updated the rules of policy $FWD_POLICY (runtime)"; }
  else
    fwd_reload "to load policy $FWD_POLICY into the runtime" || die "policy $FWD_POLICY is in the permanent configuration only; nothing else was changed"
  fi
  fwd_policy_check >/dev/null || die "policy $FWD_POLICY is not in place after apply (see above)"
}

# firewalld_check: our policy (the accepts) and our nftables table (the drops) are in place.
firewalld_check() {
  fwd_policy_check && nftables_check
}

fwd_policy_check() {
  local want mode
  firewalld_running || { err "firewalld is not running (apply put our rules into it)"; return 1; }
  want="$(fwd_rules)"
  for mode in --permanent ""; do
    # shellcheck disable=SC2086 # $mode is one word or none
    fwd_has_policy $mode || { err "firewalld policy $FWD_POLICY is missing ${mode:-(runtime)}"; return 1; }
    # shellcheck disable=SC2086
    fwd_shape_ok $mode || { err "firewalld policy $FWD_POLICY ${mode:-(runtime)} is '$(fwd_shape $mode)', not '$FWD_PRIORITY CONTINUE ANY HOST'"; return 1; }
    # shellcheck disable=SC2086
    fwd_rules_ok "$want" $mode || { err "firewalld policy $FWD_POLICY ${mode:-(runtime)} does not hold exactly our rules; re-run apply"; return 1; }
  done
  log "ok: firewalld policy $FWD_POLICY (runtime and permanent) holds our $(wc -l <<<"$want") rules"
}

# firewalld_remove: our policy out of the runtime (at once) and the permanent configuration; a
# no-op when it is in neither.
firewalld_remove() {
  if firewalld_running; then
    if fwd_has_policy; then
      fwd_sync_rules "" && log "removed the rules of policy $FWD_POLICY (runtime)"
    fi
    if fwd_has_policy --permanent; then
      firewall-cmd -q --permanent --delete-policy="$FWD_POLICY"
      log "deleted firewalld policy $FWD_POLICY (permanent)"
    fi
    if fwd_has_policy; then
      fwd_reload "to drop the emptied policy $FWD_POLICY from the runtime" ||
        warn "the empty policy $FWD_POLICY stays in firewalld's runtime until its next reload (it matches nothing)"
    fi
  elif [[ -f "$FWD_DIR/$FWD_POLICY.xml" ]]; then
    rm -f "$FWD_DIR/$FWD_POLICY.xml"
    log "firewalld is not running: deleted $FWD_DIR/$FWD_POLICY.xml"
  fi
  # firewalld keeps the previous version of a file it rewrites as .xml.old; this name is ours.
  rm -f "$FWD_DIR/$FWD_POLICY.xml.old"
}
