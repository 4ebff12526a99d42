# shellcheck shell=bash
# Sandbox hosts: overlay layers over the rootfs, booted with systemd-nspawn. Sourced, never run.

host_dir() { echo "$HOSTS_DIR/$1"; }

host_nspawn_pid() { read_pid "$(host_dir "$1")/nspawn.pid"; }
host_leader_pid() { read_pid "$(host_dir "$1")/leader.pid"; }

host_running() {
  local name="$1" npid lpid
  npid="$(host_nspawn_pid "$name")"
  lpid="$(host_leader_pid "$name")"
  pid_alive "$npid" "systemd-nspawn" && pid_alive "$lpid"
}

host_ssh_ok() {
  local ip
  ip="$(host_ip "$1")"
  ssh_opts
  timeout 10 ssh "${SSH_OPTS[@]}" "root@$ip" true >/dev/null 2>&1
}

# The host key OpenTofu's SSH client is shown (it asks for ECDSA before Ed25519): the one the
# stack pins. host_pubkeys: every host key, for known_hosts.
host_pubkey() { cut -d' ' -f1,2 <"$(host_dir "$1")/ssh_host_ecdsa_key.pub"; }
host_pubkeys() {
  local t
  for t in ecdsa ed25519; do cut -d' ' -f1,2 <"$(host_dir "$1")/ssh_host_${t}_key.pub"; done
}

# Like a stock Debian server, a host has an ECDSA and an Ed25519 key (no RSA: it only slows
# key generation here).
readonly HOST_KEY_TYPES=(ecdsa ed25519)

# Creates the host's own state (keys, machine-id) once, mounts its overlay and writes its
# per-host files into it.
prepare_host() {
  local name="$1" d ip m
  d="$(host_dir "$name")"
  ip="$(host_ip "$name")"
  m="$(machine_name "$name")"
  mkdir -p "$d/upper" "$d/work" "$d/merged"
  local t
  for t in "${HOST_KEY_TYPES[@]}"; do
    if [[ ! -s $d/ssh_host_${t}_key || ! -s $d/ssh_host_${t}_key.pub ]]; then
      rm -f "$d/ssh_host_${t}_key" "$d/ssh_host_${t}_key.pub"
      ssh-keygen -q -t "$t" -N '' -C "root@$m" -f "$d/ssh_host_${t}_key" >/dev/null
    fi
  done
  [[ -s $d/machine-id ]] || tr -d '-' </proc/sys/kernel/random/uuid >"$d/machine-id"
  echo "$ip" >"$d/ip"

  if ! mountpoint -q "$d/merged"; then
    mount -t overlay "overlay-$m" \
      -o "lowerdir=$ROOTFS,upperdir=$d/upper,workdir=$d/work" "$d/merged" ||
      die "$name: mounting the overlay on $d/merged failed"
  fi

  local r="$d/merged"
  put_file "$r/etc/machine-id" 0444 "$(cat "$d/machine-id")"
  put_file "$r/etc/hostname" 0644 "$m"
  install -d -m 0755 "$r/etc/ssh"
  for t in "${HOST_KEY_TYPES[@]}"; do
    put_file "$r/etc/ssh/ssh_host_${t}_key" 0600 "$(cat "$d/ssh_host_${t}_key")"
    put_file "$r/etc/ssh/ssh_host_${t}_key.pub" 0644 "$(cat "$d/ssh_host_${t}_key.pub")"
  done
  put_file "$r/etc/ssh/sshd_config.d/vrc-sandbox.conf" 0644 "$(sshd_conf)"
  # OS packages come from the instance's apt mirror on the bridge (sandbox/lib/apt.sh), as on
  # servers without internet: nothing the modules install is baked into the rootfs.
  put_file "$r/etc/apt/sources.list" 0644 "$(apt_sources_line)"
  install -d -m 0700 "$r/root/.ssh"
  put_file "$r/root/.ssh/authorized_keys" 0600 "$(cat "$CLIENT_KEY.pub")"
  # The static address: set on host0 at boot by a tiny unit; deliberately no default route.
  put_file "$r/etc/sandbox-host/address" 0644 "$ip/24"
  put_file "$r/usr/local/sbin/sandbox-net" 0755 "$(sandbox_net_script)"
  put_file "$r/etc/systemd/system/sandbox-net.service" 0644 "$(sandbox_net_unit)"
  install -d -m 0755 "$r/etc/systemd/system/multi-user.target.wants"
  ln -sfn /etc/systemd/system/sandbox-net.service \
    "$r/etc/systemd/system/multi-user.target.wants/sandbox-net.service"
}

sshd_conf() {
  cat <<'CONF'
# Sandbox host: an ECDSA and an Ed25519 host key (the stack pins the ECDSA one, which the OpenTofu
# client asks for first), keys only.
CONF
  sshd_keys_only "${HOST_KEY_TYPES[@]}"
}

etc_hosts() {
  local n
  printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n'
  printf '%s\tsandbox-gateway\n' "$BRIDGE_IP"
  for n in $(existing_hosts); do printf '%s\t%s\n' "$(host_ip "$n")" "$(machine_name "$n")"; done
}

sandbox_net_script() {
  cat <<'SCRIPT'
#!/bin/sh
# Written by sandbox/sandbox: static address on host0, no default route (no way out).
set -eu
addr="$(cat /etc/sandbox-host/address)"
i=0
until ip link show host0 >/dev/null 2>&1; do
  i=$((i + 1))
  [ "$i" -le 100 ] || { echo "sandbox-net: no host0 interface" >&2; exit 1; }
  sleep 0.1
done
ip link set host0 up
ip -4 addr replace "$addr" dev host0
SCRIPT
}

sandbox_net_unit() {
  cat <<'UNIT'
[Unit]
Description=Sandbox static address on host0 (no default route)
Before=network.target ssh.service
Wants=network.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/sandbox-net

[Install]
WantedBy=multi-user.target
UNIT
}

# Starts the container in the background. Returns once its init (systemd) is running.
boot_host() {
  local name="$1" d m npid lpid i
  d="$(host_dir "$name")"
  m="$(machine_name "$name")"
  log "$name: booting $m ($(host_ip "$name"))..."
  rm -f "$d/leader.pid" "$d/nspawn.pid"
  {
    printf '\n===== %s: sandbox boot of %s =====\n' "$(date -Is)" "$m"
  } >>"$d/console.log"
  setsid systemd-nspawn -D "$d/merged" -M "$m" --boot --register=no --keep-unit \
    --network-bridge="$BRIDGE" --console=read-only --resolv-conf=off --timezone=off \
    --link-journal=no </dev/null >>"$d/console.log" 2>&1 8>&- 9>&- &
  npid=$!
  echo "$npid" >"$d/nspawn.pid"
  date +%s%3N >"$d/boot-started"
  for ((i = 0; i < 100; i++)); do
    lpid="$(pgrep -P "$npid" | head -n1 || true)"
    if [[ -n $lpid ]] && [[ "$(cat "/proc/$lpid/comm" 2>/dev/null)" == systemd ]]; then
      echo "$lpid" >"$d/leader.pid"
      return 0
    fi
    pid_alive "$npid" || break
    sleep 0.1
  done
  tail -n 20 "$d/console.log" >&2
  die "$name: systemd-nspawn did not start the container's init (see $d/console.log)"
}

# Waits (bounded) until ssh with the pinned host key works.
wait_ssh() {
  local name="$1" d deadline started
  d="$(host_dir "$name")"
  started="$(cat "$d/boot-started" 2>/dev/null || date +%s%3N)"
  deadline=$(($(now) + BOOT_TIMEOUT))
  while ! host_ssh_ok "$name"; do
    if ! host_running "$name"; then
      tail -n 20 "$d/console.log" >&2
      die "$name: container exited during boot (see $d/console.log)"
    fi
    if (($(now) >= deadline)); then
      tail -n 20 "$d/console.log" >&2
      die "$name: no SSH at root@$(host_ip "$name") after ${BOOT_TIMEOUT}s (see $d/console.log)"
    fi
    sleep 1
  done
  if [[ -f $d/boot-started ]]; then
    local ms=$(($(date +%s%3N) - started))
    log "$name: up, ssh ok ($((ms / 1000)).$(printf '%03d' $((ms % 1000))) s after boot)"
    rm -f "$d/boot-started"
  else
    log "$name: running, ssh ok"
  fi
}

# Asks every given running host to power off, waits (bounded), then kills what is left and
# unmounts the overlays. STOP_MODE (default poweroff): poweroff = a clean shutdown, as
# `systemctl poweroff` inside; reboot = as `systemctl reboot` inside (the host stays down until
# booted again: nobody restarts systemd-nspawn); kill = power loss: every process of the host is
# killed at once (SIGKILL to its init, which ends its PID namespace), no unit is stopped.
stop_hosts() {
  local name npid lpid deadline pending mode="${STOP_MODE:-poweroff}"
  for name in "$@"; do
    lpid="$(host_leader_pid "$name")"
    if host_running "$name"; then
      case "$mode" in
        poweroff)
          log "$name: powering off..."
          kill -s RTMIN+4 "$lpid" 2>/dev/null || true
          ;;
        reboot)
          log "$name: rebooting (clean shutdown)..."
          kill -s RTMIN+5 "$lpid" 2>/dev/null || true
          ;;
        kill)
          log "$name: power cut (SIGKILL to every process of the host)"
          kill -KILL "$lpid" 2>/dev/null || true
          ;;
        *) die "stop_hosts: unknown STOP_MODE '$mode'" ;;
      esac
    fi
  done
  deadline=$(($(now) + STOP_TIMEOUT))
  while :; do
    pending=()
    for name in "$@"; do
      npid="$(host_nspawn_pid "$name")"
      pid_alive "$npid" "systemd-nspawn" && pending+=("$name")
    done
    ((${#pending[@]} == 0)) && break
    if (($(now) >= deadline)); then
      for name in "${pending[@]}"; do
        warn "$name: no clean poweroff after ${STOP_TIMEOUT}s: killing"
        npid="$(host_nspawn_pid "$name")"
        lpid="$(host_leader_pid "$name")"
        pid_alive "$lpid" && kill -KILL "$lpid" 2>/dev/null
        pid_alive "$npid" "systemd-nspawn" && kill -KILL "$npid" 2>/dev/null
      done
      sleep 1
      break
    fi
    sleep 0.5
  done
  for name in "$@"; do
    unmount_host "$name"
    rm -f "$(host_dir "$name")/nspawn.pid" "$(host_dir "$name")/leader.pid"
  done
}

unmount_host() {
  local name="$1" merged i lock
  merged="$(host_dir "$name")/merged"
  mountpoint -q "$merged" 2>/dev/null || return 0
  # systemd-nspawn leaves an image lock file (named after the root's device and inode) and
  # a propagation directory behind in /run (not a tmpfs here): remove ours.
  lock="/run/systemd/nspawn/locks/$(stat -c 'inode-%d:%i' "$merged")"
  for ((i = 0; i < 10; i++)); do
    umount "$merged" 2>/dev/null && break
    sleep 0.5
  done
  if mountpoint -q "$merged"; then
    warn "$name: $merged busy: lazy unmount"
    umount -l "$merged" || die "$name: cannot unmount $merged"
  fi
  rm -f "$lock"
  rmdir "/run/systemd/nspawn/propagate/$(machine_name "$name")" 2>/dev/null || true
}

remove_hosts() {
  local name
  (($# > 0)) || return 0
  stop_hosts "$@"
  for name in "$@"; do
    mountpoint -q "$(host_dir "$name")/merged" && die "$name: overlay still mounted: not deleting"
    rm -rf --one-file-system "$(host_dir "$name")"
    log "$name: removed"
  done
}

# Brings the given hosts up (booting those not running, in parallel) and waits for SSH.
ensure_hosts() {
  local name
  for name in "$@"; do mkdir -p "$(host_dir "$name")"; done
  for name in "$@"; do
    if ! host_running "$name"; then
      # A stale systemd-nspawn whose init is gone: clear it before booting again.
      pid_alive "$(host_nspawn_pid "$name")" "systemd-nspawn" && stop_hosts "$name"
    fi
    prepare_host "$name"
  done
  write_known_hosts
  refresh_etc_hosts
  for name in "$@"; do
    if host_running "$name"; then
      log "$name: already running"
    else
      boot_host "$name"
    fi
  done
  for name in "$@"; do wait_ssh "$name"; done
}

# Every mounted host gets the current list of sandbox hosts in /etc/hosts.
refresh_etc_hosts() {
  local name content
  content="$(etc_hosts)"
  for name in $(existing_hosts); do
    mountpoint -q "$(host_dir "$name")/merged" &&
      put_file "$(host_dir "$name")/merged/etc/hosts" 0644 "$content"
  done
  return 0
}

write_known_hosts() {
  local name key content=""
  for name in $(existing_hosts); do
    while read -r key; do content+="$(host_ip "$name") $key"$'\n'; done < <(host_pubkeys "$name")
  done
  put_file "$KNOWN_HOSTS" 0644 "${content%$'\n'}"
}

# Runs a command inside a host's namespaces without SSH (for debugging a broken boot).
host_nsenter() {
  local name="$1" lpid
  shift
  lpid="$(host_leader_pid "$name")"
  host_running "$name" || die "$name: not running"
  nsenter --target "$lpid" --mount --uts --ipc --net --pid --root --wd=/ -- \
    /usr/bin/env -i --chdir=/ PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root TERM="${TERM:-dumb}" LANG=C.UTF-8 "$@"
}
