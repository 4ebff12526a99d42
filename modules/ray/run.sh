#!/usr/bin/env bash
# ExecStart of vrc-ray-{head,worker}.service, run as the service user with ray.env in
# the environment. ray.args holds the arguments after `ray start --block`, one per line. Not
# exec: see supervise in common/lib.sh.
set -euo pipefail

# shellcheck source=ray.sh
source "$(dirname "${BASH_SOURCE[0]}")/ray.sh"

main() {
  service_prepare
  supervise "$VENV_PATH/bin/ray" start --block "${SERVICE_ARGS[@]}"
}

main "$@"
