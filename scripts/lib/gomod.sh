# Shell helpers shared by the scripts that build Go programs from the module proxy
# (scripts/pulumi/ensure-pulumi.sh, scripts/kube/ensure-kube.sh). Source it; it defines functions only.

# Print the value of a top-level string field from `go mod download -json` /
# `go list -m -json` output (Origin.Hash is the only "Hash" key there).
json_field() { sed -n "s/^[[:space:]]*\"$1\": \"\\(.*\\)\",\\{0,1\\}\$/\\1/p" | head -n1; }

# Non-local replace directives of a go.mod, one "old => new" per line
# (directory replacements such as `=> ../sdk` are dropped).
nonlocal_replaces() {
  awk '
    /^replace[[:space:]]*\($/ { inblock = 1; next }
    inblock && /^\)/          { inblock = 0; next }
    inblock                   { line = $0 }
    !inblock && /^replace[[:space:]]/ { line = $0; sub(/^replace[[:space:]]+/, "", line) }
    line != "" {
      sub(/\/\/.*$/, "", line); gsub(/^[[:space:]]+|[[:space:]]+$/, "", line)
      split(line, parts, /[[:space:]]*=>[[:space:]]*/)
      if (parts[2] !~ /^(\.\.?\/|\/)/) print line
      line = ""
    }' "$1"
}

# A true result when the file $1 holds exactly the text $2 (build stamps).
stamp_is() { [[ -f $1 ]] && [[ "$(cat "$1")" == "$2" ]]; }
