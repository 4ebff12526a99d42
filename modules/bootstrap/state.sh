# shellcheck shell=bash disable=SC2034
# bootstrap's state records and small helpers, shared by apply.sh, check.sh and remove.sh.

readonly PKG_RECORD="$VRC_STATE/bootstrap-installed-packages"
readonly VENV_MARKER="$VRC_STATE/venv-created-by-us"
readonly USER_MARKER="$VRC_STATE/user-created-by-us"
readonly HOME_DIR="$VRC_STATE/home"

# python_minor INTERPRETER: prints e.g. 3.11
python_minor() { "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])'; }

# pip_version DIST: the version installed in $VENV_PATH, empty when absent.
pip_version() {
  { "$VENV_PATH/bin/python" -m pip show "$1" 2>/dev/null || true; } | sed -n 's/^Version: //p'
}

# version_matches INSTALLED WANTED: pip's == semantics for our pins: a local label on the installed
# version (0.9.2+cu118) matches a wanted version without one (0.9.2).
version_matches() {
  [[ -n "$1" ]] && { [[ "$1" == "$2" ]] || [[ "$2" != *+* && "${1%%+*}" == "$2" ]]; }
}
