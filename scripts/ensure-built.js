'use strict'
// Build the addon (release) and the wasm build when missing or older than the Rust sources. Used
// by `npm test`, `npm run demo` and `npm run bench` so that a fresh clone needs no extra step.

const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..')
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
const wasm = path.join(root, 'wasm', 'vendor_auth_bg.wasm')
const wasmSources = Math.max(sources, fs.statSync(path.join(__dirname, 'build-wasm.js')).mtimeMs)
if (!fs.existsSync(wasm) || fs.statSync(wasm).mtimeMs < wasmSources) {
  console.error('vendor-auth: building the wasm build…')
  execFileSync(process.execPath, [path.join(__dirname, 'build-wasm.js')], { cwd: root, stdio: 'inherit' })
}
