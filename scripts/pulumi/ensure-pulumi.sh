#!/usr/bin/env bash
# ensure-pulumi.sh — make a real Pulumi engine (CLI) and a Node.js language host
# available on this machine, building them from published Go modules when no
# `pulumi` is installed (this workplace cannot download the CLI release).
#
# Usage:   PATH="$(scripts/pulumi/ensure-pulumi.sh):$PATH"
#    or:   source scripts/pulumi/env.sh        (also sets the PULUMI_* env)
#
# stdout:  exactly one line, the directory holding `pulumi`,
#          `pulumi-language-nodejs` and `pulumi-resource-pulumi-nodejs`.
# stderr:  progress.
#
# Steps:
#  1. If `pulumi` and `pulumi-language-nodejs` are both on PATH, print the
#     directory of `pulumi` and stop (set TENANCY_PULUMI_FORCE_BUILD=1 to skip
#     this and use/build the cached engine anyway).
#  2. Otherwise build once per machine into
#       ${TENANCY_PULUMI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tenancy/pulumi}/v<VERSION>/bin
#     - pulumi: github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@v<VERSION>, built
#       with `go build` from a wrapper module generated in <cache>/v<VERSION>/src/cli
#       that carries over the non-local `replace` lines of upstream pkg/go.mod;
#       version stamped with -X .../sdk/v3/go/common/version.Version=v<VERSION>.
#     - pulumi-language-nodejs: first the upstream module
#       github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3 at the
#       pseudo-version of the release commit (the Go proxy reachable here
#       refuses it today: 403 "This module version is not available"), else
#       this repo's own host, the Go module in scripts/pulumi/langhost/ (its
#       own go.mod, pinned to sdk/v3 v3.274.1), copied to
#       <cache>/v<VERSION>/src/langhost, moved to sdk/v3@v<VERSION>, then
#       `go vet` + `go test` (a failure stops the build) and `go build`.
#       TENANCY_PULUMI_LANGHOST=auto (default) | upstream | shim.
#     - pulumi-resource-pulumi-nodejs: a small launcher for the dynamic
#       provider host (see below), with engine-watchdog.cjs next to it.
#     Stamp files in <cache>/v<VERSION>/ skip rebuilds; the langhost stamp
#     includes the sha256 of the langhost module's files (*.go, go.mod,
#     go.sum), so editing them rebuilds only the host.
#
# Version: PULUMI_ENGINE_VERSION (default 3.274.1, the newest release the Go
#   proxy serves here; it also serves pkg/v3 at v3.259.0, v3.260.0 and v3.274.0,
#   not at v3.270.0).
#
# Dynamic providers (pulumi.dynamic.Resource): the engine runs the bundled
#   plugin `pulumi-resource-pulumi-nodejs`. Upstream ships it as a shell script
#   inside the npm package: <project>/node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs
#   (@pulumi/pulumi 3.248.0 has it there, mode 755). Putting that directory on
#   PATH works, but the engine then warns "using pulumi-resource-pulumi-nodejs
#   from $PATH ..." on every run because it expects bundled plugins next to the
#   `pulumi` binary. So this script writes an equivalent launcher into the bin
#   dir: it resolves @pulumi/pulumi/cmd/dynamic-provider from the plugin's
#   working directory (the Pulumi project dir), or from NODE_PATH — set
#   NODE_PATH=<repo>/node_modules for Automation API inline programs whose
#   workDir has no node_modules. The launcher preloads engine-watchdog.cjs
#   (copied from this directory), which ends the provider when the engine that
#   started it is gone: the engine gives plugins process groups of their own,
#   so a killed `pulumi` would otherwise leave them running.
#
# Needs: go (1.25.11+; GOTOOLCHAIN defaults to local), the Go module proxy, and
#   at run time node + the project's npm-installed @pulumi/pulumi. A first build
#   takes about 10-12 minutes on 2 cores (most of it compiling the CLI).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib/log.sh
source "$SCRIPT_DIR/../lib/log.sh" ensure-pulumi
# shellcheck source=scripts/lib/gomod.sh
source "$SCRIPT_DIR/../lib/gomod.sh"
VERSION=${PULUMI_ENGINE_VERSION:-3.274.1}
VERSION=${VERSION#v}
CACHE_ROOT=${TENANCY_PULUMI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tenancy/pulumi}
PREFIX=$CACHE_ROOT/v$VERSION
BIN=$PREFIX/bin
LANGHOST_MODE=${TENANCY_PULUMI_LANGHOST:-auto}

PKG_MOD=github.com/pulumi/pulumi/pkg/v3
SDK_MOD=github.com/pulumi/pulumi/sdk/v3
LH_MOD=github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3
VERSION_PKG=github.com/pulumi/pulumi/sdk/v3/go/common/version.Version

# ---------------------------------------------------------------- 1. on PATH?
if [[ -z ${TENANCY_PULUMI_FORCE_BUILD:-} ]] &&
  pulumi_path=$(command -v pulumi 2>/dev/null) &&
  command -v pulumi-language-nodejs >/dev/null 2>&1; then
  log "using pulumi already on PATH: $pulumi_path"
  dirname "$pulumi_path"
  exit 0
fi

case $LANGHOST_MODE in
auto | upstream | shim) ;;
*) die "TENANCY_PULUMI_LANGHOST must be auto, upstream or shim (got '$LANGHOST_MODE')" ;;
esac

LANGHOST_DIR=$SCRIPT_DIR/langhost
[[ -f $LANGHOST_DIR/go.mod ]] || die "missing $LANGHOST_DIR/go.mod"
# The host's sources: every file the build copies, in a stable order.
langhost_files() { (cd "$LANGHOST_DIR" && ls -1 -- *.go go.mod go.sum | LC_ALL=C sort); }
LANGHOST_SHA=$(cd "$LANGHOST_DIR" && langhost_files | xargs sha256sum | sha256sum | cut -d' ' -f1)
WATCHDOG_SRC=$SCRIPT_DIR/engine-watchdog.cjs
[[ -f $WATCHDOG_SRC ]] || die "missing $WATCHDOG_SRC"
WATCHDOG_SHA=$(sha256sum "$WATCHDOG_SRC" | cut -d' ' -f1)

CLI_STAMP=$PREFIX/.stamp-cli
LH_STAMP=$PREFIX/.stamp-langhost
DP_STAMP=$PREFIX/.stamp-dynamic-provider
CLI_STAMP_WANT="pulumi v$VERSION"
DP_STAMP_WANT="dynamic-provider-launcher 2 $WATCHDOG_SHA"


langhost_ok() {
  [[ -x $BIN/pulumi-language-nodejs && -f $LH_STAMP ]] || return 1
  local kind
  kind=$(head -n1 "$LH_STAMP")
  case $LANGHOST_MODE in
  upstream) [[ $kind == upstream* ]] ;;
  shim) [[ $kind == "shim $LANGHOST_SHA" ]] ;;
  auto) [[ $kind == upstream* || $kind == "shim $LANGHOST_SHA" ]] ;;
  esac
}

all_ok() {
  [[ -x $BIN/pulumi ]] && stamp_is "$CLI_STAMP" "$CLI_STAMP_WANT" &&
    langhost_ok &&
    [[ -x $BIN/pulumi-resource-pulumi-nodejs && -f $BIN/engine-watchdog.cjs ]] &&
    stamp_is "$DP_STAMP" "$DP_STAMP_WANT"
}

# ---------------------------------------------------------------- 2. cached?
if all_ok; then
  log "using cached engine v$VERSION in $BIN"
  printf '%s\n' "$BIN"
  exit 0
fi

mkdir -p "$BIN" "$PREFIX/src"
cd "$PREFIX" # outside any Go module / the repo
# One build per machine at a time: later callers wait for the first one.
exec 9>"$PREFIX/.lock"
if command -v flock >/dev/null 2>&1; then
  log "taking build lock $PREFIX/.lock (waits while another build runs)"
  flock 9
fi
if all_ok; then
  log "engine v$VERSION was built by a concurrent run"
  printf '%s\n' "$BIN"
  exit 0
fi

command -v go >/dev/null 2>&1 || die "go is not on PATH (needed to build the Pulumi engine)"
export GOTOOLCHAIN=${GOTOOLCHAIN:-local}
case " ${GOFLAGS:-} " in
*" -mod="*) ;;
*) export GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=mod" ;;
esac
log "go: $(go version) (GOTOOLCHAIN=$GOTOOLCHAIN GOFLAGS=$GOFLAGS)"
START=$SECONDS


# go_mod_download MODULE@VERSION -> prints the -json output (fails on error)
go_mod_download() { go mod download -json "$1"; }

# Write a wrapper go.mod: module name, go directive, replaces from a file.
write_wrapper_gomod() { # dir modname goversion replaces-file
  mkdir -p "$1"
  {
    printf 'module %s\n\ngo %s\n' "$2" "$3"
    if [[ -s $4 ]]; then
      printf '\n// carried over from upstream go.mod files (non-local replace lines)\n'
      sed 's/^/replace /' "$4"
    fi
  } >"$1/go.mod"
  rm -f "$1/go.sum"
}

# ---------------------------------------------------------------- upstream metadata
log "resolving $PKG_MOD@v$VERSION"
pkg_json=$(go_mod_download "$PKG_MOD@v$VERSION") ||
  die "cannot download $PKG_MOD@v$VERSION from the Go module proxy (set PULUMI_ENGINE_VERSION to a served version)"
pkg_gomod=$(json_field GoMod <<<"$pkg_json")
pkg_hash=$(json_field Hash <<<"$pkg_json")
[[ -f $pkg_gomod ]] || die "no go.mod for $PKG_MOD@v$VERSION"
go_directive=$(awk '$1 == "go" { print $2; exit }' "$pkg_gomod")
log "pkg v$VERSION: commit ${pkg_hash:-unknown}, go $go_directive"

# ---------------------------------------------------------------- pulumi CLI
build_cli() {
  local src=$PREFIX/src/cli
  local reps=$PREFIX/src/cli.replaces
  nonlocal_replaces "$pkg_gomod" >"$reps"
  log "CLI wrapper module: $src (replaces: $(wc -l <"$reps"))"
  write_wrapper_gomod "$src" tenancy.local/pulumi-engine "$go_directive" "$reps"
  log "go get $PKG_MOD/cmd/pulumi@v$VERSION $SDK_MOD@v$VERSION"
  (cd "$src" && go get "$PKG_MOD/cmd/pulumi@v$VERSION" "$SDK_MOD@v$VERSION") >&2
  log "go build pulumi (the long part: ~8-9 min on 2 cores)"
  (cd "$src" && go build -trimpath -o "$BIN/pulumi.tmp" \
    -ldflags "-s -w -X $VERSION_PKG=v$VERSION" "$PKG_MOD/cmd/pulumi") >&2
  mv -f "$BIN/pulumi.tmp" "$BIN/pulumi"
  printf '%s\n' "$CLI_STAMP_WANT" >"$CLI_STAMP"
  log "built $BIN/pulumi ($("$BIN/pulumi" version 2>/dev/null || echo '?'))"
}

# ---------------------------------------------------------------- language host
# Upstream host: pseudo-version of the release commit. sdk/v3's Origin.Hash is
# the release commit when the proxy reports it; else pkg/v3's tag commit.
build_langhost_upstream() {
  local sdk_json hash lh_json lh_version lh_gomod src reps
  sdk_json=$(go_mod_download "$SDK_MOD@v$VERSION" 2>/dev/null) || sdk_json=
  hash=$(json_field Hash <<<"$sdk_json")
  hash=${hash:-$pkg_hash}
  [[ -n $hash ]] || {
    log "no release commit hash known for v$VERSION"
    return 1
  }
  log "resolving $LH_MOD@$hash"
  if ! lh_json=$(go list -m -json "$LH_MOD@$hash" 2>&1); then
    log "upstream language host not available: $(tail -n2 <<<"$lh_json" | tr '\n' ' ')"
    return 1
  fi
  lh_version=$(json_field Version <<<"$lh_json")
  lh_json=$(go_mod_download "$LH_MOD@$lh_version") || return 1
  lh_gomod=$(json_field GoMod <<<"$lh_json")
  src=$PREFIX/src/langhost-upstream
  reps=$PREFIX/src/langhost-upstream.replaces
  {
    nonlocal_replaces "$pkg_gomod"
    nonlocal_replaces "$lh_gomod"
    # The host's go.mod requires pkg/sdk at placeholder versions (it builds
    # against ../../../.. upstream); pin them to the release.
    echo "$PKG_MOD => $PKG_MOD v$VERSION"
    echo "$SDK_MOD => $SDK_MOD v$VERSION"
  } | awk '!seen[$1]++' >"$reps"
  write_wrapper_gomod "$src" tenancy.local/pulumi-langhost "$go_directive" "$reps"
  log "go get $LH_MOD@$lh_version"
  (cd "$src" && go get "$LH_MOD@$lh_version" "$PKG_MOD@v$VERSION" "$SDK_MOD@v$VERSION") >&2 || return 1
  (cd "$src" && go build -trimpath -o "$BIN/pulumi-language-nodejs.tmp" \
    -ldflags "-s -w -X $VERSION_PKG=v$VERSION" "$LH_MOD") >&2 || return 1
  mv -f "$BIN/pulumi-language-nodejs.tmp" "$BIN/pulumi-language-nodejs"
  printf 'upstream %s\n' "$lh_version" >"$LH_STAMP"
  log "built upstream pulumi-language-nodejs $lh_version"
}

# Fallback: this repo's own host (the Go module in scripts/pulumi/langhost/).
build_langhost_shim() {
  local src=$PREFIX/src/langhost
  rm -rf "$src"
  mkdir -p "$src"
  (cd "$LANGHOST_DIR" && langhost_files | xargs cp -t "$src")
  log "building repo language host (scripts/pulumi/langhost) against $SDK_MOD@v$VERSION"
  (cd "$src" && go get "$SDK_MOD@v$VERSION" && go mod tidy) >&2 ||
    die "resolving the repo language host's modules for $SDK_MOD@v$VERSION failed"
  log "go vet + go test of the language host"
  (cd "$src" && go vet ./... && go test -count=1 ./...) >&2 ||
    die "the repo language host fails go vet / go test (in $src)"
  (cd "$src" && go build -trimpath -o "$BIN/pulumi-language-nodejs.tmp" \
    -ldflags "-s -w -X main.version=$VERSION" .) >&2 ||
    die "building the repo language host failed"
  mv -f "$BIN/pulumi-language-nodejs.tmp" "$BIN/pulumi-language-nodejs"
  printf 'shim %s\n' "$LANGHOST_SHA" >"$LH_STAMP"
  log "built $BIN/pulumi-language-nodejs (repo host, version $VERSION)"
}

# ---------------------------------------------------------------- dynamic provider launcher
write_dynamic_provider_launcher() {
  cat >"$BIN/pulumi-resource-pulumi-nodejs.tmp" <<'EOF'
#!/bin/sh
# Written by scripts/pulumi/ensure-pulumi.sh. Starts the Node.js dynamic
# provider host shipped in the @pulumi/pulumi npm package, resolved from the
# current directory (the Pulumi project) or NODE_PATH. engine-watchdog.cjs (next
# to this file) ends the provider when the engine that started it is gone.
here=$(cd "$(dirname "$0")" && pwd)
script=$(node -e "process.stdout.write(require.resolve('@pulumi/pulumi/cmd/dynamic-provider'))") || {
  echo "pulumi-resource-pulumi-nodejs: cannot resolve @pulumi/pulumi from $(pwd); run npm install there or set NODE_PATH" >&2
  exit 1
}
TENANCY_ENGINE_PID=$PPID exec node --require "$here/engine-watchdog.cjs" "$script" "$@"
EOF
  cp "$WATCHDOG_SRC" "$BIN/engine-watchdog.cjs"
  chmod 755 "$BIN/pulumi-resource-pulumi-nodejs.tmp"
  mv -f "$BIN/pulumi-resource-pulumi-nodejs.tmp" "$BIN/pulumi-resource-pulumi-nodejs"
  printf '%s\n' "$DP_STAMP_WANT" >"$DP_STAMP"
}

if langhost_ok; then
  log "pulumi-language-nodejs already built ($(head -n1 "$LH_STAMP"))"
else
  rm -f "$LH_STAMP"
  case $LANGHOST_MODE in
  upstream) build_langhost_upstream || die "upstream language host could not be built" ;;
  shim) build_langhost_shim ;;
  auto) build_langhost_upstream || {
    log "falling back to the repo's language host"
    build_langhost_shim
  } ;;
  esac
fi

# The CLI last: the language host step is quick and fails fast.
if [[ -x $BIN/pulumi ]] && stamp_is "$CLI_STAMP" "$CLI_STAMP_WANT"; then
  log "pulumi v$VERSION already built"
else
  build_cli
fi

if ! stamp_is "$DP_STAMP" "$DP_STAMP_WANT" || [[ ! -x $BIN/pulumi-resource-pulumi-nodejs ||
  ! -f $BIN/engine-watchdog.cjs ]]; then
  write_dynamic_provider_launcher
fi

all_ok || die "build finished but $BIN is incomplete"
log "engine v$VERSION ready in $BIN ($((SECONDS - START))s, cache $(du -sh "$PREFIX" 2>/dev/null | cut -f1))"
printf '%s\n' "$BIN"
