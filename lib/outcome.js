'use strict'
// What lib/client.js, lib/api.js and lib/store.js do with any driver (the native binding or the
// wasm build): run one exchange, read an outcome or plan by own properties only, and find
// credentials that were missing at construction. No Node built-ins here (the edge entries bundle
// this file); the Node entry gives it a tracing channel (`traceExchanges`).

const { fromCore } = require('./errors')

/**
 * One exchange on `driver`: resolves to its outcome `{ session, freshUntil, error }` (never
 * rejects). `background`: a single attempt per endpoint, and nothing that keeps the process alive
 * while it runs.
 */
async function exchange(driver, background) {
  const missing = ready(driver)
  if (missing !== undefined) return missing
  if (tracing !== undefined && tracing.hasSubscribers) return traced(driver, background)
  return run(driver, background)
}

async function run(driver, background) {
  const outcome = background
    ? await new Promise((resolve) => driver.exchangeInBackground(Date.now(), resolve))
    : await driver.exchange(Date.now())
  return ownOutcome(outcome)
}

/** The tracing channel exchanges are published on (lib/tracing.js), where the entry set one. */
let tracing

/** Publish every exchange on `channel` (a diagnostics_channel TracingChannel). */
function traceExchanges(channel) {
  tracing = channel
}

/**
 * One exchange published on the tracing channel. The context: `provider`, `background` (a
 * refresh ahead of expiry, one attempt per endpoint), then before `asyncEnd`/`error`: `endpoint`
 * ('authenticate' or 'refresh': where the last request went), `attempts` (requests sent),
 * `status` (of the last answer, if any) and, on failure, `error` (the VendorAuthError). Never a
 * token or a key: `result` stays unset.
 */
async function traced(driver, background) {
  const context = { provider: driver.provider, background }
  let outcome
  try {
    await tracing.tracePromise(async () => {
      outcome = await run(driver, background)
      const trace = outcome.trace
      if (trace) {
        context.endpoint = trace.endpoint
        context.attempts = trace.requests
        if (trace.status !== undefined) context.status = trace.status
      }
      if (outcome.error) throw fromCore(outcome.error)
    }, context)
  } catch {
    // The failure is the outcome's (published as `error` above).
  }
  return outcome
}

/**
 * The fields of a driver's outcome or plan, read as own properties only: an absent one must never
 * be read through a polluted Object.prototype.
 */
function ownOutcome(outcome) {
  const own = (key) => (Object.hasOwn(outcome, key) ? outcome[key] : undefined)
  return {
    session: own('session'),
    freshUntil: own('freshUntil'),
    error: own('error'),
    action: own('action'),
    until: own('until'),
    trace: own('trace'),
  }
}

/**
 * A client created without credentials (a build without secrets) looks for them again at first
 * use; the outcome `{ error }` (INVALID_OPTIONS naming the variables) while they are still missing.
 */
function ready(driver) {
  if (!driver.pending) return undefined
  const error = driver.resolve(envSnapshot())
  return error ? ownOutcome({ error }) : undefined
}

/**
 * The environment variables the core reads credentials from: every provider's, as the option
 * schema declares them (`env`). The same for every driver of this core; each driver factory
 * declares its schema's once.
 */
const ENV_NAMES = new Set()

/** Note the `env` names of a core's option schema (`schema.options`). */
function declareEnvNames(schemaOptions) {
  for (const option of schemaOptions) if (typeof option.env === 'string') ENV_NAMES.add(option.env)
}

/**
 * The environment credential defaults are read from: the declared variables (ENV_NAMES) that are
 * own entries of `process.env` (where the runtime has one), copied into a null-prototype object,
 * so that an inherited `Object.prototype.PUPPETVENDORS_API_KEY` can never count as a credential.
 * Only those few are read: copying all of `process.env` cost ~30 µs on every client created.
 */
function envSnapshot() {
  const snapshot = Object.create(null)
  const proc = globalThis.process
  const env = proc && typeof proc.env === 'object' && proc.env !== null ? proc.env : undefined
  if (env === undefined) return snapshot
  for (const name of ENV_NAMES) {
    if (!Object.hasOwn(env, name)) continue
    const value = env[name]
    if (typeof value === 'string') snapshot[name] = value
  }
  return snapshot
}

module.exports = { exchange, ownOutcome, ready, envSnapshot, declareEnvNames, traceExchanges }
