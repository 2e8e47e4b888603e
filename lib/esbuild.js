'use strict'
// `vendor-auth/esbuild`: the esbuild plugin for bundling vendor-auth's edge entries yourself
// (`--conditions=workerd,worker,browser` for Cloudflare Workers, `edge-light,worker,browser` for
// Vercel's Build Output API). Without it esbuild stops at `No loader is configured for ".wasm"
// files` (and cannot resolve the `?module` import of the edge-light entry).
//
// What it does, as wrangler and Vercel do: vendor-auth's .wasm import stays a separate module
// (`import wasmModule from './vendor_auth_bg.wasm'`, `?module` kept where the entry has it), and
// the file is copied next to the bundle, so that the runtime compiles it at deploy time and hands
// the code a WebAssembly.Module (Workers and Vercel Edge do not compile wasm from bytes at run
// time). Only vendor-auth's own .wasm is touched. A build tool only: nothing of it is bundled.

const fs = require('node:fs')
const path = require('node:path')

const WASM_FILE = 'vendor_auth_bg.wasm'
// vendor-auth's edge entries import '../wasm/vendor_auth_bg.wasm' (workerd) or with '?module' (edge-light).
const WASM_IMPORT = /(^|[\\/])vendor_auth_bg\.wasm(\?module)?$/

/**
 * The plugin. `copy: false` leaves the copying of `vendor_auth_bg.wasm` next to the bundle to you
 * (it is `wasmPath`); with `write: false`, or without `outdir` / `outfile`, nothing is copied.
 * @param {{ copy?: boolean }} [options]
 */
function vendorAuthWasm(options = {}) {
  const copy = options?.copy !== false
  return {
    name: 'vendor-auth-wasm',
    setup(build) {
      const sources = new Set()
      build.onResolve({ filter: WASM_IMPORT }, (args) => {
        const file = path.resolve(args.resolveDir, args.path.replace(/\?module$/, ''))
        sources.add(file)
        return { path: `./${WASM_FILE}${args.path.endsWith('?module') ? '?module' : ''}`, external: true }
      })
      build.onEnd((result) => {
        const { outdir, outfile, write } = build.initialOptions
        if (!copy || write === false || result.errors.length > 0 || sources.size === 0) return
        const dir = outdir || (outfile && path.dirname(outfile))
        if (!dir) return
        const target = path.resolve(build.initialOptions.absWorkingDir || process.cwd(), dir)
        fs.mkdirSync(target, { recursive: true })
        // One file whatever the number of entries that imported it (they are the same bytes).
        fs.copyFileSync([...sources][0], path.join(target, WASM_FILE))
      })
    },
  }
}

/** Where the installed package keeps the module (to copy it yourself with `copy: false`). */
const wasmPath = path.join(__dirname, '..', 'wasm', WASM_FILE)

module.exports = { vendorAuthWasm, wasmPath }
