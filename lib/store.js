'use strict'
// The shared token store (`tokenStore` option): many processes, one token.
//
// The protocol is the core's (src/coordinator.rs: when to read, lock, publish, wait, adopt, back
// off after a fault; the lock's lifetime; the "newer session" rule; sealing), the same on every
// build. This file only performs its steps: it calls the user's store (each call bounded by
// storeTimeoutMs), sleeps, runs the driver's exchange, and reports each answer back.
//
// No Node built-ins here: the same file serves every build (native, the Node fallback and the edge
// entries), with Web Crypto's getRandomValues for nonces and lock owners.

const { VendorAuthError } = require('./errors')
const { exchange } = require('./outcome')

const METHODS = ['get', 'set', 'lock', 'release']
/**
 * An optional hook of a store (an own property, e.g. redisTokenStore's): `attach(report, log)`
 * lets it report its own faults (`report(cause)`, as STORE_UNAVAILABLE) and returns a detach.
 */
const ATTACH = Symbol.for('vendor-auth.tokenStore.attach')
const DEFAULT_TIMEOUT_MS = 300
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
  #driver
  #timeoutMs
  #log
  #report
  #detach

  /**
   * @param {object} store the user's tokenStore
   * @param {{ driver: object, timeoutMs?: number, log: (line: string) => void,
   *   report: (error: VendorAuthError) => void }} context
   */
  constructor(store, { driver, timeoutMs, log, report }) {
    this.#methods = storeMethods(store)
    this.#store = store
    this.#driver = driver
    this.#timeoutMs = checkTimeout(timeoutMs)
    this.#log = log
    this.#report = report
    const attach = Object.getOwnPropertyDescriptor(store, ATTACH)
    if (attach !== undefined && typeof attach.value === 'function') {
      this.#detach = attach.value((cause) => this.#storeError(cause), log)
    }
  }

  /** Stop hearing from the store (the client closed). */
  close() {
    if (typeof this.#detach === 'function') this.#detach()
    this.#detach = undefined
  }

  /** The store reported a fault of its own (e.g. the Redis connection dropped). */
  #storeError(cause) {
    const provider = this.#driver.provider
    const message = `the token store reported an error (${kindOf(cause)}); each process gets its own tokens while it is down, and no call fails`
    this.#log(`${provider} token store: ${message}`)
    this.#report(new VendorAuthError('STORE_UNAVAILABLE', message, { provider, cause }))
  }

  /**
   * Get a token the store's way. Resolves to an outcome (of our own exchange, or of adopting the
   * store's session) or to `null` when there is nothing new and the caller should ask the plan
   * again (a shared rate limit was remembered, or another process is refreshing).
   */
  async obtain(background) {
    const run = this.#driver.storeRun(background, ownerId(), nonce(), this.#timeoutMs, Date.now())
    let step = run.first()
    let outcome
    let cause
    for (;;) {
      for (const line of step.log) this.#log(line)
      if (step.report !== undefined) this.#unavailable(step.report, cause)
      try {
        switch (step.op) {
          case 'get': {
            const [session, rateLimit, lock] = await Promise.all([
              this.#call('get', step.key),
              this.#call('get', step.rateLimitKey),
              this.#call('get', step.lockKey),
            ])
            step = run.got(text(session), text(rateLimit), text(lock), Date.now())
            break
          }
          case 'lock':
            step = run.locked(Boolean(await this.#call('lock', step.key, step.owner, step.ms)), Date.now())
            break
          case 'set':
            await this.#call('set', step.key, step.value, Math.ceil(step.ms))
            step = run.done()
            break
          case 'release':
            await this.#call('release', step.key, step.owner)
            step = run.done()
            break
          case 'sleep':
            await sleep(step.ms)
            step = run.done()
            break
          case 'exchange':
            outcome = await exchange(this.#driver, step.background)
            step = run.exchanged(outcome.session !== undefined && outcome.session !== null, Date.now())
            break
          default:
            if (step.end === 'adopted') return step.outcome
            if (step.end === 'replan') return null
            // 'exchanged': the exchange this ran (or, if the run broke before one, our own).
            return outcome !== undefined ? outcome : exchange(this.#driver, background)
        }
      } catch (error) {
        if (!(error instanceof StoreFault)) throw error
        cause = error.cause
        step = run.failed(error.op, error.why, Date.now())
      }
    }
  }

  /** The store just became unavailable: the client's 'error' event (the store's error as cause). */
  #unavailable(report, cause) {
    const { code, message, provider } = report
    this.#report(new VendorAuthError(code, message, { provider, cause }))
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
}

/** A stored value the core may read: a non-empty string, else null. */
function text(value) {
  return typeof value === 'string' && value !== '' ? value : null
}

function kindOf(error) {
  return error !== null && typeof error === 'object' && typeof error.name === 'string'
    ? `${error.name}${typeof error.code === 'string' ? ` ${error.code.slice(0, 40)}` : ''}`
    : typeof error
}

module.exports = { SharedStore, storeMethods, DEFAULT_TIMEOUT_MS, ATTACH }
