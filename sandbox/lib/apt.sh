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
  local pidf="$STATE/apt.pid" pid
  if pid="$(daemon_ready "$pidf" "apt_proxy.py" apt_ok)"; then
    log "apt: mirror of $MIRROR at $(apt_url) (pid $pid)"
    return 0
  fi
  stop_apt_mirror
  mkdir -p "$APT_CACHE"
  start_daemon "$pidf" "$STATE/apt.log" 100 0.3 apt_ok \
    "apt: the mirror on $BRIDGE_IP:$APT_PORT did not answer (see $STATE/apt.log)" \
    python3 "$SANDBOX_HOME/lib/apt_proxy.py" --bind "$BRIDGE_IP" --port "$APT_PORT" \
    --upstream "$MIRROR" --cache "$APT_CACHE"
  pid="$(read_pid "$pidf")"
  log "apt: mirror of $MIRROR at $(apt_url) (pid $pid, cache $APT_CACHE)"
}

stop_apt_mirror() { stop_daemon "$STATE/apt.pid" "apt_proxy.py" "apt: stopping the mirror"; }
