# shellcheck shell=bash disable=SC2034
# Helpers shared by proxy's apply.sh, check.sh and remove.sh: HAProxy in front of vLLM's API. The
# one file they source: it sets COMPONENT and HERE (this directory) and loads common/lib.sh, then
# tls.sh.

readonly COMPONENT=proxy
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly HERE
# shellcheck source=../common/lib.sh
source "$HERE/../common/lib.sh"

readonly PROXY_ENV_VARS=(OS_FAMILY API_HOST API_PORT BACKEND_PORT TLS TLS_SOURCE TLS_SERVER_NAMES REQUIRE_API_KEY
  API_URL API_CA_FILE FIREWALL_UNIT)
readonly PROXY_UNIT=vrc-proxy.service
readonly PROXY_CFG="$VRC_ETC/proxy.cfg"
readonly PROXY_AUTH=proxy-auth
readonly PROXY_TLS_CERT=tls.crt
readonly PROXY_TLS_KEY=tls.key
readonly PROXY_PACKAGES="$VRC_STATE/proxy.packages"
readonly TLS_DIR="$VRC_ETC/tls"
readonly CA_KEY="$TLS_DIR/ca.key"
readonly CA_CERT="$TLS_DIR/ca.crt"
readonly SERVER_KEY="$TLS_DIR/server.key"
readonly SERVER_CERT="$TLS_DIR/server.crt"
readonly SERVER_PEM="$TLS_DIR/server.pem"
readonly SERVER_NAMES="$TLS_DIR/server.names"

# proxy_connect_host: where a client on the head reaches the proxy.
proxy_connect_host() {
  if [[ "$API_HOST" == 0.0.0.0 ]]; then echo 127.0.0.1; else echo "$API_HOST"; fi
}

# proxy_answers: the proxy answers HTTP(S) on its port (any status: vLLM may not be up yet).
proxy_answers() {
  local code scheme=http opts=()
  if [[ "$TLS" == true ]]; then
    scheme=https
    if [[ -n "$API_CA_FILE" ]]; then opts=(--cacert "$API_CA_FILE"); else opts=(-k); fi
  fi
  code="$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 "${opts[@]}" "$scheme://$(proxy_connect_host):$API_PORT/health")" || return 1
  [[ "$code" =~ ^[1-5][0-9][0-9]$ ]]
}

# shellcheck source=tls.sh
source "$HERE/tls.sh"
