# shellcheck shell=bash
# Shared by tools/install-tofu.sh and tools/lint-workflows.sh, which build a Go tool pinned by a
# go.mod under tools/ into .tools/bin. Sourced, never run.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly ROOT
# shellcheck disable=SC2034 # used by the scripts that source this file
readonly BIN_DIR="${ROOT}/.tools/bin"

# go_build_pinned MODULE_DIR LDFLAGS PACKAGE OUT: builds PACKAGE within the module in MODULE_DIR
# (its go.sum checks every download) into OUT, which is replaced only once the build succeeded.
go_build_pinned() {
  local module_dir="$1" ldflags="$2" package="$3" out="$4"
  mkdir -p "$(dirname "${out}")"
  (
    cd "${module_dir}" || exit
    go build -trimpath -ldflags "${ldflags}" -o "${out}.tmp" "${package}"
  )
  mv "${out}.tmp" "${out}"
}
