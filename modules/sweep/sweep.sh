#!/usr/bin/env bash
# sweep: run when the node's sweep step is destroyed: after the node's services (model store, Ray,
# vLLM, ...), before its foundation (bootstrap, firewall). OpenTofu runs no destroy-time
# provisioner of a tainted step (an apply that failed, or one tainted by hand), so that step's
# remove.sh never ran: this runs the remove.sh of every component still installed, in teardown
# order (any unknown one first, then SWEEP_ORDER), while the venv and the service user are still
# there; the bootstrap and the firewall go with it (their own destroy then finds nothing). Then it
# removes whatever unit or secret of ours is still there.
# Usage: sweep.sh <stage-dir> [<resource id>]
set -euo pipefail

readonly COMPONENT=sweep
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly HERE
# shellcheck source=../common/lib.sh
source "$HERE/../common/lib.sh"

FAILED=()
SWEPT=()

# installed_components: our components with a remove.sh still installed, SWEEP_ORDER's first in
# that order, then any other (a component this version does not know; run before the known ones).
installed_components() {
  local known=() c dir
  read -ra known <<<"$SWEEP_ORDER"
  for dir in "$VRC_MODULES"/*/; do
    [[ -d "$dir" ]] || continue
    c="$(basename "$dir")"
    [[ "$c" != common && -f "$dir/remove.sh" ]] || continue
    [[ " ${known[*]} " == *" $c "* ]] || echo "$c"
  done
  for c in "${known[@]}"; do
    [[ ! -f "$VRC_MODULES/$c/remove.sh" ]] || echo "$c"
  done
}

remove_components() {
  local c
  while read -r c; do
    [[ -n "$c" ]] || continue
    log "$c is still installed: running its remove.sh"
    if VRC_LOCK_FD="$VRC_LOCK_FD" bash "$VRC_MODULES/$c/remove.sh"; then
      SWEPT+=("$c")
    else
      err "$VRC_MODULES/$c/remove.sh failed (output above)"
      FAILED+=("$c")
    fi
  done < <(installed_components)
}

# remove_units: any unit of ours left (vrc-*, and the services' slice vrc.slice): stopped,
# disabled and deleted.
remove_units() {
  local f unit removed=0
  for f in "$VRC_UNIT_DIR"/vrc-* "$VRC_UNIT_DIR"/vrc.slice; do
    [[ -f "$f" ]] || continue
    unit="$(basename "$f")"
    systemctl disable --now --quiet "$unit" 2>/dev/null || systemctl stop "$unit" 2>/dev/null || true
    rm -f "$f"
    systemctl reset-failed "$unit" 2>/dev/null || true
    log "removed unit $unit"
    SWEPT+=("$unit")
    removed=1
  done
  ((removed == 0)) || systemctl daemon-reload
}

# remove_secrets: any secret file of ours left (names only are logged).
remove_secrets() {
  local f
  for f in "$VRC_SECRETS"/* "$VRC_SECRETS"/.[!.]*; do
    [[ -e "$f" ]] || continue
    rm -rf "$f"
    log "removed secret $f"
    SWEPT+=("$f")
  done
  rmdir "$VRC_SECRETS" 2>/dev/null || true
}

# remove_table: our nftables table, when nothing removed it (the firewall step's remove.sh is
# gone but the rules are not).
remove_table() {
  if command -v nft >/dev/null && nft list table inet vllm_ray_cluster >/dev/null 2>&1; then
    nft delete table inet vllm_ray_cluster
    log "removed nftables table inet vllm_ray_cluster"
    SWEPT+=("nftables table")
  fi
}

main() {
  local stage="${1:?usage: sweep.sh <stage-dir>}"
  set_phase sweep
  require_root
  load_env "$stage/$COMPONENT.env" SWEEP_ORDER
  remove_components
  remove_units
  remove_secrets
  remove_table
  rmdir "$VRC_ETC" "$VRC_MODULES" "$VRC_OPT" "$VRC_STATE" 2>/dev/null || true
  if ((${#FAILED[@]})); then
    die "could not remove ${FAILED[*]} (output above); fix it and run cdktf destroy again, or run $VRC_MODULES/<component>/remove.sh on this host"
  fi
  if ((${#SWEPT[@]})); then
    log "done: removed ${SWEPT[*]}"
  else
    log "done: nothing was left"
  fi
}

main "$@"
