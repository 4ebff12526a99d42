# shellcheck shell=bash
# Provisioning a Grafana the user runs (monitoring.grafana_url) through its HTTP API: a Prometheus
# data source for this cluster's Prometheus (uid vrc-<node>-prometheus), a folder
# "vllm-ray-cluster", and the dashboards uploaded from dashboards/ (their ${DS_PROMETHEUS}
# placeholders pointed at that data source), each replacing its previous version. The token (a
# service account token, role Editor) is read from the staged secret, sent in a header through
# curl's standard input (never in argv), and deleted with the stage.

# grafana_api METHOD PATH [BODY_FILE]: one authenticated call; prints the body, fails on non-2xx.
grafana_api() {
  local method="$1" path="$2" body="${3:-}" out code args=()
  out="$(mktemp)"
  [[ -z "$body" ]] || args=(-H 'Content-Type: application/json' --data-binary "@$body")
  code="$(printf 'Authorization: Bearer %s\n' "$GRAFANA_TOKEN_VALUE" |
    curl -sS -o "$out" -w '%{http_code}' --max-time 30 -X "$method" -H @- "${args[@]}" "${GRAFANA_URL%/}$path")" || code=000
  if [[ ! "$code" =~ ^2 ]]; then
    err "Grafana $method $path: HTTP $code: $(head -c 300 "$out")"
    rm -f "$out"
    return 1
  fi
  cat "$out"
  rm -f "$out"
}

grafana_provision() {
  local stage="$1" ds_uid folder_uid=vllm-ray-cluster f n=0 body
  GRAFANA_TOKEN_VALUE="$(cat "$VRC_SECRETS/${GRAFANA_TOKEN##*/}")" || die "the Grafana token was not uploaded"
  rm -f "$VRC_SECRETS/${GRAFANA_TOKEN##*/}"
  [[ -n "$GRAFANA_TOKEN_VALUE" ]] || die "the Grafana token (monitoring.grafana_token_env) is empty"
  ds_uid="vrc-$VRC_NODE-prometheus"
  body="$(mktemp)"
  printf '{"uid": "%s", "name": "vllm-ray-cluster %s", "type": "prometheus", "access": "proxy", "url": "%s", "jsonData": {"timeInterval": "15s"}}' \
    "$ds_uid" "$VRC_NODE" "$PROMETHEUS_URL" >"$body"
  if grafana_api GET "/api/datasources/uid/$ds_uid" >/dev/null 2>&1; then
    grafana_api PUT "/api/datasources/uid/$ds_uid" "$body" >/dev/null || die "Grafana refused the data source update"
  else
    grafana_api POST /api/datasources "$body" >/dev/null || die "Grafana refused the data source (is the token an Editor's?)"
  fi
  printf '{"uid": "%s", "title": "vllm-ray-cluster"}' "$folder_uid" >"$body"
  grafana_api GET "/api/folders/$folder_uid" >/dev/null 2>&1 || grafana_api POST /api/folders "$body" >/dev/null ||
    die "Grafana refused the folder"
  # Ours, then Ray's own (generated in its session directory on the head; RAY_TEMP_DIR is set
  # only when Prometheus runs there).
  for f in "$stage"/dashboards/*.json ${RAY_TEMP_DIR:+"$RAY_TEMP_DIR"/session_latest/metrics/grafana/dashboards/*.json "$RAY_TEMP_DIR"/ray/session_latest/metrics/grafana/dashboards/*.json}; do
    [[ -f "$f" ]] || continue
    # shellcheck disable=SC2016 # a Python program, not shell
    "$(command -v python3)" -I -c '
import json, sys
dash = json.load(open(sys.argv[1]))
text = json.dumps(dash).replace("${DS_PROMETHEUS}", sys.argv[2])
dash = json.loads(text)
dash.pop("id", None)
dash.pop("__inputs", None)
print(json.dumps({"dashboard": dash, "folderUid": sys.argv[3], "overwrite": True}))' "$f" "$ds_uid" "$folder_uid" >"$body" ||
      die "cannot read dashboard $(basename "$f")"
    grafana_api POST /api/dashboards/db "$body" >/dev/null || die "Grafana refused dashboard $(basename "$f")"
    n=$((n + 1))
  done
  rm -f "$body"
  unset GRAFANA_TOKEN_VALUE
  log "Grafana ${GRAFANA_URL}: data source $ds_uid -> $PROMETHEUS_URL, $n dashboard(s) in folder vllm-ray-cluster"
}
