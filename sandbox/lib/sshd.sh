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

# sshd_image_setup ROOT COMMENT: sshd in the tree ROOT that hosts or VMs boot from: the host keys
# the packages generated are deleted (each machine gets its own ed25519 key), and the drop-in
# vrc-sandbox.conf is COMMENT (a "# ..." line), then keys only with that ed25519 key.
sshd_image_setup() {
  local r="$1" comment="$2"
  rm -f "$r"/etc/ssh/ssh_host_*
  {
    printf '%s\n' "$comment"
    sshd_keys_only ed25519
  } >"$r/etc/ssh/sshd_config.d/vrc-sandbox.conf"
}
