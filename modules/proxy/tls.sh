# shellcheck shell=bash disable=SC2034
# The proxy's TLS material in $TLS_DIR (0755; private keys 0600 root): a per-cluster CA made once on
# the head (its key never leaves it) and a server certificate it signs for TLS_SERVER_NAMES, or the
# certificate and key the user gave. Sourced at the end of proxy.sh; sets TLS_CHANGED=1 when
# what HAProxy serves changed.

TLS_CHANGED=0

# san_of NAMES...: subjectAltName for IPv4 addresses and DNS names.
san_of() {
  local n sans=()
  for n in "$@"; do
    if [[ "$n" =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]]; then sans+=("IP:$n"); else sans+=("DNS:$n"); fi
  done
  (IFS=,; echo "${sans[*]}")
}

ensure_ca() {
  if [[ -s "$CA_KEY" && -s "$CA_CERT" ]] && openssl x509 -in "$CA_CERT" -noout -checkend 2592000 >/dev/null; then
    return 0
  fi
  log "making the cluster's CA ($CA_CERT; its key stays in $CA_KEY, 0600 root)"
  rm -f "$CA_KEY" "$CA_CERT"
  (umask 077 && openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 -days 3650 \
    -subj "/CN=vllm-ray-cluster API CA ($VRC_NODE)" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$CA_KEY" -out "$CA_CERT" 2>/dev/null) || die "openssl could not make the CA"
  chmod 0600 "$CA_KEY"
  chmod 0644 "$CA_CERT"
  TLS_CHANGED=1
}

# server_cert_current: the server certificate is signed by our CA, for these names, and not about to expire.
server_cert_current() {
  [[ -s "$SERVER_KEY" && -s "$SERVER_CERT" && -s "$SERVER_PEM" && -f "$SERVER_NAMES" ]] || return 1
  [[ "$(cat "$SERVER_NAMES")" == "$TLS_SERVER_NAMES" ]] || return 1
  openssl verify -CAfile "$CA_CERT" "$SERVER_CERT" >/dev/null 2>&1 || return 1
  openssl x509 -in "$SERVER_CERT" -noout -checkend 2592000 >/dev/null
}

ensure_generated_cert() {
  local names csr ext
  read -r -a names <<<"$TLS_SERVER_NAMES"
  ((${#names[@]})) || die "TLS_SERVER_NAMES is empty: the generated certificate needs the head's address"
  ensure_ca
  server_cert_current && return 0
  log "making the server certificate for ${names[*]} (signed by the cluster's CA)"
  csr="$(mktemp)" ext="$(mktemp)"
  printf 'subjectAltName=%s\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' \
    "$(san_of "${names[@]}")" >"$ext"
  (umask 077 && openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=${names[0]}" \
    -keyout "$SERVER_KEY.new" -out "$csr" 2>/dev/null) || die "openssl could not make the server key"
  openssl x509 -req -in "$csr" -CA "$CA_CERT" -CAkey "$CA_KEY" -set_serial "0x$(openssl rand -hex 16)" -days 825 -sha256 \
    -extfile "$ext" -out "$SERVER_CERT.new" 2>/dev/null || die "openssl could not sign the server certificate"
  rm -f "$csr" "$ext"
  install_server_pair "$SERVER_CERT.new" "$SERVER_KEY.new"
  echo "$TLS_SERVER_NAMES" >"$SERVER_NAMES"
}

# install_server_pair CERT KEY: the pair HAProxy serves (server.pem = chain + key, 0600 root).
install_server_pair() {
  local cert="$1" key="$2"
  [[ "$(openssl x509 -in "$cert" -noout -pubkey 2>/dev/null)" == "$(openssl pkey -in "$key" -pubout 2>/dev/null)" ]] ||
    die "the TLS key does not belong to the certificate (vllm.tls_cert_path / vllm.tls_key_path)"
  (umask 077 && cat "$cert" "$key" >"$SERVER_PEM.new")
  if ! cmp -s "$SERVER_PEM.new" "$SERVER_PEM"; then TLS_CHANGED=1; fi
  mv -f "$SERVER_PEM.new" "$SERVER_PEM"
  install -m 0600 -o root -g root "$key" "$SERVER_KEY"
  install -m 0644 -o root -g root "$cert" "$SERVER_CERT"
  rm -f "$SERVER_CERT.new" "$SERVER_KEY.new"
}

ensure_given_cert() {
  local cert="$VRC_SECRETS/$PROXY_TLS_CERT" key="$VRC_SECRETS/$PROXY_TLS_KEY"
  [[ -s "$cert" && -s "$key" ]] || die "the TLS certificate or key was not uploaded (vllm.tls_cert_path / vllm.tls_key_path)"
  openssl x509 -in "$cert" -noout >/dev/null 2>&1 || die "vllm.tls_cert_path is not a PEM certificate"
  # A CA of ours from an earlier deploy is not what clients use now.
  rm -f "$CA_KEY" "$CA_CERT" "$SERVER_NAMES"
  install_server_pair "$cert" "$key"
}

ensure_tls() {
  install -d -m 0755 -o root -g root "$TLS_DIR"
  case "$TLS_SOURCE" in
    generated) ensure_generated_cert ;;
    given) ensure_given_cert ;;
    *) die "TLS_SOURCE '$TLS_SOURCE' is not generated or given" ;;
  esac
}
