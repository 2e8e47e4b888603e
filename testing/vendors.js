'use strict'
// Normal (un-faulted) behaviour of the mocked vendor endpoints, following the
// vendors' documented behaviour. Every handler is a pure-ish function
// `(ctx, request, step) => { status, body }` where `body` is a JSON value,
// `ctx` holds the resolved options and the JWT issuer, and `step` may carry
// token-shaping overrides (lifetimeSec, jwtExpOffsetSec, expiresIn, expiryTime).

const crypto = require('node:crypto')

const VENDY_DEFAULTS = {
  accessKey: 'vendy-test-access-key',
  secretKey: 'vendy-test-secret-key',
  username: 'merchant@example.com',
  password: 'vendy-test-password',
  tokenLifetimeSec: 7 * 86400,
  expiryTimeSkewSec: 0,
}

const PV_KEY_DEFAULTS = {
  apiKey: 'vk_test_mockkey',
  shopDomain: 'mock-store.myshopify.com',
  permissions: ['orders:read', 'products:read'],
  vendorId: 'vendor_123',
  multiShop: false,
}

/**
 * The credentials a mock started without `vendy` / `puppetvendors` options accepts (frozen):
 * spread them into the options of `authenticate()` / `createClient()`.
 */
const MOCK_CREDENTIALS = Object.freeze({
  vendy: Object.freeze({ accessKey: VENDY_DEFAULTS.accessKey, secretKey: VENDY_DEFAULTS.secretKey }),
  /** Vendy's legacy Basic login (an alternative to the keys, never together with them). */
  vendyLegacy: Object.freeze({ username: VENDY_DEFAULTS.username, password: VENDY_DEFAULTS.password }),
  puppetvendors: Object.freeze({ apiKey: PV_KEY_DEFAULTS.apiKey, shopDomain: PV_KEY_DEFAULTS.shopDomain }),
})

/** Fills in defaults for the `vendy` and `puppetvendors` options. */
function resolveVendorOptions(options = {}) {
  const pv = options.puppetvendors ?? {}
  const keys = (pv.keys ?? [{}]).map((key) => ({ ...PV_KEY_DEFAULTS, ...key }))
  return {
    vendy: { ...VENDY_DEFAULTS, ...options.vendy },
    puppetvendors: { tokenLifetimeSec: 86400, ...pv, keys },
  }
}

// ---------------------------------------------------------------- helpers

/** Constant-time string comparison (length leak is fine for a mock). */
function sameSecret(given, expected) {
  const a = Buffer.from(String(given))
  const b = Buffer.from(String(expected))
  return a.length === b.length && crypto.timingSafeEqual(a, b)
}

/** Parses a JSON request body; `undefined` for an empty body, throws on bad JSON. */
function parseJsonBody(body) {
  return body.trim() === '' ? undefined : JSON.parse(body)
}

const has = (obj, key) => Object.prototype.hasOwnProperty.call(obj, key)

/**
 * Issues a token honouring the step's lifetime overrides. Returns the token,
 * its JWT payload and the *stated* lifetime (what the answer announces).
 */
function issueToken(ctx, { iss, sub, defaultLifetimeSec, info }, step) {
  const statedLifetimeSec = step.lifetimeSec ?? defaultLifetimeSec
  const jwtLifetimeSec = step.jwtExpOffsetSec ?? statedLifetimeSec
  const { token, payload } = ctx.issuer.sign({ iss, sub, lifetimeSec: jwtLifetimeSec, info })
  return { token, payload, statedLifetimeSec }
}

/** Applies a raw field override from the step (`undefined` removes the field). */
function override(target, step, key) {
  if (!has(step, key)) return
  if (step[key] === undefined) delete target[key]
  else target[key] = step[key]
}

// ---------------------------------------------------------------- Vendy

const vendyError = (status, message) => ({ status, body: { message } })

/** Extracts Vendy credentials: AccessKey/SecretKey headers or legacy Basic auth. */
function vendyCredentials(headers) {
  if (headers.accesskey !== undefined || headers.secretkey !== undefined) {
    if (!headers.accesskey || !headers.secretkey) return null
    return { kind: 'keys', id: headers.accesskey, secret: headers.secretkey }
  }
  const match = /^Basic\s+(\S+)\s*$/i.exec(headers.authorization ?? '')
  if (!match) return null
  const decoded = Buffer.from(match[1], 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon <= 0) return null
  return { kind: 'basic', id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) }
}

/** POST /auth */
function vendyAuth(ctx, request, step) {
  const config = ctx.options.vendy
  try {
    parseJsonBody(request.body)
  } catch {
    return vendyError(400, 'data invalid')
  }
  const creds = vendyCredentials(request.headers)
  if (!creds) return vendyError(400, 'data invalid')
  const [expectedId, expectedSecret] =
    creds.kind === 'keys' ? [config.accessKey, config.secretKey] : [config.username, config.password]
  // Evaluate both comparisons (no short-circuit), as a real server should.
  const idOk = sameSecret(creds.id, expectedId)
  const secretOk = sameSecret(creds.secret, expectedSecret)
  if (!idOk || !secretOk) return vendyError(401, 'incorrect password')

  const { token, payload, statedLifetimeSec } = issueToken(
    ctx,
    { iss: 'vendy-mock', sub: creds.id, defaultLifetimeSec: config.tokenLifetimeSec },
    step,
  )
  const expirySec = payload.iat + statedLifetimeSec + config.expiryTimeSkewSec
  const body = { token, expiryTime: new Date(expirySec * 1000).toUTCString() }
  override(body, step, 'expiryTime')
  return { status: 200, body }
}

// ---------------------------------------------------------------- PuppetVendors

const pvError = (status, message, code) => ({ status, body: { success: false, error: { message, code } } })
const pvUnauthorized = (message) => pvError(401, message, 'UNAUTHORIZED')
const pvValidation = (message) => pvError(400, message, 'VALIDATION_ERROR')

/** Validates the /authenticate body; returns `{ apiKey, shopDomain }` or an error answer. */
function parseAuthenticateBody(text) {
  let body
  try {
    body = parseJsonBody(text)
  } catch {
    return { error: pvValidation('Request body must be valid JSON') }
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return { error: pvValidation('"apiKey" is required') }
  }
  if (typeof body.apiKey !== 'string' || body.apiKey === '') return { error: pvValidation('"apiKey" is required') }
  if (body.shopDomain !== undefined && typeof body.shopDomain !== 'string') {
    return { error: pvValidation('"shopDomain" must be a string') }
  }
  return { apiKey: body.apiKey, shopDomain: body.shopDomain }
}

/** The shop a request authenticates for, or null when `requested` is not allowed. */
function pvShopFor(key, requested) {
  if (requested === undefined || requested === key.shopDomain) return key.shopDomain
  // A multi-shop key may be used for any shop the caller names.
  return key.multiShop ? requested : null
}

/** POST /authenticate */
function pvAuthenticate(ctx, request, step) {
  const config = ctx.options.puppetvendors
  const parsed = parseAuthenticateBody(request.body)
  if (parsed.error) return parsed.error
  const key = config.keys.find((k) => sameSecret(parsed.apiKey, k.apiKey))
  if (!key) return pvUnauthorized('Invalid API key')
  const shopDomain = pvShopFor(key, parsed.shopDomain)
  if (shopDomain === null) return pvUnauthorized('The provided shopDomain is not available.')

  const info = { vendorId: key.vendorId, shopDomain }
  const { token, statedLifetimeSec } = issueToken(
    ctx,
    { iss: 'puppetvendors-mock', sub: key.vendorId, defaultLifetimeSec: config.tokenLifetimeSec, info },
    step,
  )
  const data = {
    token,
    expiresIn: statedLifetimeSec,
    scope: 'vendor',
    permissions: [...key.permissions],
    shopDomain,
    mode: key.apiKey.startsWith('vk_live_') ? 'live' : 'test',
    vendorId: key.vendorId,
  }
  override(data, step, 'expiresIn')
  return { status: 200, body: { success: true, data } }
}

/** POST /refresh-token */
function pvRefresh(ctx, request, step) {
  const config = ctx.options.puppetvendors
  const info = ctx.issuer.verify(request.headers['x-access-token'])
  if (!info) return pvUnauthorized('Invalid or expired token')
  const { token, statedLifetimeSec } = issueToken(
    ctx,
    { iss: 'puppetvendors-mock', sub: info.vendorId, defaultLifetimeSec: config.tokenLifetimeSec, info },
    step,
  )
  const data = { token, expiresIn: statedLifetimeSec, shopDomain: info.shopDomain }
  override(data, step, 'expiresIn')
  return { status: 200, body: { success: true, data } }
}

const notFound = () => pvError(404, 'Not found', 'NOT_FOUND')

// Routes: endpoint name -> [path without prefix, handler]. Each path is also
// served under /v2 (PuppetVendors' production base form).
const ROUTES = {
  'vendy.auth': ['/auth', vendyAuth],
  'pv.authenticate': ['/authenticate', pvAuthenticate],
  'pv.refresh': ['/refresh-token', pvRefresh],
}

/** Maps method + path (query ignored) to an endpoint name, or null. */
function routeFor(method, url) {
  if (method !== 'POST') return null
  const path = url.split('?')[0].replace(/^\/v2(?=\/)/, '')
  const entry = Object.entries(ROUTES).find(([, [routePath]]) => routePath === path)
  return entry ? entry[0] : null
}

/** Runs the normal handler of `endpoint` (null → 404). */
function handleNormally(ctx, endpoint, request, step) {
  return endpoint ? ROUTES[endpoint][1](ctx, request, step) : notFound()
}

module.exports = { resolveVendorOptions, routeFor, handleNormally, notFound, MOCK_CREDENTIALS }
