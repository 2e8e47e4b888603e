'use strict'
// The wasm build in Node (the fallback where no native binary loads, or forced with
// VENDOR_AUTH_FORCE_WASM=1): the CommonJS copy of the generated glue, instantiated synchronously
// from the .wasm bytes on disk (never fetched relative to the module's URL), with the node:https
// transport.

const fs = require('node:fs')
const path = require('node:path')
const { wasmDriverFactory } = require('./driver')
const { httpsTransport } = require('./https-transport')

/**
 * The driver factory; `note` is logged once, through the first logger there is. `dir` holds the
 * glue and the .wasm: the package's wasm/ unless given (lib/bundled.js wasmFolder: a bundle's
 * own folder; an ES module bundle has no __dirname).
 */
function nodeWasmDriverFactory(note, dir = path.join(__dirname, '..', '..', 'wasm')) {
  const glue = require(path.join(dir, 'vendor_auth.cjs'))
  const bytes = fs.readFileSync(path.join(dir, 'vendor_auth_bg.wasm'))
  glue.initSync({ module: new WebAssembly.Module(bytes) })
  loaded = glue
  return wasmDriverFactory(glue, { transport: httpsTransport, note })
}

/** The glue the factory loaded: https-transport.js reports through the same instance. */
let loaded
const loadedGlue = () => loaded

module.exports = { nodeWasmDriverFactory, loadedGlue }
