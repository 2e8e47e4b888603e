'use strict'
// The wasm build in Node (the fallback where no native binary loads, or forced with
// VENDOR_AUTH_FORCE_WASM=1): the CommonJS copy of the generated glue, instantiated synchronously
// from the .wasm bytes on disk (never fetched relative to the module's URL), with the node:https
// transport.

const fs = require('node:fs')
const path = require('node:path')
const { wasmDriverFactory } = require('./driver')
const { httpsTransport } = require('./https-transport')

const DIR = path.join(__dirname, '..', '..', 'wasm')

/** The driver factory; `note` is logged once, through the first logger there is. */
function nodeWasmDriverFactory(note) {
  const glue = require(path.join(DIR, 'vendor_auth.cjs'))
  const bytes = fs.readFileSync(path.join(DIR, 'vendor_auth_bg.wasm'))
  glue.initSync({ module: new WebAssembly.Module(bytes) })
  return wasmDriverFactory(glue, { transport: httpsTransport, note })
}

module.exports = { nodeWasmDriverFactory }
