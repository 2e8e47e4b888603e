'use strict'
// The wasm driver: the same contract as the native binding's NativeClient (see lib/client.js),
// over the wasm build of the core (src/wasm/). The core decides everything (lifecycle, retries,
// fall backs, parsing, errors, debug lines); this file only moves bytes: it asks the core for a
// request description, sends it with a transport (the runtime's fetch, or node:https in the
// Node fallback), and hands the answer back, with the time and the jitter.
//
// No Node built-ins here: the edge entries bundle this file.

const { VendorAuthError, fromNative } = require('../errors')
const { prepareOptions, containedLogger } = require('../options')
const { ABORTED, OTHER } = require('./failure')

const OUR_CODES = new Set(['INVALID_OPTIONS', 'INSECURE_URL'])
const CLOSED_MESSAGE = 'the client was closed; create a new one to get tokens again'
/** What a closed driver plans: nothing to serve, no exchange (the client checks `closed` first). */
const CLOSED_PLAN = Object.freeze({ action: 3, until: 0, error: { code: 'CLOSED', message: CLOSED_MESSAGE } })
const now = () => Date.now()
const clock = typeof performance === 'object' && performance !== null ? () => performance.now() : now

/**
 * The driver factory over an initialised wasm-bindgen module (`glue`).
 * @param {object} glue the generated module's exports (`WasmClient`, `knownOptions`, `maxBodyBytes`, `answerHeaders`)
 * @param {{ transport: { send: Function, check?: Function }, env: object, note?: string }} how
 *   `transport.send(request, { caCert, background, closing, maxBody, answerHeaders })` resolves to
 *   an answer (with the `answerHeaders` the core reads, as [name, value] pairs) or a
 *   failure (see lib/wasm/failure.js), and ends early when `closing` (a `Closing`) fires; `transport.check(options)` may refuse options it cannot
 *   honour; `env` is where unset credentials are read (process.env, or {}); `note` is logged once
 *   through the first logger there is (the Node fallback says why it runs).
 */
function wasmDriverFactory(glue, { transport, env, note }) {
  const known = Object.freeze(JSON.parse(glue.knownOptions()))
  const maxBody = glue.maxBodyBytes()
  const answerHeaders = Object.freeze(JSON.parse(glue.answerHeaders()))
  let pendingNote = note
  return function createDriver(options) {
    const prepared = prepareOptions(options, known)
    if (transport.check) transport.check(prepared.native)
    let client
    try {
      client = new glue.WasmClient(JSON.stringify(prepared.native, numbersAsText), env)
    } catch (error) {
      throw fromWire(error)
    }
    const log = containedLogger(prepared.logger)
    if (pendingNote !== undefined && log !== undefined) {
      log(pendingNote)
      pendingNote = undefined
    }
    const driver = new WasmDriver(client, transport, log, { caCert: prepared.native.caCert, maxBody, answerHeaders })
    return { driver, logger: prepared.logger, signal: prepared.signal }
  }
}

/** Numbers go as text (JSON has no NaN or Infinity; the core refuses those by name). */
function numbersAsText(key, value) {
  return typeof value === 'number' ? String(value) : value
}

/** The constructor's refusal (its fields as JSON text), as a VendorAuthError. */
function fromWire(error) {
  if (typeof error === 'string') {
    try {
      const fields = JSON.parse(error)
      if (OUR_CODES.has(fields.code)) return fromNative(fields)
    } catch {
      // not ours: below
    }
  }
  return new VendorAuthError('INVALID_OPTIONS', String(error && error.message ? error.message : error))
}

class WasmDriver {
  #client
  #transport
  #log
  /** What every transport call gets besides the request: `{ caCert, maxBody, answerHeaders }`. */
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

  plan() {
    if (this.#client === null) return CLOSED_PLAN
    return JSON.parse(this.#client.plan(now()))
  }

  exchange() {
    return this.#run(false)
  }

  exchangeInBackground(done) {
    // Nobody awaits a background exchange: even a failure of the driver itself (a bug: a trap in
    // the instance) must reach `done` as an outcome, not become an unhandled rejection.
    this.#run(true).then(done, (error) =>
      done({
        error: {
          code: 'NETWORK',
          message: `the background refresh failed inside the wasm build: ${error && error.message}`,
          provider: this.#provider,
        },
      }),
    )
  }

  invalidate() {
    if (this.#client !== null) this.#client.invalidate()
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
  async #run(background) {
    if (this.#client === null) return { error: { code: 'CLOSED', message: CLOSED_MESSAGE, provider: this.#provider } }
    const closing = this.#closing
    const run = this.#client.begin(background, now())
    try {
      let step = JSON.parse(run.first())
      for (;;) {
        this.#emit(step.log)
        if (step.done !== undefined) return step.done
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

module.exports = { wasmDriverFactory }
