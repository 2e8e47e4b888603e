'use strict'
// The auto-refreshing client. The hot path (a fresh token) stays in JavaScript: one field read,
// one clock read, one resolved promise. Rust is called only when a token is due, and holds the
// credentials; JS holds only the current header.

const { inspect } = require('node:util')
const { VendorAuthError } = require('./errors')
const { createNative, exchange } = require('./native')
const { Session } = require('./session')

/** A token this close to expiry is not handed out (at most 10% of its lifetime). */
const SAFETY_MARGIN_MS = 10_000
/** Background refresh retries: full-jitter backoff from 1 s, doubling, up to 60 s. */
const BACKGROUND_BACKOFF_BASE_MS = 1_000
const BACKGROUND_BACKOFF_MAX_MS = 60_000

const EMPTY = Object.freeze({ session: null, header: null, refreshAt: 0, usableUntil: 0 })

class AuthClient {
  #native
  #logger
  #refreshWindowMs
  /** The current token state, replaced as a whole (never mutated). */
  #state = EMPTY
  #foreground = null
  /** While a foreground exchange is in flight: the one header promise every caller shares. */
  #pendingHeader = null
  #background = null
  #backgroundFailures = 0
  #nextBackgroundAt = 0
  #closed = false

  /** @param {import('./index').ClientOptions} options */
  constructor(options) {
    const { native, logger, signal } = createNative(options)
    if (signal) {
      native.close()
      throw new VendorAuthError('INVALID_OPTIONS', 'signal is an authenticate() option; stop a client with close()')
    }
    this.#native = native
    this.#logger = logger
    this.#refreshWindowMs = native.refreshWindowMs
  }

  /** The provider id (`'vendy'`, `'puppetvendors'`). */
  get provider() {
    return this.#native.provider
  }

  /** `{ Authorization: 'Bearer …' }` or `{ 'x-access-token': '…' }` (a frozen object). */
  authHeader() {
    const state = this.#state
    if (Date.now() < state.refreshAt) return Promise.resolve(state.header)
    if (this.#pendingHeader !== null) return this.#pendingHeader
    const ready = this.#ready()
    if (ready !== this.#foreground) return ready.then(headerOf)
    // A herd on a cold client: one derived promise for all, not one per caller.
    this.#pendingHeader = ready.then(headerOf)
    return this.#pendingHeader
  }

  /** The current session (same shape as `authenticate()`'s). */
  getSession() {
    return this.#ready().then(sessionOf)
  }

  /** Forget the cached token (e.g. after the vendor answered 401): the next call gets a new one. */
  invalidate() {
    this.#log('token invalidated')
    this.#state = EMPTY
    this.#nextBackgroundAt = 0
    this.#native.invalidate()
  }

  /** Stop: in-flight and later calls reject with code CLOSED. */
  close() {
    if (this.#closed) return
    this.#closed = true
    this.#state = EMPTY
    this.#pendingHeader = null
    this.#native.close()
  }

  /** A state whose token may be handed out, waiting for an exchange if needed. */
  #ready() {
    if (this.#closed) return Promise.reject(closedError(this.provider))
    const now = Date.now()
    const state = this.#state
    if (now < state.usableUntil) {
      if (now >= state.refreshAt) this.#refreshInBackground(now)
      return Promise.resolve(state)
    }
    // No token, or too close to expiry: everyone waits for one shared exchange.
    this.#foreground ??= this.#runForeground().finally(() => {
      this.#foreground = null
      this.#pendingHeader = null
    })
    return this.#foreground
  }

  async #runForeground() {
    if (this.#background) {
      await this.#background // never rejects
      if (Date.now() < this.#state.usableUntil) return this.#state
    }
    return this.#exchange(false)
  }

  #refreshInBackground(now) {
    if (this.#background || this.#foreground || now < this.#nextBackgroundAt) return
    this.#log('token inside the refresh window: refreshing in the background')
    this.#background = this.#exchange(true)
      .catch((error) => this.#backgroundFailed(error))
      .finally(() => {
        this.#background = null
      })
  }

  #backgroundFailed(error) {
    if (this.#closed) return
    this.#backgroundFailures += 1
    const ceiling = Math.min(
      BACKGROUND_BACKOFF_MAX_MS,
      BACKGROUND_BACKOFF_BASE_MS * 2 ** (this.#backgroundFailures - 1),
    )
    const delay = Math.max(Math.floor(Math.random() * ceiling), error.retryAfterMs || 0)
    this.#nextBackgroundAt = Date.now() + delay
    this.#log(`background refresh failed (${error.code}); serving the current token, next try in ${delay} ms`)
  }

  async #exchange(background) {
    const session = await exchange(this.#native, background, this.#logger)
    if (this.#closed) throw closedError(this.provider)
    return this.#install(session)
  }

  #install(native) {
    // A new token starts with a clean slate: no backoff left over from refreshing the old one.
    this.#backgroundFailures = 0
    this.#nextBackgroundAt = 0
    const session = new Session(native)
    const lifetime = Math.max(0, session.expiresAt - Date.now())
    const margin = Math.min(SAFETY_MARGIN_MS, lifetime * 0.1)
    // A window longer than half the lifetime would make a short-lived token "due" most of its life.
    const window = Math.max(margin, Math.min(this.#refreshWindowMs, lifetime * 0.5))
    this.#state = Object.freeze({
      session,
      header: Object.freeze({ [session.headerName]: session.headerValue }),
      refreshAt: session.expiresAt - window,
      usableUntil: session.expiresAt - margin,
    })
    return this.#state
  }

  #log(line) {
    if (this.#logger) this.#logger(`${this.provider} ${line}`)
  }

  toJSON() {
    const { session } = this.#state
    return { provider: this.provider, closed: this.#closed, session: session ? session.toJSON() : null }
  }

  [inspect.custom](depth, options, inspectFn = inspect) {
    return `AuthClient ${inspectFn(this.toJSON(), options)}`
  }
}

if (typeof Symbol.dispose === 'symbol') {
  AuthClient.prototype[Symbol.dispose] = AuthClient.prototype.close
}

function headerOf(state) {
  return state.header
}

function sessionOf(state) {
  return state.session
}

function closedError(provider) {
  return new VendorAuthError('CLOSED', 'the client was closed; create a new one to get tokens again', { provider })
}

/** Same as `new AuthClient(options)`. */
function createClient(options) {
  return new AuthClient(options)
}

module.exports = { AuthClient, createClient }
