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
  glue.initSync({ module: wasmModule })
  // Unset credentials come from process.env where the runtime has one (Vercel; workerd with
  // nodejs_compat), else options only (lib/outcome.js).
  const { authenticate, createClient, AuthClient } = defineApi(wasmDriverFactory(glue, { transport: fetchTransport }))
  return { authenticate, createClient, AuthClient, VendorAuthError, ErrorCodes, Session }
}

module.exports = { defineEdge }
