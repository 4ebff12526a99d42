#!/usr/bin/env bash
# examples/java-app, as a user of the library builds it: the library installed into the local
# Maven repository (mvn install), the app depending on it by its coordinates, `cdktf synth` with
# the pinned cdktf CLI, then real OpenTofu: init and plan of the output; the output must name no
# path of this checkout (but the local state's, CDKTF's default backend); a deploy's state (the
# output applied with its provisioners removed, no host needed) and the output moved to another
# directory must plan "No changes". Writes target/java-app/result.json; exit 0 only when all held.
# Run by bin/test after the JUnit tiers (it needs the library's jar: mvn install here).
set -euo pipefail

# shellcheck source=bin/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/../bin/env.sh"

readonly APP="${VRC_ROOT}/examples/java-app"
readonly WORK="${VRC_ROOT}/target/java-app"
readonly STACK="gpu-cluster"

say() { echo "[java-app] $*"; }
die() { echo "[java-app] FAILED: $*" >&2; exit 1; }

main() {
  rm -rf "${WORK}" "${APP}/cdktf.out" "${APP}/target" "${APP}/terraform.${STACK}.tfstate"
  mkdir -p "${WORK}"
  say "mvn install of the library (its coordinates: dev.vllmraycluster:vllm-ray-cluster)"
  (cd "${VRC_ROOT}" && mvn -B -q install -DskipTests -Dmaven.javadoc.skip=true -Dmaven.source.skip=true)

  say "cdktf synth in examples/java-app (mvn compile exec:java against the installed library)"
  (cd "${APP}" && cdktf synth --output "${WORK}/cdktf.out" >"${WORK}/synth.log" 2>&1) \
    || { cat "${WORK}/synth.log" >&2; die "cdktf synth exited non-zero"; }
  local out="${WORK}/cdktf.out/stacks/${STACK}"
  [[ -f "${out}/cdk.tf.json" ]] || die "no ${out}/cdk.tf.json"

  say "checking the output names no path of this checkout (${VRC_ROOT}) but the state's"
  python3 - "${out}/cdk.tf.json" "${VRC_ROOT}" "${WORK}/paths.json" <<'PY'
import json, sys
doc, root, report = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
found = []
def walk(node, at):
    if isinstance(node, dict):
        for k, v in node.items():
            walk(v, at + "/" + k)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            walk(v, at + "/" + str(i))
    elif isinstance(node, str) and root in node:
        found.append(at)
walk(doc, "")
allowed = ["/terraform/backend/local/path"]
json.dump({"checkout_paths": found, "allowed": allowed}, open(report, "w"), indent=2)
bad = [p for p in found if p not in allowed]
if bad:
    sys.exit("paths of the checkout at: " + ", ".join(bad))
PY

  say "tofu init + plan of the app's stack"
  local state="${WORK}/state/${STACK}.tfstate"
  (cd "${out}" && tofu init -input=false -no-color -backend-config="path=${state}" >"${WORK}/init.log") \
    || die "tofu init failed (see ${WORK}/init.log)"
  (cd "${out}" && tofu plan -input=false -no-color -lock=false -out=plan.bin >"${WORK}/plan.log" \
    && tofu show -json plan.bin >"${WORK}/plan.json") || die "tofu plan failed (see ${WORK}/plan.log)"

  say "a deploy's state (provisioners removed), then the output moved elsewhere plans no change"
  mkdir -p "${WORK}/applied"
  python3 - "${out}/cdk.tf.json" "${WORK}/applied/cdk.tf.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
for resource in doc.get("resource", {}).get("terraform_data", {}).values():
    resource.pop("provisioner", None)
json.dump(doc, open(sys.argv[2], "w"), indent=2)
PY
  (cd "${WORK}/applied" && tofu init -input=false -no-color -backend-config="path=${state}" >/dev/null \
    && tofu apply -input=false -no-color -auto-approve >"${WORK}/apply.log") || die "apply failed (see ${WORK}/apply.log)"
  mkdir -p "${WORK}/moved"
  mv "${WORK}/cdktf.out" "${WORK}/moved/cdktf.out"
  local moved="${WORK}/moved/cdktf.out/stacks/${STACK}" rc=0
  (cd "${moved}" && tofu init -input=false -no-color -reconfigure -backend-config="path=${state}" >/dev/null \
    && tofu plan -input=false -no-color -lock=false -detailed-exitcode >"${WORK}/moved-plan.log") || rc=$?

  python3 - "${WORK}/plan.json" "${rc}" "${WORK}/result.json" <<'PY'
import json, sys
plan, rc, out = json.load(open(sys.argv[1])), int(sys.argv[2]), sys.argv[3]
created = sorted(c["address"] for c in plan.get("resource_changes", []) if c["change"]["actions"] == ["create"])
# Per node: its sweep, wheel cache, bootstrap, firewall, model store and Ray; on the head vLLM, the
# API proxy and the watchdog; on the deploy machine the checks, the CA fetch and the fingerprints of
# the two secrets.
expected = ["terraform_data.local_checks", "terraform_data.local_api_ca", "terraform_data.secret_api_key",
            "terraform_data.secret_ray_token"] + sorted(
    "terraform_data.%s_%s" % (n, p) for n in ("gpu1", "gpu2", "gpu3")
    for p in ("sweep", "wheel_cache", "bootstrap", "firewall", "model", "ray")
) + ["terraform_data.gpu1_vllm", "terraform_data.gpu1_proxy", "terraform_data.gpu1_watchdog"]
result = {"planned_creates": len(created), "expected_creates": len(expected), "missing": sorted(set(expected) - set(created)),
          "moved_plan_exit_code": rc, "passed": created == sorted(expected) and rc == 0}
json.dump(result, open(out, "w"), indent=2)
print("[java-app] " + json.dumps(result))
sys.exit(0 if result["passed"] else 1)
PY
  say "passed: synthesized, planned, no checkout path, the moved output plans no change"
}

main "$@"
