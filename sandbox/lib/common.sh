# shellcheck shell=bash
# Shared settings and helpers for sandbox/sandbox. Sourced, never run.
# The settings below are used by the other lib files:
# shellcheck disable=SC2034

SANDBOX_HOME="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
PROJECT_ROOT="$(cd "$SANDBOX_HOME/.." && pwd -P)"
STATE="$PROJECT_ROOT/.sandbox"

BRIDGE=vrcbr0
NET_PREFIX=10.213.0
BRIDGE_IP="$NET_PREFIX.1"
SUBNET="$NET_PREFIX.0/24"
OUTSIDER_IP="$NET_PREFIX.200"
HTTP_PORT=8700
NFT_TABLE=vrc_sandbox

SUITE=bookworm
MIRROR="${VRC_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
ROOTFS="$STATE/rootfs-$SUITE"
HOSTS_DIR="$STATE/hosts"
CLIENT_KEY="$STATE/id_ed25519"
KNOWN_HOSTS="$STATE/known_hosts"
WHEELHOUSE="$STATE/wheelhouse"
MODEL_DIR="$STATE/model/tiny-llama"
STACK_FILE="$PROJECT_ROOT/stacks/sandbox.yaml"
STANDIN_DIR="$SANDBOX_HOME/vllm-standin"

RAY_VERSION="${VRC_RAY_VERSION:-2.60.0}"
VLLM_STANDIN_VERSION="0.9.2+standin"
TARGET_PYTHON=3.11
BOOT_TIMEOUT="${VRC_BOOT_TIMEOUT:-60}"
STOP_TIMEOUT="${VRC_STOP_TIMEOUT:-30}"

log() { printf '[sandbox] %s\n' "$*" >&2; }
warn() { printf '[sandbox] WARNING: %s\n' "$*" >&2; }
die() {
  printf '[sandbox] ERROR: %s\n' "$*" >&2
  exit 1
}

require_root() {
  [[ $EUID -eq 0 ]] || die "must run as root (systemd-nspawn, bridges and overlay mounts need it): sudo $0 $*"
}

now() { date +%s; }

# Takes an exclusive lock (fd 9) for commands that change the sandbox. Daemons started while
# holding it must close fd 9 (`9>&-`), or they would keep the lock.
take_lock() {
  mkdir -p "$STATE"
  exec 9>"$STATE/.lock"
  flock -w 5 9 || die "another 'sandbox' command is running (lock $STATE/.lock)"
}

# Installs Debian packages providing the given commands, when they are missing.
# Arguments: pairs "command:package".
ensure_tools() {
  local pair cmd pkg missing=()
  for pair in "$@"; do
    cmd="${pair%%:*}"
    pkg="${pair#*:}"
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return 0
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  log "installing missing host packages: ${missing[*]}"
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install ${missing[*]} by hand"
  DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends "${missing[@]}" >&2 ||
    { log "apt-get install failed; retrying after apt-get update"; apt-get -q update >&2 &&
      DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends "${missing[@]}" >&2; } ||
    die "could not install ${missing[*]}"
}

# --- host naming -----------------------------------------------------------

# Prints the host names for a cluster of N hosts: head worker1 ... worker(N-1).
host_names() {
  local n="$1" i
  echo head
  for ((i = 1; i < n; i++)); do echo "worker$i"; done
}

valid_name() { [[ $1 == head || $1 == outsider || $1 =~ ^worker[1-9][0-9]*$ ]]; }

host_ip() {
  case "$1" in
    head) echo "$NET_PREFIX.11" ;;
    outsider) echo "$OUTSIDER_IP" ;;
    worker*) echo "$NET_PREFIX.$((11 + ${1#worker}))" ;;
    *) die "unknown host name '$1'" ;;
  esac
}

machine_name() { echo "vrc-$1"; }

# Prints the existing host directories' names, ordered head, worker1.., outsider.
existing_hosts() {
  [[ -d $HOSTS_DIR ]] || return 0
  local d name
  for d in "$HOSTS_DIR"/*/; do
    [[ -d $d ]] || continue
    name="$(basename "$d")"
    valid_name "$name" || continue
    case "$name" in
      head) printf '0 %s\n' "$name" ;;
      outsider) printf '99999 %s\n' "$name" ;;
      *) printf '%s %s\n' "${name#worker}" "$name" ;;
    esac
  done | sort -n | cut -d' ' -f2
}

# --- processes -------------------------------------------------------------

# True when PID exists, is not a zombie, and its command line contains PATTERN.
pid_alive() {
  local pid="$1" pattern="${2:-}" state
  [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/stat ]] || return 1
  state="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" || return 1
  [[ $state != Z && $state != X ]] || return 1
  [[ -z $pattern ]] && return 0
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$pattern"
}

read_pid() {
  if [[ -r $1 ]]; then tr -dc '0-9' <"$1"; fi
  return 0
}

# --- ssh -------------------------------------------------------------------

ssh_opts() {
  SSH_OPTS=(-F /dev/null -i "$CLIENT_KEY" -o IdentitiesOnly=yes -o IdentityAgent=none
    -o UserKnownHostsFile="$KNOWN_HOSTS" -o GlobalKnownHostsFile=/dev/null
    -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=3 -o LogLevel=ERROR)
}

ensure_client_key() {
  if [[ ! -s $CLIENT_KEY || ! -s $CLIENT_KEY.pub ]]; then
    log "generating sandbox client key $CLIENT_KEY"
    rm -f "$CLIENT_KEY" "$CLIENT_KEY.pub"
    ssh-keygen -q -t ed25519 -N '' -C "vrc-sandbox-client" -f "$CLIENT_KEY" >/dev/null
  fi
  chmod 600 "$CLIENT_KEY"
}

# Writes CONTENT to FILE (mode MODE) only when it differs.
put_file() {
  local file="$1" mode="$2" content="$3"
  if [[ -f $file ]] && [[ "$(cat "$file")" == "$content" ]]; then
    chmod "$mode" "$file"
    return 0
  fi
  mkdir -p "$(dirname "$file")"
  printf '%s\n' "$content" >"$file.tmp.$$"
  chmod "$mode" "$file.tmp.$$"
  mv -f "$file.tmp.$$" "$file"
}
