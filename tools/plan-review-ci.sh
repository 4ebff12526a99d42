#!/usr/bin/env bash
# The body of .github/workflows/plan-review.yml, runnable on any machine with the project's tools:
#   tools/plan-review-ci.sh BASE_REF OUT_DIR
# finds the stacks a change from BASE_REF to HEAD affects (a change to src/, modules/ or the pinned
# build affects every stack; a change under stacks/ only those files), synthesizes them with the
# pinned cdktf CLI, plans each against its own state (the backend its stack declares in `state:`,
# the local file by default; `tofu plan -lock=false` writes nothing), and writes OUT_DIR/<stack>.md
# (plan-review), OUT_DIR/<stack>.plan.json and OUT_DIR/comment.md, the pull-request comment.
# A plan connects to no host. Exits non-zero only when a stack could not be reviewed.
set -euo pipefail

# shellcheck source=bin/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/../bin/env.sh"

readonly MARKER='<!-- vllm-ray-cluster plan-review -->'
# GitHub refuses comments over 65536 characters.
readonly MAX_COMMENT_CHARS=60000

say() { echo "[plan-review-ci] $*" >&2; }

# Paths whose change can alter every stack's plan.
affects_all() {
  [[ "$1" =~ ^(src/|modules/|pom\.xml$|cdktf\.json$|package\.json$|package-lock\.json$|tools/opentofu/) ]]
}

# Stack files (one per line) that the changes from $1 to HEAD delete.
deleted_stacks() {
  git diff --name-only --diff-filter=D "$1" HEAD -- 'stacks/*.yaml'
}

# Stack names (one per line) that the changes from $1 to HEAD affect.
affected_stacks() {
  local base="$1" path all=0
  local -a changed=() stacks=()
  mapfile -t changed < <(git diff --name-only "${base}" HEAD --)
  for path in "${changed[@]}"; do
    if affects_all "${path}"; then
      all=1
    elif [[ "${path}" =~ ^stacks/([a-z][a-z0-9-]*)\.yaml$ ]]; then
      [[ -f "${path}" ]] && stacks+=("${BASH_REMATCH[1]}")
    fi
  done
  if ((all)); then
    stacks=()
    for path in stacks/*.yaml; do
      [[ -f "${path}" ]] && stacks+=("$(basename "${path}" .yaml)")
    done
  fi
  if ((${#stacks[@]} > 0)); then
    printf '%s\n' "${stacks[@]}" | sort -u
  fi
}

# Plans one synthesized stack and writes its review; on failure, a review that says so.
review_stack() {
  local stack="$1" out="$2" dir="cdktf.out/stacks/$1" log
  log="$(mktemp)"
  if tofu -chdir="${dir}" init -input=false -no-color >"${log}" 2>&1 \
    && tofu -chdir="${dir}" plan -input=false -no-color -lock=false -out=plan-review.tfplan >>"${log}" 2>&1 \
    && tofu -chdir="${dir}" show -json plan-review.tfplan >"${out}/${stack}.plan.json" 2>>"${log}" \
    && bin/vllm-ray-cluster plan-review "${out}/${stack}.plan.json" --stack "stacks/${stack}.yaml" \
      --out "${out}/${stack}.md" 2>>"${log}"; then
    rm -f "${log}"
    return 0
  fi
  {
    echo "${MARKER}"
    echo "## Plan review: \`${stack}\`"
    echo
    echo "**Could not plan this stack.** The last lines OpenTofu or the reviewer printed:"
    echo
    echo '```'
    tail -n 40 "${log}"
    echo '```'
  } >"${out}/${stack}.md"
  rm -f "${log}"
  return 1
}

main() {
  if (($# != 2)); then
    echo "usage: tools/plan-review-ci.sh BASE_REF OUT_DIR" >&2
    exit 2
  fi
  local base="$1" out="$2" stack failed=0
  cd "${VRC_ROOT}"
  mkdir -p "${out}"
  out="$(cd "${out}" && pwd)"
  local -a stacks=()
  mapfile -t stacks < <(affected_stacks "${base}")
  {
    echo "${MARKER}"
    echo "# Plan reviews"
    echo
    local deleted
    while IFS= read -r deleted; do
      [[ -n "${deleted}" ]] || continue
      echo "- **\`${deleted}\` is deleted**: merging does not destroy its deployment. Run"
      echo "  \`cdktf destroy $(basename "${deleted}" .yaml)\` before merging if the cluster should go."
    done < <(deleted_stacks "${base}")
    echo
  } >"${out}/comment.md"
  if ((${#stacks[@]} == 0)); then
    say "no stack is affected by the changes since ${base}"
    echo "No stack is affected by this change." >>"${out}/comment.md"
    return 0
  fi
  say "affected stacks: ${stacks[*]}"
  say "cdktf synth"
  cdktf synth >&2
  for stack in "${stacks[@]}"; do
    say "planning ${stack}"
    if ! review_stack "${stack}" "${out}"; then
      failed=1
      say "${stack}: could not be planned (see ${out}/${stack}.md)"
    fi
    # Each review starts with the marker; the comment carries it once, at the top.
    grep -vxF "${MARKER}" "${out}/${stack}.md" >>"${out}/comment.md"
    echo >>"${out}/comment.md"
  done
  if (($(wc -c <"${out}/comment.md") > MAX_COMMENT_CHARS)); then
    head -c "${MAX_COMMENT_CHARS}" "${out}/comment.md" >"${out}/comment.tmp"
    printf '\n\n… cut at %s characters: the full reviews are in the workflow run'"'"'s artifact.\n' \
      "${MAX_COMMENT_CHARS}" >>"${out}/comment.tmp"
    mv "${out}/comment.tmp" "${out}/comment.md"
  fi
  return "${failed}"
}

main "$@"
