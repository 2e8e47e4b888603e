'use strict'
// The wasm driver: the same contract as the native binding's NativeClient (see lib/client.js),
// over the wasm build of the core (src/wasm/). The core decides everything (lifecycle, retries,
// fall backs, parsing, errors, debug lines); this file only moves bytes: it asks the core for a
// request description, sends it with a transport (the runtime's fetch, or node:https in the
// Node fallback), and hands the answer back, with the time and the jitter.
//
// No Node built-ins here: the edge entries bundle this file.

const { VendorAuthError, fromCore } = require('../errors')
const { prepareOptions, coreTypes } = require('../options')
const { envSnapshot, declareEnvNames } = require('../outcome')
const { ABORTED, OTHER } = require('./failure')

const OUR_CODES = new Set(['INVALID_OPTIONS', 'INSECURE_URL', 'INTERNAL'])
const CLOSED_MESSAGE = 'the client was closed; create a new one to get tokens again'
/** What a closed driver plans: nothing to serve, no exchange (the client checks `closed` first). */
const CLOSED_PLAN = Object.freeze({ action: 'reject', until: 0, error: { code: 'CLOSED', message: CLOSED_MESSAGE } })
const clock = typeof performance === 'object' && performance !== null ? () => performance.now() : () => Date.now()

/**
 * The driver factory over an initialised wasm-bindgen module (`glue`).
 * @param {object} glue the generated module's exports (`WasmClient`, `optionSchema`, `maxBodyBytes`, `answerHeaders`)
 * @param {{ transport: { open: Function, send: Function }, note?: string }} how
 *   `transport.open(options)` reads what the transport needs for one client (its trust, its
 *   proxies: `{ note? }` and more, or undefined) and may refuse options it cannot honour (a
 *   VendorAuthError); `transport.send(request, { opened, background, closing, maxBody,
 *   answerHeaders })` resolves to an answer (with the `answerHeaders` the core reads, as
 *   [name, value] pairs) or a failure (see lib/wasm/failure.js), and ends early when `closing`
 *   (a `Closing`) fires; `note` is logged once through the first logger there is (the Node
 *   fallback says why it runs). Unset credentials are read from the own entries of `process.env`
 *   where the runtime has one (lib/outcome.js), else options only. A `tokenStore` works as on
 *   the native build (lib/store.js over the core's sealing).
 */
function wasmDriverFactory(glue, { transport, note }) {
  // The one option schema, from the core (the same as the native binding's optionSchema()).
  const schema = JSON.parse(glue.optionSchema())
  const types = coreTypes(schema.options)
  declareEnvNames(schema.options)
  const fieldsOf = new Map(schema.providers.map((spec) => [spec.id, spec.fields]))
  const sessionFields = (provider) => fieldsOf.get(provider) || []
  const maxBody = glue.maxBodyBytes()
  const answerHeaders = Object.freeze(JSON.parse(glue.answerHeaders()))
  let pendingNote = note
  return function createDriver(options) {
    const prepared = prepareOptions(options, types)
    // What the transport reads for this client (its trust, its proxies), as the native build reads it.
    const opened = transport.open(prepared.core)
    let client
    try {
      client = new glue.WasmClient(wireOptions(prepared.core), envSnapshot())
    } catch (error) {
      throw fromWire(error)
    }
    const log = prepared.logger
    if (pendingNote !== undefined && log !== undefined) {
      log(pendingNote)
      pendingNote = undefined
    }
    if (log !== undefined && opened !== undefined && opened.note !== undefined) log(`${client.provider} ${opened.note}`)
    const driver = new WasmDriver(client, transport, log, { opened, maxBody, answerHeaders })
    if (log !== undefined) for (const line of JSON.parse(client.startLog())) log(line)
    const { signal, initialSession, tokenStore, storeTimeoutMs, credentials } = prepared
    const SharedStore = tokenStore === undefined ? undefined : require('../store').SharedStore
    return {
      driver,
      credentials,
      logger: log,
      signal,
      initialSession,
      tokenStore,
      storeTimeoutMs,
      sessionFields,
      SharedStore,
    }
  }
}

/**
 * Options as JSON text for the core: the options object, and the number options JSON cannot carry
 * (NaN, ±Infinity) by name with their text, so that the core refuses them by name.
 */
function wireOptions(native) {
  const options = {}
  const nonFinite = []
  for (const key of Object.keys(native)) {
    const value = native[key]
    if (typeof value === 'number' && !Number.isFinite(value)) nonFinite.push([key, String(value)])
    else options[key] = value
  }
  return JSON.stringify({ options, non_finite: nonFinite })
}

/** The constructor's refusal (its fields as JSON text), as a VendorAuthError. */
function fromWire(error) {
  if (typeof error === 'string') {
    try {
      const fields = JSON.parse(error)
      if (OUR_CODES.has(fields.code)) return fromCore(fields)
    } catch {
      // not ours: below
    }
  }
  return new VendorAuthError('INVALID_OPTIONS', String(error && error.message ? error.message : error))
}

/** An outcome from the core (JSON): a `freshUntil` of `null` is for ever (a permanent credential). */
function outcomeOf(text) {
  const outcome = JSON.parse(text)
  if (outcome.session !== undefined && outcome.freshUntil === null) outcome.freshUntil = Infinity
  return outcome
}

class WasmDriver {
  #client
  #transport
  #log
  /** What every transport call gets besides the request: `{ opened, maxBody, answerHeaders }`. */
  #sendOptions
  #provider
  /** What close() ends: every exchange in flight. */
  #closing = new Closing()

  constructor(client, transport, log, sendOptions) {
    this.#client = client
    this.#transport = transport
    this.#log = log
    this.#sendOptions = sendOptions
    this.#provider = client.provider
  }

  get provider() {
    return this.#provider
  }

  /** Whether the credentials are still to be found (see `resolve`). */
  get pending() {
    return this.#client !== null && this.#client.pending
  }

  /** Look for missing credentials again in `env`: the error that still stands, or undefined. */
  resolve(env) {
    if (this.#client === null) return undefined
    const error = this.#client.resolve(env)
    if (error !== undefined) return JSON.parse(error)
    this.#emit(JSON.parse(this.#client.startLog()))
    return undefined
  }

  /** Credentials given at exchange time (a JSON object of strings): `{ changed, error? }`. */
  setCredentials(values, env) {
    if (this.#client === null) {
      return { changed: false, error: { code: 'CLOSED', message: CLOSED_MESSAGE, provider: this.#provider } }
    }
    return JSON.parse(this.#client.setCredentials(values, env))
  }

  /** Whether `client.fetch()` may send the token to `url`: the refusal, or undefined. */
  checkOrigin(url) {
    if (this.#client === null) return undefined
    const error = this.#client.checkOrigin(url)
    return error === undefined ? undefined : JSON.parse(error)
  }

  /** What to do at `now` (ms since the epoch). */
  plan(now) {
    if (this.#client === null) return CLOSED_PLAN
    const plan = JSON.parse(this.#client.plan(now))
    if (plan.until === null) plan.until = Infinity
    return plan
  }

  /** The session the core holds from the start (a permanent credential), as an outcome, or null. */
  current() {
    if (this.#client === null) return null
    const current = this.#client.current()
    return current === undefined ? null : outcomeOf(current)
  }

  /** Take a kept session `{ token, expiresAt, metadata }` (initialSession) at `now`: an outcome. */
  adopt(seed, now) {
    if (this.#client === null) return { error: { code: 'CLOSED', message: CLOSED_MESSAGE, provider: this.#provider } }
    return outcomeOf(this.#client.adopt(JSON.stringify(seed), now))
  }

  /** One exchange starting at `now` (the caller's clock, advanced by a monotonic one). */
  exchange(now) {
    return this.#run(false, now)
  }

  exchangeInBackground(now, done) {
    // Nobody awaits a background exchange: even a failure of the driver itself (a bug: a trap in
    // the instance) must reach `done` as an outcome, not become an unhandled rejection.
    this.#run(true, now).then(done, (error) =>
      done({
        error: {
          code: 'NETWORK',
          message: `the background refresh failed inside the wasm build: ${error && error.message}`,
          provider: this.#provider,
        },
      }),
    )
  }

  /**
   * One `obtain` of the shared store (lib/store.js performs its steps; the protocol is the core's):
   * the same methods as the native binding's `NativeStoreRun`, each returning the next step.
   */
  storeRun(background, owner, nonce, storeTimeoutMs, now) {
    if (this.#client === null) return new EndedStoreRun()
    let run
    try {
      run = this.#client.storeRun(background, owner, nonce, storeTimeoutMs, now)
    } catch (error) {
      throw fromCore(JSON.parse(error))
    }
    const step = (text) => JSON.parse(text)
    return {
      first: () => step(run.first()),
      got: (session, rateLimit, lock, at) =>
        step(run.got(session ?? undefined, rateLimit ?? undefined, lock ?? undefined, at)),
      locked: (taken, at) => step(run.locked(taken, at)),
      done: () => step(run.done()),
      exchanged: (ok, at) => step(run.exchanged(ok, at)),
      failed: (op, why, at) => step(run.failed(op, why, at)),
    }
  }

  /** Whether a session was dropped (a permanent credential is kept). */
  invalidate() {
    return this.#client !== null && this.#client.invalidate()
  }

  /**
   * Ends exchanges in flight with CLOSED and frees the instance's client at once (the credentials
   * with it) rather than whenever a finalizer runs; exchanges still in flight keep the core's
   * state alive until they end.
   */
  close() {
    if (this.#client === null) return
    this.#client.close()
    this.#closing.fire()
    this.#client.free()
    this.#client = null
  }

  /** One exchange, stepped through the core; resolves to `{ session, freshUntil }` or `{ error }`. */
  async #run(background, startedAt) {
    if (this.#client === null) return { error: { code: 'CLOSED', message: CLOSED_MESSAGE, provider: this.#provider } }
    const closing = this.#closing
    // The caller's time at the start, advanced by the monotonic clock (as the native build does).
    const origin = clock()
    const now = () => startedAt + (clock() - origin)
    const run = this.#client.begin(background, now())
    try {
      let step = JSON.parse(run.first())
      for (;;) {
        this.#emit(step.log)
        if (step.done !== undefined) {
          if (step.done.session !== undefined && step.done.freshUntil === null) step.done.freshUntil = Infinity
          return step.done
        }
        if (step.waitMs !== undefined) {
          await sleep(step.waitMs, closing, background)
          step = JSON.parse(run.resume(now()))
          continue
        }
        const sentAt = now()
        const started = clock()
        const answer = await this.#send(step.send, background, closing)
        const elapsed = clock() - started
        step = JSON.parse(
          answer.failure === undefined
            ? run.answered(
                answer.status,
                JSON.stringify(answer.headers),
                answer.body,
                answer.complete,
                sentAt,
                elapsed,
                Math.random(),
              )
            : run.failed(answer.failure, answer.detail || '', sentAt, elapsed, Math.random()),
        )
      }
    } finally {
      run.free()
    }
  }

  async #send(request, background, closing) {
    if (closing.fired) return { failure: ABORTED }
    try {
      return await this.#transport.send(request, { ...this.#sendOptions, background, closing })
    } catch (error) {
      // A transport never throws on purpose; if it does, the exchange still ends properly.
      return { failure: OTHER, detail: String(error && error.message) }
    }
  }

  #emit(lines) {
    if (this.#log === undefined) return
    for (const line of lines) this.#log(line)
  }
}

/** The store run of a closed driver: over at once, whatever it is told (the client checks `closed` first). */
class EndedStoreRun {
  static #ended = Object.freeze({ op: 'done', log: Object.freeze([]), end: 'replan' })
  first() {
    return EndedStoreRun.#ended
  }
  got() {
    return EndedStoreRun.#ended
  }
  locked() {
    return EndedStoreRun.#ended
  }
  done() {
    return EndedStoreRun.#ended
  }
  exchanged() {
    return EndedStoreRun.#ended
  }
  failed() {
    return EndedStoreRun.#ended
  }
}

/**
 * A driver's close(), as its exchanges in flight see it: callbacks run once when it fires. (Not an
 * AbortController per exchange: Node makes every AbortSignal transferable, which costs more than
 * the rest of the driver's own work on an exchange.)
 */
class Closing {
  fired = false
  #callbacks = new Set()

  /** Run `callback` when this fires; returns the function that unsubscribes it. */
  subscribe(callback) {
    this.#callbacks.add(callback)
    return () => this.#callbacks.delete(callback)
  }

  fire() {
    if (this.fired) return
    this.fired = true
    for (const callback of this.#callbacks) callback()
    this.#callbacks.clear()
  }
}

/** Wait `ms`, or less if `closing` fires. A background wait does not hold a Node event loop. */
function sleep(ms, closing, background) {
  return new Promise((resolve) => {
    if (closing.fired) return resolve()
    const done = () => {
      clearTimeout(timer)
      unsubscribe()
      resolve()
    }
    const timer = setTimeout(done, ms)
    if (background && typeof timer === 'object' && typeof timer.unref === 'function') timer.unref()
    const unsubscribe = closing.subscribe(done)
  })
}

module.exports = { wasmDriverFactory, WasmDriver }
