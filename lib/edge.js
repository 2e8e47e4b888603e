'use strict'
// What the edge entries (lib/workerd.mjs, lib/edge-light.mjs) share: the same public API as the
// Node entry, over the wasm build with the runtime's fetch. No Node built-ins in this file or
// anything it requires, so a worker bundles it without nodejs_compat.

const { assertEdgeContext } = require('./guard')
const { defineApi } = require('./api')
const { wasmDriverFactory } = require('./wasm/driver')
const { fetchTransport } = require('./wasm/fetch-transport')
const { VendorAuthError, ErrorCodes } = require('./errors')
const { Session } = require('./session')

/**
 * The API over `glue` (the generated ESM glue, wasm/vendor_auth.mjs), instantiated from
 * `wasmModule`: a compiled WebAssembly.Module as the runtime's bundler imports it (or its bytes).
 */
function defineEdge(glue, wasmModule) {
  // Before the module is instantiated: a browser's worker that resolved this entry stops here.
  assertEdgeContext()
  glue.initSync({ module: compiledModuleOrBytes(wasmModule) })
  // Unset credentials come from process.env where the runtime has one (Vercel; workerd with
  // nodejs_compat), else options only (lib/outcome.js).
  const { authenticate, createClient, AuthClient } = defineApi(wasmDriverFactory(glue, { transport: fetchTransport }))
  return { authenticate, createClient, AuthClient, VendorAuthError, ErrorCodes, Session }
}

/**
 * What the bundler gave for the .wasm import, checked without `instanceof`: the module may come
 * from another realm (Next.js compiles `?module` imports outside the sandbox that runs the
 * middleware, and Vercel's edge-runtime the same), where `instanceof WebAssembly.Module` is false.
 * A compiled module of any realm, or bytes where the runtime compiles them; anything else (a
 * file's URL from a bundler's `file` loader, `undefined`) is named here instead of failing inside
 * the glue with "Argument 0 must be a buffer source".
 */
function compiledModuleOrBytes(value) {
  if (isCompiledModule(value) || ArrayBuffer.isView(value) || tagOf(value) === 'ArrayBuffer') return value
  const what = typeof value === 'string' ? `the string ${JSON.stringify(value.slice(0, 80))}` : tagOf(value)
  throw new VendorAuthError(
    'UNSUPPORTED_PLATFORM',
    `vendor-auth's edge entry needs vendor_auth_bg.wasm imported as a compiled WebAssembly.Module, and the ` +
      `bundle gave ${what}: let the runtime's bundler import it (wrangler, Next.js and Vercel do), or with ` +
      `esbuild use the plugin of 'vendor-auth/esbuild'`,
  )
}

/** A WebAssembly.Module of any realm: Module.exports() checks the brand, which crosses realms. */
function isCompiledModule(value) {
  try {
    WebAssembly.Module.exports(value)
    return true
  } catch {
    return false
  }
}

function tagOf(value) {
  return value === null || value === undefined ? String(value) : Object.prototype.toString.call(value).slice(8, -1)
}

module.exports = { defineEdge, isCompiledModule }
