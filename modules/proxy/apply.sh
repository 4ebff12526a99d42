#!/usr/bin/env bash
# proxy apply: HAProxy from the OS packages as vrc-proxy.service in front of vLLM's API: the key on
# every path but /health, HTTPS only (unless TLS=false), vLLM behind it on 127.0.0.1:BACKEND_PORT.
# Usage: apply.sh <stage-dir> [resource-id]
set -euo pipefail

# shellcheck source=proxy.sh
source "$(dirname "${BASH_SOURCE[0]}")/proxy.sh"

# check_auth_file: two lines, "Bearer <key>" and "bearer <key>", one key without spaces.
check_auth_file() {
  local file="$VRC_SECRETS/$PROXY_AUTH" key
  if [[ "$REQUIRE_API_KEY" != true ]]; then
    rm -f "$file"
    warn "no API key (vllm.require_api_key: false): the proxy passes every request"
    return 0
  fi
  key="$(sed -n '1s/^Bearer //p' "$file" 2>/dev/null)" || true
  if [[ -z "$key" ]]; then
    rm -f "$file"
    die "the API key is empty: set the stack's vllm.api_key_env variable (e.g. export TF_VAR_vllm_api_key=...) on the deploy machine and deploy again, or set vllm.require_api_key: false"
  fi
  [[ "$key" =~ ^[[:graph:]]+$ && "$(wc -l <"$file")" -eq 2 ]] ||
    die "the API key has spaces, control characters or line breaks: HTTP clients cannot send it in a header; choose another"
  log "API key check: $file (0600 root), read by HAProxy at start"
}

# write_config FILE: the HAProxy configuration (no secret in it: the key lines stay in their file).
write_config() {
  local out="$1" bind="$API_HOST:$API_PORT"
  [[ "$TLS" != true ]] || bind+=" ssl crt $SERVER_PEM ssl-min-ver TLSv1.2"
  {
    echo "# Installed by vllm-ray-cluster (modules/proxy): the API for clients, vLLM behind it."
    echo "# No secret here: the key lines are in $VRC_SECRETS/$PROXY_AUTH (0600 root), read at start."
    echo "global"
    echo "    user haproxy"
    echo "    group haproxy"
    echo "    maxconn 4096"
    echo ""
    echo "defaults"
    echo "    mode http"
    echo "    timeout connect 5s"
    echo "    timeout http-request 30s"
    echo "    timeout http-keep-alive 30s"
    echo "    # Generations stream for minutes: the timeouts are for silence, not for a whole answer."
    echo "    timeout client 15m"
    echo "    timeout server 15m"
    echo "    timeout tunnel 1h"
    echo ""
    echo "frontend api"
    echo "    bind $bind"
    if [[ "$REQUIRE_API_KEY" == true ]]; then
      echo "    # The key on every path but GET /health (vLLM's own check covers only /v1, /v2, /inference, /cohere)."
      echo "    http-request deny deny_status 401 if { req.hdr_cnt(authorization) gt 1 }"
      echo "    http-request deny deny_status 401 unless { path /health } || { req.hdr(authorization) -m str -f $VRC_SECRETS/$PROXY_AUTH }"
    fi
    echo "    default_backend vllm"
    echo ""
    echo "backend vllm"
    echo "    server vllm 127.0.0.1:$BACKEND_PORT"
  } >"$out"
}

main() {
  local stage="${1:?usage: apply.sh <stage-dir> [resource-id]}" id="${2:-}" family haproxy tmp changed=0
  set_phase apply
  require_root
  load_env "$stage/$COMPONENT.env" "${PROXY_ENV_VARS[@]}"
  [[ "$API_PORT" =~ ^[0-9]+$ && "$BACKEND_PORT" =~ ^[0-9]+$ ]] || die "API_PORT/BACKEND_PORT are not port numbers"
  [[ "$TLS" == true || "$TLS" == false ]] || die "TLS is '$TLS', expected true or false"
  claim_step "$id"
  family="$(detect_os_family)"
  if ! pkg_installed "$family" haproxy; then
    pkg_available "$family" haproxy || die "the OS package haproxy is not available from this host's package sources"
    pkg_ensure "$family" "$PROXY_PACKAGES" haproxy
    # The distribution's own instance (its default configuration listens nowhere) is not ours to run.
    systemctl disable --now --quiet haproxy.service 2>/dev/null || true
  fi
  haproxy="$(command -v haproxy)" || die "haproxy is installed but not on PATH"
  id -u haproxy >/dev/null 2>&1 || die "the haproxy package made no 'haproxy' user"
  install_component "$stage" "$COMPONENT"
  check_auth_file
  if [[ "$TLS" == true ]]; then
    ensure_tls
  else
    warn "TLS is off (vllm.tls: false): the key and every prompt cross the network in clear text"
    rm -rf "${TLS_DIR:?}"
  fi
  tmp="$(mktemp)"
  write_config "$tmp"
  "$haproxy" -c -q -f "$tmp" || die "HAProxy refused the configuration it was given (see above)"
  if ! cmp -s "$tmp" "$PROXY_CFG"; then
    install -m 0644 -o root -g root "$tmp" "$PROXY_CFG"
    changed=1
  fi
  render "$HERE/vrc-proxy.service.in" "$tmp" HAPROXY="$haproxy" CONFIG="$PROXY_CFG" FIREWALL_UNIT="$FIREWALL_UNIT"
  unit_install "$tmp" "$PROXY_UNIT"
  rm -f "$tmp"
  ((changed || TLS_CHANGED)) && VRC_CONFIG_CHANGED=1
  unit_restart_if_needed "$PROXY_UNIT"
  set_phase wait
  if ! wait_for 60 "the proxy on port $API_PORT" proxy_answers; then
    dump_journal "$PROXY_UNIT"
    die "the proxy does not answer on port $API_PORT"
  fi
  set_phase apply
  log "done: $PROXY_UNIT serves $API_URL ($([[ "$TLS" == true ]] && echo "HTTPS, $TLS_SOURCE certificate" || echo "plain HTTP")), vLLM behind it on 127.0.0.1:$BACKEND_PORT"
}

main "$@"
