'use strict'
// `npm run build:wasm`: the WebAssembly build of the core (src/wasm/, feature `wasm`) into wasm/:
//   vendor_auth_bg.wasm  the module (no name or producers section)
//   vendor_auth.mjs      wasm-bindgen's `--target web` glue, for the edge entries (ESM)
//   vendor_auth.cjs      the same glue as CommonJS, for the Node fallback (lib/wasm/node.js)
// Both glue files are initialised from a compiled module or bytes (`initSync({ module })`); the
// glue's default of fetching the .wasm relative to `import.meta.url` (which fails in Node 20 and
// workerd, and makes bundlers copy the file as an asset) is cut out here. Both begin with the
// server-only check of lib/guard.js (gluePrelude), so that loading one directly is no way around
// it.
//
// Needs the wasm32-unknown-unknown target (added with rustup if missing) and wasm-bindgen-cli at
// exactly the version of the `wasm-bindgen` crate in Cargo.toml (installed with
// `cargo install --locked` if missing: about 4 minutes on 2 cores; cache ~/.cargo/bin in CI).
// The module is then shrunk by wasm-opt from the `binaryen` devDependency (see optimise()).

const { execFileSync, spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const { gluePrelude } = require('../lib/guard.js')

const root = path.join(__dirname, '..')
const out = path.join(root, 'wasm')
const TARGET = 'wasm32-unknown-unknown'
const PROFILE = 'wasm-release'
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' })

/** The exact version the crate pins (`wasm-bindgen = { version = "=X" … }`). */
function pinnedVersion() {
  const toml = fs.readFileSync(path.join(root, 'Cargo.toml'), 'utf8')
  const match = /^wasm-bindgen\s*=\s*\{\s*version\s*=\s*"=([^"]+)"/m.exec(toml)
  if (!match) throw new Error('Cargo.toml must pin wasm-bindgen exactly: wasm-bindgen = { version = "=X.Y.Z", … }')
  return match[1]
}

function output(cmd, args) {
  const result = spawnSync(cmd, args, { cwd: root, encoding: 'utf8' })
  return result.status === 0 ? result.stdout.trim() : null
}

function ensureTarget() {
  const installed = output('rustup', ['target', 'list', '--installed'])
  if (installed !== null && !installed.split('\n').includes(TARGET)) run('rustup', ['target', 'add', TARGET])
}

function ensureCli(version) {
  if (output('wasm-bindgen', ['--version']) === `wasm-bindgen ${version}`) return
  console.error(`vendor-auth: installing wasm-bindgen-cli ${version} (cargo install --locked; about 4 minutes)…`)
  run('cargo', ['install', 'wasm-bindgen-cli', '--version', version, '--locked'])
}

/** The web glue without its fetch-relative-to-import.meta.url default. */
function patchGlue(code) {
  const fetchDefault =
    /\n([ \t]*)if \(module_or_path === undefined\) \{\n\s*module_or_path = new URL\('vendor_auth_bg\.wasm', import\.meta\.url\);\n\s*\}/
  if (!fetchDefault.test(code)) {
    throw new Error('the wasm-bindgen glue changed: its import.meta.url default was not found (check build-wasm.js)')
  }
  const patched = code.replace(
    fetchDefault,
    "\n$1if (module_or_path === undefined) {\n$1    throw new Error('vendor-auth: initialise the wasm build from a compiled module or bytes');\n$1}",
  )
  if (patched.includes('import.meta')) throw new Error('the wasm-bindgen glue still uses import.meta')
  return brandCheck(patched)
}

/**
 * initSync recognises a compiled module by its brand, not by `instanceof`: a module compiled in
 * another realm (Next.js's edge sandbox compiles `?module` imports outside the context that runs
 * the code) fails `instanceof WebAssembly.Module`, and the glue then compiled it again as if it
 * were bytes ("WebAssembly.Module(): Argument 0 must be a buffer source").
 */
function brandCheck(code) {
  const check = 'if (!(module instanceof WebAssembly.Module)) {'
  const at = code.indexOf('\nfunction initSync(module) {')
  if (!code.includes(check) || at < 0) {
    throw new Error("the wasm-bindgen glue changed: initSync's instanceof check was not found (check build-wasm.js)")
  }
  const helper =
    "\n// A compiled module of any realm (Module.exports checks the brand; instanceof only this realm's).\n" +
    'function isCompiledModule(value) {\n    try {\n        WebAssembly.Module.exports(value);\n        return true;\n' +
    '    } catch {\n        return false;\n    }\n}\n'
  return code.slice(0, at) + helper + code.slice(at).replace(check, 'if (!isCompiledModule(module)) {')
}

// What rustc's wasm32-unknown-unknown emits (its default target features): wasm-opt must allow
// them all, and adds none. A feature rustc starts to use later fails wasm-opt's validation here.
const WASM_FEATURES = [
  '--enable-bulk-memory',
  '--enable-multivalue',
  '--enable-mutable-globals',
  '--enable-nontrapping-float-to-int',
  '--enable-reference-types',
  '--enable-sign-ext',
]

/**
 * wasm-opt -Oz, without its inlining pass, on wasm-bindgen's output. Measured on this crate
 * (binaryen 132): -Oz alone makes the file 9% smaller raw but 2% larger gzipped (its inlining
 * copies bodies that gzip had folded); without inlining, 7% smaller raw and 1.6% (2.7 KiB)
 * smaller gzipped. Other passes skipped one by one each move the gzipped size by under 0.5%.
 */
function optimise(input, output) {
  let wasmOpt
  try {
    wasmOpt = require.resolve('binaryen/bin/wasm-opt')
  } catch {
    throw new Error('wasm-opt not found: the binaryen devDependency is missing (npm install)')
  }
  const passes = ['-Oz', '--skip-pass=inlining-optimizing']
  execFileSync(process.execPath, [wasmOpt, ...WASM_FEATURES, ...passes, input, '-o', output], { stdio: 'inherit' })
}

/** Where cargo puts its output: CARGO_TARGET_DIR, CARGO_BUILD_TARGET_DIR or a config's, else <root>/target. */
function targetDir() {
  const metadata = execFileSync('cargo', ['metadata', '--format-version', '1', '--no-deps'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  })
  return JSON.parse(metadata).target_directory
}

function main() {
  const version = pinnedVersion()
  ensureTarget()
  ensureCli(version)
  // `cargo rustc --crate-type cdylib`, not `cargo build`: the crate is also an rlib (for the tests),
  // and cargo runs no LTO on a library with an rlib among its crate types, whatever the profile
  // says. Built as a cdylib alone, the profile's `lto = true` applies: 11 KB smaller gzipped.
  const features = ['--no-default-features', '--features', 'wasm']
  run('cargo', ['rustc', '--lib', '--crate-type', 'cdylib', '--profile', PROFILE, '--target', TARGET, ...features])
  const target = targetDir()
  const built = path.join(target, TARGET, PROFILE, 'vendor_auth.wasm')
  const tmp = fs.mkdtempSync(path.join(target, 'wasm-bindgen-'))
  try {
    run('wasm-bindgen', [
      '--target',
      'web',
      '--remove-name-section',
      '--remove-producers-section',
      '--no-typescript',
      '--out-dir',
      tmp,
      '--out-name',
      'vendor_auth',
      built,
    ])
    const esm = patchGlue(fs.readFileSync(path.join(tmp, 'vendor_auth.js'), 'utf8'))
    const cjs = require('esbuild').transformSync(esm, { format: 'cjs', target: 'node20', logLevel: 'error' }).code
    fs.mkdirSync(out, { recursive: true })
    const banner = `// Generated by scripts/build-wasm.js (wasm-bindgen ${version}); do not edit.\n`
    // Each glue file refuses a browser-like scope before anything else, as the entries do: a
    // user (or a bundle) may load it directly.
    fs.writeFileSync(path.join(out, 'vendor_auth.mjs'), banner + gluePrelude('mjs') + esm)
    fs.writeFileSync(path.join(out, 'vendor_auth.cjs'), banner + gluePrelude('cjs') + cjs)
    optimise(path.join(tmp, 'vendor_auth_bg.wasm'), path.join(out, 'vendor_auth_bg.wasm'))
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
  const size = fs.statSync(path.join(out, 'vendor_auth_bg.wasm')).size
  const gzipped = require('node:zlib').gzipSync(fs.readFileSync(path.join(out, 'vendor_auth_bg.wasm')), { level: 9 })
  console.error(
    `vendor-auth: wasm/vendor_auth_bg.wasm ${(size / 1024).toFixed(1)} KiB (${(gzipped.length / 1024).toFixed(1)} KiB gzipped)`,
  )
}

main()
