'use strict'
// Where client.fetch() sends the token: only to origins the client trusts (the vendor's API,
// baseUrl's origin, loopback when baseUrl is loopback, `allowedOrigins`), checked before any
// request; redirects followed with the header only on hops to the origin asked for (another
// host, port, or https: → http: gets none, whatever the vendor header is called); the caller's
// `redirect` mode honoured; a 401 from a hop without the token never buys a new one.
// Recording servers are real (http and https on 127.0.0.1); counts are taken at the mock vendor.
// Run: node --test __test__/fetch-origins.test.js

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { execFile } = require('node:child_process')
const fs = require('node:fs')
const http = require('node:http')
const https = require('node:https')
const os = require('node:os')
const path = require('node:path')

const { createClient } = require('..')
const { optionsFor, mockFor, clientFor, SECRETS } = require('./helpers')
const { expectVendorError } = require('./helpers/util')
const { createCertificates } = require('../testing/certs')

const PV = 'puppetvendors'
const TOKEN_HEADERS = ['x-access-token', 'authorization']

/**
 * A recording server on 127.0.0.1 (http, or https with `tls`): `route(req)` returns
 * `{ status, headers }` (default 200), every request is kept in `seen`.
 */
async function recorder(t, route = () => ({ status: 200 }), tls = undefined) {
  const seen = []
  const handler = (req, res) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() })
      const { status = 200, headers = {} } = route(req) ?? {}
      res.writeHead(status, { 'content-type': 'text/plain', ...headers })
      res.end(`${status}`)
    })
  }
  const server = tls ? https.createServer(tls, handler) : http.createServer(handler)
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => {
    server.closeAllConnections()
    return new Promise((resolve) => server.close(resolve))
  })
  const origin = `${tls ? 'https' : 'http'}://127.0.0.1:${server.address().port}`
  return { origin, seen }
}

function carriesToken(request) {
  return TOKEN_HEADERS.some((name) => request.headers[name] !== undefined)
}

/** A client with a token from `initialSession` and the vendor's real API as its base: no I/O. */
function offlineClient(t, extra = {}) {
  const client = createClient({
    provider: 'vendy',
    accessKey: SECRETS.vendyAccessKey,
    secretKey: SECRETS.vendySecretKey,
    initialSession: { token: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl', expiresAt: Date.now() + 3_600_000 },
    ...extra,
  })
  t.after(() => client.close())
  return client
}

// ------------------------------------------------------------------ which origins get the token

test('client.fetch refuses an origin the client does not trust, before any request, naming allowedOrigins', async (t) => {
  const mock = await mockFor(t)
  const api = await recorder(t, () => ({ status: 401 }))
  const client = offlineClient(t)
  const sent = []
  const real = globalThis.fetch
  globalThis.fetch = (...args) => {
    sent.push(args)
    return real(...args)
  }
  t.after(() => {
    globalThis.fetch = real
  })
  for (let i = 0; i < 20; i++) {
    const error = await expectVendorError(client.fetch(`${api.origin}/orders`, { method: 'POST', body: 'order' }), {
      code: 'INSECURE_URL',
    })
    assert.match(error.message, /allowedOrigins/)
    assert.match(error.message, new RegExp(api.origin.replace(/[.:/]/g, '\\$&')))
  }
  await expectVendorError(client.fetch('https://cdn.example.net/file'), { code: 'INSECURE_URL' })
  assert.equal(api.seen.length, 0, 'no request reached the host')
  assert.equal(sent.length, 0, 'fetch was never called')
  assert.equal(mock.count(), 0, 'and no exchange was made')
})

test('allowedOrigins lets the token go to the origins it lists, and only those', async (t) => {
  const allowed = await recorder(t)
  const other = await recorder(t)
  const client = offlineClient(t, { allowedOrigins: [allowed.origin] })
  const res = await client.fetch(`${allowed.origin}/files/1`)
  assert.equal(res.status, 200)
  assert.equal(allowed.seen.length, 1)
  assert.match(allowed.seen[0].headers.authorization, /^Bearer eyJ/)
  await expectVendorError(client.fetch(`${other.origin}/files/1`), { code: 'INSECURE_URL' })
  assert.equal(other.seen.length, 0)
})

test('allowedOrigins is checked when the client is made: each entry an https: origin (http: only on loopback)', () => {
  const base = { provider: 'vendy', accessKey: SECRETS.vendyAccessKey, secretKey: SECRETS.vendySecretKey }
  for (const [allowedOrigins, pattern] of [
    [['http://files.example.com'], /allowedOrigins\[0\].*https: origin/],
    [['https://ok.example.com', 'https://files.example.com/path'], /allowedOrigins\[1\].*origin only/],
    [['https://user:pw@files.example.com'], /credentials/],
    [['files.example.com'], /not an origin/],
    ['https://files.example.com', /array of strings/],
    [[42], /array of strings; \[0\]/],
  ]) {
    assert.throws(
      () => createClient({ ...base, allowedOrigins }),
      (error) => error.code === 'INVALID_OPTIONS' && pattern.test(error.message),
      JSON.stringify(allowedOrigins),
    )
  }
  // A polluted prototype adds no origin.
  Object.prototype.allowedOrigins = ['https://evil.example.com']
  try {
    const client = createClient(base)
    client.close()
  } finally {
    delete Object.prototype.allowedOrigins
  }
})

// ------------------------------------------------------------------ redirects

for (const provider of ['vendy', PV]) {
  test(`a redirect to another origin is followed without the token (${provider})`, async (t) => {
    const mock = await mockFor(t)
    const thief = await recorder(t)
    const api = await recorder(t, (req) =>
      req.url === '/moved' ? { status: 302, headers: { location: `${thief.origin}/steal` } } : { status: 200 },
    )
    const client = clientFor(t, optionsFor(mock, provider))
    const res = await client.fetch(`${api.origin}/moved`, { headers: { 'x-trace': 'kept' } })
    assert.equal(res.status, 200, 'the redirect was followed')
    assert.equal(api.seen.length, 1)
    assert.ok(carriesToken(api.seen[0]), 'the origin asked for got the token')
    assert.equal(thief.seen.length, 1)
    assert.equal(thief.seen[0].url, '/steal')
    assert.ok(!carriesToken(thief.seen[0]), `the other origin got no token: ${JSON.stringify(thief.seen[0].headers)}`)
    assert.equal(thief.seen[0].headers['x-trace'], 'kept', "the caller's own headers go along")
  })
}

test('a redirect within the origin keeps the token; 307 re-sends method and body, 303 becomes a GET', async (t) => {
  const mock = await mockFor(t)
  const api = await recorder(t, (req) => {
    if (req.url === '/a') return { status: 307, headers: { location: '/b' } }
    if (req.url === '/c') return { status: 303, headers: { location: '/d' } }
    return { status: 200 }
  })
  const client = clientFor(t, optionsFor(mock, PV))
  assert.equal((await client.fetch(`${api.origin}/a`, { method: 'PUT', body: 'payload' })).status, 200)
  assert.deepEqual(
    api.seen.map((r) => [r.method, r.url, r.body, carriesToken(r)]),
    [
      ['PUT', '/a', 'payload', true],
      ['PUT', '/b', 'payload', true],
    ],
  )
  await client.fetch(`${api.origin}/c`, { method: 'POST', body: 'x', headers: { 'content-type': 'text/plain' } })
  const [post, get] = api.seen.slice(2)
  assert.deepEqual([post.method, get.method, get.url, get.body], ['POST', 'GET', '/d', ''])
  assert.equal(get.headers['content-type'], undefined, 'body headers go with the body')
  assert.ok(carriesToken(get))
})

test("the caller's redirect mode is honoured: 'manual' returns the 3xx, 'error' rejects", async (t) => {
  const mock = await mockFor(t)
  const thief = await recorder(t)
  const api = await recorder(t, () => ({ status: 301, headers: { location: `${thief.origin}/x` } }))
  const client = clientFor(t, optionsFor(mock, 'vendy'))
  const manual = await client.fetch(`${api.origin}/`, { redirect: 'manual' })
  assert.equal(manual.status, 301)
  assert.equal(manual.headers.get('location'), `${thief.origin}/x`)
  await assert.rejects(client.fetch(`${api.origin}/`, { redirect: 'error' }), TypeError)
  assert.equal(thief.seen.length, 0)
  assert.equal(api.seen.length, 2)
})

test('a 401 from a redirect target that got no token buys no new token', async (t) => {
  const mock = await mockFor(t)
  const other = await recorder(t, () => ({ status: 401 }))
  const api = await recorder(t, () => ({ status: 302, headers: { location: `${other.origin}/` } }))
  const client = clientFor(t, optionsFor(mock, PV))
  for (let i = 0; i < 5; i++) assert.equal((await client.fetch(`${api.origin}/`)).status, 401)
  assert.equal(mock.count('pv.authenticate'), 1, 'one exchange for five calls')
  assert.ok(other.seen.every((r) => !carriesToken(r)))
})

test('a redirect from https: to http: (same host) never carries the token', async (t) => {
  // Node's global fetch trusts a test CA only through NODE_EXTRA_CA_CERTS at start: a child.
  const mock = await mockFor(t)
  const { caCert, cert, key } = await createCertificates({ host: '127.0.0.1' })
  const plain = await recorder(t)
  const secure = await recorder(t, () => ({ status: 302, headers: { location: `${plain.origin}/clear` } }), {
    cert,
    key,
  })
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'va-fetch-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  fs.writeFileSync(path.join(dir, 'ca.pem'), caCert)
  const script = `
    const { createClient } = require(${JSON.stringify(path.join(__dirname, '..'))})
    const client = createClient(${JSON.stringify(optionsFor(mock, PV))})
    client.fetch(${JSON.stringify(`${secure.origin}/start`)})
      .then((res) => { console.log(res.status); client.close() })
      .catch((error) => { console.error(error); process.exitCode = 1; client.close() })`
  const env = { ...process.env, NODE_EXTRA_CA_CERTS: path.join(dir, 'ca.pem') }
  const stdout = await new Promise((resolve, reject) =>
    execFile(process.execPath, ['-e', script], { env, timeout: 30_000 }, (error, out, err) =>
      error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out),
    ),
  )
  assert.equal(stdout.trim(), '200')
  assert.equal(secure.seen.length, 1)
  assert.ok(carriesToken(secure.seen[0]), 'the https origin asked for got it')
  assert.equal(plain.seen.length, 1)
  assert.ok(!carriesToken(plain.seen[0]), 'the http hop did not')
})
