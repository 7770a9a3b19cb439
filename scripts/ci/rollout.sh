#!/usr/bin/env bash
# Rolls out what changed on main since <before> (the push's previous commit). When that commit
# is unknown (first push, force push), falls back to `tenancy up --all`: unchanged stacks are
# skipped by their desired-state hash, so that costs no engine runs for them.
# Writes JSON lines to rollout.jsonl and a summary to $GITHUB_STEP_SUMMARY when set.
set -euo pipefail
before="${1:-}"
waves="${TENANCY_WAVES:-1,10,100}"
parallel="${TENANCY_PARALLEL:-4}"
tenancy="${TENANCY_BIN:-npx tenancy}"

if [[ -n "$before" && ! "$before" =~ ^0+$ ]] && git cat-file -e "${before}^{commit}" 2>/dev/null; then
  selection=(--changed --base "$before")
else
  echo "rollout: previous commit '${before}' unknown; rolling out --all (unchanged stacks are skipped)" >&2
  selection=(--all)
fi

status=0
$tenancy up "${selection[@]}" --waves "$waves" --parallel "$parallel" --json > rollout.jsonl || status=$?

if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
  summary="$(grep '"event":"summary"' rollout.jsonl | tail -n 1 || true)"
  {
    echo "## tenancy up ${selection[*]}"
    echo
    echo '```json'
    echo "${summary:-no summary (the rollout did not start; see the log)}"
    echo '```'
  } >> "$GITHUB_STEP_SUMMARY"
fi
exit "$status"
