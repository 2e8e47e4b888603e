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
 * Why this context is browser-like, or null when it is a server runtime.
 * Exported for tests; `assertServerContext` is what the entry calls.
 */
function browserContextReason(g = globalThis) {
  const proc = realProcess(g)
  if (proc && proc.type === 'renderer') return 'an Electron renderer process'
  // Deno 1.x defines `window` on its server global scope.
  if (g.Deno && g.Deno.version && typeof g.Deno.version.deno === 'string') return null
  // Presence, not value: the native check at initialisation asks the same question.
  const domGlobals = 'window' in g || 'document' in g
  const webWorker = typeof g.WorkerGlobalScope === 'function' && typeof g.importScripts === 'function'
  if (!proc) {
    if (domGlobals) return 'a browser page (window/document without a Node process)'
    if (webWorker) return 'a web worker'
    return null
  }
  if (domGlobals && !domGlobalsAllowed(proc)) {
    return 'a Node process with browser globals (window/document), e.g. a jsdom test environment'
  }
  return null
}

/**
 * Opt-in for test runners that fake a DOM (jsdom) inside a real Node process:
 * VENDOR_AUTH_ALLOW_DOM_GLOBALS=1 in the real environment. The name is assembled at run time so
 * that no bundler can inline a value for it into browser code.
 */
function domGlobalsAllowed(proc) {
  const name = ['VENDOR', 'AUTH', 'ALLOW', 'DOM', 'GLOBALS'].join('_')
  // Own entries only: an inherited Object.prototype[name] must not switch the guard off.
  return Boolean(proc.versions && proc.versions.node) && Object.hasOwn(proc.env, name) && proc.env[name] === '1'
}

function serverOnlyError(where) {
  return new VendorAuthError(
    'SERVER_ONLY',
    `vendor-auth is server-only and refuses to load in ${where}: vendor keys and tokens must ` +
      'never reach a browser. Call it from your server (Node, Bun or Deno) and send your page ' +
      'only the data it needs. In a jsdom test environment, set VENDOR_AUTH_ALLOW_DOM_GLOBALS=1 ' +
      'in the environment of the test process.',
  )
}

function assertServerContext() {
  const reason = browserContextReason()
  if (reason) throw serverOnlyError(reason)
}

/**
 * The edge entries' check (they are chosen by the `workerd`, `edge-light` and `worker` export
 * conditions, which a bundler may also set for a browser's worker): why this context is
 * browser-like, or null. Cloudflare Workers and Vercel Edge say who they are; elsewhere a DOM, or
 * `importScripts` (which every browser worker has, service workers included), means a browser.
 */
function edgeContextReason(g = globalThis) {
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

module.exports = { assertServerContext, assertEdgeContext, browserContextReason, edgeContextReason, serverOnlyError }
