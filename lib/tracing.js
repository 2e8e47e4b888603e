'use strict'
// Tracing for APM agents (OpenTelemetry, Datadog), as undici, pg and mysql2 do it: each exchange
// is published on Node's tracing channel `vendor-auth:exchange` (`start`, `end`, `asyncStart`,
// `asyncEnd`, `error`; see lib/outcome.js for the context's fields). The Node entry turns it on;
// the edge entries, where there is no diagnostics_channel, never load this file.

const diagnostics = require('node:diagnostics_channel')

/** The tracing channel, or undefined where the runtime has none (an old Bun). */
function exchangeChannel() {
  return typeof diagnostics.tracingChannel === 'function'
    ? diagnostics.tracingChannel('vendor-auth:exchange')
    : undefined
}

module.exports = { exchangeChannel }
