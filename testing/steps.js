'use strict'
// Fault scripting: validation of steps and the per-endpoint step queues.
//
// A step tells the mock how to answer ONE request to an endpoint. See
// index.d.ts (`MockStep`) for the user-facing description of every key.

const ENDPOINTS = Object.freeze(['vendy.auth', 'pv.authenticate', 'pv.refresh'])

// Every key a step may have, with a validator returning an error text or null.
const isPlainObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v)
const isFiniteNumber = (v) => typeof v === 'number' && Number.isFinite(v)
const isNonNegativeInt = (v) => Number.isSafeInteger(v) && v >= 0

const VALIDATORS = {
  status: (v) => (Number.isInteger(v) && v >= 100 && v <= 599 ? null : 'an integer HTTP status (100-599)'),
  body: (v) =>
    typeof v === 'string' || (v !== null && typeof v === 'object') // objects include Buffer/Uint8Array
      ? null
      : 'a string, Buffer/Uint8Array or JSON-serialisable object/array',
  headers: (v) =>
    isPlainObject(v) && Object.values(v).every((h) => ['string', 'number'].includes(typeof h) || Array.isArray(h))
      ? null
      : 'an object of header name -> string value',
  delayMs: (v) => (isFiniteNumber(v) && v >= 0 ? null : 'a non-negative number of milliseconds'),
  stall: (v) => (v === true || v === false ? null : 'a boolean'),
  reset: (v) => (v === true || v === false ? null : 'a boolean'),
  oversizedBytes: (v) => (isNonNegativeInt(v) ? null : 'a non-negative integer byte count'),
  trickle: (v) =>
    isPlainObject(v) &&
    Number.isSafeInteger(v.chunkBytes) &&
    v.chunkBytes > 0 &&
    isFiniteNumber(v.intervalMs) &&
    v.intervalMs >= 0
      ? null
      : '{ chunkBytes: positive integer, intervalMs: non-negative number }',
  lifetimeSec: (v) => (isFiniteNumber(v) ? null : 'a finite number of seconds'),
  jwtExpOffsetSec: (v) => (isFiniteNumber(v) ? null : 'a finite number of seconds'),
  expiresIn: () => null, // any value: used to test malformed answers
  expiryTime: () => null,
}

// Keys that only make sense for some endpoints (they shape a success answer).
const ENDPOINT_ONLY = {
  expiresIn: ['pv.authenticate', 'pv.refresh'],
  expiryTime: ['vendy.auth'],
}

// Keys that shape the normal success answer; meaningless with a scripted body.
const TOKEN_KEYS = ['lifetimeSec', 'jwtExpOffsetSec', 'expiresIn', 'expiryTime']
// Keys that produce an answer; meaningless when the connection stalls/resets.
const ANSWER_KEYS = ['status', 'body', 'headers', 'oversizedBytes', 'trickle', ...TOKEN_KEYS]

/** Throws a TypeError unless `endpoint` is one of ENDPOINTS. */
function assertEndpoint(endpoint) {
  if (!ENDPOINTS.includes(endpoint)) {
    throw new TypeError(`unknown mock endpoint ${JSON.stringify(endpoint)}; expected one of ${ENDPOINTS.join(', ')}`)
  }
}

const has = (step, key) => Object.prototype.hasOwnProperty.call(step, key)

function conflict(step, key, others, why) {
  const other = others.find((k) => k !== key && has(step, k))
  if (other !== undefined) {
    throw new TypeError(`mock step key "${other}" cannot be combined with "${key}" (${why})`)
  }
}

/**
 * Validates one step for `endpoint`. Functions are accepted as-is (their
 * result is validated when the request arrives). Throws a TypeError naming
 * the offending key.
 */
function validateStep(endpoint, step) {
  if (typeof step === 'function') return step
  if (!isPlainObject(step)) {
    throw new TypeError(`a mock step must be an object or a function, got ${step === null ? 'null' : typeof step}`)
  }
  for (const key of Object.keys(step)) {
    const validator = VALIDATORS[key]
    if (!validator) {
      throw new TypeError(`unknown mock step key "${key}" (allowed: ${Object.keys(VALIDATORS).join(', ')})`)
    }
    const expected = validator(step[key])
    if (expected) throw new TypeError(`mock step key "${key}" must be ${expected}`)
    if (ENDPOINT_ONLY[key] && !ENDPOINT_ONLY[key].includes(endpoint)) {
      throw new TypeError(`mock step key "${key}" does not apply to endpoint ${endpoint}`)
    }
  }
  if (step.stall) conflict(step, 'stall', ['reset', ...ANSWER_KEYS], 'a stalled request is never answered')
  if (step.reset) conflict(step, 'reset', ANSWER_KEYS, 'a reset request is never answered')
  if (has(step, 'oversizedBytes')) conflict(step, 'oversizedBytes', ['body', ...TOKEN_KEYS], 'the body is generated')
  if (has(step, 'body') || has(step, 'status')) {
    const key = has(step, 'body') ? 'body' : 'status'
    conflict(step, key, TOKEN_KEYS, 'a scripted answer replaces the normal token answer')
  }
  return step
}

/**
 * Per-endpoint step queues plus an optional default step per endpoint.
 * `next(endpoint)` consumes the head of the queue, falling back to the
 * default, and returns undefined for normal behaviour.
 */
class StepBook {
  constructor() {
    this.queues = new Map()
    this.defaults = new Map()
  }

  /** Appends one step or an array of steps (all validated first). */
  script(endpoint, steps) {
    assertEndpoint(endpoint)
    const list = Array.isArray(steps) ? steps : [steps]
    const valid = list.map((step) => validateStep(endpoint, step))
    if (!this.queues.has(endpoint)) this.queues.set(endpoint, [])
    this.queues.get(endpoint).push(...valid)
  }

  /** Sets (or, with null/undefined, clears) the endpoint's default step. */
  setDefault(endpoint, step) {
    assertEndpoint(endpoint)
    if (step == null) this.defaults.delete(endpoint)
    else this.defaults.set(endpoint, validateStep(endpoint, step))
  }

  /** Number of steps still queued for `endpoint`. */
  pending(endpoint) {
    assertEndpoint(endpoint)
    return this.queues.get(endpoint)?.length ?? 0
  }

  next(endpoint) {
    const queue = this.queues.get(endpoint)
    if (queue && queue.length > 0) return queue.shift()
    return this.defaults.get(endpoint)
  }

  clear() {
    this.queues.clear()
    this.defaults.clear()
  }
}

/**
 * Resolves the step to apply to a request: calls function steps with the
 * recorded request and validates what they return. Returns a plain step
 * object (`{}` for normal behaviour).
 */
async function resolveStep(endpoint, step, request) {
  if (typeof step !== 'function') return step ?? {}
  const produced = await step(request)
  if (produced == null) return {}
  if (typeof produced === 'function')
    throw new TypeError('a function mock step must return a step object, not a function')
  return validateStep(endpoint, produced)
}

module.exports = { ENDPOINTS, StepBook, validateStep, resolveStep, assertEndpoint }
