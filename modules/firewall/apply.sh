#!/usr/bin/env bash
# firewall apply: the cluster's rules in the backend fw_choose picks (firewall.sh says how and
# why): nftables (our table), firewalld (our policy) or ufw (our allow rules + our table). Rules of
# ours left in another backend (the choice changed) are removed after the new ones are in.
# Usage: apply.sh <stage-dir>
set -euo pipefail

readonly COMPONENT=firewall
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly HERE
# shellcheck source=../common/lib.sh
source "$HERE/../common/lib.sh"
# shellcheck source=firewall.sh
source "$HERE/firewall.sh"
# shellcheck source=nftables.sh
source "$HERE/nftables.sh"
# shellcheck source=firewalld.sh
source "$HERE/firewalld.sh"
# shellcheck source=ufw.sh
source "$HERE/ufw.sh"

# remove_others KEEP: our rules out of every backend but KEEP (ufw includes our table).
remove_others() {
  local keep="$1"
  [[ "$keep" == firewalld ]] || firewalld_remove
  case "$keep" in
    ufw) ;;
    nftables) if command -v ufw >/dev/null; then ufw_delete_ours; fi ;;
    *) ufw_remove ;;
  esac
}

main() {
  local stage="${1:?usage: apply.sh <stage-dir>}"
  set_phase apply
  require_root
  load_env "$stage/$COMPONENT.env" "${FW_ENV_VARS[@]}"
  fw_validate
  fw_choose
  install_component "$stage" "$COMPONENT"
  case "$FW_CHOSEN" in
    nftables) nftables_apply ;;
    firewalld) firewalld_apply ;;
    ufw) ufw_apply ;;
  esac
  remove_others "$FW_CHOSEN"
  if [[ "$FW_CHOSEN" == none ]]; then
    rm -f "$FW_BACKEND_RECORD"
    log "network.firewall_backend is none: no rules installed"
    return 0
  fi
  install -d -m 0755 "$VRC_STATE"
  [[ "$(fw_recorded_backend)" == "$FW_CHOSEN" ]] || echo "$FW_CHOSEN" >"$FW_BACKEND_RECORD"
  log "done ($FW_CHOSEN): cluster [$CLUSTER_ADDRESSES] everything; API $API_PORT from [$API_ALLOWED_NETWORKS]; dashboard $DASHBOARD_PORT from [$DASHBOARD_ALLOWED_NETWORKS]; others dropped on [$(ports | tr '\n' ' ' | sed 's/ $//')]"
}

main "$@"
