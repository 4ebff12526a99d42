# shellcheck shell=bash
# Shared settings and helpers for sandbox/sandbox. Sourced, never run.
# The settings below are used by the other lib files:
# shellcheck disable=SC2034

SANDBOX_HOME="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
PROJECT_ROOT="$(cd "$SANDBOX_HOME/.." && pwd -P)"
# Caches every instance of this checkout shares (rootfs, wheelhouse, model, client key).
CACHE="$PROJECT_ROOT/.sandbox"

# An instance is one independent set of hosts with its own bridge, subnet, host names, state and
# stack file, so that several can run side by side (the demo and each e2e test class). The
# default instance (index 0) is the one README's commands use: vrcbr0, 10.213.0.0/24, vrc-<name>,
# stacks/sandbox.yaml. Others: VRC_SANDBOX_INSTANCE=<name> VRC_SANDBOX_INDEX=<1..254> give
# vrcbr<index>, 10.213.<index>.0/24, vrc<index>-<name> and .sandbox/instances/<name>/stacks/<name>.yaml.
INSTANCE="${VRC_SANDBOX_INSTANCE:-default}"
STATE="$CACHE/instances/$INSTANCE"
INDEX="${VRC_SANDBOX_INDEX:-}"

SUITE=bookworm
MIRROR="${VRC_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
ROOTFS="$CACHE/rootfs-$SUITE"
CLIENT_KEY="$CACHE/id_ed25519"
WHEELHOUSE="$CACHE/wheelhouse"
MODEL_DIR="$CACHE/model/tiny-llama"
STANDIN_DIR="$SANDBOX_HOME/vllm-standin"
HTTP_PORT=8700

RAY_VERSION="${VRC_RAY_VERSION:-2.60.0}"
VLLM_STANDIN_VERSION="0.33.0+standin"
# The uv the bootstrap installs from the wheelhouse (GpuNode.UV_VERSION in the Java code).
UV_VERSION=0.13.9
TARGET_PYTHON=3.11
BOOT_TIMEOUT="${VRC_BOOT_TIMEOUT:-60}"
STOP_TIMEOUT="${VRC_STOP_TIMEOUT:-30}"

log() { printf '[sandbox] %s\n' "$*" >&2; }
warn() { printf '[sandbox] WARNING: %s\n' "$*" >&2; }
die() {
  printf '[sandbox] ERROR: %s\n' "$*" >&2
  exit 1
}

# Resolves the instance's names (see INSTANCE above); dies on a bad name or index.
resolve_instance() {
  [[ $INSTANCE =~ ^[a-z][a-z0-9-]{0,23}$ ]] ||
    die "VRC_SANDBOX_INSTANCE '$INSTANCE' is not a usable name: lowercase letters, digits and '-', starting with a letter"
  if [[ -z $INDEX && -s $STATE/index ]]; then
    INDEX="$(tr -dc '0-9' <"$STATE/index")"
  fi
  if [[ $INSTANCE == default ]]; then
    [[ -z $INDEX || $INDEX == 0 ]] || die "the default instance has index 0 (VRC_SANDBOX_INDEX is '$INDEX'); name another instance with VRC_SANDBOX_INSTANCE"
    INDEX=0
  else
    [[ $INDEX =~ ^[1-9][0-9]{0,2}$ && $INDEX -le 254 ]] ||
      die "instance '$INSTANCE' needs VRC_SANDBOX_INDEX=1..254 (got '${INDEX}'): it picks the bridge vrcbr<index> and the subnet 10.213.<index>.0/24"
  fi
  BRIDGE="vrcbr$INDEX"
  NET_PREFIX="10.213.$INDEX"
  BRIDGE_IP="$NET_PREFIX.1"
  SUBNET="$NET_PREFIX.0/24"
  OUTSIDER_IP="$NET_PREFIX.200"
  NFT_TABLE="vrc_sandbox_$INDEX"
  if ((INDEX == 0)); then MACHINE_PREFIX=vrc; else MACHINE_PREFIX="vrc$INDEX"; fi
  HOSTS_DIR="$STATE/hosts"
  KNOWN_HOSTS="$STATE/known_hosts"
  if [[ $INSTANCE == default ]]; then
    STACK_FILE="${VRC_SANDBOX_STACK_FILE:-$PROJECT_ROOT/stacks/sandbox.yaml}"
  else
    STACK_FILE="${VRC_SANDBOX_STACK_FILE:-$STATE/stacks/$INSTANCE.yaml}"
  fi
}

require_root() {
  [[ $EUID -eq 0 ]] || die "must run as root (systemd-nspawn, bridges and overlay mounts need it): sudo $0 $*"
}

now() { date +%s; }

# Takes the instance's exclusive lock (fd 9) for commands that change it. Daemons started while
# holding a lock must close fds 8 and 9 (`8>&- 9>&-`), or they would keep it.
take_lock() {
  mkdir -p "$STATE"
  exec 9>"$STATE/.lock"
  flock -w 5 9 || die "another 'sandbox' command is running on instance $INSTANCE (lock $STATE/.lock)"
}

# Takes the lock on the shared caches (fd 8): another instance may be building them. Released by
# release_cache_lock once they are complete.
take_cache_lock() {
  mkdir -p "$CACHE"
  exec 8>"$CACHE/.cache.lock"
  if ! flock -n 8; then
    log "waiting for another instance to finish building the caches in $CACHE"
    flock -w 1200 8 || die "the caches in $CACHE stayed locked for 20 minutes (lock $CACHE/.cache.lock)"
  fi
}

release_cache_lock() { exec 8>&-; }

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

machine_name() { echo "$MACHINE_PREFIX-$1"; }

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

# daemon_ready PIDFILE PATTERN READY: prints the pid in PIDFILE when that process runs a command
# line holding PATTERN and READY (a command) succeeds; fails otherwise.
daemon_ready() {
  local pid
  pid="$(read_pid "$1")"
  pid_alive "$pid" "$2" && "$3" && echo "$pid"
}

# start_daemon PIDFILE LOG TRIES PAUSE READY FAILURE COMMAND...: starts COMMAND detached (its own
# session, no stdin, output to LOG, without the lock fds 8 and 9), writes its pid to PIDFILE, then
# runs READY (a command) up to TRIES times, PAUSE seconds apart, while the process lives. Returns
# once READY succeeds; otherwise shows LOG's last lines and dies with FAILURE.
start_daemon() {
  local pidf="$1" logf="$2" tries="$3" pause="$4" ready="$5" failure="$6" pid i
  shift 6
  setsid "$@" </dev/null >"$logf" 2>&1 8>&- 9>&- &
  pid=$!
  echo "$pid" >"$pidf"
  for ((i = 0; i < tries; i++)); do
    if "$ready"; then
      return 0
    fi
    pid_alive "$pid" || break
    sleep "$pause"
  done
  tail -n 5 "$logf" >&2
  die "$failure"
}

# stop_daemon PIDFILE PATTERN MESSAGE: when the pid in PIDFILE still runs a command line holding
# PATTERN, logs "MESSAGE (pid PID)" and stops it (TERM, KILL after 2 s); removes PIDFILE.
stop_daemon() {
  local pidf="$1" pattern="$2" message="$3" pid
  pid="$(read_pid "$pidf")"
  if pid_alive "$pid" "$pattern"; then
    log "$message (pid $pid)"
    kill "$pid" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do pid_alive "$pid" || break; sleep 0.2; done
    pid_alive "$pid" && kill -KILL "$pid" 2>/dev/null
  fi
  rm -f "$pidf"
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
