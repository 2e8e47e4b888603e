'use strict'
// Checks done in JS before options reach the native side: the shape of the object, unknown
// keys (typos such as `accesKey` should not silently fall back to the environment), value
// types (so that no conversion error can echo a value), and the JS-only options.

const { VendorAuthError } = require('./errors')

const NUMBER_OPTIONS = new Set(['timeoutMs', 'exchangeTimeoutMs', 'maxRetries', 'maxRetryDelayMs', 'refreshWindowMs'])
const JS_ONLY_OPTIONS = ['logger', 'signal', 'initialSession', 'tokenStore', 'storeTimeoutMs']

function invalid(message) {
  return new VendorAuthError('INVALID_OPTIONS', message)
}

/**
 * Split user options into what the native side takes and the JS-only ones.
 * @param {unknown} options
 * @param {readonly string[]} nativeKeys option names the native side knows
 */
function prepareOptions(options, nativeKeys) {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw invalid("options must be an object such as { provider: 'vendy' }")
  }
  const known = new Set([...nativeKeys, ...JS_ONLY_OPTIONS])
  const native = {}
  for (const [key, value] of Object.entries(options)) {
    if (!known.has(key)) {
      throw invalid(`unknown option '${key}'; known options: ${[...known].join(', ')}`)
    }
    if (value === undefined || value === null || JS_ONLY_OPTIONS.includes(key)) continue
    const expected = NUMBER_OPTIONS.has(key) ? 'number' : 'string'
    if (typeof value !== expected) {
      // The value itself is not shown: it may be a credential.
      throw invalid(`option '${key}' must be a ${expected}, not ${describe(value)}`)
    }
    native[key] = value
  }
  return {
    native,
    logger: makeLogger(options.logger),
    signal: checkSignal(options.signal),
    initialSession: Object.hasOwn(options, 'initialSession') ? options.initialSession : undefined,
    tokenStore: Object.hasOwn(options, 'tokenStore') && options.tokenStore != null ? options.tokenStore : undefined,
    storeTimeoutMs: Object.hasOwn(options, 'storeTimeoutMs') ? options.storeTimeoutMs : undefined,
  }
}

function describe(value) {
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`
}

function checkSignal(signal) {
  if (signal === undefined || signal === null) return undefined
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
 * The debug logger: the `logger` option (a function, or an object with `debug`), else stderr
 * when DEBUG names vendor-auth (`DEBUG=vendor-auth`, `DEBUG=*`, comma- or space-separated),
 * else none. Lines never hold a secret.
 */
function makeLogger(logger) {
  if (typeof logger === 'function') return (line) => logger(`vendor-auth ${line}`)
  if (logger && typeof logger.debug === 'function') return (line) => logger.debug(`vendor-auth ${line}`)
  if (logger !== undefined && logger !== null) {
    throw invalid('option logger must be a function or an object with a debug() method')
  }
  const debug = (globalThis.process && process.env && process.env.DEBUG) || ''
  const enabled = debug
    .split(/[\s,]+/)
    .some((name) => name === '*' || name === 'vendor-auth' || name === 'vendor-auth:*')
  return enabled ? (line) => process.stderr.write(`vendor-auth ${line}\n`) : undefined
}

module.exports = { prepareOptions, checkSignal }
