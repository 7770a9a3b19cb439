# shellcheck shell=bash
# Logging for the setup scripts, on stderr: `source scripts/lib/log.sh <tag>` defines
#   log MESSAGE...   prints "[<tag>] MESSAGE"
#   die MESSAGE...   prints "[<tag>] error: MESSAGE" and exits 1
# It defines functions and LOG_TAG only.

LOG_TAG=${1:?usage: source scripts/lib/log.sh <tag>}
log() { printf '[%s] %s\n' "$LOG_TAG" "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}
