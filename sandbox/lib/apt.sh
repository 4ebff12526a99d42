# shellcheck shell=bash
# The instance's apt mirror on its bridge: a caching proxy of Debian's archive (apt_proxy.py), the
# way OS packages reach a user's servers that have no internet (an apt mirror or proxy on their
# network). The hosts' /etc/apt/sources.list names it; the cache is shared by every instance of
# this checkout. Sourced, never run.

APT_PORT=8702
APT_CACHE="$CACHE/apt-cache"

apt_url() { echo "http://$BRIDGE_IP:$APT_PORT/debian"; }

apt_ok() { curl -fsS --max-time 20 -o /dev/null "$(apt_url)/dists/$SUITE/Release" 2>/dev/null; }

# The line every host's sources.list holds: Debian's suite through the mirror, checked with
# Debian's keyring (no [trusted=yes]: the mirror is trusted for nothing).
apt_sources_line() { echo "deb $(apt_url) $SUITE main"; }

ensure_apt_mirror() {
  local pidf="$STATE/apt.pid" pid i
  pid="$(read_pid "$pidf")"
  if pid_alive "$pid" "apt_proxy.py" && apt_ok; then
    log "apt: mirror of $MIRROR at $(apt_url) (pid $pid)"
    return 0
  fi
  stop_apt_mirror
  mkdir -p "$APT_CACHE"
  setsid python3 "$SANDBOX_HOME/lib/apt_proxy.py" --bind "$BRIDGE_IP" --port "$APT_PORT" \
    --upstream "$MIRROR" --cache "$APT_CACHE" </dev/null >"$STATE/apt.log" 2>&1 8>&- 9>&- &
  pid=$!
  echo "$pid" >"$pidf"
  for ((i = 0; i < 100; i++)); do
    if apt_ok; then
      log "apt: mirror of $MIRROR at $(apt_url) (pid $pid, cache $APT_CACHE)"
      return 0
    fi
    pid_alive "$pid" || break
    sleep 0.3
  done
  tail -n 5 "$STATE/apt.log" >&2
  die "apt: the mirror on $BRIDGE_IP:$APT_PORT did not answer (see $STATE/apt.log)"
}

stop_apt_mirror() {
  local pidf="$STATE/apt.pid" pid
  pid="$(read_pid "$pidf")"
  if pid_alive "$pid" "apt_proxy.py"; then
    log "apt: stopping the mirror (pid $pid)"
    kill "$pid" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do pid_alive "$pid" || break; sleep 0.2; done
    pid_alive "$pid" && kill -KILL "$pid" 2>/dev/null
  fi
  rm -f "$pidf"
}
