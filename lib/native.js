'use strict'
// The bridge to the native binding: creating native clients and running exchanges, with every
// failure turned into a VendorAuthError.

const binding = require('../binding.js')
const { VendorAuthError, fromNative } = require('./errors')
const { prepareOptions } = require('./options')
const { Session } = require('./session')

const NATIVE_OPTIONS = Object.freeze(binding.knownOptions())
const OUR_CODES = new Set(['INVALID_OPTIONS', 'INSECURE_URL'])

/** Validate options and create the native client that holds the credentials. */
function createNative(options) {
  const prepared = prepareOptions(options, NATIVE_OPTIONS)
  let native
  try {
    native = new binding.NativeClient(prepared.native, process.env)
  } catch (error) {
    // The native side throws with a stable code; anything else is a conversion failure.
    const code = OUR_CODES.has(error && error.code) ? error.code : 'INVALID_OPTIONS'
    throw new VendorAuthError(code, String(error && error.message))
  }
  return { native, logger: prepared.logger, signal: prepared.signal }
}

/**
 * One exchange on `native`; resolves to the raw native session (the caller wraps it) or
 * rejects with a VendorAuthError. `background`: a single attempt, no retries.
 */
async function exchange(native, background, logger) {
  const outcome = await native.exchange(background)
  if (logger) for (const line of outcome.log) logger(line)
  if (outcome.error) throw fromNative(outcome.error)
  return outcome.session
}

/** `authenticate()`: one exchange, with an optional AbortSignal. */
async function authenticate(options) {
  const { native, logger, signal } = createNative(options)
  if (!signal) return new Session(await exchange(native, false, logger))
  if (signal.aborted) throw abortError(signal, native.provider)
  const onAbort = () => native.close()
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    return new Session(await exchange(native, false, logger))
  } catch (error) {
    throw signal.aborted ? abortError(signal, native.provider) : error
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

function abortError(signal, provider) {
  return new VendorAuthError('ABORTED', 'authenticate() was aborted by its AbortSignal', {
    provider,
    cause: signal.reason,
  })
}

module.exports = { authenticate, createNative, exchange }
