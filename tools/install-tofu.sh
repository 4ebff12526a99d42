#!/usr/bin/env bash
# Builds the pinned OpenTofu (tools/opentofu/go.mod) into .tools/bin/tofu, checksum-verified by
# tools/opentofu/go.sum. A no-op when that binary is already there at the pinned version.
set -euo pipefail

# ROOT, BIN_DIR (.tools/bin) and go_build_pinned.
# shellcheck source=tools/go-tool.sh
source "$(dirname "${BASH_SOURCE[0]}")/go-tool.sh"
readonly MODULE_DIR="${ROOT}/tools/opentofu"
readonly TOFU="${BIN_DIR}/tofu"

err() { echo "[install-tofu] $*" >&2; }

pinned_version() {
  awk '$1 == "github.com/opentofu/opentofu" { sub(/^v/, "", $2); print $2; exit }' \
    "${MODULE_DIR}/go.mod"
}

main() {
  local want have
  want="$(pinned_version)"
  if [[ -z "${want}" ]]; then
    err "cannot read the pinned OpenTofu version from ${MODULE_DIR}/go.mod"
    exit 1
  fi
  if [[ -x "${TOFU}" ]]; then
    have="$(TF_CLI_CONFIG_FILE=/dev/null "${TOFU}" version -json 2>/dev/null \
      | sed -n 's/.*"terraform_version": *"\([^"]*\)".*/\1/p')"
    if [[ "${have}" == "${want}" ]]; then
      echo "[install-tofu] OpenTofu ${want} already at ${TOFU}"
      return 0
    fi
  fi
  if ! command -v go >/dev/null 2>&1; then
    err "Go is needed to build OpenTofu ${want} (go.mod asks for $(awk '$1 == "go" {print $2}' "${MODULE_DIR}/go.mod") or newer)"
    exit 1
  fi
  echo "[install-tofu] building OpenTofu ${want} with $(go version | awk '{print $3}') (a few minutes on 2 cores)"
  go_build_pinned "${MODULE_DIR}" "-s -w -X github.com/opentofu/opentofu/version.dev=no" \
    github.com/opentofu/opentofu/cmd/tofu "${TOFU}"
  echo "[install-tofu] $(TF_CLI_CONFIG_FILE=/dev/null "${TOFU}" version | head -n 1) at ${TOFU}"
}

main "$@"
