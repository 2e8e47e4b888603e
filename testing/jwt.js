'use strict'
// Minimal HS256 JWT issuer/verifier for the mock vendor server. Each issuer
// has its own random secret, so a token only verifies against the server that
// issued it. Issued tokens are tracked by `jti` so they can be revoked.

const crypto = require('node:crypto')

const HEADER = { alg: 'HS256', typ: 'JWT' }

const base64url = (value) => Buffer.from(value).toString('base64url')

/** Decodes a JWT's payload without verifying it (null when malformed). */
function decodeJwtPayload(token) {
  const parts = typeof token === 'string' ? token.split('.') : []
  if (parts.length !== 3) return null
  try {
    return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'))
  } catch {
    return null
  }
}

/**
 * Creates an issuer with a fresh secret, on a clock `clockOffsetMs` away from ours.
 * @returns {{
 *   sign(claims: { iss: string, sub: string, lifetimeSec: number, info?: object }):
 *     { token: string, payload: object },
 *   verify(token: unknown): object | null,
 *   revokeAll(): void,
 * }}
 *   `sign` issues a token with `exp = iat + lifetimeSec` and remembers `info`
 *   (e.g. the shop a token belongs to); `verify` returns that remembered info
 *   for a token this issuer signed that is unexpired and not revoked, else null.
 */
function createJwtIssuer({ clockOffsetMs = 0 } = {}) {
  // The vendor's clock: ours plus an offset, to test clients against a skewed vendor.
  const nowSec = () => Math.floor((Date.now() + clockOffsetMs) / 1000)
  const secret = crypto.randomBytes(32)
  const live = new Map() // jti -> info, for tokens not revoked

  const signature = (data) => crypto.createHmac('sha256', secret).update(data).digest()

  function sign({ iss, sub, lifetimeSec, info = {} }) {
    const iat = nowSec()
    const payload = { iss, sub, iat, exp: iat + Math.trunc(lifetimeSec), jti: crypto.randomUUID() }
    const data = `${base64url(JSON.stringify(HEADER))}.${base64url(JSON.stringify(payload))}`
    live.set(payload.jti, info)
    return { token: `${data}.${signature(data).toString('base64url')}`, payload }
  }

  function verify(token) {
    if (typeof token !== 'string') return null
    const parts = token.split('.')
    if (parts.length !== 3) return null
    const expected = signature(`${parts[0]}.${parts[1]}`)
    const given = Buffer.from(parts[2], 'base64url')
    if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) return null
    const payload = decodeJwtPayload(token)
    if (!payload || typeof payload.exp !== 'number' || nowSec() >= payload.exp) return null
    return live.get(payload.jti) ?? null
  }

  return { sign, verify, revokeAll: () => live.clear() }
}

module.exports = { createJwtIssuer, decodeJwtPayload }
