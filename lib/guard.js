'use strict'
// Server-only guard. Vendor keys and the tokens they buy can move money; in a browser they are
// leaked. This refuses to load the package anywhere that looks like a browser, before the
// native binding is touched. (The native addon checks again at initialisation, so loading the
// `.node` file directly is no way around it; bundlers get `browser.js` instead of this entry.)

const { VendorAuthError } = require('./errors')

/** The real `process` of a Node-compatible runtime (not a bundler's polyfill), or undefined. */
function realProcess(g) {
  const p = g.process
  return p && Object.prototype.toString.call(p) === '[object process]' ? p : undefined
}

/**
 * Whether the scope has a DOM: a `document`, or a `window` that is not Deno 1.x's own (Deno 1.x
 * defines `window` as its global scope itself, and no `document`). Whatever else the scope says
 * (a `Deno`, a `process`, a runtime's name) does not undo a DOM: any of them can be faked next to
 * one. Presence, not value: the native check at initialisation asks the same question.
 */
function hasDomGlobals(g) {
  if ('document' in g) return true
  if (!('window' in g)) return false
  return !('Deno' in g && g.window === g)
}

/** Why a DOM in this scope makes it browser-like, or null (no DOM, or the jsdom opt-in). */
function domContextReason(g) {
  if (!hasDomGlobals(g)) return null
  const proc = realProcess(g)
  if (!proc) return 'a browser page (window/document without a Node process)'
  if (domGlobalsAllowed(proc)) return null
  return 'a server process with browser globals (window/document), e.g. a jsdom test environment or a DOM polyfill'
}

/**
 * Why this context is browser-like, or null when it is a server runtime.
 * Exported for tests; `assertServerContext` is what the entry calls.
 */
function browserContextReason(g = globalThis) {
  const proc = realProcess(g)
  if (proc && proc.type === 'renderer') return 'an Electron renderer process'
  const dom = domContextReason(g)
  if (dom) return dom
  const webWorker = typeof g.WorkerGlobalScope === 'function' && typeof g.importScripts === 'function'
  if (!proc && webWorker) return 'a web worker'
  return null
}

/**
 * Opt-in for test runners that fake a DOM (jsdom) inside a real Node process:
 * VENDOR_AUTH_ALLOW_DOM_GLOBALS=1 in the real environment. The name is assembled at run time so
 * that no bundler can inline a value for it into browser code.
 */
function domGlobalsAllowed(proc) {
  const name = ['VENDOR', 'AUTH', 'ALLOW', 'DOM', 'GLOBALS'].join('_')
  if (!(proc.versions && proc.versions.node)) return false
  try {
    // Own entries only: an inherited Object.prototype[name] must not switch the guard off.
    return Object.hasOwn(proc.env, name) && proc.env[name] === '1'
  } catch {
    // An environment the runtime will not show (Deno without --allow-env) holds no opt-in.
    return false
  }
}

function serverOnlyMessage(where) {
  return (
    `vendor-auth is server-only and refuses to load in ${where}: vendor keys and tokens must ` +
    'never reach a browser. Call it from your server (Node, Bun or Deno) and send your page ' +
    'only the data it needs. In a jsdom test environment, set VENDOR_AUTH_ALLOW_DOM_GLOBALS=1 ' +
    'in the environment of the test process.'
  )
}

function serverOnlyError(where) {
  return new VendorAuthError('SERVER_ONLY', serverOnlyMessage(where))
}

function assertServerContext() {
  const reason = browserContextReason()
  if (reason) throw serverOnlyError(reason)
}

/**
 * The edge entries' check (they are chosen by the `workerd`, `edge-light` and `worker` export
 * conditions, which a bundler may also set for a browser's worker): why this context is
 * browser-like, or null. A DOM means a browser whatever the scope says; without one, Cloudflare
 * Workers and Vercel Edge say who they are, and elsewhere `importScripts` (which every browser
 * worker has, service workers included) means a browser.
 */
function edgeContextReason(g = globalThis) {
  // A DOM first: a runtime's name next to one proves nothing.
  const dom = domContextReason(g)
  if (dom) return dom
  if (g.navigator && g.navigator.userAgent === 'Cloudflare-Workers') return null
  if (typeof g.EdgeRuntime === 'string') return null
  const reason = browserContextReason(g)
  if (reason) return reason
  if (typeof g.importScripts === 'function' && !realProcess(g)) return 'a browser worker (it has importScripts)'
  return null
}

function assertEdgeContext() {
  const reason = edgeContextReason()
  if (reason) throw serverOnlyError(reason)
}

/**
 * What the generated wasm glue begins with (scripts/build-wasm.js): a user, or a bundle, may load
 * it directly, and it must refuse a browser-like scope as the entries do.
 * - 'cjs' (wasm/vendor_auth.cjs, the Node fallback): these very functions as source, checking
 *   what the Node entry checks, so that the file needs nothing beside it (a bundle may carry the
 *   wasm/ folder alone); where they find a browser it throws an Error with code SERVER_ONLY.
 * - 'mjs' (wasm/vendor_auth.mjs, the edge glue): the edge entries' own check, imported (every
 *   bundle of an edge entry carries this file already), so the error is their VendorAuthError.
 */
function gluePrelude(format) {
  if (format === 'mjs') {
    return [
      '// vendor-auth is server-only: the check of lib/guard.js, inserted by scripts/build-wasm.js.',
      "import vendorAuthGuard from '../lib/guard.js';",
      'vendorAuthGuard.assertEdgeContext();',
      '',
    ].join('\n')
  }
  if (format !== 'cjs') throw new TypeError(`gluePrelude: format must be 'cjs' or 'mjs', not ${format}`)
  const functions = [
    realProcess,
    hasDomGlobals,
    domContextReason,
    browserContextReason,
    domGlobalsAllowed,
    serverOnlyMessage,
  ]
  return [
    '// vendor-auth is server-only: the check of lib/guard.js, inserted by scripts/build-wasm.js.',
    ';(function vendorAuthServerOnly() {',
    "  'use strict'",
    ...functions.map(String),
    '  const reason = browserContextReason(globalThis)',
    "  if (reason) throw Object.assign(new Error(serverOnlyMessage(reason)), { code: 'SERVER_ONLY' })",
    '})();',
    '',
  ].join('\n')
}

module.exports = {
  assertServerContext,
  assertEdgeContext,
  browserContextReason,
  edgeContextReason,
  serverOnlyError,
  gluePrelude,
}
