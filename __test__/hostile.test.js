'use strict'
// Hostile environments: a polluted Object.prototype, throwing getters and Proxies, loggers that
// throw, vendors that echo every secret the library sent (also encoded or disguised), and
// servers and headers that no retry can fix. Every case asserts the error code and what reached
// the mock (or the attacker's stand-in). Run: node --test __test__/hostile.test.js

const test = require('node:test')
const { describe, it } = test
const assert = require('node:assert/strict')
const http2 = require('node:http2')
const net = require('node:net')
const path = require('node:path')

const { authenticate, createClient, VendorAuthError } = require('..')
const { SECRETS, optionsFor, mockFor } = require('./helpers')
const { spawn } = require('node:child_process')
const { withEnv, withoutCredentialEnv, lastJsonLine, expectVendorErrorSync, ROOT } = require('./helpers/util')
const { FAKE_TOKEN, rejection, assertClean, mask, childEnv } = require('./helpers/faults')
const { createCertificates } = require('../testing/certs')

const FIXTURES = path.join(__dirname, 'fixtures', 'hostile')
const PV = 'puppetvendors'

function assertCode(error, code) {
  assert.ok(error instanceof VendorAuthError, `expected a VendorAuthError, got ${mask(String(error && error.stack))}`)
  assert.equal(error.code, code, `expected ${code}, got ${error.code}: ${mask(error.message)}`)
}

/** Every text of an error a person or a log may see. */
function shown(error) {
  return [error.message, error.vendorMessage, error.vendorCode, JSON.stringify(error), String(error.stack)].join('\n')
}

/**
 * Runs a fixture with exactly `env` (variables set to undefined are absent, unlike
 * helpers' runNode, which starts from this process's environment). Resolves { code, stdout, stderr }.
 */
function runFixture(args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk))
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

// ------------------------------------------------------------------ prototype pollution

/**
 * A plain TCP server standing in for an HTTPS proxy: records the first line of each connection
 * (`CONNECT host:443 HTTP/1.1`) and closes it, so nothing ever leaves the machine.
 */
async function recordingProxy() {
  const targets = []
  const server = net.createServer((socket) => {
    socket.on('error', () => {})
    socket.once('data', (chunk) => {
      targets.push(String(chunk).split('\r\n')[0])
      socket.destroy()
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { port: server.address().port, targets, close: () => new Promise((resolve) => server.close(resolve)) }
}

const POLLUTION_MODES = {
  baseUrl: 'baseUrl and caCert, as reported',
  options: 'every option name and environment variable name',
  env: 'only the environment variable names',
  fields: "the names of the library's own optional fields (error, cause, scope…)",
}

// Not on the wasm build (wasm.test.js re-runs this file with VENDOR_AUTH_FORCE_WASM=1): where
// Object.prototype carries a `signal`, Node's own HTTP client (node:_http_incoming) reads the
// inherited one for every answer, so no node:https request succeeds in that process and the
// Node fallback's requests fail with NETWORK (README says so); the native build is unaffected.
const SKIP_ON_WASM = new Set(['options'])

for (const [mode, what] of Object.entries(POLLUTION_MODES)) {
  const skip =
    process.env.VENDOR_AUTH_FORCE_WASM === '1' && SKIP_ON_WASM.has(mode)
      ? 'not on the wasm build: its node:https cannot answer where `signal` is polluted'
      : false
  test(
    `a polluted Object.prototype (${what}) is never read: keys go only where own options say`,
    { skip },
    async (t) => {
      const legit = await mockFor(t)
      const attacker = await mockFor(t)
      const proxy = await recordingProxy()
      t.after(() => proxy.close())
      const config = {
        mode,
        legit: { baseUrl: legit.baseUrl, caCert: legit.caCert },
        attacker: { baseUrl: attacker.baseUrl, caCert: attacker.caCert },
        secrets: SECRETS,
      }
      const child = await runFixture([path.join(FIXTURES, 'polluted-child.js')], {
        HOSTILE_CONFIG: JSON.stringify(config),
        HTTPS_PROXY: `http://127.0.0.1:${proxy.port}`,
        NO_PROXY: '127.0.0.1,localhost',
        // Absent, not empty: an own empty variable would hide the inherited one.
        DEBUG: undefined,
        VENDY_ACCESS_KEY: undefined,
        VENDY_SECRET_KEY: undefined,
        PUPPETVENDORS_API_KEY: undefined,
        PUPPETVENDORS_SHOP_DOMAIN: undefined,
        VENDOR_AUTH_ALLOW_DOM_GLOBALS: undefined,
      })
      assert.equal(child.code, 0, mask(child.stderr))
      const { results, loggerCalls, unpolluted } = lastJsonLine(child.stdout)
      if (mode === 'options') assert.deepEqual(unpolluted, [], 'every option name the library knows is polluted')
      assert.equal(attacker.count(), 0, "nothing reached the attacker's host")
      assert.deepEqual(proxy.targets, ['CONNECT api.puppetvendors.com:443 HTTP/1.1'], 'the documented production URL')
      assert.deepEqual(results, {
        'pv, own options': 'ok',
        'vendy, own options': 'ok',
        'pv, a refused key': 'UNAUTHORIZED',
        'pv, no apiKey anywhere': 'INVALID_OPTIONS',
        'vendy, no keys anywhere': 'INVALID_OPTIONS',
        'no provider': 'INVALID_OPTIONS',
        'pv, default baseUrl': 'NETWORK',
        'a client, own options': 'ok',
      })
      const pvBodies = legit.requests.filter((r) => r.endpoint === 'pv.authenticate').map((r) => JSON.parse(r.body))
      const refused = { apiKey: 'vk_test_not_known_to_the_mock' }
      assert.deepEqual(
        pvBodies,
        [{ apiKey: SECRETS.pvApiKey }, refused, { apiKey: SECRETS.pvApiKey }],
        'own keys, no shopDomain',
      )
      const vendyKeys = legit.requests.filter((r) => r.endpoint === 'vendy.auth').map((r) => r.headers.accesskey)
      assert.deepEqual(vendyKeys, [SECRETS.vendyAccessKey])
      assert.equal(legit.count(), 4, 'no request for the calls refused as INVALID_OPTIONS')
      assert.equal(loggerCalls, 0, 'the inherited logger was never called')
      assert.doesNotMatch(child.stderr, /^vendor-auth /m, 'an inherited DEBUG turned on no logging')
    },
  )
}

test('options from a Proxy or getters that throw: INVALID_OPTIONS with the thrown error as cause', async (t) => {
  const mock = await mockFor(t)
  const boom = new Error('getter exploded')
  const base = optionsFor(mock, PV)
  const producers = [
    [
      'a Proxy whose get trap throws',
      () =>
        new Proxy(base, {
          get: () => {
            throw boom
          },
        }),
    ],
    [
      'a Proxy whose ownKeys trap throws',
      () =>
        new Proxy(base, {
          ownKeys: () => {
            throw boom
          },
        }),
    ],
    [
      'a throwing apiKey getter',
      () =>
        Object.defineProperty({ ...base }, 'apiKey', {
          enumerable: true,
          get: () => {
            throw boom
          },
        }),
    ],
    [
      'a throwing logger.debug getter',
      () => ({
        ...base,
        logger: {
          get debug() {
            throw boom
          },
        },
      }),
    ],
  ]
  for (const [what, options] of producers) {
    for (const call of [() => authenticate(options()), async () => createClient(options())]) {
      const error = await rejection(call())
      assertCode(error, 'INVALID_OPTIONS')
      assert.equal(error.cause, boom, `${what}: the cause is kept`)
      assert.doesNotMatch(error.message, /getter exploded/, `${what}: our message is our own`)
    }
  }
  assert.equal(mock.count(), 0)
})

test('an initialSession whose getter or Proxy trap throws, or a fake Session: INVALID_OPTIONS with the error as cause', async (t) => {
  const mock = await mockFor(t)
  const { Session } = require('..')
  const boom = new Error('getter exploded')
  const kept = [
    Object.defineProperty({ expiresAt: Date.now() + 3_600_000 }, 'token', {
      enumerable: true,
      get() {
        throw boom
      },
    }),
    new Proxy(
      {},
      {
        getOwnPropertyDescriptor() {
          throw boom
        },
      },
    ),
    Object.create(Session.prototype), // passes instanceof, has no private fields
  ]
  for (const [i, initialSession] of kept.entries()) {
    const error = await expectVendorErrorSync(() => createClient(optionsFor(mock, 'vendy', { initialSession })), {
      code: 'INVALID_OPTIONS',
    })
    assert.match(error.message, /initialSession/, `case ${i}`)
    assert.ok(error.cause instanceof Error, `case ${i}: the error is the cause`)
    if (i < 2) assert.equal(error.cause, boom, `case ${i}`)
  }
  assert.equal(mock.count(), 0)
})

test('every option is read once: a getter cannot pass validation with one value and be used with another', async (t) => {
  const mock = await mockFor(t)
  const reads = { apiKey: 0, debug: 0 }
  const options = Object.defineProperty({ ...optionsFor(mock, PV) }, 'apiKey', {
    enumerable: true,
    get: () => (reads.apiKey++ === 0 ? SECRETS.pvApiKey : 'vk_test_SWAPPED_AFTER_CHECK'),
  })
  const lines = []
  options.logger = {
    get debug() {
      reads.debug++
      return (line) => lines.push(line)
    },
  }
  await authenticate(options)
  assert.deepEqual(reads, { apiKey: 1, debug: 1 })
  assert.ok(lines.length >= 3, 'the logger read once still logs every line')
  assert.equal(JSON.parse(mock.requests[0].body).apiKey, SECRETS.pvApiKey)
})

// ------------------------------------------------------------------ loggers that throw

// Each child waits (real time) for its 4 s token's refresh window: the three run side by side.
describe('loggers that throw in a child', { concurrency: true }, () => {
  for (const kind of ['function', 'object', 'async']) {
    it(`a ${kind} logger that throws during a failed background refresh breaks neither authHeader() nor the process`, async () => {
      const child = await runFixture([path.join(FIXTURES, 'throwing-logger-child.js'), kind], {})
      assert.equal(child.code, 0, `the process survived (stderr: ${mask(child.stderr)})`)
      assert.doesNotMatch(child.stderr, /the logger broke|unhandled/i)
      const report = lastJsonLine(child.stdout)
      assert.deepEqual(report, {
        syncThrows: 0,
        notPromises: 0,
        sameHeader: true,
        requests: 2,
        sawFailure: true,
      })
    })
  }
})

test('a throwing logger breaks no authenticate(): success stays success, a failure keeps its own code', async (t) => {
  const mock = await mockFor(t)
  let calls = 0
  const logger = () => {
    calls++
    throw new Error('the logger broke')
  }
  const session = await authenticate(optionsFor(mock, PV, { logger }))
  assert.match(session.token, /^eyJ/)
  mock.script('pv.authenticate', [{ status: 401, body: { success: false, error: { message: 'Invalid API key' } } }])
  assertCode(await rejection(authenticate(optionsFor(mock, PV, { logger: { debug: logger } }))), 'UNAUTHORIZED')
  assert.ok(calls >= 4, 'the logger was called (and its throws contained)')
})

// ------------------------------------------------------------------ echoes of what was sent

const basicPair = `${SECRETS.vendyUsername}:${SECRETS.vendyPassword}`
const b64 = (text) => Buffer.from(text).toString('base64')
const b64url = (text) => Buffer.from(text).toString('base64url')
const ECHOES = [
  ['vendy (legacy login)', 'the Authorization header as received', (r) => r.headers.authorization, [b64(basicPair)]],
  ['vendy (legacy login)', 'the Basic credential, base64url', () => b64url(basicPair), [b64url(basicPair)]],
  [
    'vendy (legacy login)',
    'the Basic credential, percent-encoded',
    () => encodeURIComponent(b64(basicPair)),
    [b64(basicPair).slice(0, 40)],
  ],
  [
    'vendy (legacy login)',
    'user:password, percent-encoded',
    () => encodeURIComponent(basicPair),
    [encodeURIComponent(SECRETS.vendyUsername)],
  ],
  ['vendy', 'the SecretKey, base64', (r) => b64(r.headers.secretkey), [b64(SECRETS.vendySecretKey).slice(0, 24)]],
  [
    PV,
    'the apiKey, percent-encoded per byte',
    (r) => [...Buffer.from(JSON.parse(r.body).apiKey)].map((b) => `%${b.toString(16)}`).join(''),
    ['%76%6b%5f'],
  ],
  [PV, 'the apiKey, base64url', (r) => b64url(JSON.parse(r.body).apiKey), [b64url(SECRETS.pvApiKey).slice(0, 24)]],
]

for (const [provider, what, echo, encodedLeaks] of ECHOES) {
  test(`${provider}: a vendor echoing ${what} sees it scrubbed from message, vendorMessage and JSON`, async (t) => {
    const mock = await mockFor(t)
    const endpoint = provider === PV ? 'pv.authenticate' : 'vendy.auth'
    mock.script(endpoint, [(request) => ({ status: 401, body: { message: `rejected <${echo(request)}>` } })])
    const options =
      provider === 'vendy (legacy login)'
        ? {
            provider: 'vendy',
            baseUrl: mock.baseUrl,
            caCert: mock.caCert,
            username: SECRETS.vendyUsername,
            password: SECRETS.vendyPassword,
          }
        : optionsFor(mock, provider)
    const error = await rejection(authenticate(options))
    assertCode(error, 'UNAUTHORIZED')
    assert.equal(mock.count(endpoint), 1)
    assert.match(error.vendorMessage, /^rejected <\[redacted\]>$/)
    const text = shown(error)
    assertClean(text, [FAKE_TOKEN], `the error for ${what}`)
    for (const leak of encodedLeaks) assert.ok(!text.includes(leak), `the error holds an encoded secret: ${mask(text)}`)
  })
}

test('an echoed key with NUL, ESC, zero-width characters or another case inside is still scrubbed', async (t) => {
  const mock = await mockFor(t)
  const key = SECRETS.pvApiKey
  const cut = 12
  for (const disguise of [
    `${key.slice(0, cut)}\u0000${key.slice(cut)}`,
    `${key.slice(0, cut)}\u001b${key.slice(cut)}`,
    `${key.slice(0, cut)}\u200b${key.slice(cut)}`,
    `${key.slice(0, 4)}\u200d${key.slice(4, cut)}\ufeff${key.slice(cut)}\u2060`,
    key.toUpperCase(),
  ]) {
    mock.script('pv.authenticate', [
      { status: 401, body: { success: false, error: { message: `bad key ${disguise}` } } },
    ])
    const error = await rejection(authenticate(optionsFor(mock, PV)))
    assertCode(error, 'UNAUTHORIZED')
    assert.equal(error.vendorMessage, 'bad key [redacted]')
    const text = shown(error)
      .replace(/[\u0000-\u001f\u200b-\u200d\ufeff\u2060]/g, '')
      .toLowerCase()
    assert.ok(!text.includes(key.toLowerCase()), `the key re-formed: ${mask(text)}`)
  }
})

test('a credential from the environment put into another option is never quoted back', async (t) => {
  const mock = await mockFor(t)
  const leaks = []
  await withoutCredentialEnv(
    async () => {
      for (const [option, variable, provider] of [
        ['environment', 'PUPPETVENDORS_API_KEY', PV],
        ['provider', 'VENDY_SECRET_KEY', 'vendy'],
        ['environment', 'VENDY_ACCESS_KEY', 'vendy'],
      ]) {
        // The credentials come from the environment only, as in `environment: process.env.X`.
        const options = { provider, baseUrl: mock.baseUrl, caCert: mock.caCert, [option]: process.env[variable] }
        const error = await rejection(authenticate(options))
        assertCode(error, 'INVALID_OPTIONS')
        assert.match(error.message, new RegExp(option))
        if (shown(error).includes(process.env[variable])) leaks.push(`${option}=${variable}: ${mask(error.message)}`)
      }
    },
    {
      PUPPETVENDORS_API_KEY: SECRETS.pvApiKey,
      VENDY_ACCESS_KEY: SECRETS.vendyAccessKey,
      VENDY_SECRET_KEY: SECRETS.vendySecretKey,
    },
  )
  assert.deepEqual(leaks, [])
  // Nor a value that is configured nowhere: any unknown value could be a secret.
  const error = await rejection(authenticate({ ...optionsFor(mock, PV), provider: 'db-password-LEAKCHECK-77' }))
  assertCode(error, 'INVALID_OPTIONS')
  assert.doesNotMatch(error.message, /LEAKCHECK/)
  assert.match(error.message, /unknown provider/)
  assert.equal(mock.count(), 0)
})

// ------------------------------------------------------------------ smaller holes

test('an empty legacy username or password is refused before any request (no "Basic Og==")', async (t) => {
  const mock = await mockFor(t)
  for (const [username, password, name] of [
    ['', SECRETS.vendyPassword, 'username'],
    [SECRETS.vendyUsername, '', 'password'],
    [' ', ' ', 'username'],
    ['', '', 'username'],
  ]) {
    const options = { provider: 'vendy', baseUrl: mock.baseUrl, caCert: mock.caCert, username, password }
    await expectVendorErrorSync(() => createClient(options), {
      code: 'INVALID_OPTIONS',
      message: new RegExp(`${name} is empty`),
    })
  }
  assert.equal(mock.count(), 0)
})

test('a baseUrl of 70,000 characters is INVALID_OPTIONS at once, without a connection or a retry', async (t) => {
  const mock = await mockFor(t)
  const options = optionsFor(mock, PV, { baseUrl: `${mock.baseUrl}/${'a'.repeat(70_000)}` })
  await expectVendorErrorSync(() => createClient(options), {
    code: 'INVALID_OPTIONS',
    message: /baseUrl is \d+ characters long/,
  })
  assertCode(await rejection(authenticate(options)), 'INVALID_OPTIONS')
  assert.equal(mock.count(), 0)
})

test('Retry-After: 18446744073709551616 (past 2^64) is the longest wait: RATE_LIMITED at once, 1 request', async (t) => {
  const mock = await mockFor(t)
  mock.script('pv.authenticate', [{ status: 429, headers: { 'Retry-After': '18446744073709551616' } }])
  const started = Date.now()
  const error = await rejection(authenticate(optionsFor(mock, PV)))
  assertCode(error, 'RATE_LIMITED')
  assert.equal(error.retryAfterMs, 86_400_000, 'the longest wait: a day (safe for setTimeout)')
  assert.match(error.message, /maxRetryDelayMs/)
  assert.equal(mock.count('pv.authenticate'), 1, 'not retried after a short backoff')
  assert.ok(Date.now() - started < 2000)
})

test('an HTTP/2-only server (ALPN refuses HTTP/1.1) is a permanent NETWORK error: one connection, no retry', async (t) => {
  const certs = await createCertificates()
  const server = http2.createSecureServer({ cert: certs.cert, key: certs.key, allowHTTP1: false })
  let connections = 0
  server.on('connection', () => connections++)
  server.on('stream', (stream) => stream.respond({ ':status': 500 }) || stream.end())
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise((resolve) => server.close(resolve)))
  const baseUrl = `https://127.0.0.1:${server.address().port}`
  const error = await rejection(
    authenticate({ provider: PV, apiKey: SECRETS.pvApiKey, baseUrl, caCert: certs.caCert, maxRetries: 2 }),
  )
  assertCode(error, 'NETWORK')
  assert.match(error.message, /only HTTP\/2/)
  assert.doesNotMatch(error.message, /gave up after/)
  assert.equal(connections, 1, 'a permanent failure is not retried')
})

test('a private key passed as caCert is named as such, before any I/O, and never quoted', async (t) => {
  const mock = await mockFor(t)
  const { key } = await createCertificates()
  const keyBody = key.split('\n')[1]
  for (const [caCert, message] of [
    [key, /caCert holds a private key/],
    [mock.caCert + key, /caCert holds a private key/],
    [key.replace(/PRIVATE KEY/g, 'CERTIFICATE'), /looks like a private key/],
    [mock.caCert.slice(0, 300) + '\n-----END CERTIFICATE-----\n', /certificate #1/],
  ]) {
    const error = await expectVendorErrorSync(() => createClient(optionsFor(mock, PV, { caCert })), {
      code: 'INVALID_OPTIONS',
      message,
    })
    assert.doesNotMatch(error.message, /certificate store installed/)
    assert.ok(!shown(error).includes(keyBody), 'the key is not quoted')
  }
  assert.equal(mock.count(), 0)
})

test('header credentials must be printable ASCII: a UTF-8 secretKey is refused (not sent as raw bytes); a UTF-8 Basic login is sent as UTF-8', async (t) => {
  const mock = await mockFor(t, {
    vendy: { username: 'mërchant-LEAKCHECK@example.com', password: 'pässwörd-LEAKCHECK' },
  })
  for (const [option, value, problem] of [
    ['secretKey', `${SECRETS.vendySecretKey}é`, /non-ASCII character/],
    ['accessKey', `${SECRETS.vendyAccessKey}\r\nX-Evil: 1`, /control character/],
    ['secretKey', `${SECRETS.vendySecretKey} `, /a space/],
  ]) {
    const error = await expectVendorErrorSync(() => createClient(optionsFor(mock, 'vendy', { [option]: value })), {
      code: 'INVALID_OPTIONS',
      message: problem,
    })
    assert.match(error.message, new RegExp(`${option}.*HTTP header`))
  }
  // The same from the environment, naming the variable.
  await withoutCredentialEnv(
    async () => {
      const options = optionsFor(mock, 'vendy')
      delete options.secretKey
      await expectVendorErrorSync(() => createClient(options), {
        code: 'INVALID_OPTIONS',
        message: /VENDY_SECRET_KEY.*non-ASCII/,
      })
    },
    { VENDY_SECRET_KEY: 'sk-caf\u00e9-LEAKCHECK' },
  )
  assert.equal(mock.count(), 0)
  const session = await authenticate({
    provider: 'vendy',
    baseUrl: mock.baseUrl,
    caCert: mock.caCert,
    username: 'mërchant-LEAKCHECK@example.com',
    password: 'pässwörd-LEAKCHECK',
  })
  assert.match(session.token, /^eyJ/)
  const sent = Buffer.from(mock.requests[0].headers.authorization.replace('Basic ', ''), 'base64').toString('utf8')
  assert.equal(sent, 'mërchant-LEAKCHECK@example.com:pässwörd-LEAKCHECK')
})

test('an own-property-only env snapshot: real process.env values still count', async (t) => {
  const mock = await mockFor(t)
  await withEnv({ PUPPETVENDORS_API_KEY: SECRETS.pvApiKey, PUPPETVENDORS_SHOP_DOMAIN: undefined }, async () => {
    const options = optionsFor(mock, PV)
    delete options.apiKey
    await authenticate(options)
  })
  assert.equal(JSON.parse(mock.requests[0].body).apiKey, SECRETS.pvApiKey)
})
