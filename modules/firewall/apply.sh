#!/usr/bin/env bash
# firewall apply: the cluster's rules in the backend fw_choose picks (firewall.sh says how and
# why): nftables (our table), firewalld (our policy + our table) or ufw (our allow rules + our
# table). Rules of ours left in another backend (the choice changed) are removed after the new
# ones are in. Every change replaces rules atomically and never removes them first: the step is
# created before the resource it replaces is destroyed, and that one's remove.sh sees it was
# superseded (claim_step) and leaves the rules alone.
# Usage: apply.sh <stage-dir> [<resource id>]
set -euo pipefail

# shellcheck source=firewall.sh
source "$(dirname "${BASH_SOURCE[0]}")/firewall.sh"

# remove_others KEEP: our rules out of every backend but KEEP; our own table (which every backend
# but none uses for the drops) only for none.
remove_others() {
  local keep="$1"
  [[ "$keep" == firewalld ]] || firewalld_remove
  if [[ "$keep" != ufw ]] && command -v ufw >/dev/null; then ufw_delete_ours; fi
  [[ "$keep" != none ]] || nftables_remove
}

main() {
  local stage="${1:?usage: apply.sh <stage-dir> [<resource id>]}"
  set_phase apply
  require_root
  # A failure from here on undoes this step's work on the host (common/lib.sh).
  undo_on_failure "${2:-}"
  load_env "$stage/$COMPONENT.env" "${FW_ENV_VARS[@]}"
  fw_validate
  fw_choose
  install_component "$stage" "$COMPONENT"
  case "$FW_CHOSEN" in
    nftables) nftables_apply ;;
    firewalld) firewalld_apply && nftables_apply ;;
    ufw) ufw_apply ;;
  esac
  remove_others "$FW_CHOSEN"
  claim_step "${2:-}"
  if [[ "$FW_CHOSEN" == none ]]; then
    rm -f "$FW_BACKEND_RECORD"
    log "network.firewall_backend is none: no rules installed"
    return 0
  fi
  install -d -m 0755 "$VRC_STATE"
  [[ "$(fw_recorded_backend)" == "$FW_CHOSEN" ]] || echo "$FW_CHOSEN" >"$FW_BACKEND_RECORD"
  log "done ($FW_CHOSEN): cluster [$CLUSTER_ADDRESSES] everything; API $API_PORT from [$API_ALLOWED_NETWORKS]; dashboard $DASHBOARD_PORT from [$DASHBOARD_ALLOWED_NETWORKS]; others dropped on tcp [$(ports | tr '\n' ' ' | sed 's/ $//')] udp [$(udp_ports | tr '\n' ' ' | sed 's/ $//')]${FW_OWNERSHIP:+ and every socket of $SERVICE_SLICE}"
}

main "$@"
