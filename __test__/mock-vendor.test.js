'use strict'
// Tests of the mock vendor server itself (vendor-auth/testing).
// Run: node --test __test__/mock-vendor.test.js

const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs')
const https = require('node:https')
const path = require('node:path')
const { spawn } = require('node:child_process')

const { startMockVendor, forkMockVendor, ENDPOINTS } = require('../testing')

const VENDY_KEYS = { AccessKey: 'vendy-test-access-key', SecretKey: 'vendy-test-secret-key' }
const PV_BODY = { apiKey: 'vk_test_mockkey' }
const basic = (user, pass) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`

// ------------------------------------------------------------------ helpers

/**
 * POSTs (by default) to the mock over HTTPS, trusting its CA unless `ca` is
 * given (`ca: null` trusts only the default roots). Resolves `{ status, headers, text, json, chunks }` where `chunks`
 * lists `{ at, size }` for each body chunk. Rejects on transport errors.
 */
function call(mock, urlPath, { method = 'POST', headers = {}, body, ca = mock.caCert, timeoutMs, onResponse } = {}) {
  const payload = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body)
  return new Promise((resolve, reject) => {
    const req = https.request(
      new URL(urlPath, mock.baseUrl),
      { method, ca: ca ?? undefined, agent: false, headers: { 'content-type': 'application/json', ...headers } },
      (res) => {
        if (onResponse) return onResponse(res, req, resolve)
        const chunks = []
        const parts = []
        res.on('data', (chunk) => {
          chunks.push({ at: Date.now(), size: chunk.length })
          parts.push(chunk)
        })
        res.on('error', reject)
        res.on('end', () => {
          const text = Buffer.concat(parts).toString('utf8')
          let json
          try {
            json = JSON.parse(text)
          } catch {
            json = undefined
          }
          resolve({ status: res.statusCode, headers: res.headers, text, json, chunks })
        })
      },
    )
    if (timeoutMs) req.setTimeout(timeoutMs, () => req.destroy(new Error('client timeout')))
    req.on('error', reject)
    req.end(payload)
  })
}

const vendyAuth = (mock, headers = VENDY_KEYS) => call(mock, '/auth', { headers, body: {} })
const pvAuth = (mock, body = PV_BODY, prefix = '') => call(mock, `${prefix}/authenticate`, { body })
const pvRefresh = (mock, token, prefix = '') =>
  call(mock, `${prefix}/refresh-token`, { headers: token === undefined ? {} : { 'x-access-token': token } })

/** Decodes a JWT without verifying it. */
function decodeJwt(token) {
  const [header, payload, signature] = token.split('.')
  const part = (p) => JSON.parse(Buffer.from(p, 'base64url').toString('utf8'))
  return { header: part(header), payload: part(payload), signature }
}

/** Runs `fn(mock)` against a fresh mock that is always closed afterwards. */
async function withMock(options, fn) {
  const mock = await startMockVendor(options)
  try {
    return await fn(mock)
  } finally {
    await mock.close()
  }
}

/** Runs a Node script in a child process; resolves { code, stdout, stderr, ms } or rejects after `limitMs`. */
function runNodeScript(source, limitMs) {
  return new Promise((resolve, reject) => {
    const started = Date.now()
    const child = spawn(process.execPath, ['-e', source], { cwd: path.join(__dirname, '..') })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`script did not exit within ${limitMs} ms; stdout=${stdout} stderr=${stderr}`))
    }, limitMs)
    child.on('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr, ms: Date.now() - started })
    })
  })
}

/** True while `pid` runs. A zombie (exited, not yet reaped by init) counts as gone. */
function isAlive(pid) {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  if (!fs.existsSync('/proc/self/stat')) return true // no procfs (not Linux): trust kill(pid, 0)
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false // vanished in between
  }
}

// ------------------------------------------------------------------ TLS and certificates

test("TLS: trusted with caCert, refused without it or with another mock's CA", async () => {
  await withMock({}, async (mock) => {
    assert.match(mock.baseUrl, /^https:\/\/127\.0\.0\.1:\d+$/)
    assert.equal(mock.baseUrl, `https://127.0.0.1:${mock.port}`)
    const ok = await call(mock, '/', { method: 'GET' })
    assert.equal(ok.status, 404)

    const untrusted = ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN']
    await assert.rejects(call(mock, '/auth', { ca: null }), (err) => untrusted.includes(err.code))
    await withMock({}, async (other) => {
      assert.notEqual(other.caCert, mock.caCert, 'each server has its own CA')
      await assert.rejects(call(mock, '/auth', { ca: other.caCert }), (err) => untrusted.includes(err.code))
    })
  })
})

test('certificates: the leaf is a CA:false serverAuth cert for 127.0.0.1/localhost, signed by the CA', async () => {
  await withMock({}, async (mock) => {
    const ca = new crypto.X509Certificate(mock.caCert)
    assert.equal(ca.ca, true)
    assert.match(ca.subject, /CN=vendor-auth mock CA/)
    assert.equal(ca.publicKey.asymmetricKeyType, 'ec')
    assert.equal(ca.publicKey.asymmetricKeyDetails.namedCurve, 'prime256v1')

    const leaf = await call(mock, '/', {
      method: 'GET',
      onResponse: (res, req, resolve) => {
        res.resume()
        resolve(new crypto.X509Certificate(res.socket.getPeerCertificate().raw))
      },
    })
    assert.equal(leaf.ca, false)
    assert.equal(leaf.verify(ca.publicKey), true)
    assert.equal(leaf.checkIssued(ca), true)
    assert.equal(leaf.checkIP('127.0.0.1'), '127.0.0.1')
    assert.equal(leaf.checkHost('localhost'), 'localhost')
    assert.deepEqual(leaf.keyUsage, ['1.3.6.1.5.5.7.3.1']) // extended key usage: serverAuth
    const now = Date.now()
    const from = Date.parse(leaf.validFrom)
    const to = Date.parse(leaf.validTo)
    assert.ok(from <= now - 59 * 60e3 && from >= now - 62 * 60e3, `validFrom ${leaf.validFrom}`)
    assert.ok(to >= now + 47 * 3600e3 && to <= now + 49 * 3600e3, `validTo ${leaf.validTo}`)
  })
})

// ------------------------------------------------------------------ Vendy

test('Vendy /auth: AccessKey/SecretKey and legacy Basic both succeed with a JWT and an HTTP-date expiry', async () => {
  await withMock({}, async (mock) => {
    for (const headers of [VENDY_KEYS, { Authorization: basic('merchant@example.com', 'vendy-test-password') }]) {
      const res = await vendyAuth(mock, headers)
      assert.equal(res.status, 200)
      assert.deepEqual(Object.keys(res.json).sort(), ['expiryTime', 'token'])
      const { payload } = decodeJwt(res.json.token)
      assert.equal(payload.exp - payload.iat, 7 * 86400)
      assert.equal(res.json.expiryTime, new Date(payload.exp * 1000).toUTCString())
      assert.match(res.json.expiryTime, /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/)
    }
    const v2 = await call(mock, '/v2/auth', { headers: VENDY_KEYS, body: {} })
    assert.equal(v2.status, 200)
  })
})

test('Vendy /auth: 400 "data invalid" without credentials, 401 "incorrect password" with wrong ones', async () => {
  await withMock({ vendy: { accessKey: 'ak', secretKey: 'sk' } }, async (mock) => {
    const cases = [
      [{}, 400, 'data invalid'],
      [{ AccessKey: 'ak' }, 400, 'data invalid'],
      [{ Authorization: 'Bearer x' }, 400, 'data invalid'],
      [{ AccessKey: 'ak', SecretKey: 'wrong' }, 401, 'incorrect password'],
      [{ AccessKey: 'vendy-test-access-key', SecretKey: 'vendy-test-secret-key' }, 401, 'incorrect password'],
      [{ Authorization: basic('merchant@example.com', 'nope') }, 401, 'incorrect password'],
      [{ AccessKey: 'ak', SecretKey: 'sk' }, 200, undefined],
    ]
    for (const [headers, status, message] of cases) {
      const res = await vendyAuth(mock, headers)
      assert.equal(res.status, status, JSON.stringify(headers))
      assert.equal(res.json.message, message)
    }
  })
})

test('Vendy /auth: tokenLifetimeSec and expiryTimeSkewSec options', async () => {
  await withMock({ vendy: { tokenLifetimeSec: 1209600, expiryTimeSkewSec: 400 } }, async (mock) => {
    const res = await vendyAuth(mock)
    const { payload } = decodeJwt(res.json.token)
    assert.equal(payload.exp - payload.iat, 1209600)
    assert.equal(Date.parse(res.json.expiryTime) / 1000, payload.exp + 400)
  })
})

// ------------------------------------------------------------------ PuppetVendors

test('PV /authenticate: success fields, mode from the key prefix, /v2 prefix', async () => {
  const keys = [
    {},
    { apiKey: 'vk_live_abc', shopDomain: 'live.myshopify.com', permissions: ['payouts:read'], vendorId: 'v9' },
  ]
  await withMock({ puppetvendors: { keys } }, async (mock) => {
    const res = await pvAuth(mock)
    assert.equal(res.status, 200)
    const { token, ...rest } = res.json.data
    assert.equal(res.json.success, true)
    assert.deepEqual(rest, {
      expiresIn: 86400,
      scope: 'vendor',
      permissions: ['orders:read', 'products:read'],
      shopDomain: 'mock-store.myshopify.com',
      mode: 'test',
      vendorId: 'vendor_123',
    })
    assert.equal(decodeJwt(token).payload.sub, 'vendor_123')

    const live = await pvAuth(mock, { apiKey: 'vk_live_abc', shopDomain: 'live.myshopify.com' }, '/v2')
    assert.equal(live.status, 200)
    assert.equal(live.json.data.mode, 'live')
    assert.equal(live.json.data.vendorId, 'v9')
    assert.deepEqual(live.json.data.permissions, ['payouts:read'])
  })
})

test('PV /authenticate: 400 VALIDATION_ERROR, 401 unknown key and shopDomain mismatch, multiShop keys', async () => {
  const keys = [{}, { apiKey: 'vk_test_multi', multiShop: true }]
  await withMock({ puppetvendors: { keys } }, async (mock) => {
    for (const body of ['{not json', {}, { apiKey: 42 }, []]) {
      const res = await pvAuth(mock, body)
      assert.equal(res.status, 400)
      assert.equal(res.json.success, false)
      assert.equal(res.json.error.code, 'VALIDATION_ERROR')
      assert.equal(typeof res.json.error.message, 'string')
    }
    const unknown = await pvAuth(mock, { apiKey: 'vk_test_other' })
    assert.deepEqual(unknown.json, { success: false, error: { message: 'Invalid API key', code: 'UNAUTHORIZED' } })
    assert.equal(unknown.status, 401)
    const mismatch = await pvAuth(mock, { ...PV_BODY, shopDomain: 'elsewhere.myshopify.com' })
    assert.equal(mismatch.status, 401)
    assert.deepEqual(mismatch.json.error, {
      message: 'The provided shopDomain is not available.',
      code: 'UNAUTHORIZED',
    })
    const own = await pvAuth(mock, { ...PV_BODY, shopDomain: 'mock-store.myshopify.com' })
    assert.equal(own.status, 200)
    const multi = await pvAuth(mock, { apiKey: 'vk_test_multi', shopDomain: 'second.myshopify.com' })
    assert.equal(multi.json.data.shopDomain, 'second.myshopify.com')
  })
})

test('PV /refresh-token: new token for a valid one; 401 for garbage, missing, foreign, expired and revoked tokens', async () => {
  await withMock({ puppetvendors: { tokenLifetimeSec: 3600 } }, async (mock) => {
    const { token } = (await pvAuth(mock)).json.data
    const refreshed = await pvRefresh(mock, token, '/v2')
    assert.equal(refreshed.status, 200)
    assert.equal(refreshed.json.success, true)
    assert.deepEqual(Object.keys(refreshed.json.data).sort(), ['expiresIn', 'shopDomain', 'token'])
    assert.notEqual(refreshed.json.data.token, token)
    assert.equal(refreshed.json.data.expiresIn, 3600)
    assert.equal(refreshed.json.data.shopDomain, 'mock-store.myshopify.com')
    assert.equal((await pvRefresh(mock, refreshed.json.data.token)).status, 200, 'refreshed tokens refresh too')

    const expected = { success: false, error: { message: 'Invalid or expired token', code: 'UNAUTHORIZED' } }
    const foreign = await withMock({}, async (other) => (await pvAuth(other)).json.data.token)
    mock.script('pv.authenticate', { lifetimeSec: 0 })
    const expired = (await pvAuth(mock)).json.data.token
    for (const bad of ['garbage', undefined, foreign, expired, `${token.slice(0, -2)}xx`]) {
      const res = await pvRefresh(mock, bad)
      assert.equal(res.status, 401, String(bad))
      assert.deepEqual(res.json, expected)
    }

    mock.revokeTokens()
    for (const revoked of [token, refreshed.json.data.token]) {
      assert.deepEqual((await pvRefresh(mock, revoked)).json, expected)
    }
    const fresh = (await pvAuth(mock)).json.data.token
    assert.equal((await pvRefresh(mock, fresh)).status, 200, 'tokens issued after revokeTokens() work')
  })
})

test('tokens are HS256 JWTs with iss/sub/iat/exp/jti and exp == iat + lifetime', async () => {
  await withMock({ puppetvendors: { tokenLifetimeSec: 1234 } }, async (mock) => {
    const before = Math.floor(Date.now() / 1000)
    const a = decodeJwt((await pvAuth(mock)).json.data.token)
    const b = decodeJwt((await vendyAuth(mock)).json.token)
    assert.deepEqual(a.header, { alg: 'HS256', typ: 'JWT' })
    assert.deepEqual(Object.keys(a.payload).sort(), ['exp', 'iat', 'iss', 'jti', 'sub'])
    assert.ok(a.payload.iat >= before && a.payload.iat <= before + 2)
    assert.equal(a.payload.exp, a.payload.iat + 1234)
    assert.equal(Buffer.from(a.signature, 'base64url').length, 32)
    assert.notEqual(a.payload.jti, b.payload.jti)
    assert.equal(b.payload.sub, 'vendy-test-access-key')
  })
})

// ------------------------------------------------------------------ recording

test('requests are recorded with endpoint, method, path, headers, body and time; count/reset', async () => {
  await withMock({}, async (mock) => {
    const before = Date.now()
    await pvAuth(mock, PV_BODY, '/v2')
    await call(mock, '/auth?x=1', { headers: { ...VENDY_KEYS, 'X-Trace': 'abc' }, body: {} })
    const unknownPath = await call(mock, '/nope', { body: 'hi' })
    const wrongMethod = await call(mock, '/authenticate', { method: 'GET' })
    for (const res of [unknownPath, wrongMethod]) {
      assert.equal(res.status, 404)
      assert.deepEqual(res.json, { success: false, error: { message: 'Not found', code: 'NOT_FOUND' } })
    }
    assert.deepEqual(
      mock.requests.map((r) => r.endpoint),
      ['pv.authenticate', 'vendy.auth', null, null],
    )
    const [pv, vendy, nope] = mock.requests
    assert.equal(pv.method, 'POST')
    assert.equal(pv.path, '/v2/authenticate')
    assert.deepEqual(JSON.parse(pv.body), PV_BODY)
    assert.equal(vendy.path, '/auth?x=1')
    assert.equal(vendy.headers['x-trace'], 'abc')
    assert.equal(vendy.headers.accesskey, 'vendy-test-access-key')
    assert.equal(nope.body, 'hi')
    assert.ok(pv.at >= before && pv.at <= Date.now())
    assert.equal(mock.count(), 4)
    assert.equal(mock.count('vendy.auth'), 1)
    assert.equal(mock.count('pv.refresh'), 0)
    assert.equal(mock.count(null), 2)
    assert.throws(() => mock.count('vendy'), TypeError)
    const kept = mock.requests
    mock.reset()
    assert.equal(mock.count(), 0)
    assert.equal(kept.length, 0, 'reset() empties the same array')
  })
})

test('request bodies over 64 KiB are answered 413', async () => {
  await withMock({}, async (mock) => {
    const res = await call(mock, '/authenticate', { body: JSON.stringify({ apiKey: 'x'.repeat(70 * 1024) }) })
    assert.equal(res.status, 413)
    assert.equal(res.json.success, false)
    assert.equal(mock.count('pv.authenticate'), 1)
  })
})

// ------------------------------------------------------------------ fault steps

test('step status/body/headers: scripted answers replace normal handling', async () => {
  await withMock({}, async (mock) => {
    mock.script('pv.authenticate', [
      { status: 429, headers: { 'Retry-After': '2' }, body: { success: false, error: { code: 'RATE_LIMITED' } } },
      { status: 500, body: '<html>oops</html>', headers: { 'content-type': 'text/html' } },
      { status: 503 },
      { body: 'not json' },
    ])
    const limited = await pvAuth(mock)
    assert.equal(limited.status, 429)
    assert.equal(limited.headers['retry-after'], '2')
    assert.deepEqual(limited.json, { success: false, error: { code: 'RATE_LIMITED' } })
    const html = await pvAuth(mock)
    assert.equal(html.status, 500)
    assert.equal(html.text, '<html>oops</html>')
    assert.equal(html.headers['content-type'], 'text/html')
    const empty = await pvAuth(mock)
    assert.equal(empty.status, 503)
    assert.equal(empty.text, '')
    const verbatim = await pvAuth(mock)
    assert.equal(verbatim.status, 200)
    assert.equal(verbatim.text, 'not json')
    assert.equal((await pvAuth(mock)).json.success, true, 'normal behaviour once the queue is empty')
  })
})

test('step headers alone decorate the normal answer', async () => {
  await withMock({}, async (mock) => {
    mock.script('vendy.auth', { headers: { 'x-extra': 'yes' } })
    const res = await vendyAuth(mock)
    assert.equal(res.status, 200)
    assert.equal(res.headers['x-extra'], 'yes')
    assert.equal(typeof res.json.token, 'string')
  })
})

test('step delayMs delays the (normal or scripted) answer', async () => {
  await withMock({}, async (mock) => {
    mock.script('vendy.auth', [{ delayMs: 300 }, { delayMs: 200, status: 502 }])
    let started = Date.now()
    const normal = await vendyAuth(mock)
    assert.ok(Date.now() - started >= 290, `took ${Date.now() - started} ms`)
    assert.equal(normal.status, 200)
    started = Date.now()
    const scripted = await vendyAuth(mock)
    assert.ok(Date.now() - started >= 190)
    assert.equal(scripted.status, 502)
  })
})

test('step stall: the request is accepted and never answered', async () => {
  const mock = await startMockVendor()
  try {
    mock.script('pv.authenticate', [{ stall: true }, { stall: true }])
    const started = Date.now()
    await assert.rejects(call(mock, '/authenticate', { body: PV_BODY, timeoutMs: 400 }), /client timeout/)
    assert.ok(Date.now() - started >= 390)
    assert.equal(mock.count('pv.authenticate'), 1, 'the stalled request was received')
    // A stalled request without client timeout is cut when the mock closes.
    const pending = call(mock, '/authenticate', { body: PV_BODY })
    await new Promise((r) => setTimeout(r, 150))
    assert.equal(mock.count('pv.authenticate'), 2)
    await mock.close()
    await assert.rejects(pending, (err) => err.code === 'ECONNRESET')
  } finally {
    await mock.close()
  }
})

test('step reset: the connection is reset without an answer', async () => {
  await withMock({}, async (mock) => {
    mock.script('vendy.auth', [{ reset: true }, { delayMs: 100, reset: true }])
    await assert.rejects(vendyAuth(mock), (err) => err.code === 'ECONNRESET')
    await assert.rejects(vendyAuth(mock), (err) => err.code === 'ECONNRESET')
    assert.equal((await vendyAuth(mock)).status, 200)
    assert.equal(mock.count('vendy.auth'), 3)
  })
})

test('step oversizedBytes: a 200 JSON answer of exactly N bytes, streamed', async () => {
  await withMock({}, async (mock) => {
    const size = 3 * 1024 * 1024 + 7
    mock.script('pv.authenticate', [{ oversizedBytes: size }, { oversizedBytes: 5, status: 201 }])
    const res = await pvAuth(mock)
    assert.equal(res.status, 200)
    assert.match(res.headers['content-type'], /^application\/json/)
    assert.equal(res.headers['content-length'], undefined)
    assert.equal(Buffer.byteLength(res.text), size)
    assert.ok(res.text.startsWith('{"token":"aaaa'))
    assert.ok(res.text.endsWith('aaa"}'))
    assert.ok(res.chunks.length > 1)
    const small = await pvAuth(mock)
    assert.equal(small.status, 201)
    assert.equal(small.text, 'aaaaa')
  })
})

test('step oversizedBytes: the writer honours backpressure and stops when the client goes away', async () => {
  await withMock({}, async (mock) => {
    const rssBefore = process.memoryUsage().rss
    mock.script('pv.authenticate', { oversizedBytes: 1024 * 1024 * 1024 }) // 1 GiB
    const received = await call(mock, '/authenticate', {
      body: PV_BODY,
      onResponse(res, req, resolve) {
        let got = 0
        res.on('data', (chunk) => {
          got += chunk.length
          if (got > 256 * 1024) {
            req.destroy()
            resolve(got)
          }
        })
      },
    })
    assert.ok(received > 256 * 1024)
    await new Promise((r) => setTimeout(r, 300))
    // Ignoring backpressure would have buffered (most of) the 1 GiB in this process.
    const grownMb = (process.memoryUsage().rss - rssBefore) / 1024 / 1024
    assert.ok(grownMb < 200, `rss grew by ${grownMb.toFixed(0)} MB`)
    // The server is still healthy and answers the next request normally.
    assert.equal((await pvAuth(mock)).status, 200)
    assert.equal(mock.count('pv.authenticate'), 2)
  })
})

test('step trickle: the body arrives chunk by chunk, slowly', async () => {
  await withMock({}, async (mock) => {
    mock.script('pv.authenticate', [{ trickle: { chunkBytes: 100, intervalMs: 40 } }])
    let started = Date.now()
    const res = await pvAuth(mock)
    const took = Date.now() - started
    assert.equal(res.json.success, true, 'the full normal body arrives')
    assert.equal(res.headers['content-length'], String(Buffer.byteLength(res.text)))
    // Chunks may coalesce on a busy client, but the pacing is the server's.
    const intervals = Math.ceil(Buffer.byteLength(res.text) / 100) - 1
    assert.ok(res.chunks.length >= 2)
    assert.ok(took >= intervals * 40 - 5, `took ${took} ms for ${intervals} intervals`)
    mock.script('vendy.auth', { status: 500, body: 'x'.repeat(30), trickle: { chunkBytes: 10, intervalMs: 50 } })
    started = Date.now()
    const scripted = await vendyAuth(mock)
    assert.ok(Date.now() - started >= 95)
    assert.equal(scripted.status, 500)
    assert.equal(scripted.text, 'x'.repeat(30))
    assert.ok(scripted.chunks.length >= 2)
  })
})

test("the mock's clock is Date: a mocked Date (node:test mock timers) moves iat/exp, expiryTime, the Date header, request times and verify()", async (t) => {
  await withMock({}, async (mock) => {
    const start = Date.parse('2030-01-01T00:00:00Z')
    t.mock.timers.enable({ apis: ['Date'], now: start })
    const res = await vendyAuth(mock)
    assert.equal(res.status, 200)
    // Node's own Date header reads the real clock; the mock's reads Date.
    assert.equal(res.headers.date, 'Tue, 01 Jan 2030 00:00:00 GMT')
    const { payload } = decodeJwt(res.json.token)
    assert.equal(payload.iat, start / 1000)
    assert.equal(res.json.expiryTime, 'Tue, 08 Jan 2030 00:00:00 GMT')
    assert.equal(mock.requests[0].at, start)
    assert.ok(mock.verify(res.json.token), 'valid now')
    t.mock.timers.tick(7 * 86400_000 - 1000)
    assert.ok(mock.verify(res.json.token), 'valid a second before exp')
    t.mock.timers.tick(1000)
    assert.equal(mock.verify(res.json.token), null, 'expired at exp')
    const pv = await pvAuth(mock)
    assert.equal(pv.headers.date, 'Tue, 08 Jan 2030 00:00:00 GMT')
    assert.equal(decodeJwt(pv.json.data.token).payload.iat, start / 1000 + 7 * 86400)
    assert.equal(mock.requests[1].at, start + 7 * 86400_000)
  })
})

test('step lifetimeSec sets the stated expiry and the JWT exp; 0 or negative gives an expired token', async () => {
  await withMock({}, async (mock) => {
    mock.script('pv.authenticate', [{ lifetimeSec: 5 }, { lifetimeSec: -60 }])
    const five = (await pvAuth(mock)).json.data
    assert.equal(five.expiresIn, 5)
    const fivePayload = decodeJwt(five.token).payload
    assert.equal(fivePayload.exp - fivePayload.iat, 5)
    const past = (await pvAuth(mock)).json.data
    assert.equal(past.expiresIn, -60)
    assert.ok(decodeJwt(past.token).payload.exp < Date.now() / 1000)
    assert.equal((await pvRefresh(mock, past.token)).status, 401)

    mock.script('pv.refresh', { lifetimeSec: 30 })
    const refreshed = (await pvRefresh(mock, five.token)).json.data
    assert.equal(refreshed.expiresIn, 30)

    mock.script('vendy.auth', { lifetimeSec: 0 })
    const vendy = (await vendyAuth(mock)).json
    const { payload } = decodeJwt(vendy.token)
    assert.equal(payload.exp, payload.iat)
    assert.equal(Date.parse(vendy.expiryTime) / 1000, payload.iat)
  })
})

test('step jwtExpOffsetSec sets the JWT exp independently of the stated expiry', async () => {
  await withMock({}, async (mock) => {
    mock.script('pv.authenticate', [{ jwtExpOffsetSec: 10 }, { lifetimeSec: 600, jwtExpOffsetSec: -5 }])
    const a = (await pvAuth(mock)).json.data
    assert.equal(a.expiresIn, 86400)
    const pa = decodeJwt(a.token).payload
    assert.equal(pa.exp, pa.iat + 10)
    const b = (await pvAuth(mock)).json.data
    assert.equal(b.expiresIn, 600)
    const pb = decodeJwt(b.token).payload
    assert.equal(pb.exp, pb.iat - 5)
    assert.equal((await pvRefresh(mock, b.token)).status, 401, 'the JWT exp governs validity')

    mock.script('vendy.auth', { lifetimeSec: 100, jwtExpOffsetSec: 50 })
    const v = (await vendyAuth(mock)).json
    const pv = decodeJwt(v.token).payload
    assert.equal(pv.exp, pv.iat + 50)
    assert.equal(Date.parse(v.expiryTime) / 1000, pv.iat + 100)
  })
})

test('steps expiresIn / expiryTime override the stated field raw (undefined removes it)', async () => {
  await withMock({}, async (mock) => {
    mock.script('pv.authenticate', [{ expiresIn: '86400' }, { expiresIn: null }, { expiresIn: undefined }])
    assert.equal((await pvAuth(mock)).json.data.expiresIn, '86400')
    assert.equal((await pvAuth(mock)).json.data.expiresIn, null)
    const removed = (await pvAuth(mock)).json.data
    assert.equal('expiresIn' in removed, false)
    assert.equal(typeof removed.token, 'string')

    mock.script('vendy.auth', [{ expiryTime: 1688682951 }, { expiryTime: 'not a date' }])
    assert.equal((await vendyAuth(mock)).json.expiryTime, 1688682951)
    assert.equal((await vendyAuth(mock)).json.expiryTime, 'not a date')
    assert.throws(() => mock.script('pv.authenticate', { expiryTime: 'x' }), /expiryTime/)
    assert.throws(() => mock.script('vendy.auth', { expiresIn: 1 }), /expiresIn/)
  })
})

test('queue order, then the default, then normal behaviour after setDefault(null)', async () => {
  await withMock({}, async (mock) => {
    mock.script('vendy.auth', [{ status: 500 }, { status: 502 }])
    mock.script('vendy.auth', { status: 504 })
    mock.setDefault('vendy.auth', { status: 503, body: { message: 'maintenance' } })
    assert.equal(mock.pending('vendy.auth'), 3)
    const statuses = []
    for (let i = 0; i < 5; i++) statuses.push((await vendyAuth(mock)).status)
    assert.deepEqual(statuses, [500, 502, 504, 503, 503])
    assert.equal(mock.pending('vendy.auth'), 0)
    assert.equal((await pvAuth(mock)).status, 200, 'other endpoints are unaffected')
    mock.setDefault('vendy.auth', null)
    assert.equal((await vendyAuth(mock)).status, 200)

    mock.script('pv.refresh', { status: 500 })
    mock.setDefault('pv.authenticate', { status: 500 })
    mock.reset()
    assert.equal(mock.pending('pv.refresh'), 0)
    assert.equal((await pvAuth(mock)).status, 200, 'reset() clears defaults')
  })
})

test('function steps receive the request and pick the step dynamically; failures answer 500', async () => {
  await withMock({}, async (mock) => {
    const seen = []
    mock.setDefault('pv.authenticate', (req) => {
      seen.push(req.endpoint)
      return JSON.parse(req.body).apiKey === 'vk_test_slow' ? { status: 418 } : null
    })
    assert.equal((await pvAuth(mock, { apiKey: 'vk_test_slow' })).status, 418)
    assert.equal((await pvAuth(mock)).status, 200)
    assert.deepEqual(seen, ['pv.authenticate', 'pv.authenticate'])

    mock.script('vendy.auth', [
      async () => ({ bogus: true }),
      () => {
        throw new Error('boom')
      },
    ])
    for (const fragment of ['bogus', 'boom']) {
      const res = await vendyAuth(mock)
      assert.equal(res.status, 500)
      assert.equal(res.json.error.code, 'MOCK_STEP_ERROR')
      assert.match(res.json.error.message, new RegExp(fragment))
    }
  })
})

test('invalid steps and endpoints throw a TypeError naming the problem, queueing nothing', async () => {
  await withMock({}, async (mock) => {
    const invalid = [
      [{ statsu: 500 }, /statsu/],
      [{ status: 'x' }, /status/],
      [{ delayMs: -1 }, /delayMs/],
      [{ trickle: { chunkBytes: 0, intervalMs: 1 } }, /trickle/],
      [{ stall: true, status: 500 }, /stall/],
      [{ reset: true, body: 'x' }, /reset/],
      [{ oversizedBytes: 10, body: 'x' }, /oversizedBytes/],
      [{ status: 500, lifetimeSec: 5 }, /lifetimeSec/],
      ['nope', /object or a function/],
    ]
    for (const [step, message] of invalid) {
      assert.throws(
        () => mock.script('pv.authenticate', [{}, step]),
        (err) => err instanceof TypeError && message.test(err.message),
      )
    }
    assert.equal(mock.pending('pv.authenticate'), 0)
    assert.throws(() => mock.setDefault('pv.authenticate', { nope: 1 }), TypeError)
    assert.throws(
      () => mock.script('vendy', []),
      (err) => err instanceof TypeError && /vendy/.test(err.message),
    )
    assert.deepEqual([...ENDPOINTS], ['vendy.auth', 'pv.authenticate', 'pv.refresh'])
  })
})

// ------------------------------------------------------------------ entry points and processes

test('the ESM entry re-exports the CommonJS API', async () => {
  const esm = await import('../testing/index.mjs')
  assert.equal(esm.startMockVendor, startMockVendor)
  assert.equal(esm.forkMockVendor, forkMockVendor)
  assert.equal(esm.default.startMockVendor, startMockVendor)
})

test('forkMockVendor: server in a child process, controlled over IPC', async () => {
  const mock = await forkMockVendor({ puppetvendors: { keys: [{ apiKey: 'vk_live_forked' }] } })
  try {
    assert.notEqual(mock.pid, process.pid)
    assert.ok(isAlive(mock.pid))
    await mock.script('pv.authenticate', [{ status: 500, headers: { 'retry-after': '1' } }, { expiresIn: undefined }])
    assert.equal(await mock.pending('pv.authenticate'), 2)
    const failed = await pvAuth(mock, { apiKey: 'vk_live_forked' })
    assert.equal(failed.status, 500)
    assert.equal(failed.headers['retry-after'], '1')
    const ok = await pvAuth(mock, { apiKey: 'vk_live_forked' })
    assert.equal(ok.json.data.mode, 'live')
    assert.equal('expiresIn' in ok.json.data, false, 'undefined survives IPC')
    assert.equal(await mock.count(), 2)
    assert.equal(await mock.count('vendy.auth'), 0)
    assert.deepEqual(
      (await mock.requests()).map((r) => r.endpoint),
      ['pv.authenticate', 'pv.authenticate'],
    )

    await assert.rejects(
      mock.script('vendy.auth', () => ({})),
      (err) => err instanceof TypeError && /function steps/.test(err.message),
    )
    await assert.rejects(
      mock.script('vendy.auth', { bogus: 1 }),
      (err) => err instanceof TypeError && /bogus/.test(err.message),
    )
    await mock.setDefault('vendy.auth', { status: 401, body: { message: 'Account has not been activated' } })
    assert.equal((await vendyAuth(mock)).status, 401)
    await mock.reset()
    assert.equal(await mock.count(), 0)
    assert.equal((await vendyAuth(mock)).status, 200)
  } finally {
    await mock.close()
  }
  assert.equal(isAlive(mock.pid), false, 'the child has exited after close()')
  await assert.rejects(mock.count(), /not running/)
})

test('a process that closes its forked mock exits promptly (no dangling handles)', async () => {
  const script = `
    const { forkMockVendor } = require('./testing');
    const https = require('node:https');
    (async () => {
      const mock = await forkMockVendor();
      await mock.script('vendy.auth', { delayMs: 10 });
      await new Promise((resolve, reject) => {
        https.request(mock.baseUrl + '/auth', { method: 'POST', ca: mock.caCert }, (res) => { res.resume(); res.on('end', resolve); })
          .on('error', reject).end('{}');
      });
      console.log(mock.pid, await mock.count());
      await mock.close();
    })();`
  const { code, stdout, stderr, ms } = await runNodeScript(script, 8000)
  assert.equal(code, 0, stderr)
  const [pid, count] = stdout.trim().split(' ').map(Number)
  assert.equal(count, 1)
  assert.equal(isAlive(pid), false)
  assert.ok(ms < 8000)
})

test('an idle forked mock does not keep its parent alive, and the child follows the parent out', async () => {
  const script = `
    require('./testing').forkMockVendor().then((mock) => console.log(mock.pid));`
  const { code, stdout } = await runNodeScript(script, 8000)
  assert.equal(code, 0)
  const pid = Number(stdout.trim())
  for (let i = 0; i < 50 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 100))
  assert.equal(isAlive(pid), false)
})

test('an in-process mock closed with a stalled request lets the process exit promptly', async () => {
  const script = `
    const { startMockVendor } = require('./testing');
    const https = require('node:https');
    (async () => {
      const mock = await startMockVendor();
      mock.script('vendy.auth', { stall: true });
      const req = https.request(mock.baseUrl + '/auth', { method: 'POST', ca: mock.caCert });
      req.on('error', (err) => console.log(err.code));
      req.end('{}');
      while (mock.count() === 0) await new Promise((r) => setTimeout(r, 10));
      await mock.close();
    })();`
  const { code, stdout, stderr } = await runNodeScript(script, 8000)
  assert.equal(code, 0, stderr)
  assert.equal(stdout.trim(), 'ECONNRESET')
})
