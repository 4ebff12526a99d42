# shellcheck shell=bash
# The sshd settings every sandbox host and VM shares. Sourced (by sandbox/sandbox and
# sandbox/vm/vm), never run.

# sshd_keys_only TYPE...: the body of an sshd_config drop-in: a HostKey line for each key TYPE
# (ecdsa, ed25519), no password or keyboard-interactive logins, root by key only, no DNS lookups.
sshd_keys_only() {
  local t
  for t in "$@"; do echo "HostKey /etc/ssh/ssh_host_${t}_key"; done
  cat <<'CONF'
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UseDNS no
CONF
}
