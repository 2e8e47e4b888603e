'use strict'
// Build the WebAssembly build (wasm/: the edge entries and the Node fallback) when it is missing
// or older than the Rust sources, its build script or lib/guard.js. Run by what uses it (`npm test`,
// `npm run bench`, `npm run test:pack`, after scripts/ensure-built.js), never by the demo: it
// needs wasm-bindgen-cli (installed on first use: about 4 minutes), and it says so when it builds.

const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const { sourcesChanged } = require('./ensure-built')

const root = path.join(__dirname, '..')
const wasm = path.join(root, 'wasm', 'vendor_auth_bg.wasm')
// lib/guard.js: its check is copied into the glue (gluePrelude).
const inputs = [path.join(__dirname, 'build-wasm.js'), path.join(root, 'lib', 'guard.js')]
const wasmSources = Math.max(sourcesChanged(), ...inputs.map((file) => fs.statSync(file).mtimeMs))
if (!fs.existsSync(wasm) || fs.statSync(wasm).mtimeMs < wasmSources) {
  console.error(
    `vendor-auth: ${fs.existsSync(wasm) ? 'sources changed, rebuilding' : 'building'} the WebAssembly build ` +
      '(wasm/), which the tests, the benchmarks and the package use (the demo does not)…',
  )
  execFileSync(process.execPath, [path.join(__dirname, 'build-wasm.js')], { cwd: root, stdio: 'inherit' })
}
