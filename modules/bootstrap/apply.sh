#!/usr/bin/env bash
# bootstrap apply: OS build packages, the service user, the venv with pinned Ray and vLLM.
# Usage: apply.sh <stage-dir>
set -euo pipefail

readonly COMPONENT=bootstrap
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly HERE
# shellcheck source=../common/lib.sh
source "$HERE/../common/lib.sh"
# shellcheck source=state.sh
source "$HERE/state.sh"

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
  log "creating venv $VENV_PATH with $PYTHON ($want)"
  "$PYTHON" -m venv "$VENV_PATH" || die "$PYTHON -m venv $VENV_PATH failed"
  echo "$VENV_PATH" >"$VENV_MARKER"
}

ensure_python_packages() {
  local opts=() words=() w from out status missing
  if version_matches "$(pip_version ray)" "$RAY_VERSION" && version_matches "$(pip_version vllm)" "$VLLM_VERSION"; then
    log "ray $(pip_version ray) and vllm $(pip_version vllm) already installed"
    return 0
  fi
  if [[ -n "$PIP_FIND_LINKS" ]]; then
    read -ra words <<<"$PIP_FIND_LINKS"
    opts+=(--no-index)
    for w in "${words[@]}"; do opts+=(--find-links "$w"); done
    from="find-links $PIP_FIND_LINKS (no index)"
  elif [[ -n "$PIP_INDEX_URL" ]]; then
    opts+=(--index-url "$PIP_INDEX_URL")
    from="index $PIP_INDEX_URL"
  else
    from="pip's default index (PyPI unless pip.conf says otherwise)"
  fi
  read -ra words <<<"$PIP_TRUSTED_HOST"
  for w in "${words[@]}"; do opts+=(--trusted-host "$w"); done
  log "pip install ray[default]==$RAY_VERSION vllm==$VLLM_VERSION from $from"
  out="$(mktemp)"
  status=0
  # Our env file's PIP_* names are pip's own variables: pass options explicitly, not via env.
  env -u PIP_INDEX_URL -u PIP_FIND_LINKS -u PIP_TRUSTED_HOST PIP_ROOT_USER_ACTION=ignore \
    PIP_DISABLE_PIP_VERSION_CHECK=1 "$VENV_PATH/bin/python" -m pip install \
    "${opts[@]}" "ray[default]==$RAY_VERSION" "vllm==$VLLM_VERSION" 2>&1 | tee "$out" || status=$?
  missing="$(sed -n 's/.*No matching distribution found for \([^ ]*\).*/\1/p' "$out" | head -n 1)"
  rm -f "$out"
  if ((status != 0)); then
    [[ -n "$missing" ]] && die "pip found no distribution for $missing in $from (Python $(python_minor "$VENV_PATH/bin/python"))"
    die "pip install of ray[default]==$RAY_VERSION vllm==$VLLM_VERSION from $from failed (output above)"
  fi
}

main() {
  local stage="${1:?usage: apply.sh <stage-dir>}"
  set_phase apply
  require_root
  load_env "$stage/$COMPONENT.env" OS_FAMILY PYTHON VENV_PATH RAY_VERSION VLLM_VERSION \
    PIP_INDEX_URL PIP_FIND_LINKS PIP_TRUSTED_HOST SERVICE_USER
  check_service_user
  install_component "$stage" "$COMPONENT"
  set_phase packages
  ensure_packages
  set_phase user
  ensure_user
  set_phase venv
  ensure_venv
  set_phase pip
  ensure_python_packages
  set_phase apply
  log "done: $SERVICE_USER, $VENV_PATH (ray $(pip_version ray), vllm $(pip_version vllm))"
}

main "$@"
