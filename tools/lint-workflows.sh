#!/usr/bin/env bash
# Lints the GitHub Actions workflows (.github/workflows/*.yml) with actionlint, built from its Go
# module at the version pinned in tools/actionlint/go.mod (checksum-verified by go.sum) into
# .tools/bin/actionlint; the build is skipped when that binary is already at the pinned version.
# actionlint also runs shellcheck on every `run:` script when shellcheck is on the PATH.
set -euo pipefail

# ROOT, BIN_DIR (.tools/bin) and go_build_pinned.
# shellcheck source=tools/go-tool.sh
source "$(dirname "${BASH_SOURCE[0]}")/go-tool.sh"
readonly MODULE_DIR="${ROOT}/tools/actionlint"
readonly ACTIONLINT="${BIN_DIR}/actionlint"

say() { echo "[lint-workflows] $*"; }
err() { echo "[lint-workflows] $*" >&2; }

pinned_version() {
  awk '$1 == "github.com/rhysd/actionlint" { print $2; exit }' "${MODULE_DIR}/go.mod"
}

install() {
  local want="$1" have=""
  if [[ -x "${ACTIONLINT}" ]]; then
    have="$("${ACTIONLINT}" -version 2>/dev/null | head -n 1)"
    if [[ "${have}" == "${want}" ]]; then
      return 0
    fi
  fi
  if ! command -v go >/dev/null 2>&1; then
    err "Go is needed to build actionlint ${want}"
    exit 1
  fi
  say "building actionlint ${want} with $(go version | awk '{print $3}')"
  go_build_pinned "${MODULE_DIR}" "-s -w" github.com/rhysd/actionlint/cmd/actionlint "${ACTIONLINT}"
}

main() {
  local want
  want="$(pinned_version)"
  if [[ -z "${want}" ]]; then
    err "cannot read the pinned actionlint version from ${MODULE_DIR}/go.mod"
    exit 1
  fi
  install "${want}"
  cd "${ROOT}"
  local -a workflows=()
  mapfile -t workflows < <(find .github/workflows -maxdepth 1 -type f \( -name '*.yml' -o -name '*.yaml' \) 2>/dev/null | sort)
  if ((${#workflows[@]} == 0)); then
    say "no workflows under .github/workflows"
    return 0
  fi
  say "actionlint ${want} on ${workflows[*]}"
  "${ACTIONLINT}" "${workflows[@]}"
  say "workflows: clean"
}

main "$@"
