#!/usr/bin/env bash
# ensure-kube.sh — make a local Kubernetes control plane and the Pulumi Kubernetes provider
# available on this machine, building them once from published Go modules (this workplace
# cannot download release binaries; the Go module proxy and Debian are reachable).
#
# Usage:   scripts/kube/ensure-kube.sh            (prints the bin dir on stdout)
#    then: scripts/kube/start-cluster.sh          (etcd + kube-apiserver + controller-manager)
#
# stdout:  exactly one line, the directory holding kube-apiserver,
#          kube-controller-manager and pulumi-resource-kubernetes.
# stderr:  progress.
#
# Builds, one after the other (two cores are all these machines have), into
#   ${TENANCY_KUBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tenancy/kube}/bin
#  1. etcd: Debian's `etcd-server` package (3.4.23), installed with apt-get when `etcd` is
#     missing and we are root (TENANCY_KUBE_NO_APT=1 to never install).
#  2. kube-apiserver and kube-controller-manager from k8s.io/kubernetes v$KUBE_VERSION
#     (default 1.37.2). k8s.io/kubernetes' go.mod replaces its k8s.io/* libraries with
#     ./staging/src/k8s.io/<name> directories that a dependent module cannot use; the
#     generated wrapper module in <cache>/src/kubernetes requires k8s.io/kubernetes and
#     replaces each of those with the published k8s.io/<name> v0.<minor>.<patch>.
#  3. pulumi-resource-kubernetes from github.com/pulumi/pulumi-kubernetes/provider/v4 at
#     $KUBE_PROVIDER_MODULE_VERSION (the only version the proxy serves; it is the v4.25.0
#     release commit). Upstream's main embeds generated files that are not in the module
#     zip, so the wrapper in <cache>/src/provider has its own main (provider-main.go next to
#     this script) and embeds the zip's schema.json. The `sdk/v4 => ../sdk` replace is
#     dropped; the other non-local replaces of its go.mod are carried over. The binary is
#     also installed as a Pulumi plugin (resource-kubernetes-v4.25.0) under
#     ${PULUMI_HOME:-~/.pulumi}/plugins, where the engine finds it.
# Stamp files in <cache> skip finished steps. A cold build takes ~25 min on 2 cores.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib/log.sh
source "$SCRIPT_DIR/../lib/log.sh" ensure-kube
# shellcheck source=scripts/lib/gomod.sh
source "$SCRIPT_DIR/../lib/gomod.sh"
KUBE_VERSION=${KUBE_VERSION:-1.37.2}
KUBE_VERSION=${KUBE_VERSION#v}
STAGING_VERSION=v0.${KUBE_VERSION#*.}
PROVIDER_VERSION=4.25.0
KUBE_PROVIDER_MODULE_VERSION=${KUBE_PROVIDER_MODULE_VERSION:-v4.0.0-20260115033456-f47bc2d6f199}
CACHE=${TENANCY_KUBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tenancy/kube}
BIN=$CACHE/bin
PROVIDER_MOD=github.com/pulumi/pulumi-kubernetes/provider/v4
PROVIDER_MAIN=$SCRIPT_DIR/provider-main.go
PLUGIN_DIR=${PULUMI_HOME:-$HOME/.pulumi}/plugins/resource-kubernetes-v$PROVIDER_VERSION

SERVER_STAMP_WANT="kubernetes v$KUBE_VERSION (version stamped)"
# What `kube-apiserver --version` and the API server's /version report (the Kubernetes
# provider reads the server version); upstream's release build sets the same variables.
KUBE_LDFLAGS="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  KUBE_LDFLAGS+=" -X $pkg.gitVersion=v$KUBE_VERSION -X $pkg.gitMajor=${KUBE_VERSION%%.*}"
  KUBE_LDFLAGS+=" -X $pkg.gitMinor=$(cut -d. -f2 <<<"$KUBE_VERSION") -X $pkg.gitTreeState=clean"
done
provider_stamp_want() {
  printf 'pulumi-kubernetes %s %s' "$KUBE_PROVIDER_MODULE_VERSION" "$(sha256sum "$1" | cut -d' ' -f1)"
}

servers_ok() {
  [[ -x $BIN/kube-apiserver && -x $BIN/kube-controller-manager ]] &&
    stamp_is "$CACHE/.stamp-servers" "$SERVER_STAMP_WANT"
}
provider_ok() {
  [[ -x $BIN/pulumi-resource-kubernetes ]] && stamp_is "$CACHE/.stamp-provider" "$(provider_stamp_want "$PROVIDER_MAIN")"
}
plugin_ok() {
  [[ -x $PLUGIN_DIR/pulumi-resource-kubernetes ]] &&
    cmp -s "$PLUGIN_DIR/pulumi-resource-kubernetes" "$BIN/pulumi-resource-kubernetes"
}
etcd_ok() { command -v etcd >/dev/null 2>&1; }

install_plugin() {
  mkdir -p "$PLUGIN_DIR"
  cp -f "$BIN/pulumi-resource-kubernetes" "$PLUGIN_DIR/pulumi-resource-kubernetes.tmp"
  mv -f "$PLUGIN_DIR/pulumi-resource-kubernetes.tmp" "$PLUGIN_DIR/pulumi-resource-kubernetes"
  # The engine treats a plugin dir without this marker as partially installed.
  touch "$PLUGIN_DIR.lock" 2>/dev/null || true
  : >"$PLUGIN_DIR/.partial" && rm -f "$PLUGIN_DIR/.partial"
  log "installed Pulumi plugin resource kubernetes v$PROVIDER_VERSION in $PLUGIN_DIR"
}

ensure_etcd() {
  etcd_ok && return 0
  [[ -n ${TENANCY_KUBE_NO_APT:-} ]] && die "etcd is not installed (apt-get install etcd-server)"
  [[ $(id -u) == 0 ]] || die "etcd is not installed and we are not root (apt-get install etcd-server)"
  log "installing Debian etcd-server"
  (apt-get install -y etcd-server || { apt-get update && apt-get install -y etcd-server; }) >&2 ||
    die "apt-get install etcd-server failed"
  etcd_ok || die "etcd-server installed but no etcd on PATH"
}

if servers_ok && provider_ok && etcd_ok; then
  plugin_ok || install_plugin
  printf '%s\n' "$BIN"
  exit 0
fi

mkdir -p "$BIN" "$CACHE/src"
cd "$CACHE"
exec 9>"$CACHE/.lock"
if command -v flock >/dev/null 2>&1; then
  log "taking build lock $CACHE/.lock (waits while another build runs)"
  flock 9
fi

START=$SECONDS
ensure_etcd

command -v go >/dev/null 2>&1 || die "go is not on PATH (needed to build kube-apiserver and the provider)"
export GOTOOLCHAIN=${GOTOOLCHAIN:-local}
export GOFLAGS="-mod=mod"

build_servers() {
  local json gomod src=$CACHE/src/kubernetes godir
  log "resolving k8s.io/kubernetes@v$KUBE_VERSION"
  json=$(go mod download -json "k8s.io/kubernetes@v$KUBE_VERSION") ||
    die "cannot download k8s.io/kubernetes@v$KUBE_VERSION"
  gomod=$(json_field GoMod <<<"$json")
  godir=$(awk '$1 == "go" { print $2; exit }' "$gomod")
  mkdir -p "$src"
  {
    printf 'module tenancy.local/kube-servers\n\ngo %s\n\ngodebug default=go1.26\n\n' "$godir"
    printf 'require k8s.io/kubernetes v%s\n\n' "$KUBE_VERSION"
    printf '// k8s.io/kubernetes points these at ./staging/src/k8s.io/<name>; use the published modules.\n'
    awk '/=> \.\/staging\/src\// { print "replace " $1 " => " $1 " '"$STAGING_VERSION"'" }' "$gomod"
    nonlocal_replaces "$gomod" | sed 's/^/replace /'
  } >"$src/go.mod"
  rm -f "$src/go.sum"
  log "wrapper module $src ($(grep -c '^replace' "$src/go.mod") replaces, staging at $STAGING_VERSION)"
  (cd "$src" && go get "k8s.io/kubernetes@v$KUBE_VERSION" &&
    go get k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager) >&2
  log "go build kube-apiserver (~11 min on 2 cores)"
  (cd "$src" && go build -trimpath -ldflags "$KUBE_LDFLAGS" -o "$BIN/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver) >&2
  mv -f "$BIN/kube-apiserver.tmp" "$BIN/kube-apiserver"
  log "go build kube-controller-manager"
  (cd "$src" && go build -trimpath -ldflags "$KUBE_LDFLAGS" -o "$BIN/kube-controller-manager.tmp" k8s.io/kubernetes/cmd/kube-controller-manager) >&2
  mv -f "$BIN/kube-controller-manager.tmp" "$BIN/kube-controller-manager"
  printf '%s\n' "$SERVER_STAMP_WANT" >"$CACHE/.stamp-servers"
  log "built kube-apiserver and kube-controller-manager ($((SECONDS - START))s so far)"
}

build_provider() {
  local json gomod dir godir src=$CACHE/src/provider
  log "resolving $PROVIDER_MOD@$KUBE_PROVIDER_MODULE_VERSION"
  json=$(go mod download -json "$PROVIDER_MOD@$KUBE_PROVIDER_MODULE_VERSION") ||
    die "cannot download $PROVIDER_MOD@$KUBE_PROVIDER_MODULE_VERSION"
  gomod=$(json_field GoMod <<<"$json")
  dir=$(json_field Dir <<<"$json")
  godir=$(awk '$1 == "go" { print $2; exit }' "$gomod")
  [[ -f $dir/cmd/pulumi-resource-kubernetes/schema.json ]] ||
    die "no cmd/pulumi-resource-kubernetes/schema.json in $dir"
  mkdir -p "$src"
  {
    printf 'module tenancy.local/kube-provider\n\ngo %s\n\n' "$godir"
    printf 'require %s %s\n\n' "$PROVIDER_MOD" "$KUBE_PROVIDER_MODULE_VERSION"
    nonlocal_replaces "$gomod" | sed 's/^/replace /'
  } >"$src/go.mod"
  rm -f "$src/go.sum"
  cp "$PROVIDER_MAIN" "$src/main.go"
  cp "$dir/cmd/pulumi-resource-kubernetes/schema.json" "$dir/cmd/pulumi-resource-kubernetes/terraform-mapping.json" "$src/"
  chmod 644 "$src/schema.json" "$src/terraform-mapping.json" "$src/main.go"
  log "go build pulumi-resource-kubernetes (~11 min on 2 cores)"
  (cd "$src" && go get "$PROVIDER_MOD@$KUBE_PROVIDER_MODULE_VERSION" && go mod tidy &&
    go build -trimpath -ldflags "-s -w -X main.version=$PROVIDER_VERSION -X $PROVIDER_MOD/pkg/version.Version=$PROVIDER_VERSION" \
      -o "$BIN/pulumi-resource-kubernetes.tmp" .) >&2 || die "building the provider failed"
  mv -f "$BIN/pulumi-resource-kubernetes.tmp" "$BIN/pulumi-resource-kubernetes"
  provider_stamp_want "$src/main.go" >"$CACHE/.stamp-provider"
  log "built pulumi-resource-kubernetes ($((SECONDS - START))s so far)"
}

if servers_ok; then log "kube-apiserver v$KUBE_VERSION already built"; else build_servers; fi
if provider_ok; then log "provider already built"; else build_provider; fi
plugin_ok || install_plugin

servers_ok && provider_ok || die "build finished but $BIN is incomplete"
log "kubernetes v$KUBE_VERSION and provider v$PROVIDER_VERSION ready in $BIN ($((SECONDS - START))s)"
printf '%s\n' "$BIN"
