'use strict'
// authenticate(): request shapes, session fields, expiry, credentials from the environment, and
// every error code reachable with a single exchange, against the real local HTTPS mock vendor.
// Run: node --test __test__/authenticate.test.js

const { describe, it, before, after, beforeEach } = require('node:test')
const assert = require('node:assert/strict')

const vendorAuth = require('..')
const { authenticate, VendorAuthError, ErrorCodes, Session } = vendorAuth
const { SECRETS, startMock, optionsFor } = require('./helpers')
const {
  ROOT,
  waitFor,
  decodeJwt,
  closedPort,
  connectionCounter,
  withEnv,
  withoutCredentialEnv,
  runNode,
  lastJsonLine,
  expectVendorError,
} = require('./helpers/util')

const basic = (user, pass) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`
const pvError = (message, code) => ({ success: false, error: { message, code } })

let mock
before(async () => {
  mock = await startMock()
})
after(() => mock.close())
beforeEach(() => mock.reset())

// ------------------------------------------------------------------------------------- Vendy

describe('authenticate() with Vendy', () => {
  it('sends POST /auth with AccessKey and SecretKey headers and a JSON {} body', async () => {
    await authenticate(optionsFor(mock, 'vendy'))
    assert.equal(mock.count('vendy.auth'), 1)
    assert.equal(mock.count(), 1)
    const [request] = mock.requests
    assert.equal(request.method, 'POST')
    assert.equal(request.path, '/auth')
    assert.equal(request.headers.accesskey, SECRETS.vendyAccessKey)
    assert.equal(request.headers.secretkey, SECRETS.vendySecretKey)
    assert.match(request.headers['content-type'], /^application\/json\b/)
    assert.deepEqual(JSON.parse(request.body), {})
    assert.equal(request.headers.authorization, undefined, 'no Basic auth alongside the key headers')
  })

  it('legacy username/password is sent as Authorization: Basic base64(user:pass), without key headers', async () => {
    const session = await authenticate({
      provider: 'vendy',
      baseUrl: mock.baseUrl,
      caCert: mock.caCert,
      username: SECRETS.vendyUsername,
      password: SECRETS.vendyPassword,
    })
    assert.equal(session.provider, 'vendy')
    const [request] = mock.requests
    assert.equal(request.path, '/auth')
    assert.equal(request.headers.authorization, basic(SECRETS.vendyUsername, SECRETS.vendyPassword))
    assert.equal(request.headers.accesskey, undefined)
    assert.equal(request.headers.secretkey, undefined)
    assert.deepEqual(JSON.parse(request.body), {})
  })

  it('resolves to a Session: provider vendy, a JWT token, Authorization: Bearer <token>', async () => {
    const before = Date.now()
    const session = await authenticate(optionsFor(mock, 'vendy'))
    assert.ok(session instanceof Session)
    assert.equal(session.provider, 'vendy')
    assert.equal(typeof session.token, 'string')
    const payload = decodeJwt(session.token)
    assert.equal(payload.iss, 'vendy-mock')
    assert.equal(session.headerName, 'Authorization')
    assert.equal(session.headerValue, `Bearer ${session.token}`)
    assert.deepEqual(session.headers, { Authorization: `Bearer ${session.token}` })
    assert.ok(Number.isInteger(session.expiresAt), 'expiresAt is an integer number of ms')
    // The mock's default Vendy lifetime is 7 days.
    assert.ok(session.expiresAt > before + 7 * 86_400_000 - 2000)
    assert.ok(session.expiresAt <= Date.now() + 7 * 86_400_000)
    for (const key of ['scope', 'permissions', 'shopDomain', 'mode', 'vendorId']) {
      assert.equal(session[key], undefined, `Vendy sessions have no ${key}`)
    }
  })

  it('expiresAt is the JWT exp when expiryTime is later (Vendy sample: expiryTime 400 s after exp)', async () => {
    const skewed = await startMock({ vendy: { expiryTimeSkewSec: 400 } })
    try {
      const session = await authenticate(optionsFor(skewed, 'vendy'))
      const { iat, exp } = decodeJwt(session.token)
      assert.equal(session.expiresAt, exp * 1000)
      assert.equal(exp - iat, 7 * 86_400, 'the JWT lifetime is the mock default')
    } finally {
      await skewed.close()
    }
  })

  it('expiresAt is expiryTime when the JWT exp is later', async () => {
    mock.script('vendy.auth', { lifetimeSec: 3600, jwtExpOffsetSec: 7200 })
    const session = await authenticate(optionsFor(mock, 'vendy'))
    const { iat, exp } = decodeJwt(session.token)
    assert.equal(exp, iat + 7200)
    assert.equal(session.expiresAt, (iat + 3600) * 1000)
  })

  it('parses an expiryTime HTTP-date given by the vendor to ms since the epoch', async () => {
    const at = new Date(Math.floor(Date.now() / 1000) * 1000 + 2 * 3600_000)
    mock.script('vendy.auth', { expiryTime: at.toUTCString() })
    const session = await authenticate(optionsFor(mock, 'vendy'))
    assert.equal(session.expiresAt, at.getTime())
  })

  it('without expiryTime the JWT exp says when the token expires', async () => {
    mock.script('vendy.auth', { expiryTime: undefined, lifetimeSec: 900 })
    const session = await authenticate(optionsFor(mock, 'vendy'))
    assert.equal(session.expiresAt, decodeJwt(session.token).exp * 1000)
  })
})

// ----------------------------------------------------------------------------- PuppetVendors

describe('authenticate() with PuppetVendors', () => {
  it('sends POST /authenticate with JSON {apiKey} (no shopDomain when none is given)', async () => {
    await withoutCredentialEnv(() => authenticate(optionsFor(mock, 'puppetvendors')))
    assert.equal(mock.count('pv.authenticate'), 1)
    const [request] = mock.requests
    assert.equal(request.method, 'POST')
    assert.equal(request.path, '/authenticate')
    assert.match(request.headers['content-type'], /^application\/json\b/)
    assert.deepEqual(JSON.parse(request.body), { apiKey: SECRETS.pvApiKey })
    assert.equal(request.headers['x-access-token'], undefined)
  })

  it('sends shopDomain in the JSON body when given', async () => {
    const shopDomain = 'mock-store.myshopify.com'
    const session = await authenticate(optionsFor(mock, 'puppetvendors', { shopDomain }))
    assert.deepEqual(JSON.parse(mock.requests[0].body), { apiKey: SECRETS.pvApiKey, shopDomain })
    assert.equal(session.shopDomain, shopDomain)
  })

  it('resolves to a Session with scope, permissions, shopDomain, mode, vendorId and a bare x-access-token', async () => {
    const session = await authenticate(optionsFor(mock, 'puppetvendors'))
    assert.ok(session instanceof Session)
    assert.equal(session.provider, 'puppetvendors')
    assert.equal(decodeJwt(session.token).iss, 'puppetvendors-mock')
    assert.equal(session.headerName, 'x-access-token')
    assert.equal(session.headerValue, session.token)
    assert.deepEqual(session.headers, { 'x-access-token': session.token })
    assert.equal(session.scope, 'vendor')
    assert.deepEqual(session.permissions, ['orders:read', 'products:read'])
    assert.equal(session.shopDomain, 'mock-store.myshopify.com')
    assert.equal(session.mode, 'test', 'a vk_test_ key is test mode')
    assert.equal(session.vendorId, 'vendor_123')
  })

  it('expiresAt is about now + expiresIn (86400 s) for the default answer', async () => {
    const before = Date.now()
    const session = await authenticate(optionsFor(mock, 'puppetvendors'))
    const after = Date.now()
    // The JWT exp has whole seconds, so expiresAt may be up to 1 s before now + expiresIn.
    assert.ok(session.expiresAt >= before + 86_400_000 - 1500, `${session.expiresAt - before}`)
    assert.ok(session.expiresAt <= after + 86_400_000, `${session.expiresAt - after}`)
  })

  it('expiresAt is the answer time + expiresIn when expiresIn is shorter than the JWT exp', async () => {
    mock.script('pv.authenticate', { expiresIn: 3600 })
    const before = Date.now()
    const session = await authenticate(optionsFor(mock, 'puppetvendors'))
    const after = Date.now()
    assert.ok(decodeJwt(session.token).exp * 1000 > after + 80_000_000, 'the JWT itself lives 24 h')
    assert.ok(session.expiresAt >= before + 3_600_000 && session.expiresAt <= after + 3_600_000)
  })

  it('expiresAt is the JWT exp when expiresIn is longer', async () => {
    mock.script('pv.authenticate', { jwtExpOffsetSec: 600 })
    const session = await authenticate(optionsFor(mock, 'puppetvendors'))
    const { iat, exp } = decodeJwt(session.token)
    assert.equal(exp, iat + 600)
    assert.equal(session.expiresAt, exp * 1000)
  })

  it('a baseUrl with a /v2 path posts to /v2/authenticate', async () => {
    const session = await authenticate(optionsFor(mock, 'puppetvendors', { baseUrl: `${mock.baseUrl}/v2` }))
    assert.equal(session.provider, 'puppetvendors')
    assert.equal(mock.count('pv.authenticate'), 1)
    assert.equal(mock.requests[0].path, '/v2/authenticate')
  })

  it('a shopDomain the key is not valid for is UNAUTHORIZED with the vendor message and code', async () => {
    await expectVendorError(
      authenticate(optionsFor(mock, 'puppetvendors', { shopDomain: 'other-store.myshopify.com' })),
      {
        code: 'UNAUTHORIZED',
        status: 401,
        provider: 'puppetvendors',
        vendorMessage: 'The provided shopDomain is not available.',
        vendorCode: 'UNAUTHORIZED',
      },
    )
    assert.equal(mock.count('pv.authenticate'), 1, 'a 401 is not retried')
  })
})

// ------------------------------------------------------------------------------- environment

describe('credentials from the environment', () => {
  const endpointOnly = (m) => ({ baseUrl: m.baseUrl, caCert: m.caCert })

  it('Vendy reads VENDY_ACCESS_KEY and VENDY_SECRET_KEY when the options omit them', async () => {
    const session = await withoutCredentialEnv(() => authenticate({ provider: 'vendy', ...endpointOnly(mock) }), {
      VENDY_ACCESS_KEY: SECRETS.vendyAccessKey,
      VENDY_SECRET_KEY: SECRETS.vendySecretKey,
    })
    assert.equal(session.provider, 'vendy')
    assert.equal(mock.requests[0].headers.accesskey, SECRETS.vendyAccessKey)
    assert.equal(mock.requests[0].headers.secretkey, SECRETS.vendySecretKey)
  })

  it('PuppetVendors reads PUPPETVENDORS_API_KEY and PUPPETVENDORS_SHOP_DOMAIN when the options omit them', async () => {
    const session = await withoutCredentialEnv(
      () => authenticate({ provider: 'puppetvendors', ...endpointOnly(mock) }),
      { PUPPETVENDORS_API_KEY: SECRETS.pvApiKey, PUPPETVENDORS_SHOP_DOMAIN: 'mock-store.myshopify.com' },
    )
    assert.equal(session.shopDomain, 'mock-store.myshopify.com')
    assert.deepEqual(JSON.parse(mock.requests[0].body), {
      apiKey: SECRETS.pvApiKey,
      shopDomain: 'mock-store.myshopify.com',
    })
  })

  it('Vendy options win over the environment', async () => {
    await withoutCredentialEnv(
      async () => {
        const session = await authenticate(optionsFor(mock, 'vendy'))
        assert.equal(session.provider, 'vendy')
      },
      { VENDY_ACCESS_KEY: 'env-access-key-wrong', VENDY_SECRET_KEY: 'env-secret-key-wrong' },
    )
    assert.equal(mock.requests[0].headers.accesskey, SECRETS.vendyAccessKey)
    assert.equal(mock.requests[0].headers.secretkey, SECRETS.vendySecretKey)
  })

  it('PuppetVendors options (apiKey, shopDomain) win over the environment', async () => {
    await withoutCredentialEnv(
      () => authenticate(optionsFor(mock, 'puppetvendors', { shopDomain: 'mock-store.myshopify.com' })),
      { PUPPETVENDORS_API_KEY: 'vk_test_env_wrong_key', PUPPETVENDORS_SHOP_DOMAIN: 'env-store.myshopify.com' },
    )
    assert.deepEqual(JSON.parse(mock.requests[0].body), {
      apiKey: SECRETS.pvApiKey,
      shopDomain: 'mock-store.myshopify.com',
    })
  })

  it('the environment is read at call time: wrong keys there are used (and refused) when options omit them', async () => {
    await withoutCredentialEnv(
      () =>
        expectVendorError(authenticate({ provider: 'vendy', ...endpointOnly(mock) }), {
          code: 'UNAUTHORIZED',
          status: 401,
        }),
      { VENDY_ACCESS_KEY: 'env-access-key-wrong', VENDY_SECRET_KEY: 'env-secret-key-wrong' },
    )
    assert.equal(mock.requests[0].headers.accesskey, 'env-access-key-wrong')
  })
})

// ----------------------------------------------------------------------------- bad options

describe('invalid options are INVALID_OPTIONS before any I/O', () => {
  const vendy = () => optionsFor(mock, 'vendy')
  const pv = () => optionsFor(mock, 'puppetvendors')
  const without = (options, ...keys) => {
    const copy = { ...options }
    for (const key of keys) delete copy[key]
    return copy
  }

  const cases = [
    ['a missing provider', () => without(vendy(), 'provider'), /provider is required/],
    ['an unknown provider', () => ({ ...vendy(), provider: 'acme' }), /unknown provider/],
    [
      "a misspelt option ('accesKey'), even with valid keys in the environment",
      () => ({ ...without(vendy(), 'accessKey'), accesKey: SECRETS.vendyAccessKey }),
      /unknown option 'accesKey'/,
    ],
    ['timeoutMs given as a string', () => ({ ...vendy(), timeoutMs: '300' }), /timeoutMs.*must be a number/],
    ['accessKey given as a number', () => ({ ...vendy(), accessKey: 12345 }), /accessKey.*must be a string/],
    [
      'an apiKey given as an array',
      () => ({ ...pv(), apiKey: [SECRETS.pvApiKey] }),
      /apiKey.*must be a string, not an array/,
    ],
    ['a missing Vendy secretKey', () => without(vendy(), 'secretKey'), /secretKey is missing/],
    ['a missing Vendy accessKey', () => without(vendy(), 'accessKey'), /accessKey is missing/],
    [
      'a legacy username without password',
      () => ({ ...without(vendy(), 'accessKey', 'secretKey'), username: SECRETS.vendyUsername }),
      /password/,
    ],
    ['a missing PuppetVendors apiKey', () => without(pv(), 'apiKey'), /apiKey/],
    ["an apiKey not starting with 'vk_'", () => ({ ...pv(), apiKey: 'pk_LEAKCHECK_not_a_vendor_key' }), /vk_/],
    [
      'PuppetVendors options given to Vendy',
      () => ({ ...vendy(), apiKey: SECRETS.pvApiKey }),
      /apiKey is an option of PuppetVendors, not of Vendy/,
    ],
    ['timeoutMs 0', () => ({ ...vendy(), timeoutMs: 0 }), /timeoutMs must be a whole number/],
    ['timeoutMs 1.5', () => ({ ...vendy(), timeoutMs: 1.5 }), /timeoutMs must be a whole number/],
    ['timeoutMs -100', () => ({ ...vendy(), timeoutMs: -100 }), /timeoutMs must be a whole number/],
    ['timeoutMs NaN', () => ({ ...vendy(), timeoutMs: NaN }), /timeoutMs/],
    ['maxRetries 11', () => ({ ...vendy(), maxRetries: 11 }), /maxRetries/],
    ["environment 'dev'", () => without({ ...vendy(), environment: 'dev' }, 'baseUrl'), /environment/],
    ['a caCert that is not PEM', () => ({ ...vendy(), caCert: 'not a certificate' }), /caCert/],
    ['a baseUrl with user:password@', () => ({ ...vendy(), baseUrl: 'https://user:pw@127.0.0.1:1' }), /credentials/],
    ['a baseUrl that is not a URL', () => ({ ...vendy(), baseUrl: 'not a url' }), /not a valid URL/],
    ['a signal that is not an AbortSignal', () => ({ ...vendy(), signal: {} }), /signal/],
    ['a logger that is not a function', () => ({ ...vendy(), logger: 'stderr' }), /logger/],
    ['null options', () => null, /options must be an object/],
    ['undefined options', () => undefined, /options must be an object/],
    ['a string instead of options', () => 'vendy', /options must be an object/],
    ['an array instead of options', () => [vendy()], /options must be an object/],
  ]

  for (const [what, options, message] of cases) {
    it(`refuses ${what} without a request`, async () => {
      await withoutCredentialEnv(
        () => expectVendorError(authenticate(options()), { code: 'INVALID_OPTIONS', message }),
        // Valid keys in the environment must not rescue a typo or a missing key.
        what.includes('misspelt')
          ? { VENDY_ACCESS_KEY: SECRETS.vendyAccessKey, VENDY_SECRET_KEY: SECRETS.vendySecretKey }
          : {},
      )
      assert.equal(mock.count(), 0, 'no request reached the vendor')
    })
  }

  it('the message for a non-vk_ apiKey does not echo the key', async () => {
    const apiKey = 'pk_live_DO_NOT_ECHO_4242'
    const error = await expectVendorError(authenticate({ ...pv(), apiKey }), { code: 'INVALID_OPTIONS' })
    assert.ok(!error.message.includes(apiKey))
    assert.equal(mock.count(), 0)
  })
})

describe('INSECURE_URL', () => {
  for (const provider of ['vendy', 'puppetvendors']) {
    it(`${provider}: an http:// baseUrl is refused with INSECURE_URL and no connection is made`, async () => {
      const listener = await connectionCounter()
      try {
        await expectVendorError(
          authenticate(optionsFor(mock, provider, { baseUrl: `http://127.0.0.1:${listener.port}` })),
          { code: 'INSECURE_URL', message: /https/ },
        )
        assert.equal(listener.connections, 0, 'nothing connected to the plain-HTTP port')
        assert.equal(mock.count(), 0)
      } finally {
        await listener.close()
      }
    })
  }
})

// ------------------------------------------------------------------------ vendor failures

describe('vendor answers and transport failures map to stable codes', () => {
  it('Vendy 400 is BAD_REQUEST with status 400 and the vendor message, not retried', async () => {
    mock.script('vendy.auth', { status: 400, body: { message: 'data invalid' } })
    await expectVendorError(authenticate(optionsFor(mock, 'vendy')), {
      code: 'BAD_REQUEST',
      status: 400,
      provider: 'vendy',
      vendorMessage: 'data invalid',
    })
    assert.equal(mock.count('vendy.auth'), 1)
  })

  it('a wrong Vendy key is UNAUTHORIZED with status 401 and vendorMessage, not retried', async () => {
    await expectVendorError(authenticate(optionsFor(mock, 'vendy', { secretKey: 'vendy-sk-wrong' })), {
      code: 'UNAUTHORIZED',
      status: 401,
      provider: 'vendy',
      vendorMessage: 'incorrect password',
    })
    assert.equal(mock.count('vendy.auth'), 1, 'default maxRetries does not retry a 401')
  })

  it('a wrong PuppetVendors key is UNAUTHORIZED with vendorMessage and vendorCode, not retried', async () => {
    await expectVendorError(authenticate(optionsFor(mock, 'puppetvendors', { apiKey: 'vk_test_wrong_key' })), {
      code: 'UNAUTHORIZED',
      status: 401,
      provider: 'puppetvendors',
      vendorMessage: 'Invalid API key',
      vendorCode: 'UNAUTHORIZED',
    })
    assert.equal(mock.count('pv.authenticate'), 1)
  })

  it('a 403 is FORBIDDEN with status 403, not retried', async () => {
    mock.script('pv.authenticate', { status: 403, body: pvError('Forbidden', 'FORBIDDEN') })
    await expectVendorError(authenticate(optionsFor(mock, 'puppetvendors')), {
      code: 'FORBIDDEN',
      status: 403,
      vendorCode: 'FORBIDDEN',
      vendorMessage: 'Forbidden',
    })
    assert.equal(mock.count('pv.authenticate'), 1)
  })

  it('a 429 with maxRetries 0 is RATE_LIMITED with retryAfterMs from Retry-After', async () => {
    mock.script('pv.authenticate', {
      status: 429,
      headers: { 'Retry-After': '7' },
      body: pvError('Too many authentication requests', 'RATE_LIMITED'),
    })
    await expectVendorError(authenticate(optionsFor(mock, 'puppetvendors', { maxRetries: 0 })), {
      code: 'RATE_LIMITED',
      status: 429,
      retryAfterMs: 7000,
      vendorCode: 'RATE_LIMITED',
      vendorMessage: 'Too many authentication requests',
    })
    assert.equal(mock.count('pv.authenticate'), 1)
  })

  it('a 429 is retried after its Retry-After when retries are allowed', async () => {
    mock.script('vendy.auth', [{ status: 429, headers: { 'Retry-After': '1' }, body: { message: 'slow down' } }, {}])
    const session = await authenticate(optionsFor(mock, 'vendy', { maxRetries: 1 }))
    assert.equal(session.provider, 'vendy')
    assert.equal(mock.count('vendy.auth'), 2)
    const [first, second] = mock.requests
    assert.ok(second.at - first.at >= 900, `waited ${second.at - first.at} ms, Retry-After said 1 s`)
  })

  it('a Retry-After longer than maxRetryDelayMs fails at once with RATE_LIMITED', async () => {
    mock.script('vendy.auth', { status: 429, headers: { 'Retry-After': '120' }, body: { message: 'slow down' } })
    await expectVendorError(authenticate(optionsFor(mock, 'vendy')), {
      code: 'RATE_LIMITED',
      retryAfterMs: 120_000,
      message: /maxRetryDelayMs/,
    })
    assert.equal(mock.count('vendy.auth'), 1)
  })

  it('a 500 with maxRetries 0 is SERVER_ERROR with status 500 after one request', async () => {
    mock.script('vendy.auth', { status: 500, body: { message: 'internal error' } })
    await expectVendorError(authenticate(optionsFor(mock, 'vendy', { maxRetries: 0 })), {
      code: 'SERVER_ERROR',
      status: 500,
      provider: 'vendy',
    })
    assert.equal(mock.count('vendy.auth'), 1)
  })

  it('5xx answers are retried up to maxRetries (default 2: three requests), then SERVER_ERROR', async () => {
    mock.setDefault('pv.authenticate', { status: 503, body: pvError('unavailable', 'INTERNAL_SERVER_ERROR') })
    await expectVendorError(authenticate(optionsFor(mock, 'puppetvendors')), {
      code: 'SERVER_ERROR',
      status: 503,
      message: /gave up after 2 retries/,
    })
    assert.equal(mock.count('pv.authenticate'), 3)
  })

  it('a transient 500 followed by success resolves to a session', async () => {
    mock.script('vendy.auth', [{ status: 500 }, {}])
    const session = await authenticate(optionsFor(mock, 'vendy'))
    assert.equal(session.provider, 'vendy')
    assert.equal(mock.count('vendy.auth'), 2)
  })

  it('a closed port on 127.0.0.1 is NETWORK', async () => {
    const port = await closedPort()
    await expectVendorError(
      authenticate(optionsFor(mock, 'vendy', { baseUrl: `https://127.0.0.1:${port}`, maxRetries: 0 })),
      { code: 'NETWORK', provider: 'vendy', message: /connect/ },
    )
  })

  it('a stalled answer is TIMEOUT after timeoutMs', async () => {
    mock.script('vendy.auth', { stall: true })
    const started = Date.now()
    await expectVendorError(authenticate(optionsFor(mock, 'vendy', { timeoutMs: 300, maxRetries: 0 })), {
      code: 'TIMEOUT',
      provider: 'vendy',
      message: /timeoutMs/,
    })
    const elapsed = Date.now() - started
    assert.ok(elapsed >= 250 && elapsed < 5000, `timed out after ${elapsed} ms`)
    assert.equal(mock.count('vendy.auth'), 1)
  })

  it('a 200 with a non-JSON body is INVALID_RESPONSE, not retried', async () => {
    mock.setDefault('pv.authenticate', { status: 200, body: 'this is not json' })
    await expectVendorError(authenticate(optionsFor(mock, 'puppetvendors')), {
      code: 'INVALID_RESPONSE',
      provider: 'puppetvendors',
      message: /not JSON/,
    })
    assert.equal(mock.count('pv.authenticate'), 1)
  })

  it('an INVALID_RESPONSE to an HTTP answer carries that answer status (200)', async () => {
    // index.d.ts: `status` is "the HTTP status, when the vendor answered"; here it answered 200.
    mock.script('vendy.auth', { status: 200, body: 'this is not json' })
    await expectVendorError(authenticate(optionsFor(mock, 'vendy')), { code: 'INVALID_RESPONSE', status: 200 })
  })

  it('an untrusted certificate (no caCert) is NETWORK mentioning caCert, and is not retried', async () => {
    // A counting TCP forwarder in front of the mock shows how many connections were attempted;
    // the TLS handshake fails before any HTTP request, so the mock itself records none.
    const proxy = await connectionCounter(mock.port)
    try {
      const options = optionsFor(mock, 'vendy', { baseUrl: `https://127.0.0.1:${proxy.port}` })
      delete options.caCert
      await expectVendorError(authenticate(options), { code: 'NETWORK', provider: 'vendy', message: /caCert/ })
      assert.equal(mock.count(), 0, 'no HTTP request completed')
      assert.equal(proxy.connections, 1, 'one connection: the default maxRetries (2) did not retry')
    } finally {
      await proxy.close()
    }
  })

  it('a signal aborted during a stalled request rejects with ABORTED promptly', async () => {
    mock.script('vendy.auth', { stall: true })
    const controller = new AbortController()
    const reason = new Error('caller gave up')
    const pending = authenticate(optionsFor(mock, 'vendy', { signal: controller.signal, timeoutMs: 60_000 }))
    await waitFor(() => mock.count('vendy.auth') === 1, { what: 'the request to reach the mock' })
    const abortedAt = Date.now()
    controller.abort(reason)
    const error = await expectVendorError(pending, { code: 'ABORTED', provider: 'vendy' })
    assert.ok(Date.now() - abortedAt < 2000, `rejected ${Date.now() - abortedAt} ms after abort()`)
    assert.equal(error.cause, reason)
    assert.equal(mock.count('vendy.auth'), 1)
  })

  it('an already-aborted signal rejects with ABORTED without a request', async () => {
    const controller = new AbortController()
    controller.abort()
    await expectVendorError(authenticate(optionsFor(mock, 'puppetvendors', { signal: controller.signal })), {
      code: 'ABORTED',
      provider: 'puppetvendors',
    })
    assert.equal(mock.count(), 0)
  })
})

// --------------------------------------------------------------------------- error type

describe('VendorAuthError', () => {
  it('is an Error and a VendorAuthError named VendorAuthError with a stable code', async () => {
    const error = await expectVendorError(authenticate(optionsFor(mock, 'vendy', { accessKey: 'wrong' })), {
      code: 'UNAUTHORIZED',
    })
    assert.ok(error instanceof Error)
    assert.ok(error instanceof VendorAuthError)
    assert.equal(error.constructor, VendorAuthError)
    assert.equal(error.name, 'VendorAuthError')
    assert.match(error.stack, /^VendorAuthError: /)
    assert.equal(ErrorCodes[error.code], error.code)
    assert.equal(Object.prototype.toString.call(error), '[object Error]')
  })

  it('option errors are VendorAuthErrors too', async () => {
    const error = await expectVendorError(authenticate({ provider: 'nope' }), { code: 'INVALID_OPTIONS' })
    assert.ok(error instanceof Error)
    assert.equal(error.name, 'VendorAuthError')
  })

  it('ErrorCodes is frozen and maps every documented code to itself', () => {
    const documented = [
      'INVALID_OPTIONS',
      'INSECURE_URL',
      'BAD_REQUEST',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'RATE_LIMITED',
      'SERVER_ERROR',
      'NETWORK',
      'TIMEOUT',
      'INVALID_RESPONSE',
      'SERVER_ONLY',
      'CLOSED',
      'ABORTED',
    ]
    assert.ok(Object.isFrozen(ErrorCodes))
    // Later issues may add codes; the documented ones must stay, spelled as their own value.
    for (const code of documented) assert.equal(ErrorCodes[code], code)
    for (const [key, value] of Object.entries(ErrorCodes)) assert.equal(value, key)
  })
})

// ------------------------------------------------------------------------- entry points

describe('package entry points', () => {
  const childEnv = () => ({ MOCK_BASE_URL: mock.baseUrl, MOCK_CA_CERT: mock.caCert })

  it("ESM: import { authenticate, createClient, VendorAuthError } from 'vendor-auth' works (one instance with CJS)", async () => {
    const script = `
      import { authenticate, createClient, VendorAuthError, ErrorCodes } from 'vendor-auth'
      import vendorAuth from 'vendor-auth'
      import { createRequire } from 'node:module'
      const require = createRequire(process.cwd() + '/')
      const { optionsFor } = require('./__test__/helpers')
      const mock = { baseUrl: process.env.MOCK_BASE_URL, caCert: process.env.MOCK_CA_CERT }
      const session = await authenticate(optionsFor(mock, 'vendy'))
      const client = createClient(optionsFor(mock, 'puppetvendors'))
      const header = await client.authHeader()
      client.close()
      const error = await authenticate({ provider: 'nope' }).catch((e) => e)
      console.log(JSON.stringify({
        provider: session.provider,
        headerNames: Object.keys(header),
        errorIsVendorAuthError: error instanceof VendorAuthError,
        errorCode: error.code,
        sameAsDefault: vendorAuth.authenticate === authenticate,
        sameAsCjs: require('vendor-auth').VendorAuthError === VendorAuthError,
        codes: typeof ErrorCodes.CLOSED,
      }))
    `
    const result = await runNode(['--input-type=module', '-e', script], { cwd: ROOT, env: childEnv() })
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual(lastJsonLine(result.stdout), {
      provider: 'vendy',
      headerNames: ['x-access-token'],
      errorIsVendorAuthError: true,
      errorCode: 'INVALID_OPTIONS',
      sameAsDefault: true,
      sameAsCjs: true,
      codes: 'string',
    })
    assert.equal(mock.count('vendy.auth'), 1)
    assert.equal(mock.count('pv.authenticate'), 1)
  })

  it("CJS: require('vendor-auth') resolves to lib/index.js and works", async () => {
    const script = `
      const vendorAuth = require('vendor-auth')
      const { optionsFor } = require('./__test__/helpers')
      const mock = { baseUrl: process.env.MOCK_BASE_URL, caCert: process.env.MOCK_CA_CERT }
      vendorAuth.authenticate(optionsFor(mock, 'puppetvendors')).then((session) => {
        console.log(JSON.stringify({
          resolved: require.resolve('vendor-auth'),
          exports: Object.keys(vendorAuth).sort(),
          provider: session.provider,
          headerName: session.headerName,
        }))
      })
    `
    const result = await runNode(['-e', script], { cwd: ROOT, env: childEnv() })
    assert.equal(result.code, 0, result.stderr)
    const out = lastJsonLine(result.stdout)
    assert.equal(out.resolved, require.resolve('../lib/index.js'))
    assert.deepEqual(out.exports, [
      'AuthClient',
      'ErrorCodes',
      'Session',
      'VendorAuthError',
      'VendorAuthTokenStore',
      'authenticate',
      'createClient',
      'durableObjectTokenStore',
      'redisTokenStore',
      'upstashTokenStore',
    ])
    assert.equal(out.provider, 'puppetvendors')
    assert.equal(out.headerName, 'x-access-token')
    assert.equal(mock.count('pv.authenticate'), 1)
  })
})
