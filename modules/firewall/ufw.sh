# shellcheck shell=bash
# ufw backend: ufw allow rules for the cluster addresses (everything) and the client networks
# (API, dashboard port), commented 'vllm-ray-cluster' and put first in ufw's list (first match
# wins), plus our nftables table (nftables.sh) for the drops.
#
# Why the drops are not ufw deny rules: ufw keeps one rule per match and ignores the action when
# comparing, so `ufw insert 1 deny proto tcp to any port 6379` is skipped as "existing" when the
# admin already has `ufw allow 6379/tcp`: exactly the case we must block. A drop in our own table
# is final whatever ufw's chains say, and ufw's own allows (above) are what lets the cluster
# through ufw's default deny. `ufw status` shows our allows; `nft list table inet
# vllm_ray_cluster` the drops. We never enable ufw.

readonly UFW_FILES=(/etc/ufw/user.rules /etc/ufw/user6.rules)

# ufw_specs: our rules, one per line, spelt as `ufw show added` prints them (without "ufw ").
ufw_specs() {
  local f a p cluster api dash mon
  cluster="$(split_family "$CLUSTER_ADDRESSES")"
  mon="$(split_family "${MONITORING_ALLOWED_NETWORKS:-}")"
  api="$(split_family "$API_ALLOWED_NETWORKS")"
  dash="$(split_family "$DASHBOARD_ALLOWED_NETWORKS")"
  # ufw drops a host prefix (/32, /128) when it prints a rule.
  while read -r f a; do
    [[ -z "$a" ]] || printf "allow from %s comment '%s'\n" "$(ufw_addr "$a")" "$FW_TAG"
  done <<<"$cluster"
  while read -r f a; do
    [[ -z "$a" ]] || ufw_port_spec "$a" "$API_PORT"
  done <<<"$api"
  while read -r f a; do
    [[ -z "$a" ]] || ufw_port_spec "$a" "$DASHBOARD_PORT"
  done <<<"$dash"
  while read -r p; do
    while read -r f a; do
      [[ -z "$a" || -z "$p" ]] || ufw_port_spec "$a" "$p"
    done <<<"$mon"
  done < <(mon_ports)
}

ufw_addr() { local a="${1%/32}"; [[ "$a" == *:* ]] && a="${a%/128}"; echo "$a"; }

# ufw_port_spec NETWORK PORT: ufw prints a rule from anywhere as "allow PORT/tcp" (then both
# families: our table still drops IPv6 clients not listed).
ufw_port_spec() {
  if [[ "$1" == 0.0.0.0/0 || "$1" == ::/0 ]]; then
    printf "allow %s/tcp comment '%s'\n" "$2" "$FW_TAG"
  else
    printf "allow from %s to any port %s proto tcp comment '%s'\n" "$(ufw_addr "$1")" "$2" "$FW_TAG"
  fi
}

# ufw_ours: the rules carrying our comment, as `ufw show added` prints them (without "ufw ").
ufw_ours() { ufw show added | sed -n "s/^ufw \(.* comment '$FW_TAG'\)\$/\1/p"; }

# ufw_on_top: in user.rules and user6.rules, every rule of ours comes before every other rule.
ufw_on_top() {
  local hex f
  hex="$(printf '%s' "$FW_TAG" | od -An -tx1 | tr -d ' \n')"
  for f in "${UFW_FILES[@]}"; do
    [[ -f "$f" ]] || continue
    grep '^### tuple ###' "$f" | awk -v c="comment=$hex" 'index($0, c) { if (other) bad = 1; next } { other = 1 } END { exit bad }' || return 1
  done
}

# ufw_want: ufw_specs less those the admin already has as a rule of their own (ufw would skip
# ours as "existing"; theirs does the job, and stays theirs).
ufw_want() {
  local theirs spec
  theirs="$(ufw show added | grep -v " comment '$FW_TAG'\$" | sed -n "s/^ufw //; s/ comment '.*'\$//p")"
  while IFS= read -r spec; do
    [[ -z "$spec" ]] && continue
    if grep -qxF -- "${spec% comment *}" <<<"$theirs"; then
      log "ufw: the host already has '${spec% comment *}': not adding ours" >&2
    else
      echo "$spec"
    fi
  done < <(ufw_specs)
}

ufw_rules_ok() { # WANT
  [[ "$(ufw_ours | sort)" == "$(sort <<<"$1")" ]] && ufw_on_top
}

# ufw_delete_ours: delete every rule with our comment (a no-op when there is none).
ufw_delete_ours() {
  local spec args
  while IFS= read -r spec; do
    [[ -n "$spec" ]] || continue
    read -ra args <<<"${spec% comment *}"
    ufw --force delete "${args[@]}" >/dev/null || die "ufw delete ${args[*]} failed"
    log "ufw: deleted '$spec'"
  done < <(ufw_ours)
}

ufw_apply() {
  local want spec args lines
  want="$(ufw_want)"
  nftables_apply
  if ufw_rules_ok "$want"; then
    log "ufw: our $(grep -c . <<<"$want") allow rules are in place, first"
    return 0
  fi
  ufw_delete_ours
  # Prepended in reverse, so they end up first and in order.
  mapfile -t lines < <(tac <<<"$want")
  for spec in "${lines[@]}"; do
    [[ -n "$spec" ]] || continue
    read -ra args <<<"${spec% comment *}"
    ufw prepend "${args[@]}" comment "$FW_TAG" >/dev/null || die "ufw prepend ${args[*]} failed"
    log "ufw: added '$spec'"
  done
  ufw_rules_ok "$want" || die "ufw did not take our rules as expected: 'ufw show added' lists what it has"
}

ufw_check() {
  local want
  ufw_active || { err "ufw is not active (apply put our allow rules into it)"; return 1; }
  want="$(ufw_want 2>/dev/null)"
  [[ "$(ufw_ours | sort)" == "$(sort <<<"$want")" ]] || { err "ufw does not hold exactly our rules (comment $FW_TAG); re-run apply"; return 1; }
  ufw_on_top || { err "a ufw rule that is not ours comes before ours (first match wins); re-run apply"; return 1; }
  nftables_check || return 1
  log "ok: ufw holds our $(grep -c . <<<"$want") allow rules first"
}

ufw_remove() {
  if command -v ufw >/dev/null; then ufw_delete_ours; fi
  nftables_remove
}
