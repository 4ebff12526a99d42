# shellcheck shell=bash
# Shared helpers for the host-side units in modules/<component>/ (see docs/host-contract.md).
# Sourced by each component's library (e.g. vllm/vllm.sh, the one file the component's scripts
# source, which sets COMPONENT and HERE first) and by sweep/sweep.sh; defines functions and
# constants only.

[[ -n "${VRC_LIB_LOADED:-}" ]] && return 0
readonly VRC_LIB_LOADED=1

readonly VRC_OPT=/opt/vllm-ray-cluster
readonly VRC_MODULES="$VRC_OPT/modules"
readonly VRC_ETC=/etc/vllm-ray-cluster
readonly VRC_SECRETS="$VRC_ETC/secrets"
readonly VRC_STATE=/var/lib/vllm-ray-cluster
readonly VRC_UNIT_DIR=/etc/systemd/system

VRC_PHASE="${VRC_PHASE:-main}"

set_phase() { VRC_PHASE="$1"; }
_prefix() { printf '[%s/%s/%s]' "${VRC_NODE:-?}" "${VRC_COMPONENT:-${COMPONENT:-?}}" "$VRC_PHASE"; }
log() { printf '%s %s\n' "$(_prefix)" "$*"; }
warn() { printf '%s WARNING: %s\n' "$(_prefix)" "$*" >&2; }
# err also goes to the host's journal (tag vllm-ray-cluster): a failed step stays on record on the
# host, whatever became of the deploy's output (journalctl -t vllm-ray-cluster).
err() {
  printf '%s ERROR: %s\n' "$(_prefix)" "$*" >&2
  logger -t vllm-ray-cluster -p user.err -- "$(_prefix) ERROR: $*" 2>/dev/null || true
}
die() {
  err "$@"
  exit 1
}

require_root() {
  [[ "$(id -u)" -eq 0 ]] || die "must run as root (the provisioner runs it with sudo -n)"
  host_lock
}

# host_lock: one apply/remove at a time on a host. The parts of a node are provisioned in
# parallel, and they share common/, /etc/vllm-ray-cluster and the package manager.
host_lock() {
  [[ -z "${VRC_LOCK_FD:-}" ]] || return 0
  install -d -m 0755 /run/lock
  exec {VRC_LOCK_FD}>/run/lock/vllm-ray-cluster.lock
  if ! flock -n "$VRC_LOCK_FD"; then
    log "waiting for another vllm-ray-cluster step on this host to finish"
    flock -w 900 "$VRC_LOCK_FD" || die "another vllm-ray-cluster step held /run/lock/vllm-ray-cluster.lock for 15 minutes"
  fi
}

# load_env FILE [REQUIRED_VAR...]: source an env file after checking it is our format:
# KEY='value' lines, no quote / $ / backslash inside values. Checks VRC_COMPONENT == $COMPONENT.
load_env() {
  local file="$1" line n=0
  shift
  [[ -f "$file" ]] || die "env file $file not found"
  while IFS= read -r line || [[ -n "$line" ]]; do
    n=$((n + 1))
    [[ -z "$line" || "$line" == \#* ]] && continue
    [[ "$line" =~ ^[A-Z_][A-Z0-9_]*=\'[^\'\$\\]*\'$ ]] ||
      die "$file line $n is not KEY='value' (single-quoted, no ' \$ or \\): $line"
  done <"$file"
  # shellcheck disable=SC1090
  source "$file"
  require_vars VRC_NODE VRC_COMPONENT VRC_ROLE "$@"
  [[ -z "${COMPONENT:-}" || "$VRC_COMPONENT" == "$COMPONENT" ]] ||
    die "$file is for component '$VRC_COMPONENT', not '$COMPONENT'"
  [[ "$VRC_ROLE" == head || "$VRC_ROLE" == worker ]] || die "VRC_ROLE is '$VRC_ROLE', expected head or worker"
}

# load_installed_env [REQUIRED_VAR...]: load_env of the installed $VRC_ETC/$COMPONENT.env when it is
# there (remove.sh: an apply that stopped early, or a remove run twice, may have left none).
# shellcheck disable=SC2120 # the REQUIRED_VARs are optional: most callers give none
load_installed_env() {
  [[ ! -f "$VRC_ETC/$COMPONENT.env" ]] || load_env "$VRC_ETC/$COMPONENT.env" "$@"
}

# require_vars VAR...: each must be set (it may be empty).
require_vars() {
  local v
  for v in "$@"; do
    [[ -v "$v" ]] || die "required variable $v missing from the env file"
  done
}

# check_service_user: SERVICE_USER must be a plain system user name, never root.
check_service_user() {
  [[ "$SERVICE_USER" =~ ^[a-z_][a-z0-9_-]{0,31}$ ]] || die "SERVICE_USER '$SERVICE_USER' is not a valid user name"
  [[ "$SERVICE_USER" != root ]] || die "SERVICE_USER must not be root"
}

# require_venv PROGRAM: the venv's PROGRAM (python, ray, ...) is there: the bootstrap ran.
require_venv() {
  [[ -x "$VENV_PATH/bin/$1" ]] || die "$VENV_PATH/bin/$1 missing: bootstrap must run first"
}

# require_bootstrap PROGRAM: the service user exists and the venv has PROGRAM: the bootstrap ran.
require_bootstrap() {
  id -u "$SERVICE_USER" >/dev/null 2>&1 || die "service user $SERVICE_USER missing: bootstrap must run first"
  require_venv "$1"
}

# install_component STAGE COMPONENT: copy scripts to $VRC_MODULES, move config to $VRC_ETC and
# secrets (STAGE/secrets/*) to $VRC_SECRETS (0600). Sets VRC_CONFIG_CHANGED=1 when scripts,
# config or secrets differ from what was installed.
install_component() {
  local stage="$1" component="$2" dir src dst mode
  VRC_CONFIG_CHANGED=0
  [[ -f "$stage/common/lib.sh" && -f "$stage/$component/apply.sh" ]] || die "stage $stage lacks common/ or $component/"
  install -d -m 0755 -o root -g root "$VRC_OPT" "$VRC_MODULES" "$VRC_ETC"
  for dir in common "$component"; do
    diff -rq "$stage/$dir" "$VRC_MODULES/$dir" >/dev/null 2>&1 || VRC_CONFIG_CHANGED=1
    rm -rf "$VRC_MODULES/.$dir.new"
    cp -R "$stage/$dir" "$VRC_MODULES/.$dir.new"
    chown -R root:root "$VRC_MODULES/.$dir.new"
    chmod -R u=rwX,go=rX "$VRC_MODULES/.$dir.new"
    find "$VRC_MODULES/.$dir.new" -name '*.sh' -exec chmod 0755 {} +
    rm -rf "${VRC_MODULES:?}/$dir"
    mv "$VRC_MODULES/.$dir.new" "$VRC_MODULES/$dir"
  done
  # 0711: nobody else lists it; the service user reaches only a secret it owns (the Ray token).
  [[ ! -d "$stage/secrets" ]] || install -d -m 0711 -o root -g root "$VRC_SECRETS"
  for src in "$stage/$component.env" "$stage/$component.args" "$stage/secrets"/*; do
    [[ -f "$src" ]] || continue
    if [[ "$src" == "$stage/secrets/"* ]]; then
      dst="$VRC_SECRETS/${src##*/}" mode=0600
    else
      dst="$VRC_ETC/${src##*/}" mode=0644
    fi
    cmp -s "$src" "$dst" || VRC_CONFIG_CHANGED=1
    install -m "$mode" -o root -g root "$src" "$dst"
    rm -f "$src"
  done
}

# uninstall_component COMPONENT [SECRET...]: remove what install_component put in place;
# common/ and the top directories go when nothing else uses them.
uninstall_component() {
  local component="$1" s
  shift
  rm -rf "${VRC_MODULES:?}/$component"
  rm -f "$VRC_ETC/$component.env" "$VRC_ETC/$component.args"
  for s in "$@"; do rm -f "$VRC_SECRETS/$s"; done
  if [[ -d "$VRC_MODULES" ]] && [[ -z "$(find "$VRC_MODULES" -mindepth 1 -maxdepth 1 ! -name common -print -quit)" ]]; then
    rm -rf "${VRC_MODULES:?}/common"
  fi
  rmdir "$VRC_SECRETS" "$VRC_ETC" "$VRC_MODULES" "$VRC_OPT" 2>/dev/null || true
}

# claim_step ID: records the OpenTofu resource (its id) that last applied this component here.
# A replacement created before the old resource is destroyed claims the component first, and the
# old one's remove.sh then sees it was superseded. No-op without an id.
claim_step() {
  [[ -n "${1:-}" ]] || return 0
  [[ "$1" =~ ^[A-Za-z0-9-]+$ ]] || die "resource id '$1' is not an id"
  install -d -m 0755 "$VRC_STATE"
  echo "$1" >"$VRC_STATE/$COMPONENT.owner"
}

step_owner() { cat "$VRC_STATE/$COMPONENT.owner" 2>/dev/null || true; }

# superseded ID: true when another resource than ID has claimed this component since.
superseded() {
  local owner
  [[ -n "${1:-}" ]] || return 1
  owner="$(step_owner)"
  [[ -n "$owner" && "$owner" != "$1" ]]
}

release_step() { rm -f "$VRC_STATE/$COMPONENT.owner"; }

# undo_on_failure [ID]: from here on, an apply.sh that fails (an error, or the deploy's session
# hanging up or going away) runs this component's installed remove.sh before it exits, so that a failed step
# leaves nothing of its own on the host: no secret, no enabled or running unit. OpenTofu marks the
# step tainted and runs no remove.sh for it at destroy; the next deploy replaces it and starts
# from a clean host. ID is the step's resource id: a component that another step owned when this
# one started (a firewall replacement is created before its predecessor is destroyed: claim_step)
# stays that step's, and is left as it is.
undo_on_failure() {
  VRC_UNDO_ID="${1:-}"
  VRC_UNDO_OWNER="$(step_owner)"
  trap '_vrc_undo $?' EXIT
  trap 'exit 129' HUP
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 141' PIPE
}

_vrc_undo() {
  local status="$1" remove="$VRC_MODULES/$COMPONENT/remove.sh"
  trap - EXIT
  ((status != 0)) || return 0
  # Whatever happens from here (another hang-up, a failing command), the undo runs to its end.
  trap '' HUP INT TERM PIPE
  set +e
  set_phase undo
  if [[ -n "$VRC_UNDO_OWNER" && "$VRC_UNDO_OWNER" != "$VRC_UNDO_ID" ]]; then
    echo "$VRC_UNDO_OWNER" >"$VRC_STATE/$COMPONENT.owner"
    err "the step failed (exit $status); $COMPONENT here belongs to step $VRC_UNDO_OWNER, which is still deployed: left to it"
  elif [[ -f "$remove" ]]; then
    err "the step failed (exit $status): undoing what it did on this host (its remove.sh), so that no secret, unit or process of it stays"
    if VRC_LOCK_FD="${VRC_LOCK_FD:-}" bash "$remove" ${VRC_UNDO_ID:+"$VRC_UNDO_ID"}; then
      log "undone: nothing of this step is left here; the next deploy runs it again from the start"
    else
      err "the undo failed (output above): cdktf destroy removes what is left (the node's sweep step), or run $remove"
    fi
  else
    log "the step failed (exit $status) before it installed anything here: nothing to undo"
  fi
  exit "$status"
}

detect_os_family() {
  case "${OS_FAMILY:-auto}" in
    apt | dnf) echo "$OS_FAMILY" ;;
    auto)
      if command -v apt-get >/dev/null; then
        echo apt
      elif command -v dnf >/dev/null; then
        echo dnf
      else
        die "neither apt-get nor dnf found; set software.os_family"
      fi
      ;;
    *) die "OS_FAMILY '$OS_FAMILY' is not auto, apt or dnf" ;;
  esac
}

pkg_installed() {
  case "$1" in
    apt) [[ "$(dpkg-query -W -f='${Status}' "$2" 2>/dev/null)" == "install ok installed" ]] ;;
    dnf) rpm -q "$2" >/dev/null 2>&1 ;;
  esac
}

# pkg_available FAMILY PKG: the package is installed or installable from the configured repos.
pkg_available() {
  case "$1" in
    apt) apt-cache show --no-all-versions "$2" >/dev/null 2>&1 ;;
    dnf) dnf -q info "$2" >/dev/null 2>&1 ;;
  esac
}

# pkg_ensure FAMILY RECORD PKG...: install missing packages, append them to RECORD.
pkg_ensure() {
  local family="$1" record="$2" p missing=()
  shift 2
  for p in "$@"; do pkg_installed "$family" "$p" || missing+=("$p"); done
  ((${#missing[@]})) || return 0
  log "installing OS packages: ${missing[*]}"
  install -d -m 0755 "$VRC_STATE"
  case "$family" in
    apt)
      apt-get update -q || die "apt-get update failed"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" ||
        die "apt-get install ${missing[*]} failed"
      ;;
    dnf) dnf install -y -q "${missing[@]}" || die "dnf install ${missing[*]} failed" ;;
  esac
  printf '%s\n' "${missing[@]}" >>"$record"
}

# pkg_remove_recorded FAMILY RECORD: remove the packages listed in RECORD, then RECORD. Their
# dependencies stay (apt marks them auto-installed). apt: nothing is removed when that would also
# remove packages not in RECORD (something installed later depends on them).
pkg_remove_recorded() {
  local family="$1" record="$2" pkgs=() extra p
  [[ -f "$record" ]] || return 0
  while read -r p; do pkg_installed "$family" "$p" && pkgs+=("$p"); done < <(sort -u "$record")
  if ((${#pkgs[@]})); then
    case "$family" in
      apt)
        extra="$(apt-get -s purge "${pkgs[@]}" | awk '/^(Purg|Remv) /{print $2}' | grep -vxF -f "$record" | tr '\n' ' ')" || true
        if [[ -n "$extra" ]]; then
          warn "keeping ${pkgs[*]}: removing them would also remove $extra"
        else
          log "removing OS packages we installed: ${pkgs[*]}"
          DEBIAN_FRONTEND=noninteractive apt-get purge -y -q "${pkgs[@]}" || die "apt-get purge ${pkgs[*]} failed"
        fi
        ;;
      dnf)
        log "removing OS packages we installed: ${pkgs[*]}"
        dnf remove -y -q "${pkgs[@]}" || die "dnf remove ${pkgs[*]} failed"
        ;;
    esac
  fi
  rm -f "$record"
}

# monitoring_package_ensure PACKAGE WHAT RECORD PACKAGE_UNIT UNIT_RECORD SERVED USER BIN...: the OS
# package of a monitoring server that we run as a unit of ours (node exporter, Prometheus), on apt
# hosts (elsewhere WHAT must be installed as the first BIN beforehand). When we install it (listed
# in RECORD), the package's own unit, which Debian starts on every address, is stopped and disabled:
# ours replaces it (the firewall already closed the port to outsiders). Recorded in UNIT_RECORD so
# that remove leaves the admin's own units alone; SERVED says what serves instead ("<unit> serves
# <address>"). Then every BIN must be executable and USER (the package creates it) exist.
monitoring_package_ensure() {
  local package="$1" what="$2" record="$3" package_unit="$4" unit_record="$5" served="$6" user="$7" family bin bins
  shift 7
  family="$(detect_os_family)"
  [[ "$family" == apt ]] || die "monitoring installs $package with apt; on $family hosts install $what as $1 first"
  if ! pkg_installed "$family" "$package"; then
    pkg_ensure "$family" "$record" "$package"
    systemctl disable --now --quiet "$package_unit" 2>/dev/null || true
    echo "$package_unit" >"$unit_record"
    log "stopped and disabled the package's $package_unit: $served instead"
  fi
  bins="$(printf '%s or ' "$@")"
  for bin in "$@"; do
    [[ -x "$bin" ]] || die "${bins% or } missing although $package is installed"
  done
  id -u "$user" >/dev/null 2>&1 || die "user $user missing (the $package package creates it)"
}

# monitoring_package_remove RECORD UNIT_RECORD: the package monitoring_package_ensure installed (if
# it did), and the record of the package's unit we disabled (which goes with the package).
monitoring_package_remove() {
  [[ -f "$1" ]] || return 0
  pkg_remove_recorded "$(detect_os_family)" "$1"
  rm -f "$2"
}

# wait_for SECONDS DESCRIPTION COMMAND...: poll COMMAND every 2 s, progress every ~10 s.
wait_for() {
  local timeout="$1" what="$2" start now last=0
  shift 2
  start=$SECONDS
  while true; do
    "$@" >/dev/null 2>&1 && return 0
    now=$((SECONDS - start))
    ((now >= timeout)) && break
    if ((now - last >= 10)); then
      log "waiting for $what (${now}s/${timeout}s)"
      last=$now
    fi
    sleep 2
  done
  err "timed out after ${timeout}s waiting for $what"
  return 1
}

# render TEMPLATE OUT [KEY=VALUE...]: copy TEMPLATE replacing @KEY@ with VALUE.
render() {
  local template="$1" out="$2" kv sed_args=()
  shift 2
  for kv in "$@"; do sed_args+=(-e "s|@${kv%%=*}@|${kv#*=}|g"); done
  sed "${sed_args[@]}" "$template" >"$out"
}

# unit_install FILE UNIT: install FILE as UNIT; daemon-reload only if it changed.
# Sets VRC_UNIT_CHANGED=1 when it did.
unit_install() {
  local src="$1" unit="$2"
  # shellcheck disable=SC2034 # read by callers
  VRC_UNIT_CHANGED=0
  if ! cmp -s "$src" "$VRC_UNIT_DIR/$unit"; then
    install -m 0644 -o root -g root "$src" "$VRC_UNIT_DIR/$unit"
    systemctl daemon-reload
    # shellcheck disable=SC2034
    VRC_UNIT_CHANGED=1
    log "installed $VRC_UNIT_DIR/$unit"
  fi
  systemctl is-enabled --quiet "$unit" 2>/dev/null || systemctl enable --quiet "$unit"
}

# unit_remove UNIT: stop, disable and delete UNIT (no-op when absent).
unit_remove() {
  local unit="$1"
  if [[ -f "$VRC_UNIT_DIR/$unit" ]]; then
    systemctl disable --now --quiet "$unit" 2>/dev/null || systemctl stop "$unit" 2>/dev/null || true
    rm -f "$VRC_UNIT_DIR/$unit"
    systemctl daemon-reload
    log "removed $unit"
  fi
  systemctl reset-failed "$unit" 2>/dev/null || true
}

# unit_restart_if_needed UNIT: (re)start UNIT when its unit file or config changed (see
# unit_install, install_component) or when it is not active; otherwise leave it running.
unit_restart_if_needed() {
  local unit="$1"
  if ((VRC_UNIT_CHANGED || VRC_CONFIG_CHANGED)) || ! systemctl is-active --quiet "$unit"; then
    log "restarting $unit"
    if ! systemctl restart "$unit"; then
      dump_journal "$unit"
      die "$unit failed to start"
    fi
  else
    log "$unit is active and its unit and config are unchanged: not restarted"
  fi
}

dump_journal() {
  printf '%s last 30 journal lines of %s:\n' "$(_prefix)" "$1" >&2
  journalctl -u "$1" -n 30 --no-pager >&2 || true
}

# require_active UNIT: for check.sh: UNIT is active, else die saying what it is.
require_active() {
  systemctl is-active --quiet "$1" || die "$1 is $(systemctl is-active "$1" 2>&1)"
}

# service_env: for ExecStart= wrappers, the environment Ray and vLLM read: the Ray token's path when
# token auth is on, and the NIC for NCCL/Gloo when the stack names one.
service_env() {
  if [[ "${RAY_AUTH_MODE:-disabled}" == token ]]; then
    export RAY_AUTH_MODE RAY_AUTH_TOKEN_PATH="$VRC_SECRETS/ray-token"
  fi
  if [[ -n "${NETWORK_INTERFACE:-}" ]]; then
    export NCCL_SOCKET_IFNAME="$NETWORK_INTERFACE" GLOO_SOCKET_IFNAME="$NETWORK_INTERFACE"
  fi
}

# read_args FILE: the non-empty lines of FILE into the array SERVICE_ARGS.
read_args() {
  local i
  mapfile -t SERVICE_ARGS <"$1"
  for i in "${!SERVICE_ARGS[@]}"; do [[ -n "${SERVICE_ARGS[i]}" ]] || unset 'SERVICE_ARGS[i]'; done
}

# service_prepare: for the ExecStart= wrappers of Ray and vLLM (run as the service user, with
# $COMPONENT.env in the environment): that env is there, service_env, and $VRC_ETC/$COMPONENT.args
# (the command's arguments, one per line) read into SERVICE_ARGS.
service_prepare() {
  : "${VENV_PATH:?VENV_PATH is not set (EnvironmentFile=$VRC_ETC/$COMPONENT.env)}"
  service_env
  read_args "$VRC_ETC/$COMPONENT.args"
}

# supervise COMMAND...: run COMMAND as a child, forward SIGTERM to it, and exit 0 when it ends
# after a SIGTERM (a requested stop), else with its status. For ExecStart= wrappers: Ray exits 1
# after a SIGTERM shutdown by design, which would leave every stopped unit "failed".
supervise() {
  local child status=0 stopping=0
  "$@" &
  child=$!
  # SIGCONT after SIGTERM (as systemd does for the processes it signals): a stopped child (a hung
  # or SIGSTOPped server) must wake to handle its SIGTERM, not wait for SIGKILL at TimeoutStopSec.
  trap 'stopping=1; kill -TERM "$child" 2>/dev/null || true; kill -CONT "$child" 2>/dev/null || true' TERM
  while true; do
    wait "$child" && status=0 || status=$?
    kill -0 "$child" 2>/dev/null || break
  done
  trap - TERM
  ((stopping)) && exit 0
  exit "$status"
}

# ray_cluster_facts HEAD_ADDRESS [USER]: the Ray cluster's alive nodes, from the GCS
# (common/ray_nodes.py in the venv; as USER with Ray's token settings when given, else as the
# caller, whose environment must have them). Sets RAY_ALIVE (count), RAY_GPUS (their GPUs),
# RAY_IPS (space-separated addresses) and RAY_ERROR (empty when the GCS answered). Bounded: 30 s.
# shellcheck disable=SC2034 # the RAY_* results are read by callers
ray_cluster_facts() {
  local head="$1" user="${2:-}" out cmd
  RAY_ALIVE=0 RAY_GPUS=0 RAY_IPS="" RAY_ERROR=""
  cmd=("$VENV_PATH/bin/python" "$(dirname "${BASH_SOURCE[0]}")/ray_nodes.py" "$head")
  if [[ -n "$user" && "${RAY_AUTH_MODE:-disabled}" == token ]]; then
    cmd=(env RAY_AUTH_MODE=token RAY_AUTH_TOKEN_PATH="$VRC_SECRETS/ray-token" "${cmd[@]}")
  fi
  if [[ -n "$user" ]]; then
    # setpriv, not runuser: no PAM session (and no journal lines) for a probe every few seconds.
    out="$(cd / && HOME="$(getent passwd "$user" | cut -d: -f6)" timeout 30 \
      setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups -- "${cmd[@]}" 2>/dev/null)" || true
  else
    out="$(timeout 30 "${cmd[@]}" 2>/dev/null)" || true
  fi
  if [[ "$out" =~ ^alive=([0-9]+)\ gpus=([0-9.e+]+)\ ips=([0-9.,]*)$ ]]; then
    RAY_ALIVE="${BASH_REMATCH[1]}" RAY_GPUS="${BASH_REMATCH[2]}" RAY_IPS="${BASH_REMATCH[3]//,/ }"
  elif [[ "$out" == error=* ]]; then
    RAY_ERROR="the GCS at $head does not answer: ${out#error=}"
  else
    RAY_ERROR="no answer from the GCS at $head within 30 s"
  fi
}

# missing_nodes "EXPECTED..." "ALIVE...": the expected addresses that are not alive, space-separated.
missing_nodes() {
  local ip missing=()
  for ip in $1; do
    [[ " $2 " == *" $ip "* ]] || missing+=("$ip")
  done
  echo "${missing[*]}"
}

# gpus_at_least HAVE NEED: true when HAVE >= NEED (Ray reports GPUs as decimals).
gpus_at_least() { awk -v h="$1" -v n="$2" 'BEGIN { exit !(h + 0 >= n + 0) }'; }

# as_user USER COMMAND...: run COMMAND as USER from / (environment kept but HOME/USER/SHELL).
as_user() {
  local user="$1"
  shift
  (cd / && runuser -u "$user" -- "$@")
}
