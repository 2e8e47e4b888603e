'use strict'
// The auto-refreshing client.
//
// What this side owns: the hot path (one field read, one clock read, one resolved promise),
// sharing one in-flight exchange among all callers, caller deadlines (AbortSignal), and turning
// outcomes into the header and Session callers get.
// What it does not own: *when* to exchange, refresh, back off or refuse. That is the Rust core's
// lifecycle policy (src/lifecycle.rs), asked through `driver.plan(now)` whenever the hot path cannot
// answer. JS keeps only the current header and Session and the `freshUntil` time the core gave.
//
// The driver (the native binding, lib/native.js, or the wasm build, lib/wasm/driver.js) is a
// thin translator over the core's one driver (src/driver.rs); its contract is the type
// `Driver` in lib/driver.d.ts, which both are checked against (__test__/driver-contract.test.js). Time is an input: every call that
// depends on it takes `now` (this file passes `Date.now()`, so a test that mocks `Date` drives
// the client's clock). It provides: `provider`, `plan(now)` → { action: 'serve' | 'refresh' |
// 'exchange' | 'reject', until, error }, `exchange(now)` / `exchangeInBackground(now, done)` →
// { session, freshUntil, error }, `current()` (the session the core holds from the start, e.g.
// a permanent credential), `adopt(seed, now)` (initialSession), `pending` / `resolve(env)` (lazy
// credentials), `invalidate()` → whether it dropped one, and `close()`; with a `tokenStore`, the
// store methods lib/store.js uses. `defineClient(createDriver)` makes the client class for one
// of them; the class is the same code for both.
//
// No Node built-ins here (the edge entry bundles this file): redaction uses the symbol that
// `util.inspect` looks for, and the shared store (node:crypto) comes from the driver factory.

const { VendorAuthError, fromCore } = require('./errors')
const { exchange, ownOutcome, ready } = require('./outcome')
const { checkSignal } = require('./options')
const { Session, INSPECT } = require('./session')
const { authFetch } = require('./fetch')
const { Listeners } = require('./events')
const { Credentials } = require('./credentials')

/** `plan(now).action` values (`Plan::action` in src/lifecycle.rs). */
const SERVE = 'serve'
const REFRESH = 'refresh'
const REJECT = 'reject'

const EMPTY = Object.freeze({ session: null, header: null, freshUntil: 0 })

/**
 * The client class over one kind of driver. `createDriver(options)` validates the options and
 * returns `{ driver, logger, signal, initialSession, tokenStore, storeTimeoutMs, sessionFields,
 * SharedStore }` (throwing a VendorAuthError before any I/O).
 */
function defineClient(createDriver) {
  class AuthClient {
    #driver
    #logger
    /** The current token state, replaced as a whole (never mutated). */
    #state = EMPTY
    #foreground = null
    /** While a foreground exchange is in flight: the one header promise every caller shares. */
    #pendingHeader = null
    #background = null
    #closed = false
    #events = new Listeners((line) => this.#log(line))
    /** The shared token store (`tokenStore`), or null. */
    #shared = null
    /** Credentials given as functions (lib/credentials.js), or null. */
    #credentials = null
    /** The session fields a vendor declares (from the core's schema), by provider id. */
    #sessionFields

    /** @param {import('./index').ClientOptions} options */
    constructor(options) {
      const {
        driver,
        credentials,
        logger,
        signal,
        initialSession,
        tokenStore,
        storeTimeoutMs,
        sessionFields,
        SharedStore,
      } = createDriver(options)
      this.#driver = driver
      if (credentials !== undefined) this.#credentials = new Credentials(credentials, driver)
      this.#logger = logger
      this.#sessionFields = sessionFields
      try {
        if (signal) {
          throw new VendorAuthError(
            'INVALID_OPTIONS',
            'signal is a per-call option here: authHeader({ signal }) / getSession({ signal }); stop a client with close()',
          )
        }
        if (storeTimeoutMs !== undefined && tokenStore === undefined) {
          throw new VendorAuthError('INVALID_OPTIONS', 'storeTimeoutMs applies to a tokenStore; pass one too')
        }
        if (tokenStore !== undefined) {
          this.#shared = new SharedStore(tokenStore, {
            driver,
            timeoutMs: storeTimeoutMs,
            log: (line) => this.#rawLog(line),
            report: (error) => this.#events.emit('error', error),
          })
        }
        // A permanent credential (Vendy's scheme 'basic') is the core's from the start: served
        // from the first call, with no exchange.
        const current = driver.current()
        if (current) this.#install(ownOutcome(current))
        if (initialSession !== undefined) this.#seed(initialSession)
      } catch (error) {
        driver.close()
        throw error
      }
    }

    /**
     * Listen: `'refresh'` gets each new Session (redacted when printed), `'error'` each failed
     * exchange (foreground or background). An `'error'` without a listener is dropped, and a
     * listener that throws is reported to the debug logger: neither can break a call or the
     * process. Returns the client.
     */
    on(event, listener) {
      this.#events.add(event, listener, false)
      return this
    }

    /** Like `on`, for one event only. */
    once(event, listener) {
      this.#events.add(event, listener, true)
      return this
    }

    /** Remove a listener added with `on` / `once`. */
    off(event, listener) {
      this.#events.remove(event, listener)
      return this
    }

    /**
     * Remove every listener of `event`, or of every event when none is given (as EventEmitter's).
     * An emit under way still reaches the listeners it started with. Returns the client.
     */
    removeAllListeners(event) {
      this.#events.clear(event)
      return this
    }

    /** Number of listeners of an event. */
    listenerCount(event) {
      return this.#events.count(event)
    }

    /** The provider id (`'vendy'`, `'puppetvendors'`). */
    get provider() {
      return this.#driver.provider
    }

    /**
     * `{ Authorization: 'Bearer …' }` or `{ 'x-access-token': '…' }` (a frozen object). With
     * `{ signal }`, rejects with `ABORTED` when the signal fires (the shared exchange goes on for
     * other callers). Never throws synchronously.
     */
    authHeader(options) {
      const state = this.#state
      if (options === undefined && Date.now() < state.freshUntil) return Promise.resolve(state.header)
      return this.#get(options, headerOf)
    }

    /** The current session (same shape as `authenticate()`'s); takes `{ signal }` like authHeader. */
    getSession(options) {
      return this.#get(options, sessionOf)
    }

    /**
     * Forget the cached token so that the next call gets a new one. Given the header object from
     * `authHeader()` (or the token, or the header value) that the vendor's API refused, it drops the
     * token only if that is still the current one: many callers that saw the same 401 cause one
     * new exchange, not one each. Returns whether the token was dropped. Also ends a cool-down
     * after refused credentials. A permanent credential (Vendy's scheme 'basic') is never dropped:
     * no exchange could give another, so this returns false.
     */
    invalidate(stale) {
      if (stale !== undefined && !this.#isCurrent(stale)) return false
      if (!this.#driver.invalidate()) {
        this.#log('invalidate(): a permanent credential is kept (nothing to fetch again)')
        return false
      }
      this.#log(stale === undefined ? 'token invalidated' : 'token invalidated (refused by the API)')
      this.#state = EMPTY
      return true
    }

    /**
     * The global `fetch` with this client's auth header merged into the request's headers, for
     * the origins the client trusts (the vendor's API, baseUrl's, `allowedOrigins`; any other is
     * INSECURE_URL before a request). A redirect to another origin is followed without the
     * header. On a 401 to a request that carried the token, it invalidates that token and retries
     * once with a new one, unless the body cannot be sent twice (a stream): then the 401 response
     * is returned as it is.
     */
    fetch(input, init) {
      return authFetch(this, input, init, (url) => {
        const refusal = this.#driver.checkOrigin(url)
        if (refusal) throw fromCore(refusal)
      })
    }

    /** Stop: in-flight and later calls reject with code CLOSED. */
    close() {
      if (this.#closed) return
      this.#closed = true
      this.#state = EMPTY
      this.#pendingHeader = null
      this.#driver.close()
      if (this.#shared) this.#shared.close()
    }

    #get(options, pick) {
      let signal
      try {
        signal = callSignal(options)
      } catch (error) {
        return Promise.reject(error)
      }
      if (signal !== undefined) {
        if (signal.aborted) return Promise.reject(abortError(signal, this.provider))
        return whileNotAborted(this.#ready(), signal, this.provider).then(pick)
      }
      if (pick !== headerOf) return this.#ready().then(pick)
      if (this.#pendingHeader !== null) return this.#pendingHeader
      const ready = this.#ready()
      if (ready !== this.#foreground) return ready.then(headerOf)
      // A herd on a cold client: one derived promise for all, not one per caller.
      this.#pendingHeader = ready.then(headerOf)
      return this.#pendingHeader
    }

    /** A state whose token may be handed out, waiting for an exchange if the core says so. */
    #ready() {
      if (this.#closed) return Promise.reject(closedError(this.provider))
      const state = this.#state
      if (Date.now() < state.freshUntil) return Promise.resolve(state)
      if (this.#foreground !== null) return this.#foreground
      let plan
      try {
        plan = ownOutcome(this.#driver.plan(Date.now()))
      } catch (error) {
        return Promise.reject(error)
      }
      if (plan.action === REJECT) {
        // Refused credentials given as a function: ask it once more, a rotated key is tried at once.
        if (this.#credentials === null || !this.#credentials.mayEnd(plan.error)) {
          return Promise.reject(fromCore(plan.error))
        }
        this.#foreground = this.#retryRefused(plan.error).finally(() => {
          this.#foreground = null
          this.#pendingHeader = null
        })
        return this.#foreground
      }
      if ((plan.action === SERVE || plan.action === REFRESH) && state.header !== null) {
        this.#state = Object.freeze({ ...state, freshUntil: plan.until })
        if (plan.action === REFRESH) this.#refreshInBackground()
        return Promise.resolve(state)
      }
      // No usable token: everyone waits for one shared exchange.
      this.#foreground = this.#runForeground().finally(() => {
        this.#foreground = null
        this.#pendingHeader = null
      })
      return this.#foreground
    }

    async #runForeground() {
      if (this.#background !== null) {
        await this.#background // never rejects
        if (this.#closed) throw closedError(this.provider)
        const state = this.#state
        if (state.header !== null) {
          const { action } = ownOutcome(this.#driver.plan(Date.now()))
          if (action === SERVE || action === REFRESH) return state
        }
      }
      return this.#exchange(false)
    }

    #refreshInBackground() {
      if (this.#background !== null || this.#foreground !== null) return
      this.#log('token inside the refresh window: refreshing in the background')
      // Over in the same step as its outcome: a call in between would be told "refresh" while
      // this one still counted as in flight, and start nothing until the safety margin.
      this.#background = this.#exchange(true).then(
        () => {
          this.#background = null
        },
        () => {
          this.#background = null
          // The core logged it and knows the backoff: ask it again on the next call.
          if (!this.#closed) this.#state = Object.freeze({ ...this.#state, freshUntil: 0 })
        },
      )
    }

    /** After a refusal: the credential functions' values again; a changed one is tried at once. */
    async #retryRefused(planError) {
      if (!(await this.#askCredentials())) throw fromCore(planError) // unchanged: the cool-down stands
      return this.#exchange(false, true)
    }

    /** Ask the credential functions (if any); whether a value changed. Rejects as an exchange would. */
    async #askCredentials() {
      let changed
      try {
        changed = await this.#credentials.refresh()
      } catch (error) {
        if (this.#closed) throw closedError(this.provider)
        this.#events.emit('error', error)
        throw error
      }
      if (this.#closed) throw closedError(this.provider)
      return changed
    }

    async #exchange(background, asked = false) {
      if (this.#credentials !== null && !asked) await this.#askCredentials()
      // Credentials missing at construction are looked for again first (and reported if still
      // missing), before the store is asked anything.
      const outcome =
        this.#shared === null
          ? await exchange(this.#driver, background)
          : (ready(this.#driver) ?? (await this.#shared.obtain(background)))
      if (this.#closed) throw closedError(this.provider)
      if (outcome === null) return this.#replan(background)
      if (outcome.error) {
        const error = fromCore(outcome.error)
        if (this.#credentials !== null) this.#credentials.noteOutcome(error)
        this.#events.emit('error', error)
        throw error
      }
      const state = this.#install(outcome)
      this.#events.emit('refresh', state.session)
      return state
    }

    /** Nothing new from the shared store (a shared rate limit, another process refreshing). */
    #replan(background) {
      const state = this.#state
      if (background) {
        // The core knows how long to wait: ask it again on the next call.
        this.#state = Object.freeze({ ...state, freshUntil: 0 })
        return state
      }
      const plan = ownOutcome(this.#driver.plan(Date.now()))
      if (plan.action === REJECT) throw fromCore(plan.error)
      if ((plan.action === SERVE || plan.action === REFRESH) && state.header !== null) return state
      return this.#exchange(false)
    }

    #install(outcome) {
      const session = new Session(outcome.session)
      this.#state = Object.freeze({
        session,
        header: Object.freeze({ [session.headerName]: session.headerValue }),
        freshUntil: outcome.freshUntil,
      })
      return this.#state
    }

    /** Start from a session the application kept (a Session, or `{ token, expiresAt }`). */
    #seed(kept) {
      const seed = seedFrom(kept, this.provider, this.#sessionFields)
      if (this.#state.header !== null) {
        this.#log('initialSession not used: the credential is permanent, there is no exchange to skip')
        return
      }
      if (seed.expiresAt <= Date.now()) {
        this.#log('initialSession has expired: the first call exchanges')
        return
      }
      const outcome = ready(this.#driver) ?? ownOutcome(this.#driver.adopt(seed, Date.now()))
      if (outcome.error) throw fromCore(outcome.error)
      this.#install(outcome)
      this.#log('started from initialSession')
    }

    /** Whether `stale` (a header object, a `Headers`, the token or the header value) is current. */
    #isCurrent(stale) {
      const { session, header } = this.#state
      if (typeof stale === 'string') {
        if (stale === '') throw invalidStale()
        return session !== null && (stale === session.token || stale === session.headerValue)
      }
      if (stale === null || typeof stale !== 'object') throw invalidStale()
      if (session === null) return false
      if (stale === header) return true
      const value = headerValueIn(stale, session.headerName)
      return value === session.headerValue
    }

    #log(line) {
      this.#rawLog(`${this.provider} ${line}`)
    }

    /** A line that names its provider already (the core's). */
    #rawLog(line) {
      if (this.#logger === undefined) return
      try {
        this.#logger(line)
      } catch {
        // A user's logger never breaks a call.
      }
    }

    toJSON() {
      const { session } = this.#state
      return { provider: this.provider, closed: this.#closed, session: session ? session.toJSON() : null }
    }

    [INSPECT](depth, options, inspectFn) {
      const fields = this.toJSON()
      return `AuthClient ${typeof inspectFn === 'function' ? inspectFn(fields, options) : JSON.stringify(fields)}`
    }
  }

  if (typeof Symbol.dispose === 'symbol') {
    AuthClient.prototype[Symbol.dispose] = AuthClient.prototype.close
  }

  /** Same as `new AuthClient(options)`. */
  function createClient(options) {
    return new AuthClient(options)
  }

  return { AuthClient, createClient }
}

/**
 * The fields of `initialSession`: own properties of a plain object, or a Session's getters. A
 * getter or Proxy trap that throws (or a fake Session) is INVALID_OPTIONS with its error as
 * `cause`, as for any option.
 */
function seedFrom(kept, provider, sessionFields) {
  try {
    return readSeed(kept, provider, sessionFields)
  } catch (error) {
    if (error instanceof VendorAuthError) throw error
    throw new VendorAuthError(
      'INVALID_OPTIONS',
      'initialSession could not be read: a getter or Proxy threw, or it is not a real Session (its error is the cause); pass a Session from authenticate() / getSession(), or { token, expiresAt }',
      { cause: error },
    )
  }
}

function readSeed(kept, provider, sessionFields) {
  const invalid = (why) =>
    new VendorAuthError(
      'INVALID_OPTIONS',
      `initialSession ${why}; pass a Session from authenticate() / getSession(), or { token, expiresAt }`,
    )
  if (kept === null || typeof kept !== 'object') throw invalid('must be an object')
  const read = (key) => (kept instanceof Session || Object.hasOwn(kept, key) ? kept[key] : undefined)
  const token = read('token')
  const expiresAt = read('expiresAt')
  if (typeof token !== 'string' || token === '' || token.endsWith('…')) {
    throw invalid(
      typeof token === 'string' && token.endsWith('…')
        ? 'holds a redacted token (from JSON.stringify or toJSON()); keep session.token itself'
        : 'needs a token string',
    )
  }
  if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt))
    throw invalid('needs expiresAt (ms since the epoch)')
  const kind = read('provider')
  if (kind !== undefined && kind !== provider)
    throw invalid(`is a ${String(kind).slice(0, 20)} session, not ${provider}`)
  // The fields the vendor declares, of the declared type (others are left out).
  const metadata = []
  for (const { name, jsType } of sessionFields(provider)) {
    const value = read(name)
    if (
      jsType === 'string[]'
        ? Array.isArray(value) && value.every((p) => typeof p === 'string')
        : typeof value === 'string'
    ) {
      metadata.push({ name, value })
    }
  }
  return { token, expiresAt, metadata }
}

function headerOf(state) {
  return state.header
}

function sessionOf(state) {
  return state.session
}

/** The `signal` of a per-call options object (own properties only), validated. */
function callSignal(options) {
  if (options === undefined || options === null) return undefined
  if (typeof options !== 'object') {
    throw new VendorAuthError(
      'INVALID_OPTIONS',
      `call options must be an object such as { signal }, not a ${typeof options}`,
    )
  }
  for (const key of Object.keys(options)) {
    if (key !== 'signal') throw new VendorAuthError('INVALID_OPTIONS', `unknown call option '${key}'; known: signal`)
  }
  const signal = Object.hasOwn(options, 'signal') ? options.signal : undefined
  return signal === null ? undefined : checkSignal(signal)
}

/** `promise`, or an `ABORTED` rejection as soon as `signal` fires (the promise goes on). */
function whileNotAborted(promise, signal, provider) {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(abortError(signal, provider))
    signal.addEventListener('abort', onAbort, { once: true })
    const done = () => signal.removeEventListener('abort', onAbort)
    promise.then(
      (value) => {
        done()
        resolve(value)
      },
      (error) => {
        done()
        reject(error)
      },
    )
  })
}

function abortError(signal, provider) {
  return new VendorAuthError('ABORTED', "the call's AbortSignal fired before a token was ready", {
    provider,
    cause: signal.reason,
  })
}

/** The value of header `name` in a header object (own properties, any case) or a `Headers`. */
function headerValueIn(headers, name) {
  try {
    // A Headers of any realm (no instanceof on the edge path): by its shape, on a class instance
    // only (a plain object's `get` could come from a polluted Object.prototype).
    const proto = Object.getPrototypeOf(headers)
    const plain = proto === null || proto === Object.prototype
    if (!plain && typeof headers.get === 'function' && typeof headers.has === 'function') return headers.get(name)
    const wanted = name.toLowerCase()
    for (const key of Object.keys(headers)) {
      if (key.toLowerCase() === wanted) return headers[key]
    }
  } catch {
    // A throwing getter or Proxy: not our header.
  }
  return undefined
}

function invalidStale() {
  return new VendorAuthError(
    'INVALID_OPTIONS',
    'invalidate() takes the header object from authHeader(), the token string, or nothing',
  )
}

function closedError(provider) {
  return new VendorAuthError('CLOSED', 'the client was closed; create a new one to get tokens again', { provider })
}

module.exports = { defineClient, seedFrom }
