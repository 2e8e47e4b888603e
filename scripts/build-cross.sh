#!/usr/bin/env bash
# `npm run build:cross`: the prebuilt binaries for Alpine (musl) and arm64 servers, cross-built on
# a Linux x64 host with `napi build --cross-compile` (cargo-zigbuild + zig), then checked.
#
#   x86_64-unknown-linux-musl   -> npm/linux-x64-musl/vendor-auth.linux-x64-musl.node
#   aarch64-unknown-linux-gnu   -> npm/linux-arm64-gnu/vendor-auth.linux-arm64-gnu.node
#   aarch64-unknown-linux-musl  -> npm/linux-arm64-musl/vendor-auth.linux-arm64-musl.node
#
# Installs what is missing: the Rust targets (rustup), zig (the `ziglang` PyPI package; used as
# `python3 -m ziglang` when no `zig` is on PATH) and cargo-zigbuild (crates.io). Builds one target
# at a time under `nice`, into <target dir>/cross (cargo's target directory: CARGO_TARGET_DIR when
# set, else target/; a folder of its own, with its own cargo lock, so that `cargo test` elsewhere in
# the repository is not blocked). glibc targets are pinned to glibc $CROSS_GLIBC (default 2.17, what
# napi-rs' own cross toolchain uses) so that older distributions (Amazon Linux 2: 2.26) load them.
# Then scripts/check-artifacts.sh checks each binary (ELF machine, NEEDED, glibc symbol versions).
#
# Environment: CROSS_TARGETS="..." (default the three above), CROSS_GLIBC=2.17,
# CROSS_SKIP_CHECK=1 (build only), CROSS_RUN=1 (also run them: see check-artifacts.sh --run).
set -euo pipefail

cd "$(dirname "$0")/.."
root=$PWD
targets=${CROSS_TARGETS:-x86_64-unknown-linux-musl aarch64-unknown-linux-gnu aarch64-unknown-linux-musl}
glibc=${CROSS_GLIBC:-2.17}
out=$root/dist/cross
binary_name=$(node -p "require('./package.json').napi.binaryName")

say() { echo "[build-cross] $*"; }

# --- tools -------------------------------------------------------------------------------------
command -v cargo >/dev/null || { say "cargo is missing: install Rust with rustup"; exit 1; }
installed_targets=$(rustup target list --installed)
for t in $targets; do
  grep -qx "$t" <<<"$installed_targets" || { say "rustup target add $t"; rustup target add "$t"; }
done

if command -v zig >/dev/null; then
  say "zig $(zig version) ($(command -v zig))"
elif python3 -m ziglang version >/dev/null 2>&1; then
  say "zig $(python3 -m ziglang version) (python3 -m ziglang)"
else
  say "pip install ziglang"
  python3 -m pip install --quiet ziglang
  say "zig $(python3 -m ziglang version) (python3 -m ziglang)"
fi

if ! cargo zigbuild --help >/dev/null 2>&1; then
  say "cargo install cargo-zigbuild --locked (a few minutes)"
  nice -n 10 cargo install cargo-zigbuild --locked
fi
say "$(cargo-zigbuild --version 2>/dev/null || echo cargo-zigbuild)"

# --- builds ------------------------------------------------------------------------------------
mkdir -p "$out"
target_dir=$(cargo metadata --format-version 1 --no-deps | node -p 'JSON.parse(require("fs").readFileSync(0, "utf8")).target_directory')
for t in $targets; do
  platform=$(node -p "require('@napi-rs/cli').parseTriple('$t').platformArchABI")
  spec=$t
  case "$t" in *-linux-gnu) spec=$t.$glibc ;; esac
  say "building $spec -> npm/$platform/$binary_name.$platform.node"
  start=$SECONDS
  # --no-js: the committed binding.js stays as `npm run build` generated it; the type definitions
  # napi writes go to dist/cross/index.d.ts and are not used.
  nice -n 10 npx napi build --platform --release --cross-compile --target "$spec" \
    --target-dir "$target_dir/cross" --output-dir "$out" --no-js
  artifact=$out/$binary_name.$platform.node
  [ -f "$artifact" ] || { say "no $artifact after the build"; exit 1; }
  mkdir -p "npm/$platform"
  cp -f "$artifact" "npm/$platform/"
  say "built $t in $((SECONDS - start)) s: $(stat -c %s "$artifact") bytes"
done

if [ "${CROSS_SKIP_CHECK:-0}" != 1 ]; then
  check_args=()
  [ "${CROSS_RUN:-0}" = 1 ] && check_args+=(--run)
  bash scripts/check-artifacts.sh "${check_args[@]}" $(for t in $targets; do
    node -p "'npm/' + require('@napi-rs/cli').parseTriple('$t').platformArchABI + '/$binary_name.' + require('@napi-rs/cli').parseTriple('$t').platformArchABI + '.node'"
  done)
fi
