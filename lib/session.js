'use strict'

// What `util.inspect` (Node, Bun, Deno) calls for a custom view: the registered symbol itself,
// so that no Node built-in is needed (the edge entry bundles this file).
const INSPECT = Symbol.for('nodejs.util.inspect.custom')

/**
 * A token and what is known about it. `token` and `headerValue` read the real values; `inspect`,
 * `console.log` and `JSON.stringify` show only a short prefix of the token (nothing of a
 * permanent credential). `expiresAt` is `null` for a credential that never expires (Vendy's
 * scheme `'basic'`). The other fields are the ones the vendor declares (PuppetVendors' `scope`,
 * `permissions`, `shopDomain`, `mode`, `vendorId`).
 */
class Session {
  #token
  #headerValue
  #tokenPreview

  /** @param {import('../binding').WireSession} n */
  constructor(n) {
    // Own fields only: an absent one must not be filled from a polluted Object.prototype.
    const own = (object, key) => (Object.hasOwn(object, key) ? object[key] : undefined)
    this.provider = n.provider
    this.expiresAt = own(n, 'expiresAt') ?? null
    this.headerName = n.headerName
    for (const field of own(n, 'metadata') ?? []) {
      const value = own(field, 'value')
      if (value !== undefined && value !== null) this[own(field, 'name')] = value
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

  /**
   * The value for `headerName`: `Bearer <token>` (Vendy), `Basic <token>` (Vendy's scheme
   * `'basic'`) or the bare token (PuppetVendors).
   */
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
      expiresAtIso: expiresAt === null ? null : new Date(expiresAt).toISOString(),
      headerName,
      ...metadata,
    }
  }

  [INSPECT](depth, options, inspectFn) {
    const fields = this.toJSON()
    if (typeof inspectFn !== 'function') return `Session ${JSON.stringify(fields)}`
    return `Session ${inspectFn(fields, { ...options, depth: options.depth == null ? null : options.depth - 1 })}`
  }
}

module.exports = { Session, INSPECT }
