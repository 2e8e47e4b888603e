'use strict'
// Which driver the Node entry uses: the native binding, or the wasm build of the same core where
// no native binary loads on this platform (macOS and Windows until their binaries are published,
// or a missing optional dependency). The fallback says so in one debug line. Setting
// VENDOR_AUTH_FORCE_WASM=1 in the real process environment picks the wasm build anyway (tests).
// A SERVER_ONLY refusal is never fallen back from.

const { VendorAuthError } = require('./errors')
const { loadBinding, nativeDriverFactory, platformTarget } = require('./native')
const { wasmFolder } = require('./bundled')
const { traceExchanges } = require('./outcome')
const { exchangeChannel } = require('./tracing')

// Exchanges are published on the `vendor-auth:exchange` tracing channel (lib/tracing.js).
traceExchanges(exchangeChannel())

function chooseDriverFactory() {
  if (process.env.VENDOR_AUTH_FORCE_WASM === '1') {
    return wasmFactory('using the WebAssembly build (VENDOR_AUTH_FORCE_WASM=1)', wasmFolder())
  }
  let binding
  try {
    binding = loadBinding()
  } catch (error) {
    if (!(error instanceof VendorAuthError) || error.code !== 'UNSUPPORTED_PLATFORM') throw error
    const { where, wanted } = platformTarget()
    try {
      // Inside a bundle, the files are beside it (lib/bundled.js), not where the package keeps them.
      const folder = wasmFolder(error)
      const why =
        folder === undefined
          ? `no native binary loads on ${where} (looked for ${wanted})`
          : `the bundle's native addon did not load (${wanted})`
      return wasmFactory(`using the WebAssembly build${folder === undefined ? '' : ` in ${folder}`}: ${why}`, folder)
    } catch (wasmError) {
      throw new VendorAuthError(
        'UNSUPPORTED_PLATFORM',
        `${error.message} The WebAssembly build did not load either (${wasmError.message}).`,
        { cause: error.cause },
      )
    }
  }
  return nativeDriverFactory(binding)
}

function wasmFactory(note, folder) {
  return require('./wasm/node').nodeWasmDriverFactory(note, folder)
}

module.exports = { chooseDriverFactory }
