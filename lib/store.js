'use strict'
// The shared token store (`tokenStore` option): many processes, one token.
//
// The core's lifecycle still decides *when* (plan(): serve / refresh / exchange / reject); this
// file changes only *how* a due token is obtained. It is called only when the plan says exchange
// or refresh, never on the hot path:
//   1. read the store: a session newer than ours (sealed by the core, opened by the core) is
//      adopted through the same path as `initialSession`; a shared rate limit is remembered, so
//      the plan rejects at once (one 429 stops the fleet);
//   2. else take the lock (owner = random id, expiry > one whole exchange), look again, exchange,
//      publish the sealed session (or the rate limit), release (compare-and-delete);
//   3. a caller that finds the lock taken waits (polling, bounded) for the holder's session and
//      adopts it, or takes the lock once a dead holder's lock expired; a background refresh that
//      finds it taken just keeps serving its token and looks again a little later.
// Any store fault, throw or slow answer (storeTimeoutMs) means: exchange on our own, say so once
// (logger and an 'error' event with code STORE_UNAVAILABLE), and try the store again later.
//
// No Node built-ins here: the same file serves every build (native, the Node fallback and the edge
// entries), with Web Crypto's getRandomValues for nonces; the key and the sealed format are the
// core's, so a fleet that mixes builds shares one entry.

const { VendorAuthError } = require('./errors')
const { exchange } = require('./outcome')

const METHODS = ['get', 'set', 'lock', 'release']
const DEFAULT_TIMEOUT_MS = 300
/** After a store fault, exchange on our own for this long before asking the store again. */
const RETRY_AFTER_FAULT_MS = 2000
/** A background refresh that finds the lock taken looks again after this. */
const DEFER_MS = 250
/** Waiting for the lock holder: poll intervals, growing to the last one. */
const POLL_MS = [5, 10, 20, 40, 80, 100]
/** `plan(now).action` values (`Plan::action` in src/lifecycle.rs). */
const SERVE = 'serve'
const REFRESH = 'refresh'

const NONCE_BYTES = 24

/** A store call that failed, threw, or did not answer within storeTimeoutMs. */
class StoreFault extends Error {
  constructor(op, why, cause) {
    super(`${op} ${why}`, cause === undefined ? undefined : { cause })
    this.op = op
    this.why = why
  }
}

/**
 * The store's methods, read once: own data properties of the object or of its class prototypes
 * (never Object.prototype, never a getter), so a polluted prototype or a getter cannot inject
 * code.
 */
function storeMethods(store) {
  if (store === null || typeof store !== 'object') {
    throw new VendorAuthError(
      'INVALID_OPTIONS',
      'tokenStore must be an object with get, set, lock and release (see redisTokenStore())',
    )
  }
  const methods = Object.create(null)
  for (const name of METHODS) {
    for (let o = store; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
      const d = Object.getOwnPropertyDescriptor(o, name)
      if (d !== undefined) {
        if (typeof d.value === 'function') methods[name] = d.value
        break
      }
    }
    if (methods[name] === undefined) {
      throw new VendorAuthError(
        'INVALID_OPTIONS',
        `tokenStore has no ${name}() method; a store has get(key), set(key, value, ttlMs), lock(key, owner, ttlMs) and release(key, owner)`,
      )
    }
  }
  return methods
}

function checkTimeout(value) {
  if (value === undefined || value === null) return DEFAULT_TIMEOUT_MS
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 60_000) {
    throw new VendorAuthError('INVALID_OPTIONS', 'storeTimeoutMs must be an integer from 1 to 60000')
  }
  return value
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

const random = (bytes) => globalThis.crypto.getRandomValues(new Uint8Array(bytes))
const nonce = () => random(NONCE_BYTES)
/** A lock owner's id: 16 random bytes as hex. */
const ownerId = () => Array.from(random(16), (byte) => byte.toString(16).padStart(2, '0')).join('')

class SharedStore {
  #store
  #methods
  #native
  #timeoutMs
  #log
  #report
  #isClosed
  #keys
  #lockTtlMs
  /** After a fault, the store is skipped until then. */
  #skipUntil = 0
  #degraded = false

  /**
   * @param {object} store the user's tokenStore
   * @param {{ native: object, timeoutMs?: number, log: (line: string) => void,
   *   report: (error: VendorAuthError) => void, isClosed: () => boolean }} context
   */
  constructor(store, { native, timeoutMs, log, report, isClosed }) {
    this.#methods = storeMethods(store)
    this.#store = store
    this.#native = native
    this.#timeoutMs = checkTimeout(timeoutMs)
    this.#log = log
    this.#report = report
    this.#isClosed = isClosed
    // The holder's lock outlives its whole exchange plus its own store calls (lock, look again,
    // publish), so that it never expires under a live holder.
    this.#lockTtlMs = native.exchangeTimeoutMs + 3 * this.#timeoutMs + 500
  }

  /** The store keys of this client's credentials (no secret in them). */
  get keys() {
    // Derived at first use: a client whose credentials are still missing has no key yet.
    if (this.#keys === undefined) {
      const id = this.#native.storeKey()
      this.#keys = Object.freeze({ session: `${id}:session`, lock: `${id}:lock`, rateLimit: `${id}:rate-limit` })
    }
    return this.#keys
  }

  /**
   * Get a token the store's way. `current`: our session (or null); `dropped`: a token that was
   * invalidated (never adopted again). Resolves to a native outcome (of our own exchange, or of
   * adopting the store's session) or to `null` when there is nothing new and the caller should
   * ask the plan again (a shared rate limit was remembered, or another process is refreshing).
   */
  async obtain(background, current, dropped) {
    if (Date.now() < this.#skipUntil) return this.#own(background, false)
    try {
      const seen = await this.#look(current, dropped)
      if (seen !== undefined) return seen
      const owner = ownerId()
      if (await this.#call('lock', this.keys.lock, owner, this.#lockTtlMs)) {
        return await this.#hold(background, owner, current, dropped)
      }
      if (background) {
        this.#native.deferRefresh(DEFER_MS, Date.now())
        this.#log('token store: another process is refreshing; serving the current token')
        return null
      }
      return await this.#wait(owner, current, dropped)
    } catch (error) {
      if (!(error instanceof StoreFault)) throw error
      this.#fault(error)
      return this.#own(background, false)
    }
  }

  /** As the lock holder: look once more, exchange, publish, release. */
  async #hold(background, owner, current, dropped) {
    let result
    try {
      // Another holder may have published between our read and our lock.
      result = await this.#look(current, dropped)
      if (result === undefined) {
        result = await exchange(this.#native, background)
        await this.#publish(result)
      }
    } catch (error) {
      if (!(error instanceof StoreFault)) throw error
      this.#fault(error)
      if (result === undefined) result = await this.#own(background, false)
    }
    // Awaited: a process frozen right after answering (serverless) must not sit on the lock.
    await this.#call('release', this.keys.lock, owner).then(undefined, (error) => this.#fault(error))
    return result
  }

  /** The lock is taken: wait for the holder's session, or take over a lock that expired. */
  async #wait(owner, current, dropped) {
    // A duration on the monotonic clock: the holder's real time, whatever the wall clock does.
    const deadline = performance.now() + this.#lockTtlMs + 1000
    for (let i = 0; performance.now() < deadline; i++) {
      await sleep(POLL_MS[Math.min(i, POLL_MS.length - 1)])
      if (this.#isClosed()) return null
      const seen = await this.#look(current, dropped)
      if (seen !== undefined) return seen
      if (await this.#call('lock', this.keys.lock, owner, this.#lockTtlMs)) {
        this.#log('token store: took over the lock')
        return this.#hold(false, owner, current, dropped)
      }
    }
    this.#log(`token store: no session from the lock holder within ${this.#lockTtlMs + 1000} ms; exchanging on our own`)
    return this.#own(false, true)
  }

  /**
   * Read the store: the adoption's outcome for a usable session newer than ours (adopted), `null` when a
   * shared rate limit is now remembered, `undefined` when there is nothing to use.
   */
  async #look(current, dropped) {
    const [sealed, limit] = await Promise.all([
      this.#call('get', this.keys.session),
      this.#call('get', this.keys.rateLimit),
    ])
    this.#healthy()
    let adopted
    if (typeof sealed === 'string' && sealed !== '') adopted = this.#adopt(sealed, current, dropped)
    // After the session: adopting one ends every remembered failure.
    const limited = typeof limit === 'string' && limit !== '' && this.#native.adoptRateLimit(limit, Date.now())
    if (adopted !== undefined) return adopted
    return limited ? null : undefined
  }

  #adopt(sealed, current, dropped) {
    const seed = this.#native.openSession(sealed)
    if (seed === null) {
      this.#log('token store: a stored session did not open (other credentials, or changed); ignored')
      return undefined
    }
    if (seed.token === dropped) return undefined
    if (current !== null && (seed.token === current.token || seed.expiresAt <= current.expiresAt)) return undefined
    const outcome = this.#native.adopt(seed, Date.now())
    if (outcome.error) {
      this.#log(`token store: a stored session cannot be used (${outcome.error.code}); ignored`)
      return undefined
    }
    const plan = this.#native.plan(Date.now())
    if (plan.action !== SERVE && plan.action !== REFRESH) return undefined
    this.#log('token store: adopted the shared session')
    return outcome
  }

  /** After an exchange: share the new session, or the rate limit it ran into. */
  async #publish(outcome) {
    if (outcome.session) {
      const sealed = this.#native.sealSession(nonce(), Date.now())
      if (sealed !== null) await this.#call('set', this.keys.session, sealed.value, Math.ceil(sealed.ttlMs))
    } else {
      const sealed = this.#native.sealRateLimit(nonce(), Date.now())
      if (sealed !== null) await this.#call('set', this.keys.rateLimit, sealed.value, Math.ceil(sealed.ttlMs))
    }
  }

  /** Our own exchange, without the lock. `share`: publish the result (best effort). */
  async #own(background, share) {
    const outcome = await exchange(this.#native, background)
    if (share && Date.now() >= this.#skipUntil) {
      try {
        await this.#publish(outcome)
      } catch (error) {
        if (!(error instanceof StoreFault)) throw error
        this.#fault(error)
      }
    }
    return outcome
  }

  /** One store call, bounded by storeTimeoutMs; a throw, rejection or timeout is a StoreFault. */
  #call(op, ...args) {
    let timer
    const timeout = new Promise((resolve, reject) => {
      timer = setTimeout(
        () => reject(new StoreFault(op, `took over storeTimeoutMs = ${this.#timeoutMs} ms`)),
        this.#timeoutMs,
      )
      // A store that never answers must not keep the process alive.
      if (typeof timer.unref === 'function') timer.unref()
    })
    let answer
    try {
      answer = Reflect.apply(this.#methods[op], this.#store, args)
    } catch (error) {
      clearTimeout(timer)
      return Promise.reject(new StoreFault(op, `threw (${kindOf(error)})`, error))
    }
    return Promise.race([
      Promise.resolve(answer).then(undefined, (error) => {
        throw new StoreFault(op, `failed (${kindOf(error)})`, error)
      }),
      timeout,
    ]).finally(() => clearTimeout(timer))
  }

  #healthy() {
    if (!this.#degraded) return
    this.#degraded = false
    this.#log('token store answers again: sharing tokens')
  }

  #fault(fault) {
    this.#skipUntil = Date.now() + RETRY_AFTER_FAULT_MS
    this.#log(
      `token store ${fault.message}: exchanging on our own; trying the store again in ${RETRY_AFTER_FAULT_MS} ms`,
    )
    if (this.#degraded) return
    this.#degraded = true
    this.#report(
      new VendorAuthError(
        'STORE_UNAVAILABLE',
        `the token store's ${fault.op}() ${fault.why}; this process gets its own tokens until the store answers again`,
        { provider: this.#native.provider, cause: fault.cause },
      ),
    )
  }
}

function kindOf(error) {
  return error !== null && typeof error === 'object' && typeof error.name === 'string'
    ? `${error.name}${typeof error.code === 'string' ? ` ${error.code.slice(0, 40)}` : ''}`
    : typeof error
}

module.exports = { SharedStore, storeMethods, DEFAULT_TIMEOUT_MS }
