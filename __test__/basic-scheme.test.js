'use strict'
// Vendy's scheme 'basic' (permanent keys, `Authorization: Basic base64(accessKey:secretKey)` on
// every request): the header at once with no request ever (the mock vendor, at the client's
// baseUrl, counts none), no expiry, no refresh, nothing to invalidate, and the credential
// redacted everywhere like a token. And `scheme` on PuppetVendors is refused, saying why.
// Run: node --test __test__/basic-scheme.test.js

const test = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const util = require('node:util')

const { authenticate, createClient } = require('..')
const { optionsFor, SECRETS, mockFor, clientFor } = require('./helpers')
const { withEnv, withoutCredentialEnv, expectVendorError, expectVendorErrorSync } = require('./helpers/util')
const { assertClean } = require('./helpers/faults')
const { assertRedacted } = require('./helpers/renderings')

const CREDENTIAL = Buffer.from(`${SECRETS.vendyAccessKey}:${SECRETS.vendySecretKey}`).toString('base64')
const BASIC = `Basic ${CREDENTIAL}`

const basicOptions = (mock, extra = {}) => optionsFor(mock, 'vendy', { scheme: 'basic', ...extra })

/** No rendering holds the credential, a piece of it, or even the start of its base64. */
function assertNoCredential(value, label) {
  assertRedacted(value, [CREDENTIAL], label)
  for (const text of [util.inspect(value, { showHidden: true, depth: Infinity }), String(JSON.stringify(value))]) {
    assert.ok(!text.includes(CREDENTIAL.slice(0, 8)), `${label} shows the start of the credential`)
  }
}

/** A plain-http API on loopback (client.fetch allows http to localhost) that refuses every request. */
async function refusingApi(t) {
  const requests = []
  const server = http.createServer((req, res) => {
    requests.push({ authorization: req.headers.authorization })
    res.writeHead(401, { 'content-type': 'application/json' }).end('{"message":"unauthorized"}')
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise((resolve) => server.close(resolve)))
  return { url: `http://127.0.0.1:${server.address().port}/wallets`, requests }
}

test('authHeader() is the Basic header at once: no request reaches the vendor, ever', async (t) => {
  const mock = await mockFor(t)
  const client = clientFor(t, basicOptions(mock))
  // Served from the first call on the hot path: the core installs it at construction.
  let first
  client.authHeader().then((header) => {
    first = header
  })
  await Promise.resolve()
  await Promise.resolve()
  assert.deepEqual(first, { Authorization: BASIC }, 'resolved within two microtasks (no exchange)')
  assert.ok(Object.isFrozen(first))
  const headers = await Promise.all(Array.from({ length: 200 }, () => client.authHeader()))
  assert.ok(
    headers.every((h) => h === first),
    'one frozen header object for every call',
  )

  const session = await client.getSession()
  assert.equal(session.provider, 'vendy')
  assert.equal(session.expiresAt, null, 'never expires')
  assert.equal(session.headerName, 'Authorization')
  assert.equal(session.headerValue, BASIC)
  assert.equal(session.token, CREDENTIAL)
  assert.deepEqual(session.headers, { Authorization: BASIC })
  assert.deepEqual(session.toJSON(), {
    provider: 'vendy',
    token: '…',
    expiresAt: null,
    expiresAtIso: null,
    headerName: 'Authorization',
  })
  assert.equal(mock.count(), 0, 'no request at all')
})

test('authenticate() returns the permanent Session without a request (with a signal too)', async (t) => {
  const mock = await mockFor(t)
  for (const extra of [{}, { signal: AbortSignal.timeout(5_000) }]) {
    const session = await authenticate(basicOptions(mock, extra))
    assert.equal(session.headerValue, BASIC)
    assert.equal(session.expiresAt, null)
  }
  assert.equal(mock.count(), 0)
})

test('invalidate() keeps a permanent credential, and client.fetch() returns a 401 without a second try', async (t) => {
  const mock = await mockFor(t)
  const api = await refusingApi(t)
  const lines = []
  const client = clientFor(t, basicOptions(mock, { logger: (line) => lines.push(line) }))
  const header = await client.authHeader()
  assert.equal(client.invalidate(header), false, 'nothing to drop: no exchange could give another')
  assert.equal(client.invalidate(), false)
  assert.equal(await client.authHeader(), header, 'still served, from the hot path')

  const res = await client.fetch(api.url)
  assert.equal(res.status, 401, 'the refusal is returned')
  assert.deepEqual(api.requests, [{ authorization: BASIC }], 'one request: a retry could only send the same keys')
  assert.equal(mock.count(), 0)
  assert.ok(
    lines.some((line) => /permanent credential is kept/.test(line)),
    lines.join('\n'),
  )
})

test('the keys default to VENDY_ACCESS_KEY / VENDY_SECRET_KEY; missing ones are reported at first use', async (t) => {
  const mock = await mockFor(t)
  const { accessKey, secretKey, ...endpoint } = basicOptions(mock)
  void accessKey
  void secretKey
  await withoutCredentialEnv(async () => {
    // A module-level client in a build without secrets constructs.
    const client = clientFor(t, endpoint)
    await expectVendorError(client.authHeader(), { code: 'INVALID_OPTIONS', message: /VENDY_ACCESS_KEY/ })
    await withEnv({ VENDY_ACCESS_KEY: SECRETS.vendyAccessKey, VENDY_SECRET_KEY: SECRETS.vendySecretKey }, async () => {
      assert.deepEqual(await client.authHeader(), { Authorization: BASIC }, 'found in the environment at first use')
      assert.equal((await authenticate(endpoint)).headerValue, BASIC)
    })
  })
  assert.equal(mock.count(), 0)
})

test('the credential is redacted like a token: inspect, JSON, console, logs and errors', async (t) => {
  const mock = await mockFor(t)
  const lines = []
  const client = clientFor(t, basicOptions(mock, { logger: (line) => lines.push(line) }))
  assertNoCredential(client, 'a basic client')
  assert.match(util.inspect(client), /token: '…'/)
  const session = await client.getSession()
  assertNoCredential(session, 'a basic session')
  assertNoCredential(await authenticate(basicOptions(mock)), 'an authenticate() session')
  client.invalidate()
  client.close()
  await expectVendorError(client.authHeader(), { code: 'CLOSED' })
  // Lines arrive from Rust as they happen (asynchronously).
  await new Promise((resolve) => setImmediate(resolve))
  const log = lines.join('\n')
  assert.match(log, /permanent credential: sent as it is on every request, no exchange, no expiry/)
  assertClean(log, [CREDENTIAL], 'the debug log')
  assert.ok(!log.includes(CREDENTIAL.slice(0, 8)), 'the debug log shows the start of the credential')
  // Refused keys are never quoted either.
  const colon = `${SECRETS.vendyAccessKey}:x`
  const error = await expectVendorErrorSync(() => createClient({ ...basicOptions(mock), accessKey: colon }), {
    code: 'INVALID_OPTIONS',
    message: /has a ':', which scheme 'basic' cannot send/,
  })
  assertClean(util.inspect(error), [CREDENTIAL], 'the error')
  assert.equal(mock.count(), 0)
})

test('scheme mistakes are INVALID_OPTIONS before any request; on PuppetVendors it says why there is none', async (t) => {
  const mock = await mockFor(t)
  const pv = optionsFor(mock, 'puppetvendors')
  for (const scheme of ['basic', 'token']) {
    for (const call of [() => authenticate({ ...pv, scheme }), async () => createClient({ ...pv, scheme })]) {
      await expectVendorError(call(), {
        code: 'INVALID_OPTIONS',
        message:
          /^scheme is an option of Vendy, not of PuppetVendors: PuppetVendors trades apiKey \(and optionally shopDomain\) for a JWT, and has no other scheme/,
      })
    }
  }
  const cases = [
    [
      { scheme: SECRETS.vendyPassword },
      /scheme must be 'token' or 'basic' \(the value given, \d+ characters long, is neither\)/,
    ],
    [{ scheme: 1 }, /option 'scheme' must be a string, not a number/],
    [
      { accessKey: undefined, secretKey: undefined, username: SECRETS.vendyUsername, password: SECRETS.vendyPassword },
      /username\/password are the legacy login/,
    ],
    [{ secretKey: '' }, /secretKey is empty/],
  ]
  for (const [extra, message] of cases) {
    await expectVendorErrorSync(() => createClient(basicOptions(mock, extra)), { code: 'INVALID_OPTIONS', message })
  }
  assert.equal(mock.count(), 0)
})

test('options that only shape an exchange are checked but change nothing; initialSession is not used', async (t) => {
  const mock = await mockFor(t)
  await expectVendorErrorSync(() => createClient(basicOptions(mock, { timeoutMs: 0 })), {
    code: 'INVALID_OPTIONS',
    message: /timeoutMs must be a whole number/,
  })
  const lines = []
  const refreshes = []
  const client = clientFor(
    t,
    basicOptions(mock, {
      timeoutMs: 1,
      exchangeTimeoutMs: 1,
      maxRetries: 0,
      refreshWindowMs: 0,
      initialSession: { token: 'kept-token-from-a-cache', expiresAt: Date.now() + 3_600_000 },
      logger: (line) => lines.push(line),
    }),
  )
  client.on('refresh', (session) => refreshes.push(session))
  assert.deepEqual(await client.authHeader(), { Authorization: BASIC })
  assert.ok(
    lines.some((line) => /initialSession not used/.test(line)),
    lines.join('\n'),
  )
  assert.deepEqual(refreshes, [], 'no exchange, so no refresh event')
  assert.equal(mock.count(), 0)
})
