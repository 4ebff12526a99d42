# shellcheck shell=bash disable=SC2034,SC2153
# How the bootstrap puts Python packages into the venv: uv when it can be had (from the same index,
# mirror or wheelhouse as the packages), else pip. Both download through the host's wheel cache
# (modules/wheel-cache), which outlives a bootstrap replaced for a new version, so a re-bootstrap
# fetches only what changed. Sourced by state.sh; each function does one thing so that more
# install options (hashes, binary-only, credentials) slot into installer_source_options alone.
#
# Env: INSTALLER (auto|uv|pip), INSTALLER_UV_VERSION (the uv release to use), WHEEL_CACHE_DIR,
# PIP_INDEX_URL / PIP_FIND_LINKS / PIP_TRUSTED_HOST (the stack's package source), PIP_CREDENTIALS
# (the mirror's credentials secret, read through a netrc), PIP_REQUIREMENTS_LOCK and
# PIP_ALLOW_SOURCE_BUILDS (apply.sh's supply_chain_options, given to either installer), PYTHON,
# VENV_PATH.

readonly INSTALL_RECORD="$VRC_STATE/bootstrap-install.json"

# installer_source_options: PIP_SOURCE_OPTS and UV_SOURCE_OPTS (arrays) name the package source;
# SOURCE_DESC says it in words.
installer_source_options() {
  local words=() w
  PIP_SOURCE_OPTS=()
  UV_SOURCE_OPTS=()
  if [[ -n "$PIP_FIND_LINKS" ]]; then
    read -ra words <<<"$PIP_FIND_LINKS"
    PIP_SOURCE_OPTS+=(--no-index)
    UV_SOURCE_OPTS+=(--no-index)
    for w in "${words[@]}"; do
      PIP_SOURCE_OPTS+=(--find-links "$w")
      UV_SOURCE_OPTS+=(--find-links "$w")
    done
    SOURCE_DESC="find-links $PIP_FIND_LINKS (no index)"
  elif [[ -n "$PIP_INDEX_URL" ]]; then
    PIP_SOURCE_OPTS+=(--index-url "$PIP_INDEX_URL")
    UV_SOURCE_OPTS+=(--index-url "$PIP_INDEX_URL")
    SOURCE_DESC="index $PIP_INDEX_URL"
  else
    SOURCE_DESC="the default index (PyPI unless pip.conf / uv.toml say otherwise)"
  fi
  read -ra words <<<"$PIP_TRUSTED_HOST"
  for w in "${words[@]}"; do
    PIP_SOURCE_OPTS+=(--trusted-host "$w")
    UV_SOURCE_OPTS+=(--allow-insecure-host "$w")
  done
}

# installer_credentials: with PIP_CREDENTIALS, a root-only netrc for the mirror (apply.sh's
# write_pip_netrc) that pip and uv read through NETRC, deleted when the script ends.
installer_credentials() {
  NETRC_FILE=""
  [[ -n "${PIP_CREDENTIALS:-}" ]] || return 0
  NETRC_FILE="$(mktemp)"
  # shellcheck disable=SC2064 # the file name is fixed now
  trap "rm -f '$NETRC_FILE'" EXIT
  write_pip_netrc "$NETRC_FILE"
}

# Our env file's PIP_* names are pip's own variables: options go on the command line only.
readonly PIP_ENV_UNSET=(-u PIP_INDEX_URL -u PIP_FIND_LINKS -u PIP_TRUSTED_HOST -u PIP_CREDENTIALS
  -u PIP_REQUIREMENTS_LOCK -u PIP_ALLOW_SOURCE_BUILDS)

# pip_run PYTHON ARGS...: pip of PYTHON with the host's pip cache (and the mirror's netrc).
pip_run() {
  local py="$1"
  shift
  env "${PIP_ENV_UNSET[@]}" ${NETRC_FILE:+NETRC="$NETRC_FILE"} PIP_ROOT_USER_ACTION=ignore \
    PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_CACHE_DIR="$WHEEL_CACHE_DIR/pip" "$py" -m pip "$@"
}

# uv_run ARGS...: the pinned uv with the host's uv cache, never downloading a Python. It compiles
# bytecode as pip does: the venv is root's, so the service user could never write the .pyc files,
# and every Ray and vLLM process would compile its imports again at each start (Ray's own
# processes then miss their 30 s start-up deadline on a busy host).
uv_run() {
  env "${PIP_ENV_UNSET[@]}" ${NETRC_FILE:+NETRC="$NETRC_FILE"} UV_CACHE_DIR="$WHEEL_CACHE_DIR/uv" \
    UV_PYTHON_DOWNLOADS=never UV_LINK_MODE=copy UV_NO_PROGRESS=1 UV_COMPILE_BYTECODE=1 "$UV_BIN" "$@"
}

# uv_ensure: UV_BIN is uv INSTALLER_UV_VERSION, installed (once per host, in the wheel cache) from
# the stack's package source. Returns 1 when it cannot be had.
uv_ensure() {
  local home="$WHEEL_CACHE_DIR/uv-$INSTALLER_UV_VERSION"
  UV_BIN="$home/bin/uv"
  if [[ -x "$UV_BIN" ]] && [[ "$("$UV_BIN" --version 2>/dev/null)" == "uv $INSTALLER_UV_VERSION"* ]]; then
    return 0
  fi
  log "installing uv $INSTALLER_UV_VERSION into $home from $SOURCE_DESC"
  rm -rf "$home"
  "$PYTHON" -m venv "$home" >/dev/null 2>&1 || { warn "$PYTHON -m venv $home failed"; rm -rf "$home"; return 1; }
  if ! pip_run "$home/bin/python" install -q --only-binary=:all: "${PIP_SOURCE_OPTS[@]}" "uv==$INSTALLER_UV_VERSION"; then
    rm -rf "$home"
    return 1
  fi
  [[ -x "$UV_BIN" ]]
}

# installer_choose: INSTALLER_USED is uv or pip (INSTALLER auto: uv, else pip with a warning). A
# hash-locked install (PIP_REQUIREMENTS_LOCK) is pip's: uv itself is not in the lock.
installer_choose() {
  if [[ -n "${PIP_REQUIREMENTS_LOCK:-}" ]]; then
    [[ "$INSTALLER" != uv ]] || die "software.installer: uv with a requirements lock: uv itself is not in the lock; use auto (pip installs the locked set)"
    log "a hash-locked install: pip installs it (uv itself is not in the lock)"
    INSTALLER_USED=pip
    return 0
  fi
  case "$INSTALLER" in
    pip) INSTALLER_USED=pip ;;
    uv)
      uv_ensure || die "uv $INSTALLER_UV_VERSION could not be installed from $SOURCE_DESC (software.installer: uv); add it to the mirror/wheelhouse or use software.installer: auto"
      INSTALLER_USED=uv
      ;;
    auto)
      if uv_ensure; then
        INSTALLER_USED=uv
      else
        warn "uv $INSTALLER_UV_VERSION is not available from $SOURCE_DESC: installing with pip instead (slower)"
        INSTALLER_USED=pip
      fi
      ;;
    *) die "INSTALLER '$INSTALLER' is not auto, uv or pip" ;;
  esac
}

# venv_create: a venv at VENV_PATH for PYTHON, with pip in it (the seed).
venv_create() {
  local python
  python="$(command -v "$PYTHON")" || die "interpreter '$PYTHON' (software.python) not found"
  if [[ "$INSTALLER_USED" == uv ]]; then
    uv_run venv --quiet --seed --python "$python" "${UV_SOURCE_OPTS[@]}" "$VENV_PATH" ||
      die "uv venv $VENV_PATH with $python failed"
  else
    "$python" -m venv "$VENV_PATH" || die "$python -m venv $VENV_PATH failed"
  fi
}

# packages_install OUTFILE REQUIREMENT...: installs into the venv, output into OUTFILE too.
packages_install() {
  local out="$1"
  shift
  if [[ "$INSTALLER_USED" == uv ]]; then
    uv_run pip install --python "$VENV_PATH/bin/python" "${UV_SOURCE_OPTS[@]}" "$@" 2>&1 | tee "$out"
  else
    pip_run "$VENV_PATH/bin/python" install "${PIP_SOURCE_OPTS[@]}" "$@" 2>&1 | tee "$out"
  fi
}

# install_record SECONDS: what installed the packages and how long it took (read by bench/deploy).
install_record() {
  printf '{"installer": "%s", "seconds": %s, "ray": "%s", "vllm": "%s"}\n' \
    "$INSTALLER_USED" "$1" "$RAY_VERSION" "$VLLM_VERSION" >"$INSTALL_RECORD"
}
