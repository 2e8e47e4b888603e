'use strict'
// Build what is missing or older than the Rust sources, so that a fresh clone needs no extra step:
//   node scripts/ensure-built.js         the native addon (release) only: `npm run demo`
//   node scripts/ensure-built.js --wasm  and the WebAssembly build (wasm/): `npm test`,
//                                        `npm run bench`, `npm run test:pack`, which use it
// The wasm build needs wasm-bindgen-cli (installed on first use: about 4 minutes), so only what
// uses it asks for it, and it says so when it builds.

const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..')
const wantWasm = process.argv.includes('--wasm')
const addon = fs.readdirSync(root).find((f) => /^vendor-auth\..+\.node$/.test(f))

function newestSource(dir) {
  let newest = 0
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestSource(full) : fs.statSync(full).mtimeMs)
  }
  return newest
}

const sources = Math.max(
  newestSource(path.join(root, 'src')),
  ...['Cargo.toml', 'Cargo.lock', 'build.rs'].map((f) => fs.statSync(path.join(root, f)).mtimeMs),
)
const stale = !addon || fs.statSync(path.join(root, addon)).mtimeMs < sources

if (stale) {
  console.error(
    addon
      ? 'vendor-auth: sources changed, rebuilding the addon…'
      : 'vendor-auth: building the addon (first run takes about two minutes)…',
  )
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' })
}

// The wasm build (wasm/: the edge entries and the Node fallback) from the same sources, when it
// is missing or older than them or than its build script.
if (wantWasm) {
  const wasm = path.join(root, 'wasm', 'vendor_auth_bg.wasm')
  const wasmSources = Math.max(sources, fs.statSync(path.join(__dirname, 'build-wasm.js')).mtimeMs)
  if (!fs.existsSync(wasm) || fs.statSync(wasm).mtimeMs < wasmSources) {
    console.error(
      `vendor-auth: ${fs.existsSync(wasm) ? 'sources changed, rebuilding' : 'building'} the WebAssembly build ` +
        '(wasm/), which the tests, the benchmarks and the package use (the demo does not)…',
    )
    execFileSync(process.execPath, [path.join(__dirname, 'build-wasm.js')], { cwd: root, stdio: 'inherit' })
  }
}
