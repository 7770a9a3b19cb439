#!/usr/bin/env bash
# start-cluster.sh — a local Kubernetes control plane on loopback: etcd, kube-apiserver and
# kube-controller-manager (no scheduler, no kubelet: pods are stored, never run).
#
# Usage:   scripts/kube/start-cluster.sh [STATE_DIR]
# stdout:  exactly one line, the path of the admin kubeconfig (STATE_DIR/kubeconfig).
# stderr:  progress. Exit 1 (with the reason) when the binaries are missing or it fails.
#
# STATE_DIR  default ${TENANCY_KUBE_STATE:-<repo>/.tenancy/kube}: etcd data, keys, token file,
#            kubeconfig, logs and pid files. A cluster already running from STATE_DIR is reused.
# Ports      TENANCY_KUBE_API_PORT (default 16443), TENANCY_KUBE_ETCD_PORT (default 12379; the
#            peer port is the next one); a restart reuses the ports recorded in STATE_DIR.
#            All listen on 127.0.0.1 only.
# Binaries   from scripts/kube/ensure-kube.sh's cache (TENANCY_KUBE_BIN to override); etcd from
#            PATH (Debian etcd-server).
#
# The API server authenticates with static bearer tokens (the admin and the
# controller-manager; both in system:masters) and service-account tokens, authorizes with
# RBAC, enforces Pod Security Admission and, for dedicated-nodes namespaces, the
# PodNodeSelector and PodTolerationRestriction admission plugins. The controller-manager
# runs the namespace, resourcequota, garbagecollector and serviceaccount controllers.
# Also created: the shared pool namespace `tenancy-pool` (restricted pod security).
# Stop with scripts/kube/stop-cluster.sh [STATE_DIR].
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib/log.sh
source "$SCRIPT_DIR/../lib/log.sh" kube
REPO=$(cd "$SCRIPT_DIR/../.." && pwd)
STATE=${1:-${TENANCY_KUBE_STATE:-$REPO/.tenancy/kube}}
# A restart from an existing state dir keeps its ports (and so its kubeconfig).
API_PORT=${TENANCY_KUBE_API_PORT:-$(cat "$STATE/api-port" 2>/dev/null || echo 16443)}
ETCD_PORT=${TENANCY_KUBE_ETCD_PORT:-$(cat "$STATE/etcd-port" 2>/dev/null || echo 12379)}
PEER_PORT=$((ETCD_PORT + 1))
CACHE=${TENANCY_KUBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tenancy/kube}
BIN=${TENANCY_KUBE_BIN:-$CACHE/bin}
POOL_NAMESPACE=tenancy-pool

for b in kube-apiserver kube-controller-manager; do
  [[ -x $BIN/$b ]] || die "$BIN/$b is missing: run scripts/kube/ensure-kube.sh first (~25 min the first time)"
done
command -v etcd >/dev/null 2>&1 || die "etcd is missing: apt-get install etcd-server (or run scripts/kube/ensure-kube.sh)"
command -v openssl >/dev/null 2>&1 || die "openssl is missing"
command -v curl >/dev/null 2>&1 || die "curl is missing"

mkdir -p "$STATE"
STATE=$(cd "$STATE" && pwd)
chmod 700 "$STATE"
KUBECONFIG_PATH=$STATE/kubeconfig

# One start at a time per state dir: a concurrent caller waits, then reuses the cluster.
exec 9>"$STATE/.start-lock"
command -v flock >/dev/null 2>&1 && flock 9

alive() { [[ -f $STATE/$1.pid ]] && kill -0 "$(cat "$STATE/$1.pid")" 2>/dev/null; }

api() { # METHOD PATH [BODY] -> HTTP status on stdout
  curl -sS -o "$STATE/.last-response" -w '%{http_code}' --cacert "$STATE/pki/server.crt" \
    -H "Authorization: Bearer $(cat "$STATE/admin-token")" -H 'Content-Type: application/json' \
    -X "$1" "https://127.0.0.1:$(cat "$STATE/api-port")$2" ${3:+--data "$3"} 2>/dev/null || echo 000
}

ready() { [[ -f $STATE/api-port && $(api GET /readyz) == 200 ]]; }

if alive etcd && alive kube-apiserver && alive kube-controller-manager && ready; then
  log "reusing the cluster running from $STATE"
  printf '%s\n' "$KUBECONFIG_PATH"
  exit 0
fi
"$SCRIPT_DIR/stop-cluster.sh" "$STATE" 2>/dev/null || true

START=$(date +%s%N)
# ---------------------------------------------------------------- keys, tokens
mkdir -p "$STATE/pki"
if [[ ! -f $STATE/pki/server.crt ]]; then
  log "generating the serving certificate and the service-account signing key"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=tenancy-local-apiserver \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -keyout "$STATE/pki/server.key" -out "$STATE/pki/server.crt" 2>/dev/null
  openssl genrsa -out "$STATE/pki/sa.key" 2048 2>/dev/null
  openssl rsa -in "$STATE/pki/sa.key" -pubout -out "$STATE/pki/sa.pub" 2>/dev/null
fi
for who in admin controller-manager; do
  [[ -f $STATE/$who-token ]] || (umask 077 && openssl rand -hex 24 >"$STATE/$who-token")
done
(
  umask 077
  printf '%s,tenancy-admin,tenancy-admin,"system:masters"\n' "$(cat "$STATE/admin-token")"
  printf '%s,system:kube-controller-manager,kube-controller-manager,"system:masters"\n' \
    "$(cat "$STATE/controller-manager-token")"
) >"$STATE/tokens.csv"
printf '%s\n' "$API_PORT" >"$STATE/api-port"
printf '%s\n' "$ETCD_PORT" >"$STATE/etcd-port"

kubeconfig() { # user token-file
  local ca
  ca=$(base64 -w0 <"$STATE/pki/server.crt")
  cat <<KC
apiVersion: v1
kind: Config
clusters:
- name: tenancy-local
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority-data: $ca
users:
- name: $1
  user:
    token: $(cat "$2")
contexts:
- name: tenancy-local
  context:
    cluster: tenancy-local
    user: $1
current-context: tenancy-local
KC
}
(umask 077 && kubeconfig tenancy-admin "$STATE/admin-token" >"$KUBECONFIG_PATH.tmp")
mv -f "$KUBECONFIG_PATH.tmp" "$KUBECONFIG_PATH"
(umask 077 && kubeconfig system:kube-controller-manager "$STATE/controller-manager-token" >"$STATE/controller-manager.kubeconfig")

spawn() { # name command...
  local name=$1
  shift
  setsid nohup "$@" >"$STATE/$name.log" 2>&1 </dev/null 9>&- &
  printf '%s\n' "$!" >"$STATE/$name.pid"
}

# ---------------------------------------------------------------- etcd
spawn etcd etcd --name tenancy-local --data-dir "$STATE/etcd" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$PEER_PORT" \
  --initial-cluster "tenancy-local=http://127.0.0.1:$PEER_PORT" --log-level warn
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$ETCD_PORT/health" >/dev/null 2>&1 && break
  alive etcd || die "etcd exited: $(tail -n3 "$STATE/etcd.log" | tr '\n' ' ')"
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$ETCD_PORT/health" >/dev/null 2>&1 || die "etcd did not become healthy on port $ETCD_PORT"

# ---------------------------------------------------------------- kube-apiserver
spawn kube-apiserver "$BIN/kube-apiserver" \
  --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
  --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$API_PORT" \
  --tls-cert-file "$STATE/pki/server.crt" --tls-private-key-file "$STATE/pki/server.key" \
  --token-auth-file "$STATE/tokens.csv" --anonymous-auth=false \
  --authorization-mode RBAC \
  --service-account-issuer https://kubernetes.default.svc.cluster.local \
  --service-account-key-file "$STATE/pki/sa.pub" --service-account-signing-key-file "$STATE/pki/sa.key" \
  --service-cluster-ip-range 10.96.0.0/16 \
  --endpoint-reconciler-type none \
  --enable-admission-plugins PodNodeSelector,PodTolerationRestriction \
  --profiling=false
for _ in $(seq 1 600); do
  ready && break
  alive kube-apiserver || die "kube-apiserver exited: $(tail -n5 "$STATE/kube-apiserver.log" | tr '\n' ' ')"
  sleep 0.1
done
ready || die "kube-apiserver did not become ready on port $API_PORT (see $STATE/kube-apiserver.log)"
API_READY=$(date +%s%N)

# ---------------------------------------------------------------- kube-controller-manager
spawn kube-controller-manager "$BIN/kube-controller-manager" \
  --kubeconfig "$STATE/controller-manager.kubeconfig" \
  --controllers namespace-controller,resourcequota-controller,garbage-collector-controller,serviceaccount-controller \
  --leader-elect=false --secure-port 0 --use-service-account-credentials=false \
  --concurrent-namespace-syncs 5 --concurrent-resource-quota-syncs 5
sleep 0.5
alive kube-controller-manager ||
  die "kube-controller-manager exited: $(tail -n5 "$STATE/kube-controller-manager.log" | tr '\n' ' ')"

# ---------------------------------------------------------------- the shared pool namespace
status=$(api POST /api/v1/namespaces "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"$POOL_NAMESPACE\",\"labels\":{\"tenancy.io/pool\":\"true\",\"pod-security.kubernetes.io/enforce\":\"restricted\",\"pod-security.kubernetes.io/warn\":\"restricted\"}}}")
[[ $status == 201 || $status == 409 ]] || die "creating namespace $POOL_NAMESPACE: HTTP $status $(cat "$STATE/.last-response")"

log "cluster ready in $STATE: API server https://127.0.0.1:$API_PORT ready $(((API_READY - START) / 1000000)) ms after start"
printf '%s\n' "$KUBECONFIG_PATH"
