'use strict'

/**
 * The one error type of vendor-auth. `code` is stable and meant for programs; `message` is for
 * people. No key, secret or token is ever part of either, nor of any other field.
 */
class VendorAuthError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   * @param {{ status?: number, provider?: string, vendorMessage?: string, vendorCode?: string,
   *   retryAfterMs?: number, cause?: unknown }} [fields]
   */
  constructor(code, message, fields = {}) {
    // Own fields only (an inherited Object.prototype.cause or .vendorMessage must not appear).
    const field = (key) => (Object.hasOwn(fields, key) ? fields[key] : undefined)
    super(message, field('cause') === undefined ? undefined : { cause: field('cause') })
    this.code = code
    // Only the fields that apply, so `inspect` output stays short.
    for (const key of ['status', 'provider', 'vendorMessage', 'vendorCode', 'retryAfterMs']) {
      const value = field(key)
      if (value !== undefined && value !== null) this[key] = value
    }
  }
}

Object.defineProperty(VendorAuthError.prototype, 'name', {
  value: 'VendorAuthError',
  enumerable: false,
  configurable: true,
  writable: true,
})

/** A `VendorAuthError` from the plain fields the core returns (`WireError`, either build). */
function fromCore(error) {
  return new VendorAuthError(error.code, error.message, error)
}

/** Stable codes, for `switch` statements and autocompletion. */
const ErrorCodes = Object.freeze({
  INVALID_OPTIONS: 'INVALID_OPTIONS',
  INSECURE_URL: 'INSECURE_URL',
  BAD_REQUEST: 'BAD_REQUEST',
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
  RATE_LIMITED: 'RATE_LIMITED',
  SERVER_ERROR: 'SERVER_ERROR',
  NETWORK: 'NETWORK',
  TIMEOUT: 'TIMEOUT',
  INVALID_RESPONSE: 'INVALID_RESPONSE',
  SERVER_ONLY: 'SERVER_ONLY',
  CLOSED: 'CLOSED',
  INTERNAL: 'INTERNAL',
  ABORTED: 'ABORTED',
  UNSUPPORTED_PLATFORM: 'UNSUPPORTED_PLATFORM',
  STORE_UNAVAILABLE: 'STORE_UNAVAILABLE',
})

module.exports = { VendorAuthError, ErrorCodes, fromCore }
