'use strict'
// Tracing for APM agents (OpenTelemetry, Datadog), as undici, pg and mysql2 do it: each exchange
// is published on Node's tracing channel `vendor-auth:exchange` (`start`, `end`, `asyncStart`,
// `asyncEnd`, `error`; see lib/outcome.js for the context's fields). The Node entry turns it on;
// the edge entries, where there is no diagnostics_channel, never load this file.

/**
 * The tracing channel, or undefined where the runtime has none. Found without `require` where
 * Node offers that (an ES-module bundle of this package has no `require`).
 */
function exchangeChannel() {
  const diagnostics = builtin('node:diagnostics_channel')
  return diagnostics !== undefined && typeof diagnostics.tracingChannel === 'function'
    ? diagnostics.tracingChannel('vendor-auth:exchange')
    : undefined
}

function builtin(name) {
  const proc = globalThis.process
  if (proc !== undefined && typeof proc.getBuiltinModule === 'function') return proc.getBuiltinModule(name)
  try {
    return require(name)
  } catch {
    return undefined // a bundle without require on a Node older than 20.16: no tracing
  }
}

module.exports = { exchangeChannel }
