# shellcheck shell=bash
# The offline wheelhouse the hosts install from, and its HTTP server on the bridge.
# Sourced, never run.

# Wheels for the hosts' interpreter (Debian bookworm: CPython 3.11, glibc 2.36), never for
# this machine's.
pip_target_args() {
  local v
  PIP_TARGET_ARGS=(--only-binary=:all: --python-version "$TARGET_PYTHON" --implementation cp
    --platform manylinux2014_x86_64)
  for ((v = 17; v <= 36; v++)); do PIP_TARGET_ARGS+=(--platform "manylinux_2_${v}_x86_64"); done
}

wheelhouse_requirements() {
  WHEELHOUSE_REQS=("ray[default]==$RAY_VERSION" pip setuptools wheel "uv==$UV_VERSION")
  local w
  w="$(standin_wheel)"
  [[ -n $w ]] && WHEELHOUSE_REQS+=("$w")
  return 0
}

# standin_wheel: the stand-in wheel of VLLM_STANDIN_VERSION in the wheelhouse, if any. By exact
# version: a test may add another version beside it for a while (VllmStandinSandboxTest), and
# another class's `sandbox up` must neither take that one for ours nor rebuild and delete it.
standin_wheel() {
  find "$WHEELHOUSE" -maxdepth 1 -name "vllm-${VLLM_STANDIN_VERSION}-*.whl" -print -quit 2>/dev/null || true
}

# standin_digest: a digest of the stand-in's sources, recorded next to the wheel built from them.
standin_digest() {
  (cd "$STANDIN_DIR" && find . -path ./dist -prune -o -path ./build -prune -o -name '*.egg-info' -prune \
    -o -name __pycache__ -prune -o -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
}

# standin_current: the wheelhouse holds a stand-in wheel of the expected version built from these sources.
standin_current() {
  local w
  w="$(standin_wheel)"
  [[ -n $w && -f $CACHE/standin.digest &&
    "$(cat "$CACHE/standin.digest")" == "$(standin_digest)" ]]
}

wheelhouse_spec() {
  wheelhouse_requirements
  local w
  w="$(standin_wheel)"
  echo "python=$TARGET_PYTHON reqs=${WHEELHOUSE_REQS[*]} standin=$([[ -n $w ]] && sha256sum <"$w" | cut -c1-16)"
}

ensure_pip() {
  python3 -m pip --version >/dev/null 2>&1 && return 0
  ensure_tools pip3:python3-pip
  python3 -m pip --version >/dev/null 2>&1 || die "wheelhouse: python3 -m pip does not work"
}

# Builds sandbox/vllm-standin (package `vllm`) into the wheelhouse, from a copy of the
# source so that nothing is written into that directory.
build_standin() {
  local tmp w
  if [[ ! -f $STANDIN_DIR/pyproject.toml ]]; then
    log "wheelhouse: no $STANDIN_DIR/pyproject.toml: no vllm stand-in wheel"
    return 0
  fi
  ensure_pip
  tmp="$(mktemp -d)"
  cp -a "$STANDIN_DIR" "$tmp/src"
  rm -rf "$tmp/src/build" "$tmp/src/dist" "$tmp/src"/*.egg-info
  log "wheelhouse: building the vllm stand-in from $STANDIN_DIR..."
  if ! python3 -m pip wheel --no-deps --no-build-isolation -w "$tmp/out" "$tmp/src" \
    >"$CACHE/standin-build.log" 2>&1; then
    log "wheelhouse: build without isolation failed (backend not installed here?): retrying isolated"
    python3 -m pip wheel --no-deps -w "$tmp/out" "$tmp/src" >>"$CACHE/standin-build.log" 2>&1 || {
      tail -n 15 "$CACHE/standin-build.log" >&2
      rm -rf "$tmp"
      die "wheelhouse: building $STANDIN_DIR failed (see $CACHE/standin-build.log)"
    }
  fi
  w="$(find "$tmp/out" -maxdepth 1 -name 'vllm-*.whl' -print -quit)"
  [[ -n $w ]] || { rm -rf "$tmp"; die "wheelhouse: $STANDIN_DIR did not produce a vllm-*.whl"; }
  case "$(basename "$w")" in
    "vllm-${VLLM_STANDIN_VERSION}-"*) ;;
    *) warn "wheelhouse: stand-in wheel is $(basename "$w"), expected version $VLLM_STANDIN_VERSION" ;;
  esac
  mkdir -p "$WHEELHOUSE"
  rm -f "$WHEELHOUSE"/vllm-*.whl
  cp "$w" "$WHEELHOUSE/"
  rm -rf "$tmp"
  standin_digest >"$CACHE/standin.digest"
  log "wheelhouse: added $(basename "$w")"
}

# Downloads every wheel the hosts need (incremental: present files are kept).
download_wheels() {
  local t0 before after
  ensure_pip
  mkdir -p "$WHEELHOUSE"
  pip_target_args
  wheelhouse_requirements
  before="$(du -sb "$WHEELHOUSE" | cut -f1)"
  t0="$(now)"
  log "wheelhouse: pip download ${WHEELHOUSE_REQS[*]} for cp${TARGET_PYTHON/./} manylinux (log: $CACHE/wheelhouse.log)..."
  if ! python3 -m pip download "${PIP_TARGET_ARGS[@]}" -d "$WHEELHOUSE" "${WHEELHOUSE_REQS[@]}" \
    >"$CACHE/wheelhouse.log" 2>&1; then
    tail -n 15 "$CACHE/wheelhouse.log" >&2
    die "wheelhouse: pip download failed (see $CACHE/wheelhouse.log)"
  fi
  after="$(du -sb "$WHEELHOUSE" | cut -f1)"
  log "wheelhouse: $(find "$WHEELHOUSE" -name '*.whl' | wc -l) wheels, $((after / 1048576)) MiB" \
    "(+$(((after - before) / 1048576)) MiB in $(($(now) - t0)) s)"
}

ensure_wheelhouse() {
  local marker="$CACHE/wheelhouse.complete"
  if [[ -f $STANDIN_DIR/pyproject.toml ]] && ! standin_current; then
    build_standin
  fi
  if [[ -f $marker && "$(cat "$marker")" == "$(wheelhouse_spec)" ]]; then
    log "wheelhouse: cached at $WHEELHOUSE"
    return 0
  fi
  rm -f "$marker"
  download_wheels
  wheelhouse_spec >"$marker"
}

# `sandbox wheelhouse`: rebuild the stand-in wheel and complete the download.
rebuild_wheelhouse() {
  build_standin
  rm -f "$CACHE/wheelhouse.complete"
  download_wheels
  wheelhouse_spec >"$CACHE/wheelhouse.complete"
}

http_url() { echo "http://$BRIDGE_IP:$HTTP_PORT/"; }

http_ok() { curl -fsS --max-time 3 -o /dev/null "$(http_url)" 2>/dev/null; }

ensure_http() {
  local pidf="$STATE/http.pid" pid
  if pid="$(daemon_ready "$pidf" "http.server" http_ok)"; then
    log "wheelhouse: served at $(http_url) (pid $pid)"
    return 0
  fi
  stop_http
  http_ok && die "wheelhouse: something else already answers at $(http_url)"
  start_daemon "$pidf" "$STATE/http.log" 50 0.2 http_ok \
    "wheelhouse: http server on $BRIDGE_IP:$HTTP_PORT did not start (see $STATE/http.log)" \
    python3 -m http.server --bind "$BRIDGE_IP" "$HTTP_PORT" --directory "$WHEELHOUSE"
  pid="$(read_pid "$pidf")"
  log "wheelhouse: serving $WHEELHOUSE at $(http_url) (pid $pid)"
}

stop_http() { stop_daemon "$STATE/http.pid" "http.server" "wheelhouse: stopping http server"; }
