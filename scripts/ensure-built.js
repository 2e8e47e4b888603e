'use strict'
// Build the addon (release) when it is missing or older than the Rust sources. Used by
// `npm test`, `npm run demo` and `npm run bench` so that a fresh clone needs no extra step.

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
