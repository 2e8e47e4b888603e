'use strict'
// Checks done in JS before options reach the core (either build): the shape of the object, unknown
// keys (typos such as `accesKey` should not silently fall back to the environment), value
// types (so that no conversion error can echo a value), and the JS-only options. Names and types
// come from the core's option schema (`binding.optionSchema()`): no option is listed here but the
// JS-only ones.
//
// Hostile inputs: only own properties count (an `Object.prototype.baseUrl` planted by another
// bug in the app must never redirect credentials), each is read exactly once (a getter cannot
// pass the checks with one value and be used with another), what goes to the core is a
// null-prototype object, and a getter or Proxy that throws is INVALID_OPTIONS with its error as
// `cause`. A user's logger can never throw to us.

const { VendorAuthError } = require('./errors')

/**
 * Options that never reach the core, and where each is taken: `'both'`, `'authenticate'` (only
 * `authenticate()`) or `'client'` (only `createClient()`).
 */
const JS_ONLY_OPTIONS = Object.freeze({
  __proto__: null,
  logger: 'both',
  signal: 'authenticate',
  initialSession: 'client',
  tokenStore: 'client',
  storeTimeoutMs: 'client',
})

function invalid(message, cause) {
  return new VendorAuthError('INVALID_OPTIONS', message, cause === undefined ? {} : { cause })
}

/**
 * `object`'s own enumerable string-keyed properties, each read once, as `[key, value]` pairs
 * (inherited properties never count). For any options object, including per-call ones.
 * @param {object} object
 * @returns {Array<[string, unknown]>}
 */
function ownEntries(object) {
  const entries = []
  for (const key of Object.keys(object)) entries.push([key, object[key]])
  return entries
}

/**
 * From the core's option schema: each core option's JS type (`'string'` / `'number'`), by name.
 * @param {ReadonlyArray<{ name: string, jsType: string }>} schemaOptions
 * @returns {Map<string, string>}
 */
function coreTypes(schemaOptions) {
  const types = new Map()
  // A credential is a string, or a function that returns one (lib/credentials.js).
  for (const option of schemaOptions) types.set(option.name, option.credential ? 'credential' : option.jsType)
  return types
}

/**
 * Split user options into what the core takes (either build) and the JS-only ones.
 * @param {unknown} options
 * @param {ReadonlyMap<string, string>} types the core options' JS types, by name (`coreTypes`)
 */
function prepareOptions(options, types) {
  try {
    return prepare(options, types)
  } catch (error) {
    if (error instanceof VendorAuthError) throw error
    // A throwing getter, a Proxy trap, a revoked Proxy: the user's error is kept as `cause`, but
    // not put into our message (it may quote the value it was guarding).
    throw invalid(
      'options could not be read: a getter or Proxy threw while they were read (its error is the cause)',
      error,
    )
  }
}

function prepare(options, types) {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw invalid("options must be an object such as { provider: 'vendy' }")
  }
  const known = new Set([...types.keys(), ...Object.keys(JS_ONLY_OPTIONS)])
  const core = Object.create(null)
  const jsOnly = Object.create(null)
  const credentials = Object.create(null)
  for (const [key, value] of ownEntries(options)) {
    if (!known.has(key)) {
      throw invalid(`unknown option '${key}'; known options: ${[...known].join(', ')}`)
    }
    if (value === undefined || value === null) continue
    if (Object.hasOwn(JS_ONLY_OPTIONS, key)) {
      jsOnly[key] = value
      continue
    }
    let expected = types.get(key)
    if (expected === 'credential') {
      if (typeof value === 'function') {
        credentials[key] = value
        continue
      }
      expected = 'string'
    }
    if (expected === 'string[]') {
      core[key] = stringArray(key, value)
      continue
    }
    if (typeof value !== expected) {
      // The value itself is not shown: it may be a credential.
      throw invalid(`option '${key}' must be a ${expected}, not ${describe(value)}`)
    }
    core[key] = value
  }
  return {
    core,
    logger: makeLogger(jsOnly.logger),
    signal: checkSignal(jsOnly.signal),
    initialSession: jsOnly.initialSession,
    tokenStore: jsOnly.tokenStore,
    storeTimeoutMs: jsOnly.storeTimeoutMs,
    credentials: Object.keys(credentials).length === 0 ? undefined : credentials,
  }
}

/** A copy of an array of strings, each element read once (own indices only). */
function stringArray(key, value) {
  if (!Array.isArray(value)) throw invalid(`option '${key}' must be an array of strings, not ${describe(value)}`)
  const copy = []
  const length = value.length
  for (let i = 0; i < length; i++) {
    const item = Object.hasOwn(value, i) ? value[i] : undefined
    if (typeof item !== 'string')
      throw invalid(`option '${key}' must be an array of strings; [${i}] is ${describe(item)}`)
    copy.push(item)
  }
  return copy
}

function describe(value) {
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`
}

function checkSignal(signal) {
  if (signal === undefined) return undefined
  if (
    typeof signal !== 'object' ||
    typeof signal.aborted !== 'boolean' ||
    typeof signal.addEventListener !== 'function'
  ) {
    throw invalid('option signal must be an AbortSignal')
  }
  return signal
}

/**
 * The debug logger: the `logger` option (a function, or an object with `debug`, read once
 * here), else stderr when DEBUG names vendor-auth (`DEBUG=vendor-auth`, `DEBUG=*`, comma- or
 * space-separated), else none. Lines never hold a secret. Whatever the logger does (throw,
 * return a rejected promise), the returned function never throws and leaves nothing unhandled.
 */
function makeLogger(logger) {
  if (typeof logger === 'function') return contained((line) => Reflect.apply(logger, undefined, [line]))
  if (logger !== undefined) {
    const debug = typeof logger === 'object' ? logger.debug : undefined
    if (typeof debug === 'function') return contained((line) => Reflect.apply(debug, logger, [line]))
    throw invalid('option logger must be a function or an object with a debug() method')
  }
  const env = globalThis.process && process.env
  const debug = env && Object.hasOwn(env, 'DEBUG') ? String(env.DEBUG) : ''
  const enabled = debug
    .split(/[\s,]+/)
    .some((name) => name === '*' || name === 'vendor-auth' || name === 'vendor-auth:*')
  if (!enabled) return undefined
  // Edge runtimes with a `process` shim may have no stderr stream.
  if (process.stderr && typeof process.stderr.write === 'function') {
    return contained((line) => process.stderr.write(`${line}\n`))
  }
  return contained((line) => console.error(line))
}

/** `write` prefixed, and contained: a user's logger must never break a call or the process. */
function contained(write) {
  return (line) => {
    try {
      const result = write(`vendor-auth ${line}`)
      // An async logger's rejection would be unhandled (and end the process by default).
      if (result !== null && (typeof result === 'object' || typeof result === 'function')) {
        const then = result.then
        if (typeof then === 'function') Reflect.apply(then, result, [undefined, ignore])
      }
    } catch {
      // Ignored on purpose: logging is best effort.
    }
  }
}

function ignore() {}

module.exports = { prepareOptions, coreTypes, ownEntries, checkSignal, JS_ONLY_OPTIONS }
