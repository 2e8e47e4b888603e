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
const now = () => Date.now()
const clock = typeof performance === 'object' && performance !== null ? () => performance.now() : now

/**
 * The driver factory over an initialised wasm-bindgen module (`glue`).
 * @param {object} glue the generated module's exports (`WasmClient`, `knownOptions`, `maxBodyBytes`)
 * @param {{ transport: { send: Function, check?: Function }, env: object, note?: string }} how
 *   `transport.send(request, { caCert, background, signal, maxBody })` resolves to an answer or a
 *   failure (see lib/wasm/failure.js); `transport.check(options)` may refuse options it cannot
 *   honour; `env` is where unset credentials are read (process.env, or {}); `note` is logged once
 *   through the first logger there is (the Node fallback says why it runs).
 */
function wasmDriverFactory(glue, { transport, env, note }) {
  const known = Object.freeze(JSON.parse(glue.knownOptions()))
  const maxBody = glue.maxBodyBytes()
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
    const driver = new WasmDriver(client, transport, log, prepared.native.caCert, maxBody)
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
  #caCert
  #maxBody
  #provider
  /** One controller per exchange in flight: close() aborts them all. */
  #inFlight = new Set()

  constructor(client, transport, log, caCert, maxBody) {
    this.#client = client
    this.#transport = transport
    this.#log = log
    this.#caCert = caCert
    this.#maxBody = maxBody
    this.#provider = client.provider
  }

  get provider() {
    return this.#provider
  }

  plan() {
    return JSON.parse(this.#client.plan(now()))
  }

  exchange() {
    return this.#run(false)
  }

  exchangeInBackground(done) {
    this.#run(true).then(done)
  }

  invalidate() {
    this.#client.invalidate()
  }

  close() {
    this.#client.close()
    for (const controller of this.#inFlight) controller.abort()
  }

  /** One exchange, stepped through the core; resolves to `{ session, freshUntil }` or `{ error }`. */
  async #run(background) {
    const controller = new AbortController()
    const { signal } = controller
    this.#inFlight.add(controller)
    const run = this.#client.begin(background, now())
    try {
      let step = JSON.parse(run.first())
      for (;;) {
        this.#emit(step.log)
        if (step.done !== undefined) return step.done
        if (step.waitMs !== undefined) {
          await sleep(step.waitMs, signal, background)
          step = JSON.parse(run.resume(now()))
          continue
        }
        const sentAt = now()
        const started = clock()
        const answer = await this.#send(step.send, background, signal)
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
      this.#inFlight.delete(controller)
      run.free()
    }
  }

  async #send(request, background, signal) {
    if (signal.aborted) return { failure: ABORTED }
    try {
      return await this.#transport.send(request, { caCert: this.#caCert, background, signal, maxBody: this.#maxBody })
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

/** Wait `ms`, or less if `signal` fires. A background wait does not hold a Node event loop. */
function sleep(ms, signal, background) {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    if (background && typeof timer === 'object' && typeof timer.unref === 'function') timer.unref()
    signal.addEventListener('abort', done, { once: true })
  })
}

module.exports = { wasmDriverFactory }
