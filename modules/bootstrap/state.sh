# shellcheck shell=bash disable=SC2034
# bootstrap's state records and small helpers, shared by apply.sh, check.sh and remove.sh: the one
# file they source. It sets COMPONENT and HERE (this directory) and loads common/lib.sh, then
# installer.sh.

readonly COMPONENT=bootstrap
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly HERE
# shellcheck source=../common/lib.sh
source "$HERE/../common/lib.sh"

readonly PKG_RECORD="$VRC_STATE/bootstrap-installed-packages"
readonly VENV_MARKER="$VRC_STATE/venv-created-by-us"
readonly USER_MARKER="$VRC_STATE/user-created-by-us"
readonly HOME_DIR="$VRC_STATE/home"
# The service user's persistent caches (vLLM's compile cache, Triton, Inductor): VLLM_CACHE_ROOT etc.
readonly SERVICE_CACHE_DIR="$VRC_STATE/cache"

# python_minor INTERPRETER: prints e.g. 3.11
python_minor() { "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])'; }

# pip_version DIST: the version installed in $VENV_PATH, empty when absent (read from the
# distribution's metadata: a uv-made venv need not have pip).
pip_version() {
  "$VENV_PATH/bin/python" -c 'import sys, importlib.metadata as m
try:
    print(m.version(sys.argv[1]))
except m.PackageNotFoundError:
    pass' "$1" 2>/dev/null || true
}

# version_matches INSTALLED WANTED: pip's == semantics for our pins: a local label on the installed
# version (0.9.2+cu118) matches a wanted version without one (0.9.2).
version_matches() {
  [[ -n "$1" ]] && { [[ "$1" == "$2" ]] || [[ "$2" != *+* && "${1%%+*}" == "$2" ]]; }
}

# shellcheck source=installer.sh
source "$HERE/installer.sh"
