'use strict'
// Build the native addon (release) when it is missing or older than the Rust sources, so that a
// fresh clone needs no extra step: `npm run demo` runs this alone. What also uses the WebAssembly
// build (`npm test`, `npm run bench`, `npm run test:pack`) runs scripts/ensure-wasm.js after it.

const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..')
const addon = fs.readdirSync(root).find((f) => /^vendor-auth\..+\.node$/.test(f))

/** The newest modification time under `dir` (ms). */
function newestSource(dir) {
  let newest = 0
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestSource(full) : fs.statSync(full).mtimeMs)
  }
  return newest
}

/** When the Rust sources last changed (ms). */
function sourcesChanged() {
  return Math.max(
    newestSource(path.join(root, 'src')),
    ...['Cargo.toml', 'Cargo.lock', 'build.rs'].map((f) => fs.statSync(path.join(root, f)).mtimeMs),
  )
}

function main() {
  const sources = sourcesChanged()
  const stale = !addon || fs.statSync(path.join(root, addon)).mtimeMs < sources

  if (stale) {
    console.error(
      addon
        ? 'vendor-auth: sources changed, rebuilding the addon…'
        : 'vendor-auth: building the addon (first run takes about two minutes)…',
    )
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' })
  }
}

module.exports = { sourcesChanged }
if (require.main === module) main()
