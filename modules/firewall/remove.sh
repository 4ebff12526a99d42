#!/usr/bin/env bash
# firewall remove: our rules out of every backend (whichever apply used, and any left from an
# earlier choice), then our unit and files. Each part is a no-op when it finds nothing of ours.
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

main() {
  set_phase remove
  require_root
  [[ ! -f "$VRC_ETC/$COMPONENT.env" ]] || load_env "$VRC_ETC/$COMPONENT.env"
  firewalld_remove
  ufw_remove
  rm -f "$FW_BACKEND_RECORD"
  uninstall_component "$COMPONENT"
  rmdir "$VRC_STATE" 2>/dev/null || true
  log "removed"
}

main "$@"
