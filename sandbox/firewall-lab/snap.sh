#!/usr/bin/env bash
# Runs inside a lab host: everything firewall-related on it, for before/after diffs (packet
# counters left out).
set -uo pipefail
echo "## nft ruleset"
nft list ruleset 2>/dev/null | sed -E 's/counter packets [0-9]+ bytes [0-9]+ ?//'
echo "## iptables-save"
{ iptables-save; ip6tables-save; } 2>/dev/null | grep -v '^#' | sed -E 's/ \[[0-9]+:[0-9]+\]$//'
echo "## files"
for d in /etc/firewalld /etc/ufw /etc/default/ufw /etc/systemd/system /etc/vllm-ray-cluster /opt/vllm-ray-cluster /var/lib/vllm-ray-cluster; do
  [[ -e "$d" ]] && find "$d" \( -type f -o -type l \) -print0 | sort -z | xargs -0r sha256sum
done
echo "## dirs"
for d in /etc/firewalld /etc/ufw /etc/vllm-ray-cluster /opt/vllm-ray-cluster /var/lib/vllm-ray-cluster; do
  [[ -e "$d" ]] && find "$d" -type d | sort
done
if firewall-cmd --state >/dev/null 2>&1; then
  echo "## firewalld runtime"
  firewall-cmd --list-all-zones
  firewall-cmd --list-all-policies
  echo "## firewalld permanent"
  firewall-cmd --permanent --list-all-zones
  firewall-cmd --permanent --list-all-policies
fi
if command -v ufw >/dev/null; then
  echo "## ufw"
  ufw status verbose
  ufw show added
fi
echo "## units"
systemctl list-unit-files 'vrc-*' --no-legend
true
