'use strict'
// Redaction: no key, secret or full token in anything a person may read — util.inspect,
// console.log, JSON.stringify, String(err), err.stack — of a Session, an AuthClient (before and
// after it holds a token) and every error kind; the debug log tells what happened without them.
// A vendor echoing the credentials in base64 inside longer data (Vendy: base64(accessKey:secretKey);
// PuppetVendors: its JSON body) shows none of them, whatever offset they have in it.
// Run: node --test __test__/redaction.test.js

const test = require('node:test')
const assert = require('node:assert/strict')
const https = require('node:https')
const path = require('node:path')
const util = require('node:util')
const { execFile } = require('node:child_process')

const { authenticate, createClient, VendorAuthError, ErrorCodes } = require('..')
const { optionsFor, SECRETS, mockFor, clientFor } = require('./helpers')
const { FAKE_TOKEN, JWT_PATTERN, assertClean, mask, jwtPayload, childEnv, rejection } = require('./helpers/faults')
const { assertRedacted, renderings } = require('./helpers/renderings')
const { virtualClock, nextEvent } = require('./helpers/clock')
const { clientDeadlines } = require('./helpers/util')

const FIXTURES = path.join(__dirname, 'fixtures', 'faults')
const PV = 'puppetvendors'

/** POST to the mock with `headers`, trusting its CA; resolves the HTTP status. */
function postStatus(mock, urlPath, headers) {
  return new Promise((resolve, reject) => {
    const request = https.request(
      new URL(urlPath, mock.baseUrl),
      { method: 'POST', ca: mock.caCert, agent: false, headers },
      (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode))
      },
    )
    request.on('error', reject)
    request.end('{}')
  })
}

// ------------------------------------------------------------------ Session

for (const provider of ['vendy', PV]) {
  test(`a ${provider} Session shows only a token prefix, yet reads the real token`, async (t) => {
    const mock = await mockFor(t)
    const session = await authenticate(optionsFor(mock, provider))
    const { token } = session
    assert.ok(JWT_PATTERN.test(token), 'session.token is the JWT')
    assert.equal(jwtPayload(token).iss, provider === 'vendy' ? 'vendy-mock' : 'puppetvendors-mock')
    assert.ok(
      session.headerValue === (provider === 'vendy' ? `Bearer ${token}` : token),
      'session.headerValue is the real value',
    )
    assert.ok(
      Object.keys(session.headers).length === 1 && session.headers[session.headerName] === session.headerValue,
      'session.headers',
    )

    if (provider === PV) {
      // The real token: the vendor accepts it (the mock checks its signature on /refresh-token).
      const status = await postStatus(mock, '/refresh-token', { 'x-access-token': session.headerValue })
      assert.equal(status, 200)
    }

    assertRedacted(session, [token], `the ${provider} session`)
    const shown = util.inspect(session)
    assert.match(shown, /^Session \{/)
    assert.match(shown, /token: 'eyJhbG…'/, 'a short prefix with an ellipsis')
    assert.match(shown, /expiresAtIso: '\d{4}-\d\d-\d\dT/)
    assert.equal(JSON.parse(JSON.stringify(session)).token, 'eyJhbG…')

    for (const keys of [Object.keys(session), Object.getOwnPropertyNames(session), Reflect.ownKeys(session)]) {
      assert.ok(!keys.includes('token') && !keys.includes('headerValue') && !keys.includes('headers'), String(keys))
    }
    assertClean(JSON.stringify({ ...session }), [token], 'a spread copy')
    assertClean(util.inspect(structuredClone(session)), [token], 'a structuredClone')
    assertClean(JSON.stringify(Object.entries(session)), [token], 'Object.entries')
    assert.ok(Object.isFrozen(session))
  })
}

// ------------------------------------------------------------------ AuthClient

test('an AuthClient shows no credential before, and no token after, it holds one', async (t) => {
  const mock = await mockFor(t)
  for (const provider of ['vendy', PV]) {
    const client = clientFor(t, optionsFor(mock, provider))
    assertRedacted(client, [], `a fresh ${provider} client`)
    assert.match(util.inspect(client), /session: null/)
    const header = await client.authHeader()
    const token = Object.values(header)[0].replace(/^Bearer /, '')
    assertRedacted(client, [token], `a ${provider} client holding a token`)
    assert.match(util.inspect(client), /token: 'eyJhbG…'/)
    assertRedacted(await client.getSession(), [token], `the ${provider} client's session`)
    client.close()
    assertRedacted(client, [token], `a closed ${provider} client`)
    assert.match(util.inspect(client), /closed: true/)
  }
})

// ------------------------------------------------------------------ every error kind

/**
 * Producers of every error kind the package can give. Vendors are made to echo the credentials
 * (and a token) back in their error bodies; the errors must not carry them.
 */
const echoVendy = `AccessKey=${SECRETS.vendyAccessKey} SecretKey=${SECRETS.vendySecretKey}`
const echoPv = `apiKey=${SECRETS.pvApiKey}`
const ERROR_CASES = [
  [
    'INVALID_OPTIONS',
    'an unknown option holding a credential',
    async (mock) => authenticate({ ...optionsFor(mock, 'vendy'), accesKey: SECRETS.vendyAccessKey }),
  ],
  [
    'INVALID_OPTIONS',
    'a credential of the wrong type',
    async (mock) => authenticate({ ...optionsFor(mock, 'vendy'), secretKey: Buffer.from(SECRETS.vendySecretKey) }),
  ],
  [
    'INVALID_OPTIONS',
    'a Vendy secret passed as a PuppetVendors apiKey',
    async (mock) => authenticate({ ...optionsFor(mock, PV), apiKey: SECRETS.vendySecretKey }),
  ],
  [
    'INVALID_OPTIONS',
    'Vendy credentials given to PuppetVendors',
    async (mock) =>
      authenticate({ ...optionsFor(mock, PV), accessKey: SECRETS.vendyAccessKey, secretKey: SECRETS.vendySecretKey }),
  ],
  [
    'INVALID_OPTIONS',
    'a credential with a newline',
    async (mock) => authenticate({ ...optionsFor(mock, 'vendy'), secretKey: `${SECRETS.vendySecretKey}\r\nX-Evil: 1` }),
  ],
  [
    'INSECURE_URL',
    'an http: baseUrl',
    async (mock) => authenticate({ ...optionsFor(mock, PV), baseUrl: mock.baseUrl.replace('https:', 'http:') }),
  ],
  [
    'BAD_REQUEST',
    'a 400 echoing the Vendy keys',
    async (mock) => {
      mock.script('vendy.auth', [{ status: 400, body: { message: `data invalid: ${echoVendy}` } }])
      return authenticate(optionsFor(mock, 'vendy'))
    },
  ],
  [
    'UNAUTHORIZED',
    'a 401 echoing the API key (message and code)',
    async (mock) => {
      mock.script('pv.authenticate', [
        {
          status: 401,
          body: { success: false, error: { message: `Invalid API key ${SECRETS.pvApiKey}`, code: SECRETS.pvApiKey } },
        },
      ])
      return authenticate(optionsFor(mock, PV))
    },
  ],
  [
    'UNAUTHORIZED',
    'a legacy Vendy login whose 401 echoes user and password (plain text)',
    async (mock) => {
      mock.script('vendy.auth', [
        {
          status: 401,
          headers: { 'content-type': 'text/plain' },
          body: `incorrect password for ${SECRETS.vendyUsername}:${SECRETS.vendyPassword}`,
        },
      ])
      return authenticate({
        provider: 'vendy',
        baseUrl: mock.baseUrl,
        caCert: mock.caCert,
        username: SECRETS.vendyUsername,
        password: SECRETS.vendyPassword,
      })
    },
  ],
  [
    'UNAUTHORIZED',
    'a plain-text 401 echoing the key where the vendor message is cut off',
    async (mock) => {
      // The vendor's text is shortened for the message; the key must not survive in part.
      const body = `Invalid API key: ${'x'.repeat(80 - 17 - SECRETS.pvApiKey.length + 2)}${SECRETS.pvApiKey}`
      mock.script('pv.authenticate', [{ status: 401, headers: { 'content-type': 'text/plain' }, body }])
      return authenticate(optionsFor(mock, PV))
    },
  ],
  [
    'FORBIDDEN',
    'a 403 echoing the API key',
    async (mock) => {
      mock.script('pv.authenticate', [
        { status: 403, body: { success: false, error: { message: `not allowed for ${echoPv}`, code: 'FORBIDDEN' } } },
      ])
      return authenticate(optionsFor(mock, PV))
    },
  ],
  [
    'RATE_LIMITED',
    'a 429 beyond maxRetryDelayMs echoing the key',
    async (mock) => {
      mock.script('pv.authenticate', [
        {
          status: 429,
          headers: { 'Retry-After': '600' },
          body: { success: false, error: { message: `slow down ${SECRETS.pvApiKey}`, code: 'RATE_LIMITED' } },
        },
      ])
      return authenticate(optionsFor(mock, PV))
    },
  ],
  [
    'SERVER_ERROR',
    'a plain-text 500 echoing the API key',
    async (mock) => {
      mock.script('pv.authenticate', [
        { status: 500, headers: { 'content-type': 'text/plain' }, body: `stack trace: ${echoPv}` },
      ])
      return authenticate(optionsFor(mock, PV, { maxRetries: 0 }))
    },
  ],
  [
    'NETWORK',
    'a connection reset',
    async (mock) => {
      mock.script('vendy.auth', [{ reset: true }])
      return authenticate(optionsFor(mock, 'vendy', { maxRetries: 0 }))
    },
  ],
  ['NETWORK', 'an untrusted certificate', async (mock) => authenticate({ ...optionsFor(mock, PV), caCert: undefined })],
  [
    'TIMEOUT',
    'a stalled server',
    async (mock) => {
      mock.script('pv.authenticate', [{ stall: true }])
      return authenticate(optionsFor(mock, PV, { timeoutMs: 200, maxRetries: 0 }))
    },
  ],
  [
    'INVALID_RESPONSE',
    'a 200 with a bad expiry, echoing the key and a token',
    async (mock) => {
      mock.script('vendy.auth', [
        { status: 200, body: { token: FAKE_TOKEN, expiryTime: `never ${SECRETS.vendySecretKey}` } },
      ])
      return authenticate(optionsFor(mock, 'vendy'))
    },
  ],
  [
    'INVALID_RESPONSE',
    'a 200 that is not JSON, holding a token and the key',
    async (mock) => {
      mock.script('pv.authenticate', [{ status: 200, body: `token=${FAKE_TOKEN}&apiKey=${SECRETS.pvApiKey}` }])
      return authenticate(optionsFor(mock, PV))
    },
  ],
  [
    'INVALID_RESPONSE',
    'a redirect to a URL holding the key',
    async (mock) => {
      mock.script('pv.authenticate', [
        { status: 302, headers: { location: `https://evil.example/?k=${SECRETS.pvApiKey}` }, body: `moved: ${echoPv}` },
      ])
      return authenticate(optionsFor(mock, PV))
    },
  ],
  [
    'CLOSED',
    'a closed client',
    async (mock) => {
      const client = createClient(optionsFor(mock, PV))
      await client.authHeader()
      client.close()
      return client.authHeader()
    },
  ],
  [
    'STORE_UNAVAILABLE',
    "a token store that fails (reported through 'error', never a failed call)",
    async (mock) => {
      const down = () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379'))
      const tokenStore = { get: down, set: down, lock: down, release: down }
      const client = createClient(optionsFor(mock, PV, { tokenStore }))
      const reported = new Promise((resolve) => client.once('error', resolve))
      await client.authHeader()
      client.close()
      throw await reported
    },
  ],
  [
    'ABORTED',
    'an aborted authenticate()',
    async (mock) => {
      const controller = new AbortController()
      mock.script('pv.authenticate', [{ stall: true }])
      setTimeout(() => controller.abort(), 50)
      return authenticate({ ...optionsFor(mock, PV), signal: controller.signal })
    },
  ],
]

for (const [code, what, produce] of ERROR_CASES) {
  test(`${code} (${what}) shows no credential or token`, async (t) => {
    const mock = await mockFor(t)
    const error = await rejection(produce(mock))
    assert.ok(error instanceof VendorAuthError, mask(String(error && error.stack)))
    assert.equal(error.code, code, mask(error.message))
    assert.equal(error.name, 'VendorAuthError')
    assertRedacted(error, [FAKE_TOKEN], `the ${code} error`)
    if (error.vendorMessage && error.vendorMessage.includes('[redacted]')) {
      assert.match(error.message, /\[redacted\]/, 'the echo is replaced, not the message dropped')
    }
  })
}

test('every error code is produced above', () => {
  const produced = new Set(ERROR_CASES.map(([code]) => code))
  // SERVER_ONLY has its own child-process test below; UNSUPPORTED_PLATFORM (a load failure that
  // carries no credential) is produced by the pack test (scripts/pack-test.js); INTERNAL (a panic
  // caught at the native boundary, whose message is the panic's and never a value) needs a test
  // build: __test__/panic.test.js.
  const elsewhere = new Set(['SERVER_ONLY', 'UNSUPPORTED_PLATFORM', 'INTERNAL'])
  const missing = Object.keys(ErrorCodes).filter((code) => !produced.has(code) && !elsewhere.has(code))
  assert.deepEqual(missing, [], 'every other code is produced above')
})

test('SERVER_ONLY (loaded beside browser globals) shows no credential from the environment', async () => {
  const { stdout, stderr } = await run(process.execPath, [path.join(FIXTURES, 'server-only-child.js')], {
    PUPPETVENDORS_API_KEY: SECRETS.pvApiKey,
    VENDY_ACCESS_KEY: SECRETS.vendyAccessKey,
    VENDY_SECRET_KEY: SECRETS.vendySecretKey,
  })
  assert.match(stdout, /^SERVER_ONLY$/m)
  assert.match(stdout, /server-only/)
  assertClean(stdout + stderr, [], 'the SERVER_ONLY output')
})

/**
 * A vendor's error body may echo the token it was sent (the refresh endpoint receives the current
 * token). Inside the safety margin a caller waits for a foreground exchange, and the token may
 * still be offered to the refresh endpoint (more than min(5 s, margin / 2) left), so the refresh
 * endpoint's error reaches the caller.
 */
for (const [status, code, headers] of [
  [500, 'SERVER_ERROR', {}],
  [429, 'RATE_LIMITED', { 'Retry-After': '600' }],
]) {
  test(`a ${status} from the refresh endpoint echoing the current token: the ${code} error does not hold it`, async (t) => {
    const clock = virtualClock(t)
    const mock = await mockFor(t)
    // A 24 h token and no refresh window: the first exchange is a foreground one inside the 10 s
    // safety margin, while the token may still be offered to the refresh endpoint (5 s).
    const lines = []
    const logger = (line) => lines.push(line)
    const client = clientFor(t, optionsFor(mock, PV, { maxRetries: 0, refreshWindowMs: 0, logger }))
    const { token, expiresAt } = await client.getSession()
    mock.setDefault('pv.refresh', (request) => ({
      status,
      headers,
      body: {
        success: false,
        error: { message: `Cannot refresh token ${request.headers['x-access-token']}`, code: 'INTERNAL_SERVER_ERROR' },
      },
    }))
    const due = clientDeadlines(expiresAt, Date.now(), Date.now(), 0)
    clock.to(due.usableUntilLatest - 1)
    assert.equal((await client.authHeader())['x-access-token'], token)
    assert.equal(mock.count(), 1)
    clock.to(due.refreshableUntilEarliest - 2_000)
    const outcome = await client.authHeader().then(
      () => null,
      (error) => error,
    )
    assert.equal(mock.count('pv.refresh'), 1)
    if (status === 429) {
      // The vendor asked to wait: no fall back to /authenticate.
      assert.equal(outcome && outcome.code, code)
      assert.equal(mock.count('pv.authenticate'), 1)
      assertRedacted(outcome, [token], `the ${code} error from the refresh endpoint`)
    } else {
      // Its retries spent, a failing refresh falls back to /authenticate.
      assert.equal(outcome, null)
      assert.equal(mock.count('pv.authenticate'), 2)
    }
    await new Promise((resolve) => setImmediate(resolve))
    assert.ok(lines.length > 0)
    assert.ok(!lines.join('\n').includes(token), 'the debug log holds the token')
  })
}

// ------------------------------------------------------------------ base64 echoes at every offset

/**
 * The base64 and base64url runs that stand for `secret` alone where it starts 0, 1 or 2 bytes past
 * a multiple of three inside encoded data (the characters that also hold bits of the bytes around
 * it left out). Computed here from Buffer's encoder, not the library's.
 */
function base64Runs(secret) {
  const runs = []
  for (let offset = 0; offset < 3; offset++) {
    const data = Buffer.concat([Buffer.alloc(offset, 0xff), Buffer.from(secret)])
    const first = Math.ceil((8 * offset) / 6)
    const end = Math.floor((8 * data.length) / 6)
    for (const alphabet of ['base64', 'base64url']) runs.push(data.toString(alphabet).slice(first, end))
  }
  return runs
}

/** Assert that `text` holds no 8 characters of any of `secrets`' base64 runs, at any offset. */
function assertNoBase64(text, secrets, what) {
  for (const secret of secrets) {
    for (const run of base64Runs(secret)) {
      for (let i = 0; i + 8 <= run.length; i++) {
        const piece = run.slice(i, i + 8)
        // (The message, masked, only when it fails: masking every time costs seconds.)
        if (text.includes(piece)) assert.fail(`${what} holds base64 of a secret:\n${maskBase64(text, secrets)}`)
      }
    }
  }
}

/** `text` masked (see `mask`), and every 8 characters of `secrets`' base64 runs too. */
function maskBase64(text, secrets) {
  let out = mask(text)
  for (const run of secrets.flatMap(base64Runs)) {
    for (let i = 0; i + 8 <= run.length; i++) out = out.split(run.slice(i, i + 8)).join('<base64 of a secret>')
  }
  return out
}

/**
 * Everything a person may read of `error` and of the debug `lines`: no secret, raw or in base64 at
 * any offset; the echo was there, and was replaced.
 */
function assertEchoRedacted(error, lines, secrets, what) {
  assert.ok(error instanceof VendorAuthError, mask(String(error && error.stack)))
  assert.equal(error.code, 'UNAUTHORIZED', mask(error.message))
  assert.match(error.vendorMessage, /^bad credentials .*\[redacted\]/, mask(error.vendorMessage))
  assertRedacted(error, [], what)
  for (const [how, text] of Object.entries(renderings(error))) assertNoBase64(text, secrets, `${how} of ${what}`)
  assertNoBase64(lines.join('\n'), secrets, `the debug log of ${what}`)
}

test('base64 of (a 27-, 28- or 29-character Vendy access key):(secret key) echoed by Vendy: neither key shows, in either alphabet', async (t) => {
  const mock = await mockFor(t)
  const lengths = [27, 28, 29]
  assert.deepEqual(
    lengths.map((n) => (n + 1) % 3),
    [1, 2, 0],
    'the secret key starts at every offset mod 3',
  )
  assert.ok(SECRETS.vendyAccessKey.length >= 29)
  for (const length of lengths) {
    // A prefix of the known key: the suite's leak scans (16-character pieces) still know it.
    const accessKey = SECRETS.vendyAccessKey.slice(0, length)
    for (const alphabet of ['base64', 'base64url']) {
      const echoed = []
      mock.script('vendy.auth', (request) => {
        const pair = Buffer.from(`${request.headers.accesskey}:${request.headers.secretkey}`).toString(alphabet)
        echoed.push(pair)
        return { status: 401, body: { message: `bad credentials ${pair}` } }
      })
      const lines = []
      const error = await rejection(
        authenticate(optionsFor(mock, 'vendy', { accessKey, logger: (line) => lines.push(line) })),
      )
      assert.equal(
        echoed[0],
        Buffer.from(`${accessKey}:${SECRETS.vendySecretKey}`).toString(alphabet),
        'the mock echoed the pair',
      )
      assertEchoRedacted(
        error,
        lines,
        [accessKey, SECRETS.vendySecretKey],
        `a ${length}-character key's ${alphabet} echo`,
      )
    }
  }
})

test('base64 of its JSON body echoed by PuppetVendors (behind 0, 1 or 2 more bytes): the API key does not show', async (t) => {
  const mock = await mockFor(t)
  for (const lead of ['', 'x', 'xy']) {
    for (const alphabet of ['base64', 'base64url']) {
      const echoed = []
      mock.script('pv.authenticate', (request) => {
        const encoded = Buffer.from(`${lead}${request.body}`).toString(alphabet)
        echoed.push(request.body)
        return { status: 401, body: { success: false, error: { message: `bad credentials ${encoded}` } } }
      })
      const lines = []
      const error = await rejection(authenticate(optionsFor(mock, PV, { logger: (line) => lines.push(line) })))
      assert.ok(echoed[0].includes(SECRETS.pvApiKey), 'the body the mock echoed holds the key')
      assertEchoRedacted(error, lines, [SECRETS.pvApiKey], `the body's ${alphabet} echo behind ${lead.length} bytes`)
    }
  }
})

/** A malformed baseUrl is echoed to help the user; credentials inside it must not be. */
test('INVALID_OPTIONS for a malformed baseUrl does not echo its user:password@', async (t) => {
  const mock = await mockFor(t)
  const password = 'url-password-LEAKCHECK-5e7f9a'
  const error = await rejection(
    authenticate({ ...optionsFor(mock, PV), baseUrl: `https://vendor:${password}@127.0.0.1:99999/v2` }),
  )
  assert.equal(error.code, 'INVALID_OPTIONS')
  assert.ok(
    !error.message.includes(password),
    `the message holds the URL's password: ${error.message.split(password).join('<password>')}`,
  )
})

test('INVALID_OPTIONS does not echo a credential passed in the wrong option (swapped variables)', async (t) => {
  const mock = await mockFor(t)
  const leaks = []
  for (const [option, secret] of [
    ['baseUrl', SECRETS.pvApiKey],
    ['environment', SECRETS.pvApiKey],
    ['provider', SECRETS.vendySecretKey],
  ]) {
    const error = await rejection(
      authenticate({ ...optionsFor(mock, option === 'provider' ? 'vendy' : PV), [option]: secret }),
    )
    assert.equal(error.code, 'INVALID_OPTIONS')
    if (error.message.includes(secret)) leaks.push(`${option}: ${mask(error.message)}`)
  }
  assert.deepEqual(leaks, [], 'messages echo a value that is one of the configured credentials')
})

// ------------------------------------------------------------------ debug logging

test('the logger option tells what happened, without secrets or tokens', async (t) => {
  const clock = virtualClock(t)
  const mock = await mockFor(t)
  const lines = []
  const logger = (line) => lines.push(line)

  mock.script('pv.authenticate', [{ status: 503 }, { stall: true }])
  const pv = await authenticate(optionsFor(mock, PV, { logger, timeoutMs: 300 }))
  const client = clientFor(t, { ...optionsFor(mock, 'vendy'), logger: { debug: logger } })
  const first = await client.authHeader()
  // Into the (7 day) token's refresh window, 5 min before it expires: one background refresh.
  clock.to(clientDeadlines((await client.getSession()).expiresAt, Date.now(), Date.now()).refreshAtLatest)
  const refreshed = nextEvent(client, 'refresh')
  assert.equal(await client.authHeader(), first)
  await refreshed
  const text = lines.join('\n')
  const port = new URL(mock.baseUrl).port
  for (const pattern of [
    new RegExp(`^vendor-auth puppetvendors POST https://127\\.0\\.0\\.1:${port}/authenticate$`, 'm'),
    /^vendor-auth puppetvendors answered HTTP 503 in \d+ ms$/m,
    /^vendor-auth puppetvendors retry in \d+ ms$/m,
    /^vendor-auth puppetvendors request failed \(TIMEOUT\): .*timeoutMs = 300 ms/m,
    /^vendor-auth puppetvendors answered HTTP 200 in \d+ ms$/m,
    /^vendor-auth puppetvendors new token eyJhbG… expires at \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$/m,
    /^vendor-auth vendy POST https:\/\/127\.0\.0\.1:\d+\/auth$/m,
    /^vendor-auth vendy token inside the refresh window: refreshing in the background$/m,
  ]) {
    assert.ok(pattern.test(text), `missing ${pattern}:\n${mask(text)}`)
  }
  assert.ok(lines.filter((l) => l.startsWith('vendor-auth vendy new token')).length >= 2, mask(text))
  assert.ok(
    lines.every((l) => l.startsWith('vendor-auth ')),
    mask(text),
  )
  const vendyToken = first.Authorization.replace('Bearer ', '')
  assertClean(text, [pv.token, vendyToken], 'the debug lines')
})

/** Run a node script; resolves { code, stdout, stderr }. */
function run(file, args, env) {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { env: childEnv(env), timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        resolve({ code: error ? error.code : 0, stdout, stderr })
      },
    )
  })
}

test('DEBUG=vendor-auth writes the debug lines to stderr of a real process, redacted', async () => {
  const child = path.join(FIXTURES, 'debug-child.js')
  const on = await run(process.execPath, [child], { DEBUG: 'vendor-auth' })
  assert.equal(on.code, 0, mask(on.stderr))
  assert.match(on.stdout, /DONE/)
  for (const pattern of [
    /^vendor-auth puppetvendors POST https:\/\/127\.0\.0\.1:\d+\/authenticate$/m,
    /^vendor-auth puppetvendors answered HTTP 503 in \d+ ms$/m,
    /^vendor-auth puppetvendors retry in \d+ ms$/m,
    /^vendor-auth puppetvendors new token eyJhbG… expires at .+ GMT$/m,
    /^vendor-auth vendy answered HTTP 200 in \d+ ms$/m,
    /^vendor-auth vendy answered HTTP 401 in \d+ ms$/m,
  ]) {
    assert.ok(pattern.test(on.stderr), `missing ${pattern}:\n${mask(on.stderr)}`)
  }
  assertClean(on.stdout, [], 'stdout with DEBUG')
  assertClean(on.stderr, [], 'stderr with DEBUG')

  const list = await run(process.execPath, [child], { DEBUG: 'express:*, vendor-auth' })
  assert.match(list.stderr, /^vendor-auth puppetvendors answered HTTP 503/m)

  for (const DEBUG of [undefined, 'express', 'vendor-authx']) {
    const off = await run(process.execPath, [child], { DEBUG })
    assert.equal(off.code, 0, mask(off.stderr))
    assert.doesNotMatch(off.stderr, /vendor-auth /, `DEBUG=${DEBUG} should log nothing`)
    assertClean(off.stdout + off.stderr, [], `output with DEBUG=${DEBUG}`)
  }
})
