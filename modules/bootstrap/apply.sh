#!/usr/bin/env bash
# bootstrap apply: OS build packages, the service user, the venv with pinned Ray and vLLM.
# Usage: apply.sh <stage-dir> [<resource id>]
set -euo pipefail

# shellcheck source=state.sh
source "$(dirname "${BASH_SOURCE[0]}")/state.sh"

ensure_packages() {
  local family pkgs candidates p
  family="$(detect_os_family)"
  case "$family" in
    apt) pkgs=(python3-venv python3-dev gcc g++) ;;
    dnf) pkgs=(python3-devel gcc gcc-c++) ;;
  esac
  # A non-default interpreter (python3.11 on an older distribution) has its own packages, with
  # names that vary (Debian python3.11-dev, EL9 python3.11-devel, EL8 python39-devel): add those
  # of python3.N / python3N that the repositories know.
  if [[ "$PYTHON" =~ ^python3\.([0-9]+)$ && "$(python_minor python3 2>/dev/null)" != "${PYTHON#python}" ]]; then
    case "$family" in
      apt) candidates=("$PYTHON" "$PYTHON-venv" "$PYTHON-dev") ;;
      dnf) candidates=("$PYTHON" "$PYTHON-devel" "python3${BASH_REMATCH[1]}" "python3${BASH_REMATCH[1]}-devel") ;;
    esac
    for p in "${candidates[@]}"; do pkg_available "$family" "$p" && pkgs+=("$p"); done
  fi
  pkg_ensure "$family" "$PKG_RECORD" "${pkgs[@]}"
}

ensure_user() {
  local groups=() g
  install -d -m 0755 -o root -g root "$VRC_STATE"
  if ! id -u "$SERVICE_USER" >/dev/null 2>&1; then
    for g in video render; do getent group "$g" >/dev/null && groups+=("$g"); done
    useradd --system --user-group --create-home --home-dir "$HOME_DIR" --shell /usr/sbin/nologin \
      ${groups[0]+--groups "$(IFS=,; echo "${groups[*]}")"} "$SERVICE_USER"
    echo "$SERVICE_USER" >"$USER_MARKER"
    log "created service user $SERVICE_USER (home $HOME_DIR)"
  fi
  if [[ -f "$USER_MARKER" ]]; then
    install -d -m 0750 -o "$SERVICE_USER" -g "$(id -gn "$SERVICE_USER")" "$HOME_DIR"
  fi
  # vLLM's compile and graph caches (VLLM_CACHE_ROOT and friends, set by the vllm step and copied
  # to the Ray workers): on every node, kept when only vLLM is replaced.
  install -d -m 0700 -o "$SERVICE_USER" -g "$(id -gn "$SERVICE_USER")" "$SERVICE_CACHE_DIR"
}

ensure_venv() {
  local want have
  want="$(python_minor "$PYTHON")" || die "interpreter '$PYTHON' (software.python) does not run"
  if [[ -x "$VENV_PATH/bin/python" ]]; then
    have="$(python_minor "$VENV_PATH/bin/python")" || die "$VENV_PATH/bin/python does not run"
    [[ "$have" == "$want" ]] ||
      die "venv $VENV_PATH has Python $have but $PYTHON is $want; remove the venv or set software.venv_path elsewhere"
    return 0
  fi
  if [[ -e "$VENV_PATH" && -n "$(ls -A "$VENV_PATH" 2>/dev/null)" ]]; then
    die "$VENV_PATH exists, is not empty and is not a venv; set software.venv_path elsewhere"
  fi
  log "creating venv $VENV_PATH with $PYTHON ($want) using $INSTALLER_USED"
  venv_create
  echo "$VENV_PATH" >"$VENV_MARKER"
}

# supply_chain_options STAGE: pip options of the supply-chain switches, one per line: wheels only
# unless PIP_ALLOW_SOURCE_BUILDS=true; with PIP_REQUIREMENTS_LOCK (uploaded into the stage),
# --require-hashes -r on a root-only copy of that file.
supply_chain_options() {
  local stage="$1" lock
  [[ "${PIP_ALLOW_SOURCE_BUILDS:-false}" == true ]] || printf '%s\n' --only-binary=:all:
  if [[ -n "${PIP_REQUIREMENTS_LOCK:-}" ]]; then
    lock="$VRC_ETC/bootstrap.requirements.lock"
    [[ -f "$stage/$PIP_REQUIREMENTS_LOCK" ]] || die "requirements lock $PIP_REQUIREMENTS_LOCK was not uploaded"
    install -m 0644 -o root -g root "$stage/$PIP_REQUIREMENTS_LOCK" "$lock"
    printf '%s\n' --require-hashes -r "$lock"
  fi
}

# write_pip_netrc FILE: a root-only netrc for the mirror in PIP_INDEX_URL/PIP_FIND_LINKS from the
# credentials secret (user:password), for pip (requests) and uv to read through NETRC; never in argv.
write_pip_netrc() {
  local file="$1" url host creds
  url="${PIP_INDEX_URL:-$PIP_FIND_LINKS}"
  host="${url#*://}"
  host="${host%%/*}"
  host="${host%%:*}"
  creds="$(cat "$VRC_SECRETS/${PIP_CREDENTIALS##*/}")" || die "pip credentials secret missing"
  [[ "$creds" == *:* ]] || die "the pip credentials secret is not user:password"
  (umask 077 && printf 'machine %s login %s password %s\n' "$host" "${creds%%:*}" "${creds#*:}" >"$file")
}

ensure_python_packages() {
  local stage="$1" supply=() reqs=() out status missing start seconds
  if version_matches "$(pip_version ray)" "$RAY_VERSION" && version_matches "$(pip_version vllm)" "$VLLM_VERSION"; then
    log "ray $(pip_version ray) and vllm $(pip_version vllm) already installed"
    return 0
  fi
  mapfile -t supply < <(supply_chain_options "$stage")
  # With a lock every requirement is hashed there (ray and vllm included); else the two pins.
  [[ -n "${PIP_REQUIREMENTS_LOCK:-}" ]] || reqs=("ray[default]==$RAY_VERSION" "vllm==$VLLM_VERSION")
  log "$INSTALLER_USED install ray[default]==$RAY_VERSION vllm==$VLLM_VERSION from $SOURCE_DESC (${supply[*]}; cache $WHEEL_CACHE_DIR)"
  out="$(mktemp)"
  status=0
  start=$EPOCHREALTIME
  packages_install "$out" "${supply[@]}" "${reqs[@]}" || status=$?
  seconds="$(awk -v s="$start" -v e="$EPOCHREALTIME" 'BEGIN { printf "%.1f", e - s }')"
  missing="$(sed -n -e 's/.*No matching distribution found for \([^ ]*\).*/\1/p' \
    -e 's/.*Because \([^ ]*\) was not found in the package registry.*/\1/p' "$out" | head -n 1)"
  rm -f "$out"
  if ((status == 0)) && ! { version_matches "$(pip_version ray)" "$RAY_VERSION" && version_matches "$(pip_version vllm)" "$VLLM_VERSION"; }; then
    die "$INSTALLER_USED installed ray $(pip_version ray) and vllm $(pip_version vllm), not the pinned $RAY_VERSION and $VLLM_VERSION (check the requirements lock)"
  fi
  if ((status != 0)); then
    [[ -n "$missing" ]] && die "$INSTALLER_USED found no distribution for $missing in $SOURCE_DESC (Python $(python_minor "$VENV_PATH/bin/python"))"
    die "$INSTALLER_USED install of ray[default]==$RAY_VERSION vllm==$VLLM_VERSION from $SOURCE_DESC failed (output above)"
  fi
  install_record "$seconds"
  log "installed ray $(pip_version ray) and vllm $(pip_version vllm) with $INSTALLER_USED in ${seconds}s"
}

main() {
  local stage="${1:?usage: apply.sh <stage-dir>}"
  set_phase apply
  require_root
  # A failure from here on undoes this step's work on the host (common/lib.sh).
  undo_on_failure "${2:-}"
  load_env "$stage/$COMPONENT.env" OS_FAMILY PYTHON VENV_PATH RAY_VERSION VLLM_VERSION \
    PIP_INDEX_URL PIP_FIND_LINKS PIP_TRUSTED_HOST SERVICE_USER INSTALLER INSTALLER_UV_VERSION WHEEL_CACHE_DIR
  check_service_user
  install_component "$stage" "$COMPONENT"
  set_phase packages
  ensure_packages
  set_phase user
  ensure_user
  set_phase installer
  [[ -d "$WHEEL_CACHE_DIR" ]] || die "wheel cache $WHEEL_CACHE_DIR missing: the wheel_cache step must run first"
  installer_source_options
  installer_credentials
  installer_choose
  set_phase venv
  ensure_venv
  set_phase install
  ensure_python_packages "$stage"
  set_phase apply
  log "done: $SERVICE_USER, $VENV_PATH (ray $(pip_version ray), vllm $(pip_version vllm))"
}

main "$@"
