'use strict'
// Fault injection against the real HTTPS mock vendor: every case asserts the error code (or
// success), how many requests the mock saw, and timing bounds as generous ratios (the CI
// machine is small and busy). Run: node --test __test__/faults.test.js

const test = require('node:test')
const assert = require('node:assert/strict')

const { authenticate, VendorAuthError } = require('..')
const { startMock, optionsFor, mockFor, clientFor } = require('./helpers')
const { startTcpProxy } = require('./helpers/tcp-proxy')
const { FAKE_TOKEN, JWT_PATTERN, rejection, timed, assertClean, mask, jwtPayload } = require('./helpers/faults')
const { virtualClock, nextEvent } = require('./helpers/clock')
const { clientDeadlines } = require('./helpers/util')

const PV = 'puppetvendors'
const pvError = (message, code) => ({ success: false, error: { message, code } })

/** Collects debug lines of one call. */
function lineSink() {
  const lines = []
  return { lines, logger: (line) => lines.push(line) }
}

function assertVendorError(error, code) {
  assert.ok(error instanceof VendorAuthError, `expected a VendorAuthError, got ${mask(String(error && error.stack))}`)
  assert.equal(error.code, code, `expected ${code}, got ${error.code}: ${mask(error.message)}`)
}

// ------------------------------------------------------------------ 5xx

test('503 twice then success (maxRetries 2): succeeds on the third request', async (t) => {
  const mock = await mockFor(t)
  mock.script('pv.authenticate', [{ status: 503 }, { status: 503 }])
  const { lines, logger } = lineSink()
  const { value: session, error, ms } = await timed(() => authenticate(optionsFor(mock, PV, { maxRetries: 2, logger })))
  t.diagnostic(`took ${Math.round(ms)} ms`)
  assert.ifError(error)
  assert.equal(mock.count('pv.authenticate'), 3)
  assert.equal(mock.pending('pv.authenticate'), 0)
  assert.ok(session.expiresAt > Date.now())
  assert.equal(lines.filter((l) => /retry in \d+ ms/.test(l)).length, 2, mask(lines.join('\n')))
  // Two full-jitter backoffs below 250 ms and 500 ms: well under 2 s even on a busy machine.
  assert.ok(ms < 3000, `took ${ms} ms`)
})

test('500 three times (maxRetries 2): SERVER_ERROR after 3 requests, giving up', async (t) => {
  const mock = await mockFor(t)
  const body = pvError('Something went wrong', 'INTERNAL_SERVER_ERROR')
  mock.script('pv.authenticate', [{ status: 500, body }, { status: 500, body }, { status: 500, body }, {}])
  const { error, ms } = await timed(() => authenticate(optionsFor(mock, PV, { maxRetries: 2 })))
  t.diagnostic(`took ${Math.round(ms)} ms`)
  assertVendorError(error, 'SERVER_ERROR')
  assert.equal(error.status, 500)
  assert.equal(error.vendorCode, 'INTERNAL_SERVER_ERROR')
  assert.equal(error.vendorMessage, 'Something went wrong')
  assert.match(error.message, /gave up after 2 retries/)
  assert.equal(mock.count('pv.authenticate'), 3)
  assert.equal(mock.pending('pv.authenticate'), 1, 'no fourth request')
  assert.ok(ms < 3000, `took ${ms} ms`)
})

test('502 and 504 are retried', async (t) => {
  const mock = await mockFor(t)
  mock.script('vendy.auth', [
    { status: 502, body: '<html>Bad Gateway</html>' },
    { status: 504, body: '' },
  ])
  const session = await authenticate(optionsFor(mock, 'vendy'))
  assert.equal(session.provider, 'vendy')
  assert.equal(mock.count('vendy.auth'), 3)
})

test('501 is not retried: SERVER_ERROR after 1 request', async (t) => {
  const mock = await mockFor(t)
  mock.script('pv.authenticate', [{ status: 501, body: pvError('Not implemented', 'NOT_IMPLEMENTED') }])
  const error = await rejection(authenticate(optionsFor(mock, PV)))
  assertVendorError(error, 'SERVER_ERROR')
  assert.equal(error.status, 501)
  assert.equal(mock.count('pv.authenticate'), 1)
})

// ------------------------------------------------------------------ 4xx

for (const [status, code, body] of [
  [400, 'BAD_REQUEST', pvError('"apiKey" is required', 'VALIDATION_ERROR')],
  [401, 'UNAUTHORIZED', pvError('API key revoked', 'UNAUTHORIZED')],
  [403, 'FORBIDDEN', pvError('Forbidden', 'FORBIDDEN')],
]) {
  test(`${status} is never retried: ${code} after 1 request`, async (t) => {
    const mock = await mockFor(t)
    // Even with a Retry-After and a generous retry budget.
    mock.script('pv.authenticate', [{ status, body, headers: { 'Retry-After': '0' } }])
    const { error, ms } = await timed(() => authenticate(optionsFor(mock, PV, { maxRetries: 5 })))
    t.diagnostic(`took ${Math.round(ms)} ms`)
    assertVendorError(error, code)
    assert.equal(error.status, status)
    assert.equal(error.vendorMessage, body.error.message)
    assert.equal(error.vendorCode, body.error.code)
    assert.equal(mock.count('pv.authenticate'), 1)
    assert.ok(ms < 2000, `took ${ms} ms`)
  })
}

test("a wrong Vendy secret (the mock's own 401) is UNAUTHORIZED after 1 request", async (t) => {
  const mock = await mockFor(t)
  const error = await rejection(authenticate({ ...optionsFor(mock, 'vendy'), secretKey: 'vendy-sk-wrong-000000' }))
  assertVendorError(error, 'UNAUTHORIZED')
  assert.equal(error.vendorMessage, 'incorrect password')
  assert.equal(mock.count('vendy.auth'), 1)
})

// ------------------------------------------------------------------ 429

const rateLimited = pvError('Too many authentication requests', 'RATE_LIMITED')

test('429 with Retry-After: 1 then success: waits about 1 s, 2 requests', async (t) => {
  const mock = await mockFor(t)
  mock.script('pv.authenticate', [{ status: 429, body: rateLimited, headers: { 'Retry-After': '1' } }])
  const { lines, logger } = lineSink()
  const { error, ms } = await timed(() => authenticate(optionsFor(mock, PV, { logger })))
  t.diagnostic(`took ${Math.round(ms)} ms`)
  assert.ifError(error)
  assert.equal(mock.count('pv.authenticate'), 2)
  const [first, second] = mock.requests.map((r) => r.at)
  assert.ok(second - first >= 900, `second request ${second - first} ms after the first`)
  assert.ok(ms >= 900 && ms < 5000, `took ${ms} ms`)
  assert.ok(
    lines.some((l) => l.endsWith('retry in 1000 ms')),
    mask(lines.join('\n')),
  )
})

test('429 with Retry-After as an HTTP-date about 2-3 s ahead: honoured', async (t) => {
  const mock = await mockFor(t)
  // HTTP-dates have whole seconds: aim 3 s past the current second, so the wait is 2-3 s.
  const at = (Math.floor(Date.now() / 1000) + 3) * 1000
  const expected = at - Date.now()
  mock.script('pv.authenticate', [
    { status: 429, body: rateLimited, headers: { 'Retry-After': new Date(at).toUTCString() } },
  ])
  const { error, ms } = await timed(() => authenticate(optionsFor(mock, PV)))
  t.diagnostic(`took ${Math.round(ms)} ms`)
  assert.ifError(error)
  assert.equal(mock.count('pv.authenticate'), 2)
  assert.ok(mock.requests[1].at >= at - 100, `retried ${at - mock.requests[1].at} ms before the date`)
  assert.ok(ms >= 0.9 * expected - 100 && ms < 5 * expected, `took ${ms} ms for a ${expected} ms wait`)
})

test('429 with Retry-After: 120 beyond maxRetryDelayMs (30 s): RATE_LIMITED at once with retryAfterMs', async (t) => {
  const mock = await mockFor(t)
  mock.script('pv.authenticate', [{ status: 429, body: rateLimited, headers: { 'Retry-After': '120' } }])
  const { error, ms } = await timed(() => authenticate(optionsFor(mock, PV)))
  t.diagnostic(`took ${Math.round(ms)} ms`)
  assertVendorError(error, 'RATE_LIMITED')
  assert.equal(error.retryAfterMs, 120000)
  assert.equal(error.status, 429)
  assert.equal(error.vendorCode, 'RATE_LIMITED')
  assert.match(error.message, /maxRetryDelayMs/)
  assert.equal(mock.count('pv.authenticate'), 1)
  assert.ok(ms < 2000, `took ${ms} ms (should not have waited)`)
})

test('429 without Retry-After: backs off (full jitter below 250 ms) then retries', async (t) => {
  const mock = await mockFor(t)
  mock.script('pv.authenticate', [{ status: 429, body: rateLimited }])
  const { lines, logger } = lineSink()
  const { error, ms } = await timed(() => authenticate(optionsFor(mock, PV, { logger })))
  t.diagnostic(`took ${Math.round(ms)} ms`)
  assert.ifError(error)
  assert.equal(mock.count('pv.authenticate'), 2)
  const retry = lines.map((l) => /retry in (\d+) ms/.exec(l)).find(Boolean)
  assert.ok(retry, mask(lines.join('\n')))
  assert.ok(Number(retry[1]) < 250, `first backoff ${retry[1]} ms`)
  assert.ok(ms < 3000, `took ${ms} ms`)
})

test('429 that persists: RATE_LIMITED after maxRetries + 1 requests, with the wait asked', async (t) => {
  const mock = await mockFor(t)
  const step = { status: 429, body: rateLimited, headers: { 'Retry-After': '0' } }
  mock.script('pv.authenticate', [step, step, step])
  const error = await rejection(authenticate(optionsFor(mock, PV, { maxRetries: 2 })))
  assertVendorError(error, 'RATE_LIMITED')
  assert.equal(error.retryAfterMs, 0)
  assert.match(error.message, /gave up after 2 retries/)
  assert.equal(mock.count('pv.authenticate'), 3)
})

// ------------------------------------------------------------------ connection failures

test('a connection reset is retried', async (t) => {
  const mock = await mockFor(t)
  mock.script('vendy.auth', [{ reset: true }])
  const session = await authenticate(optionsFor(mock, 'vendy'))
  assert.equal(session.provider, 'vendy')
  assert.equal(mock.count('vendy.auth'), 2)
})

test('resets three times (maxRetries 2): NETWORK after 3 requests', async (t) => {
  const mock = await mockFor(t)
  mock.script('vendy.auth', [{ reset: true }, { reset: true }, { reset: true }, {}])
  const { error, ms } = await timed(() => authenticate(optionsFor(mock, 'vendy', { maxRetries: 2 })))
  t.diagnostic(`took ${Math.round(ms)} ms`)
  assertVendorError(error, 'NETWORK')
  assert.match(error.message, /gave up after 2 retries/)
  assert.equal(mock.count('vendy.auth'), 3)
  assert.ok(ms < 3000, `took ${ms} ms`)
})

test('nobody listening: NETWORK after maxRetries + 1 attempts, quickly', async (t) => {
  const mock = await startMock()
  const options = optionsFor(mock, 'vendy', { maxRetries: 1 })
  await mock.close() // the port is now closed
  const { error, ms } = await timed(() => authenticate(options))
  t.diagnostic(`took ${Math.round(ms)} ms`)
  assertVendorError(error, 'NETWORK')
  assert.match(error.message, /could not connect|connection/)
  assert.ok(ms < 3000, `took ${ms} ms`)
})

// ------------------------------------------------------------------ timeouts

test('a stalled server (timeoutMs 300, maxRetries 1): TIMEOUT after 2 attempts', async (t) => {
  const mock = await mockFor(t)
  mock.script('pv.authenticate', [{ stall: true }, { stall: true }])
  const { error, ms } = await timed(() => authenticate(optionsFor(mock, PV, { timeoutMs: 300, maxRetries: 1 })))
  t.diagnostic(`took ${Math.round(ms)} ms`)
  assertVendorError(error, 'TIMEOUT')
  assert.match(error.message, /timeoutMs = 300 ms/)
  assert.equal(mock.count('pv.authenticate'), 2)
  assert.ok(ms >= 0.9 * 600 && ms < 3000, `took ${ms} ms`)
})

test('a slow trickled body longer than timeoutMs: TIMEOUT (the timeout covers the last byte)', async (t) => {
  const mock = await mockFor(t)
  // The normal answer (~600 bytes) at 16 bytes per 100 ms would take about 4 s.
  mock.script('pv.authenticate', [{ trickle: { chunkBytes: 16, intervalMs: 100 } }])
  const { error, ms } = await timed(() => authenticate(optionsFor(mock, PV, { timeoutMs: 500, maxRetries: 0 })))
  t.diagnostic(`took ${Math.round(ms)} ms`)
  assertVendorError(error, 'TIMEOUT')
  assert.equal(mock.count('pv.authenticate'), 1)
  assert.ok(ms >= 0.9 * 500 && ms < 2500, `took ${ms} ms`)
})

test('a trickled body that completes within timeoutMs: success', async (t) => {
  const mock = await mockFor(t)
  mock.script('vendy.auth', [{ trickle: { chunkBytes: 128, intervalMs: 20 } }])
  const session = await authenticate(optionsFor(mock, 'vendy', { timeoutMs: 5000, maxRetries: 0 }))
  assert.equal(session.provider, 'vendy')
  assert.equal(mock.count('vendy.auth'), 1)
})

test('a delay shorter than timeoutMs: success, not retried', async (t) => {
  const mock = await mockFor(t)
  mock.script('pv.authenticate', [{ delayMs: 200 }])
  const {
    value: session,
    error,
    ms,
  } = await timed(() => authenticate(optionsFor(mock, PV, { timeoutMs: 3000, maxRetries: 0 })))
  t.diagnostic(`took ${Math.round(ms)} ms`)
  assert.ifError(error)
  assert.equal(session.provider, PV)
  assert.equal(mock.count('pv.authenticate'), 1)
  assert.ok(ms >= 180 && ms < 3000, `took ${ms} ms`)
})

test('a delay longer than timeoutMs then a normal answer: TIMEOUT is retried and succeeds', async (t) => {
  const mock = await mockFor(t)
  mock.script('vendy.auth', [{ delayMs: 1500 }])
  const { error, ms } = await timed(() => authenticate(optionsFor(mock, 'vendy', { timeoutMs: 300, maxRetries: 1 })))
  t.diagnostic(`took ${Math.round(ms)} ms`)
  assert.ifError(error)
  assert.equal(mock.count('vendy.auth'), 2)
  assert.ok(ms >= 270 && ms < 3000, `took ${ms} ms`)
})

// ------------------------------------------------------------------ bounded answers

test('a 10 MB body: INVALID_RESPONSE naming the cap, fast, without reading the rest', async (t) => {
  const mock = await mockFor(t)
  const proxy = await startTcpProxy({ port: mock.port })
  t.after(() => proxy.close())
  const size = 10 * 1024 * 1024
  mock.script('pv.authenticate', [{ oversizedBytes: size }])
  const options = { ...optionsFor(mock, PV, { maxRetries: 2 }), baseUrl: proxy.baseUrl }
  const { error, ms } = await timed(() => authenticate(options))
  t.diagnostic(`took ${Math.round(ms)} ms`)
  assertVendorError(error, 'INVALID_RESPONSE')
  assert.match(error.message, /larger than 64 KiB/)
  assert.equal(error.status, 200)
  assert.equal(mock.count('pv.authenticate'), 1, 'an oversized answer is not retried')
  assert.ok(ms < 2000, `took ${ms} ms`)
  await new Promise((resolve) => setTimeout(resolve, 200)) // let the relay see the hang-up
  t.diagnostic(`${proxy.stats.downstreamBytes} bytes crossed the wire of ${size}`)
  assert.equal(proxy.stats.clientClosedFirst, 1, 'the client hung up before the server finished')
  // Loopback socket buffers hold a few hundred KiB at most; nowhere near the 10 MB.
  assert.ok(proxy.stats.downstreamBytes < size / 4, `${proxy.stats.downstreamBytes} bytes crossed the wire`)
})

test('a 10 MB body trickled in 16 KiB chunks: cut off after the cap, long before the end', async (t) => {
  const mock = await mockFor(t)
  const proxy = await startTcpProxy({ port: mock.port })
  t.after(() => proxy.close())
  // 640 chunks, 20 ms apart: the whole body would take about 13 s.
  mock.script('pv.authenticate', [
    { oversizedBytes: 10 * 1024 * 1024, trickle: { chunkBytes: 16 * 1024, intervalMs: 20 } },
  ])
  const options = { ...optionsFor(mock, PV, { timeoutMs: 20000 }), baseUrl: proxy.baseUrl }
  const { error, ms } = await timed(() => authenticate(options))
  t.diagnostic(`took ${Math.round(ms)} ms`)
  assertVendorError(error, 'INVALID_RESPONSE')
  assert.match(error.message, /64 KiB/)
  assert.ok(ms < 2000, `took ${ms} ms`)
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.diagnostic(`${proxy.stats.downstreamBytes} bytes crossed the wire`)
  assert.equal(proxy.stats.clientClosedFirst, 1)
  assert.ok(proxy.stats.downstreamBytes < 512 * 1024, `${proxy.stats.downstreamBytes} bytes crossed the wire`)
})

test('a Content-Length over the cap is refused before the body is read', async (t) => {
  const mock = await mockFor(t)
  mock.script('vendy.auth', [
    {
      oversizedBytes: 10 * 1024 * 1024,
      headers: { 'content-length': String(10 * 1024 * 1024) },
      trickle: { chunkBytes: 1024, intervalMs: 50 },
    },
  ])
  const { error, ms } = await timed(() => authenticate(optionsFor(mock, 'vendy')))
  t.diagnostic(`took ${Math.round(ms)} ms`)
  assertVendorError(error, 'INVALID_RESPONSE')
  assert.match(error.message, /64 KiB/)
  assert.equal(mock.count('vendy.auth'), 1)
  assert.ok(ms < 1000, `took ${ms} ms`)
})

test('a body just under the cap is read in full (no false positive)', async (t) => {
  const mock = await mockFor(t)
  const pad = 'x'.repeat(60 * 1024)
  // A valid answer padded with an extra field to ~60 KiB.
  mock.script('pv.authenticate', [
    { status: 200, body: { success: true, data: { token: FAKE_TOKEN, expiresIn: 3600, padding: pad } } },
  ])
  const session = await authenticate(optionsFor(mock, PV))
  assert.ok(session.token === FAKE_TOKEN, 'the padded answer gives its token')
})

// ------------------------------------------------------------------ malformed answers

/**
 * Malformed success answers: each must give INVALID_RESPONSE after exactly one request (a retry
 * cannot fix a broken answer), naming what was wrong, never holding the token.
 */
const TEN_YEARS_SEC = 10 * 365 * 86400
const MALFORMED = [
  ['vendy', 'non-JSON text', { status: 200, body: 'token=abc; expires tomorrow' }, /not JSON/],
  ['vendy', 'an HTML page', { status: 200, body: '<html><body>Maintenance</body></html>' }, /not JSON/],
  ['vendy', 'an empty body', { status: 200, body: '' }, /empty/],
  [
    PV,
    'a JSON array',
    { status: 200, body: [{ success: true, data: { token: FAKE_TOKEN, expiresIn: 3600 } }] },
    /array, not an object/,
  ],
  [PV, 'JSON null', { status: 200, body: 'null' }, /null, not an object/],
  [PV, 'a missing token', { status: 200, body: { success: true, data: { expiresIn: 3600 } } }, /'token' is missing/],
  [
    PV,
    'an empty token',
    { status: 200, body: { success: true, data: { token: '', expiresIn: 3600 } } },
    /'token' is empty/,
  ],
  [
    PV,
    'a numeric token',
    { status: 200, body: { success: true, data: { token: 12345, expiresIn: 3600 } } },
    /'token' is a number/,
  ],
  [
    PV,
    'a token with CR/LF (header injection)',
    { status: 200, body: { success: true, data: { token: `${FAKE_TOKEN}\r\nX-Evil: 1`, expiresIn: 3600 } } },
    /not allowed in an HTTP header/,
  ],
  [PV, 'missing data', { status: 200, body: { success: true } }, /'data' is missing/],
  [
    PV,
    'success: false on a 200',
    { status: 200, body: { success: false, data: { token: FAKE_TOKEN, expiresIn: 3600 } } },
    /success: false/,
  ],
  [PV, 'expiresIn as a string', { expiresIn: '86400' }, /'expiresIn' is a string, not a number/],
  [PV, 'expiresIn negative', { expiresIn: -5 }, /'expiresIn' must be a positive number/],
  [PV, 'expiresIn zero', { expiresIn: 0 }, /'expiresIn' must be a positive number/],
  [
    PV,
    'no expiresIn and an opaque token',
    { status: 200, body: { success: true, data: { token: 'opaque-token-LEAKCHECK-0123456789' } } },
    /no 'expiresIn' and the token carries no 'exp'/,
  ],
  ['vendy', 'expiryTime garbage', { expiryTime: 'next tuesday, probably' }, /'expiryTime' is not an HTTP-date/],
  ['vendy', 'expiryTime as a number', { expiryTime: 1700000000 }, /'expiryTime' is a number/],
  ['vendy', 'an expired token (lifetimeSec -10)', { lifetimeSec: -10 }, /already expired/],
  [
    PV,
    'an expired token (lifetimeSec -10)',
    { lifetimeSec: -10 },
    /'expiresIn' must be a positive number of seconds, not -10/,
  ],
  [
    PV,
    'a token expiring as it is issued (lifetimeSec 0)',
    { lifetimeSec: 0 },
    /'expiresIn' must be a positive number of seconds, not 0/,
  ],
  [PV, 'an expired JWT with a positive expiresIn (jwtExpOffsetSec -10)', { jwtExpOffsetSec: -10 }, /already expired/],
  ['vendy', 'a token expiring as it is issued (lifetimeSec 0)', { lifetimeSec: 0 }, /already expired/],
  [
    'vendy',
    'an expiryTime in the past with a valid JWT',
    { expiryTime: 'Thu, 06 Jul 2023 22:35:51 GMT' },
    /already expired/,
  ],
  [PV, 'an expiry 10 years away (expiresIn and JWT exp)', { lifetimeSec: TEN_YEARS_SEC }, /more than a year away/],
  [
    PV,
    'expiresIn 10 years with an opaque token',
    {
      status: 200,
      body: { success: true, data: { token: 'opaque-token-LEAKCHECK-0123456789', expiresIn: TEN_YEARS_SEC } },
    },
    /more than a year away/,
  ],
  ['vendy', 'an expiryTime 10 years away (and JWT exp)', { lifetimeSec: TEN_YEARS_SEC }, /more than a year away/],
]

for (const [provider, what, step, pattern] of MALFORMED) {
  test(`malformed answer (${provider}): ${what} → INVALID_RESPONSE`, async (t) => {
    const mock = await mockFor(t)
    const endpoint = provider === 'vendy' ? 'vendy.auth' : 'pv.authenticate'
    mock.script(endpoint, [step, {}])
    const error = await rejection(authenticate(optionsFor(mock, provider, { maxRetries: 2 })))
    assertVendorError(error, 'INVALID_RESPONSE')
    assert.match(error.message, pattern)
    assert.equal(error.provider, provider)
    assert.equal(mock.count(endpoint), 1, 'a broken answer is not retried')
    assertClean(error.message, [FAKE_TOKEN, 'opaque-token-LEAKCHECK-0123456789'], 'the error message')
    assertClean(JSON.stringify(error), [FAKE_TOKEN], 'the error as JSON')
  })
}

test('fuzz: arbitrary 200 bodies never crash; each gives INVALID_RESPONSE or a session', async (t) => {
  const mock = await mockFor(t)
  let seed = 0x2545f491
  const random = () => {
    seed ^= seed << 13
    seed ^= seed >>> 17
    seed ^= seed << 5
    return (seed >>> 0) / 2 ** 32
  }
  const pieces = [
    '{',
    '}',
    '[',
    ']',
    '"token"',
    '"data"',
    ':',
    ',',
    '"expiresIn"',
    '1e400',
    '-0',
    'null',
    'true',
    '"success"',
    '"\\u0000"',
    `"${FAKE_TOKEN}"`,
    '3600',
    '"expiryTime"',
    '"Thu, 06 Jul 2099 22:35:51 GMT"',
    '\uFFFD',
    '\u00e9',
  ]
  const bodies = []
  for (let i = 0; i < 40; i++) {
    if (i % 4 === 0) {
      bodies.push(Buffer.from(Array.from({ length: Math.floor(random() * 200) }, () => Math.floor(random() * 256))))
    } else {
      bodies.push(
        Array.from({ length: 1 + Math.floor(random() * 12) }, () => pieces[Math.floor(random() * pieces.length)]).join(
          '',
        ),
      )
    }
  }
  bodies.push(`{"success":true,"data":{"token":"${FAKE_TOKEN}","expiresIn":1e400}}`)
  bodies.push(`{"success":true,"data":{"token":"${FAKE_TOKEN}","expiresIn":3600.5}}`)
  bodies.push(`{"token":"${FAKE_TOKEN}","expiryTime":"Thu, 06 Jul 2099 22:35:51 GMT"}`)
  for (const provider of ['vendy', PV]) {
    const endpoint = provider === 'vendy' ? 'vendy.auth' : 'pv.authenticate'
    mock.script(
      endpoint,
      bodies.map((body) => ({ status: 200, body })),
    )
    for (const body of bodies) {
      try {
        const session = await authenticate(optionsFor(mock, provider, { maxRetries: 0 }))
        assert.ok(session.token.length > 0 && session.expiresAt > Date.now(), `odd session from ${mask(String(body))}`)
      } catch (error) {
        assertVendorError(error, 'INVALID_RESPONSE')
        assertClean(error.message, [FAKE_TOKEN], `the error for body ${mask(JSON.stringify(String(body)))}`)
      }
    }
    assert.equal(mock.count(endpoint), bodies.length)
  }
})

// ------------------------------------------------------------------ expiry

test('a JWT exp earlier than the stated expiresIn (PuppetVendors): expiresAt is the JWT exp', async (t) => {
  const mock = await mockFor(t)
  mock.script('pv.authenticate', [{ jwtExpOffsetSec: 600 }])
  const session = await authenticate(optionsFor(mock, PV))
  const payload = jwtPayload(session.token)
  assert.equal(payload.exp - payload.iat, 600)
  assert.equal(session.expiresAt, payload.exp * 1000)
  assert.ok(session.expiresAt < Date.now() + 601_000)
})

test('a JWT exp earlier than the stated expiryTime (Vendy, like its own sample): expiresAt is the JWT exp', async (t) => {
  const mock = await mockFor(t, { vendy: { expiryTimeSkewSec: 400 } })
  const session = await authenticate(optionsFor(mock, 'vendy'))
  const payload = jwtPayload(session.token)
  assert.equal(session.expiresAt, payload.exp * 1000)
  mock.script('vendy.auth', [{ jwtExpOffsetSec: 120 }])
  const short = await authenticate(optionsFor(mock, 'vendy'))
  assert.equal(short.expiresAt, jwtPayload(short.token).exp * 1000)
  assert.ok(short.expiresAt <= Date.now() + 121_000)
})

test('a stated expiresIn earlier than the JWT exp: the stated one wins', async (t) => {
  const mock = await mockFor(t)
  mock.script('pv.authenticate', [{ expiresIn: 300 }]) // JWT exp stays at 24 h
  const before = Date.now()
  const session = await authenticate(optionsFor(mock, PV))
  assert.ok(session.expiresAt >= before + 300_000 && session.expiresAt <= Date.now() + 300_000)
})

test('an absurd expiresIn with a sane JWT exp: the JWT exp bounds it (cross-check)', async (t) => {
  const mock = await mockFor(t)
  mock.script('pv.authenticate', [{ expiresIn: TEN_YEARS_SEC }])
  const session = await authenticate(optionsFor(mock, PV))
  assert.equal(session.expiresAt, jwtPayload(session.token).exp * 1000)
})

test("PuppetVendors' expiresIn counts from when the request was sent, not when the answer arrived", async (t) => {
  const mock = await mockFor(t)
  mock.script('pv.authenticate', [
    {
      delayMs: 1500,
      status: 200,
      body: { success: true, data: { token: 'opaque-token-LEAKCHECK-0123456789', expiresIn: 3600 } },
    },
  ])
  const sent = Date.now()
  const session = await authenticate(optionsFor(mock, PV))
  const arrived = Date.now()
  assert.ok(arrived - sent >= 1400, `the answer took ${arrived - sent} ms`)
  // The token may have started its life the moment the vendor read the request. The upper bound
  // leaves room for creating the client before the request goes out (the Node fallback builds a
  // secure context with every root then: ~0.1-0.4 s on a busy machine), and stays well below the
  // 1.4 s or more that counting from the answer would add.
  assert.ok(session.expiresAt >= sent + 3600_000 - 50, `expiresAt ${session.expiresAt - sent - 3600_000} ms off`)
  assert.ok(session.expiresAt <= sent + 3600_000 + 1000, `expiresAt ${session.expiresAt - sent - 3600_000} ms off`)
})

// ------------------------------------------------------------------ the client under faults

test('50 concurrent authHeader() on a cold client share one exchange and its retries', async (t) => {
  const mock = await mockFor(t)
  mock.script('pv.authenticate', [{ status: 503 }, { status: 503 }])
  const client = clientFor(t, optionsFor(mock, PV, { maxRetries: 2 }))
  const headers = await Promise.all(Array.from({ length: 50 }, () => client.authHeader()))
  assert.equal(mock.count('pv.authenticate'), 3)
  assert.equal(mock.count(), 3)
  assert.equal(new Set(headers).size, 1, 'everyone got the same header object')
  assert.ok(Object.isFrozen(headers[0]))
  assert.ok(JWT_PATTERN.test(headers[0]['x-access-token']), 'a JWT header')
})

test('50 concurrent callers share a failure too, and the client recovers afterwards', async (t) => {
  const mock = await mockFor(t)
  mock.script('pv.authenticate', [{ status: 500 }, { status: 500 }, { status: 500 }])
  const client = clientFor(t, optionsFor(mock, PV, { maxRetries: 2 }))
  const results = await Promise.allSettled(Array.from({ length: 50 }, () => client.authHeader()))
  assert.ok(results.every((r) => r.status === 'rejected'))
  const reasons = new Set(results.map((r) => r.reason))
  assert.equal(reasons.size, 1, 'one shared error')
  assertVendorError([...reasons][0], 'SERVER_ERROR')
  assert.equal(mock.count('pv.authenticate'), 3)
  const header = await client.authHeader()
  assert.ok(JWT_PATTERN.test(header['x-access-token']), 'a JWT header')
  assert.equal(mock.count('pv.authenticate'), 4)
})

test('close() during a stalled exchange rejects every waiting caller with CLOSED at once', async (t) => {
  const mock = await mockFor(t)
  mock.script('vendy.auth', [{ stall: true }])
  const client = clientFor(t, optionsFor(mock, 'vendy', { timeoutMs: 30000 }))
  const waiting = Array.from({ length: 10 }, () => client.authHeader())
  while (mock.count('vendy.auth') === 0) await new Promise((resolve) => setTimeout(resolve, 10))
  const { value: results, ms } = await timed(() => {
    client.close()
    return Promise.allSettled(waiting)
  })
  t.diagnostic(`took ${Math.round(ms)} ms`)
  for (const r of results) assertVendorError(r.reason, 'CLOSED')
  assert.ok(ms < 1000, `took ${ms} ms`)
  assert.equal(mock.count('vendy.auth'), 1)
})

test('an AbortSignal ends authenticate() on a stalled server with ABORTED', async (t) => {
  const mock = await mockFor(t)
  mock.script('pv.authenticate', [{ stall: true }])
  const controller = new AbortController()
  const settled = authenticate({ ...optionsFor(mock, PV, { timeoutMs: 30000 }), signal: controller.signal }).then(
    () => assert.fail('resolved on a stalled server'),
    (error) => ({ error, at: performance.now() }),
  )
  // Abort once the request is at the (stalled) server, however long creating the client took.
  while (mock.count('pv.authenticate') === 0) await new Promise((resolve) => setTimeout(resolve, 10))
  const abortedAt = performance.now()
  controller.abort()
  const { error, at } = await settled
  t.diagnostic(`rejected ${Math.round(at - abortedAt)} ms after the abort`)
  assertVendorError(error, 'ABORTED')
  assert.ok(at - abortedAt < 1000, `rejected ${at - abortedAt} ms after the abort`)
  assert.equal(mock.count('pv.authenticate'), 1)
})

test('a refresh endpoint that starts answering 401: the client falls back to /authenticate', async (t) => {
  const clock = virtualClock(t)
  const mock = await mockFor(t)
  // A normal 24 h token: the refresh window opens 5 min before expiry (refreshWindowMs), while
  // the token may still be offered to the refresh endpoint (more than min(5 s, margin / 2) left).
  const { lines, logger } = lineSink()
  const client = clientFor(t, optionsFor(mock, PV, { logger }))
  const first = await client.authHeader()
  const session = await client.getSession()
  const due = clientDeadlines(session.expiresAt, Date.now(), Date.now())
  mock.setDefault('pv.refresh', {
    status: 401,
    body: { success: false, error: { message: 'Invalid or expired token', code: 'UNAUTHORIZED' } },
  })
  clock.to(due.refreshAtLatest - 1)
  assert.equal(await client.authHeader(), first, 'before the window: the current token, no exchange')
  assert.equal(mock.count(), 1)
  clock.to(due.refreshAtLatest)
  const refreshed = nextEvent(client, 'refresh')
  // The old token is served until the new one arrives.
  assert.equal(await client.authHeader(), first, 'inside the window: the current token at once')
  const renewed = await refreshed
  assert.equal(mock.count('pv.refresh'), 1, mask(lines.join('\n')))
  assert.equal(mock.count('pv.authenticate'), 2, mask(lines.join('\n')))
  const refresh = mock.requests.find((r) => r.endpoint === 'pv.refresh')
  assert.ok(refresh.headers['x-access-token'] === first['x-access-token'], 'the refresh sent the current token')
  assert.ok(refresh.at < due.refreshableUntilEarliest, 'the refresh was tried while the token could be offered to it')
  const header = await client.authHeader()
  assert.ok(header['x-access-token'] !== first['x-access-token'], 'a new token')
  assert.ok(header['x-access-token'] === renewed.token)
  assert.ok(renewed.expiresAt > Date.now() + 3600_000, 'the fallback token is a normal 24 h one')
  assert.ok(
    lines.some((l) => l.includes('refreshing in the background')),
    mask(lines.join('\n')),
  )
  assert.ok(
    lines.some((l) => l.includes('refresh endpoint gave no token; authenticating instead')),
    mask(lines.join('\n')),
  )
})

test('a refresh answering 500: the background refresh fails quietly and the old token keeps being served', async (t) => {
  const clock = virtualClock(t)
  // A normal (7 day) Vendy token: the refresh window opens 5 min before expiry.
  const mock = await mockFor(t)
  const { lines, logger } = lineSink()
  const client = clientFor(t, optionsFor(mock, 'vendy', { logger }))
  const unhandled = []
  const onUnhandled = (reason) => unhandled.push(reason)
  process.on('unhandledRejection', onUnhandled)
  t.after(() => process.off('unhandledRejection', onUnhandled))
  const first = await client.authHeader()
  const due = clientDeadlines((await client.getSession()).expiresAt, Date.now(), Date.now())
  mock.setDefault('vendy.auth', { status: 500 })
  clock.to(due.refreshAtLatest)
  const failed = nextEvent(client, 'error')
  assert.ok((await client.authHeader()) === first, 'the still-valid token is served at once')
  assertVendorError(await failed, 'SERVER_ERROR')
  assert.equal(mock.count('vendy.auth'), 2, 'a background refresh was tried')
  const backoff = lines
    .map((l) => /background refresh failed \(SERVER_ERROR\); serving the current token, next try in (\d+) ms/.exec(l))
    .find(Boolean)
  assert.ok(backoff, mask(lines.join('\n')))
  const nextTryMs = Number(backoff[1])
  assert.ok(nextTryMs < 1000, `the first backoff is below 1 s: ${nextTryMs} ms`)
  // A background refresh makes one attempt only (no retries inside Rust), and none more during
  // its backoff.
  const started = () => lines.filter((l) => l.includes('refreshing in the background')).length
  assert.equal(started(), 1)
  if (nextTryMs > 0) {
    clock.tick(nextTryMs - 1)
    assert.ok((await client.authHeader()) === first, 'still the first token')
    assert.equal(started(), 1, 'no new attempt during the backoff')
  }
  assert.equal(mock.count('vendy.auth'), 2)
  mock.setDefault('vendy.auth', null)
  // The next background try, after the backoff, gets a new token; no caller ever sees the 500.
  // (The backoff counts from when the failure arrived: the exchange's start on the virtual clock
  // plus its real duration.)
  clock.to(due.refreshAtLatest + nextTryMs + 5_000)
  const refreshed = nextEvent(client, 'refresh')
  assert.ok((await client.authHeader()) === first, 'served while the second try runs')
  const renewed = await refreshed
  assert.equal(started(), 2)
  assert.equal(mock.count('vendy.auth'), 3)
  const header = await client.authHeader()
  assert.ok(header.Authorization !== first.Authorization, 'a new token')
  assert.ok(header.Authorization === `Bearer ${renewed.token}`)
  assert.deepEqual(unhandled, [])
})

test('revoked tokens: a foreground refresh inside the safety margin falls back to authenticate on 401', async (t) => {
  const clock = virtualClock(t)
  // refreshWindowMs 0: no background refresh, so the first exchange once the 24 h token's safety
  // margin (10 s) starts is a foreground one, while the token still has more than min(5 s,
  // margin / 2) left for the refresh endpoint.
  const mock = await mockFor(t)
  const client = clientFor(t, optionsFor(mock, PV, { refreshWindowMs: 0 }))
  const first = await client.authHeader()
  const { expiresAt } = await client.getSession()
  const due = clientDeadlines(expiresAt, Date.now(), Date.now(), 0)
  assert.equal(due.usableUntilLatest, expiresAt - 10_000)
  mock.revokeTokens()
  clock.to(due.usableUntilLatest - 1)
  assert.equal(await client.authHeader(), first, 'the token, up to its margin')
  assert.equal(mock.count('pv.authenticate'), 1, 'no exchange before the margin')
  clock.to(due.refreshableUntilEarliest - 1_000)
  const header = await client.authHeader()
  assert.ok(header['x-access-token'] !== first['x-access-token'], 'a new token')
  assert.equal(mock.count('pv.refresh'), 1)
  assert.equal(mock.count('pv.authenticate'), 2)
})
