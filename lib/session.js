'use strict'

const { inspect } = require('node:util')

/**
 * A token and what is known about it. `token` and `headerValue` read the real values; `inspect`,
 * `console.log` and `JSON.stringify` show only a short prefix of the token.
 */
class Session {
  #token
  #headerValue
  #tokenPreview

  /** @param {import('../binding').NativeSession} n */
  constructor(n) {
    this.provider = n.provider
    this.expiresAt = n.expiresAt
    this.headerName = n.headerName
    for (const key of ['scope', 'permissions', 'shopDomain', 'mode', 'vendorId']) {
      // Own fields only: an absent one must not be filled from a polluted Object.prototype.
      if (Object.hasOwn(n, key) && n[key] !== undefined && n[key] !== null) this[key] = n[key]
    }
    this.#token = n.token
    this.#headerValue = n.headerValue
    this.#tokenPreview = n.tokenPreview
    Object.freeze(this)
  }

  /** The token itself. */
  get token() {
    return this.#token
  }

  /** The value for `headerName`: `Bearer <token>` (Vendy) or the bare token (PuppetVendors). */
  get headerValue() {
    return this.#headerValue
  }

  /** `{ [headerName]: headerValue }`, ready to spread into request headers. */
  get headers() {
    return { [this.headerName]: this.#headerValue }
  }

  /** A redacted plain object: the token is shown as its first characters and an ellipsis. */
  toJSON() {
    const { provider, expiresAt, headerName, ...metadata } = this
    return {
      provider,
      token: this.#tokenPreview,
      expiresAt,
      expiresAtIso: new Date(expiresAt).toISOString(),
      headerName,
      ...metadata,
    }
  }

  [inspect.custom](depth, options, inspectFn = inspect) {
    return `Session ${inspectFn(this.toJSON(), { ...options, depth: options.depth == null ? null : options.depth - 1 })}`
  }
}

module.exports = { Session }
