#!/usr/bin/env bash
# stop-cluster.sh — stops the local cluster started by start-cluster.sh from STATE_DIR
# (default ${TENANCY_KUBE_STATE:-<repo>/.tenancy/kube}): SIGTERM, then SIGKILL after 10 s.
# --purge also deletes STATE_DIR (etcd data, keys, kubeconfig).
#
# Usage: scripts/kube/stop-cluster.sh [--purge] [STATE_DIR]
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/../.." && pwd)
PURGE=
if [[ ${1:-} == --purge ]]; then
  PURGE=1
  shift
fi
STATE=${1:-${TENANCY_KUBE_STATE:-$REPO/.tenancy/kube}}
[[ -d $STATE ]] || exit 0

# Controller-manager first (it talks to the API server), etcd last.
for name in kube-controller-manager kube-apiserver etcd; do
  pidfile=$STATE/$name.pid
  [[ -f $pidfile ]] || continue
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
done
if [[ -n $PURGE ]]; then
  rm -rf "$STATE"
fi
printf '[kube] stopped the cluster of %s%s\n' "$STATE" "${PURGE:+ (state deleted)}" >&2
