'use strict'
// `mock.verify(credential)`: checks a token the way the real vendor's API would, for a user's fake
// resource endpoints (a test server standing in for `GET /orders` that must refuse what the real
// API would refuse): issued by this mock, signed, unexpired, not revoked, and, when given request
// headers, carried in the header its vendor expects.

const { decodeJwtPayload } = require('./jwt')

/** Token issuer (`iss`) → provider id and the request header the vendor reads it from. */
const ISSUERS = {
  'vendy-mock': { provider: 'vendy', header: 'authorization' },
  'puppetvendors-mock': { provider: 'puppetvendors', header: 'x-access-token' },
}

/**
 * @param {{ verify(token: string): object | null }} issuer
 * @param {number} clockOffsetMs the mock's clock offset (its `exp` is on the vendor's clock)
 * @param {unknown} credential a token, an `Authorization` value (`Bearer …`), or request headers
 *   (a Node `IncomingMessage.headers` object, any plain object, or a `Headers`)
 * @returns {null | { provider: string, subject: string, expiresAt: number, shopDomain?: string,
 *   vendorId?: string }}
 */
function verifyCredential(issuer, clockOffsetMs, credential) {
  const found = tokenIn(credential)
  if (found === null) return null
  const info = issuer.verify(found.token)
  const payload = info === null ? null : decodeJwtPayload(found.token)
  const kind = payload && Object.hasOwn(ISSUERS, payload.iss) ? ISSUERS[payload.iss] : null
  if (kind === null) return null
  if (found.header !== undefined && found.header !== kind.header) return null
  const result = { provider: kind.provider, subject: payload.sub, expiresAt: payload.exp * 1000 - clockOffsetMs }
  if (info.shopDomain !== undefined) result.shopDomain = info.shopDomain
  if (info.vendorId !== undefined) result.vendorId = info.vendorId
  return result
}

/** `{ token, header? }` from a credential (header: where it was found), or null. */
function tokenIn(credential) {
  if (typeof credential === 'string') {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(credential)
    return bearer ? { token: bearer[1], header: 'authorization' } : { token: credential.trim() }
  }
  if (credential === null || typeof credential !== 'object') {
    throw new TypeError('mock.verify() takes a token, an Authorization header value, or request headers')
  }
  const authorization = headerIn(credential, 'authorization')
  if (authorization !== undefined) {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization)
    return bearer ? { token: bearer[1], header: 'authorization' } : null
  }
  const accessToken = headerIn(credential, 'x-access-token')
  return accessToken === undefined ? null : { token: accessToken.trim(), header: 'x-access-token' }
}

/** A header's value in a `Headers` or a plain object (any case; the first of an array). */
function headerIn(headers, name) {
  if (typeof headers.get === 'function' && typeof headers.has === 'function') {
    return headers.has(name) ? headers.get(name) : undefined
  }
  for (const key of Object.keys(headers)) {
    if (key.toLowerCase() !== name) continue
    const value = Array.isArray(headers[key]) ? headers[key][0] : headers[key]
    return typeof value === 'string' ? value : undefined
  }
  return undefined
}

module.exports = { verifyCredential }
