'use strict'
// The auto-refreshing client (createClient / AuthClient) against the real local HTTPS mock:
// caching, sharing one in-flight request, refresh ahead of expiry (in the background), refresh
// failures, expiry, invalidate/getSession/close and several clients in one process.
//
// Timing: an AuthClient refreshes at most half a token's lifetime before expiry and stops
// handing a token out min(10 s, 10% of its lifetime) before expiry (see clientDeadlines in
// helpers/util.js). Tests that need a token to age move a virtual clock (helpers/clock.js) to
// those deadlines instead of sleeping; exchanges themselves (and a vendor's delay) take real time.
// Run: node --test __test__/client.test.js

const { describe, it } = require('node:test')
const assert = require('node:assert/strict')
const { performance } = require('node:perf_hooks')

const { createClient, AuthClient, Session } = require('..')
const { SECRETS, startMock, optionsFor } = require('./helpers')
const {
  waitFor,
  decodeJwt,
  firstToken,
  expectVendorError,
  expectVendorErrorSync,
  withoutCredentialEnv,
} = require('./helpers/util')
const { virtualClock, nextEvent, settled } = require('./helpers/clock')

/**
 * A fresh mock and a client on it, both closed when the test ends. `clientOptions` may be a
 * function of the mock.
 */
async function setup(t, provider, clientOptions = {}, mockOptions = {}) {
  const mock = await startMock(mockOptions)
  const extra = typeof clientOptions === 'function' ? clientOptions(mock) : clientOptions
  const client = createClient(optionsFor(mock, provider, extra))
  t.after(async () => {
    client.close()
    await mock.close()
  })
  return { mock, client }
}

/** `n` calls of `fn` started in the same tick. */
const many = (n, fn) => Promise.all(Array.from({ length: n }, fn))

const endpointOf = { vendy: 'vendy.auth', puppetvendors: 'pv.authenticate' }
const headerFor = (provider, token) =>
  provider === 'vendy' ? { Authorization: `Bearer ${token}` } : { 'x-access-token': token }
const tokenOf = (header) =>
  header.Authorization ? header.Authorization.slice('Bearer '.length) : header['x-access-token']

// ------------------------------------------------------------------------------- the API

describe('createClient() and AuthClient', () => {
  it('createClient() returns an AuthClient; new AuthClient() works the same; provider is exposed', async (t) => {
    const { mock, client } = await setup(t, 'vendy')
    assert.ok(client instanceof AuthClient)
    assert.equal(client.provider, 'vendy')
    const direct = new AuthClient(optionsFor(mock, 'puppetvendors'))
    try {
      assert.equal(direct.provider, 'puppetvendors')
      assert.deepEqual(Object.keys(await direct.authHeader()), ['x-access-token'])
    } finally {
      direct.close()
    }
  })

  it('bad options throw INVALID_OPTIONS synchronously from createClient(), without a request', async (t) => {
    const mock = await startMock()
    t.after(() => mock.close())
    await withoutCredentialEnv(async () => {
      await expectVendorErrorSync(() => createClient({ ...optionsFor(mock, 'vendy'), accesKey: 'x' }), {
        code: 'INVALID_OPTIONS',
        message: /unknown option 'accesKey'/,
      })
      const emptyKey = optionsFor(mock, 'puppetvendors', { apiKey: '' })
      await expectVendorErrorSync(() => createClient(emptyKey), { code: 'INVALID_OPTIONS', message: /apiKey/ })
      await expectVendorErrorSync(() => new AuthClient({ ...optionsFor(mock, 'vendy'), refreshWindowMs: -1 }), {
        code: 'INVALID_OPTIONS',
        message: /refreshWindowMs/,
      })
      await expectVendorErrorSync(
        () => createClient({ ...optionsFor(mock, 'vendy'), signal: new AbortController().signal }),
        {
          code: 'INVALID_OPTIONS',
          message: /signal/,
        },
      )
      await expectVendorErrorSync(() => createClient(optionsFor(mock, 'vendy', { baseUrl: 'http://127.0.0.1:9' })), {
        code: 'INSECURE_URL',
      })
    })
    assert.equal(mock.count(), 0)
  })
})

// ---------------------------------------------------------------------------- fresh token

describe('lazy credentials: missing ones are reported at first use, not at construction', () => {
  it('a client with no credential anywhere constructs; authHeader() rejects naming the variables, with no request', async (t) => {
    const mock = await startMock()
    t.after(() => mock.close())
    await withoutCredentialEnv(async () => {
      for (const [provider, names] of [
        ['vendy', /VENDY_ACCESS_KEY \/ VENDY_SECRET_KEY/],
        ['puppetvendors', /PUPPETVENDORS_API_KEY/],
      ]) {
        const client = createClient({ provider, baseUrl: mock.baseUrl, caCert: mock.caCert })
        t.after(() => client.close())
        assert.equal(client.provider, provider)
        await expectVendorError(client.authHeader(), { code: 'INVALID_OPTIONS', message: names })
        await expectVendorError(client.getSession(), { code: 'INVALID_OPTIONS', message: names })
      }
    })
    assert.equal(mock.count(), 0)
  })

  it('with a tokenStore too: no store call and no request while the credentials are missing', async (t) => {
    const mock = await startMock()
    t.after(() => mock.close())
    const calls = []
    const memory = new Map()
    const tokenStore = {
      get: (key) => (calls.push('get'), memory.get(key)),
      set: (key, value) => (calls.push('set'), memory.set(key, value)),
      lock: () => (calls.push('lock'), true),
      release: () => calls.push('release'),
    }
    await withoutCredentialEnv(async () => {
      const client = createClient({ provider: 'vendy', baseUrl: mock.baseUrl, caCert: mock.caCert, tokenStore })
      t.after(() => client.close())
      await expectVendorError(client.authHeader(), { code: 'INVALID_OPTIONS', message: /VENDY_ACCESS_KEY/ })
    })
    assert.deepEqual(calls, [])
    assert.equal(mock.count(), 0)
  })

  it('credentials that appear in the environment later are found at first use', async (t) => {
    const mock = await startMock()
    t.after(() => mock.close())
    const creds = optionsFor(mock, 'puppetvendors')
    const client = await withoutCredentialEnv(async () =>
      createClient({ provider: 'puppetvendors', baseUrl: mock.baseUrl, caCert: mock.caCert }),
    )
    t.after(() => client.close())
    await withoutCredentialEnv(() => assert.rejects(client.authHeader(), (e) => e.code === 'INVALID_OPTIONS'))
    const header = await withoutCredentialEnv(() => client.authHeader(), { PUPPETVENDORS_API_KEY: creds.apiKey })
    assert.ok(header['x-access-token'])
    assert.equal(mock.count('pv.authenticate'), 1)
  })

  it('malformed options still throw at construction even when credentials are missing; close() on a pending client', async (t) => {
    const mock = await startMock()
    t.after(() => mock.close())
    await withoutCredentialEnv(async () => {
      await expectVendorErrorSync(() => createClient({ provider: 'vendy', timeoutMs: -5 }), {
        code: 'INVALID_OPTIONS',
        message: /timeoutMs/,
      })
      await expectVendorErrorSync(() => createClient({ provider: 'vendy', baseUrl: 'http://127.0.0.1:9' }), {
        code: 'INSECURE_URL',
      })
      const client = createClient({ provider: 'vendy', baseUrl: mock.baseUrl, caCert: mock.caCert })
      client.close()
      await expectVendorError(client.authHeader(), { code: 'CLOSED' })
    })
    assert.equal(mock.count(), 0)
  })
})

describe('a fresh token is answered from the cache', () => {
  for (const provider of ['vendy', 'puppetvendors']) {
    it(`${provider}: the header is ${provider === 'vendy' ? "{ Authorization: 'Bearer …' }" : "{ 'x-access-token': '…' }"} and 1000 more calls make no request`, async (t) => {
      const { mock, client } = await setup(t, provider)
      const header = await client.authHeader()
      const session = await client.getSession()
      assert.deepEqual(header, headerFor(provider, session.token))
      assert.ok(Object.isFrozen(header), 'the header object is frozen')
      assert.equal(mock.count(), 1)
      for (let i = 0; i < 1000; i++) {
        const again = await client.authHeader()
        assert.equal(again, header, 'the same cached header object')
      }
      assert.equal(mock.count(), 1, 'still one request after 1000 calls')
      assert.equal(mock.count(endpointOf[provider]), 1)
    })

    it(`${provider}: 1,000 concurrent authHeader() calls on a cold client make exactly one request`, async (t) => {
      const { mock, client } = await setup(t, provider)
      mock.script(endpointOf[provider], { delayMs: 100 })
      const headers = await many(1000, () => client.authHeader())
      assert.equal(mock.count(), 1)
      assert.equal(new Set(headers).size, 1, 'every caller got the same header')
      assert.deepEqual(headers[0], headerFor(provider, tokenOf(headers[0])))
    })
  }

  it('getSession() returns the current Session (fields as authenticate() gives) without another request', async (t) => {
    const { mock, client } = await setup(t, 'puppetvendors')
    const header = await client.authHeader()
    const session = await client.getSession()
    assert.ok(session instanceof Session)
    assert.equal(session.provider, 'puppetvendors')
    assert.equal(session.token, header['x-access-token'])
    assert.equal(session.headerName, 'x-access-token')
    assert.equal(session.headerValue, session.token)
    assert.equal(session.scope, 'vendor')
    assert.deepEqual(session.permissions, ['orders:read', 'products:read'])
    assert.equal(session.shopDomain, 'mock-store.myshopify.com')
    assert.equal(session.mode, 'test')
    assert.equal(session.vendorId, 'vendor_123')
    // The earlier of the JWT's exp (a whole second of the vendor's) and expiresIn counted from
    // when we sent (24 h both): the second may tick over between sending and the token's minting.
    const exp = decodeJwt(session.token).exp * 1000
    assert.ok(session.expiresAt <= exp && session.expiresAt > exp - 1000, `${session.expiresAt} vs exp ${exp}`)
    assert.equal(await client.getSession(), session, 'the same session object')
    assert.equal(mock.count(), 1)
  })

  it('getSession() on a cold client fetches the token (one request shared with authHeader())', async (t) => {
    const { mock, client } = await setup(t, 'vendy')
    const [session, header] = await Promise.all([client.getSession(), client.authHeader()])
    assert.equal(header.Authorization, session.headerValue)
    assert.equal(mock.count('vendy.auth'), 1)
  })
})

// ----------------------------------------------------------------------- failures not cached

describe('a failure is never cached', () => {
  it('after a foreground 401 the next call waits out a 1 s cool-down, then makes a new request', async (t) => {
    const clock = virtualClock(t)
    const { mock, client } = await setup(t, 'vendy')
    mock.script('vendy.auth', { status: 401, body: { message: 'incorrect password' } })
    const refused = { code: 'UNAUTHORIZED', status: 401, provider: 'vendy', vendorMessage: 'incorrect password' }
    const refusedAt = Date.now()
    await expectVendorError(client.authHeader(), refused)
    assert.equal(mock.count('vendy.auth'), 1)
    // Inside the cool-down: the same error at once, no request.
    await expectVendorError(client.authHeader(), { ...refused, message: /remembered/ })
    clock.to(refusedAt + 999)
    await expectVendorError(client.authHeader(), { ...refused, message: /remembered/ })
    assert.equal(mock.count('vendy.auth'), 1)
    // (The cool-down counts from when the 401 arrived: its real duration is allowed for.)
    clock.to(refusedAt + 1_900)
    const header = await client.authHeader()
    assert.match(header.Authorization, /^Bearer /)
    assert.equal(mock.count('vendy.auth'), 2)
  })

  it('1,000 concurrent callers share one failing request; the next call tries again', async (t) => {
    const { mock, client } = await setup(t, 'puppetvendors', { maxRetries: 0 })
    mock.script('pv.authenticate', { status: 503, delayMs: 100, body: { success: false, error: { message: 'down' } } })
    const outcomes = await Promise.allSettled(Array.from({ length: 1000 }, () => client.authHeader()))
    assert.ok(outcomes.every((o) => o.status === 'rejected'))
    assert.ok(outcomes.every((o) => o.reason.code === 'SERVER_ERROR' && o.reason.status === 503))
    assert.equal(mock.count('pv.authenticate'), 1)
    const header = await client.authHeader()
    assert.ok(header['x-access-token'])
    assert.equal(mock.count('pv.authenticate'), 2)
  })
})

// ---------------------------------------------------------------------- refresh and expiry

describe('refresh ahead of expiry and expiry', () => {
  // Each test moves its own virtual clock (a mocked Date is global): they run one at a time.
  it('Vendy: early in a short token the (clamped) 5-minute window has not started; inside it the current token is returned at once and exactly one background POST /auth starts', async (t) => {
    const clock = virtualClock(t)
    const { mock, client } = await setup(t, 'vendy')
    // The first token lives 6 min: the default window (5 min) is clamped to half of it (3 min).
    // The refresh answers only after 1.5 s (real time).
    mock.script('vendy.auth', [{ lifetimeSec: 360 }, { delayMs: 1500 }])
    const first = await firstToken(client)
    assert.ok(first.refreshAtEarliest >= first.session.expiresAt - 181_000, 'the window is clamped to half the life')

    clock.to(first.refreshAtEarliest - 1)
    for (const header of await many(200, () => client.authHeader())) assert.equal(header, first.header)
    assert.equal(mock.count('vendy.auth'), 1, 'no refresh before the window')

    clock.to(first.refreshAtLatest)
    assert.ok(Date.now() < first.usableUntilEarliest - 60_000, 'test setup: well before the safety margin')
    const refreshed = nextEvent(client, 'refresh')
    const started = performance.now()
    const inWindow = await many(200, () => client.authHeader())
    const elapsed = performance.now() - started
    assert.ok(elapsed < 1000, `callers waited ${elapsed} ms; the refresh takes 1500 ms`)
    for (const header of inWindow) assert.equal(header, first.header, 'the current token')

    await waitFor(() => mock.count('vendy.auth') === 2, { what: 'the background POST /auth' })
    const refresh = mock.requests[1]
    assert.equal(refresh.path, '/auth')
    assert.equal(refresh.headers.accesskey, SECRETS.vendyAccessKey)
    assert.equal(refresh.headers.secretkey, SECRETS.vendySecretKey)
    // More calls while the refresh is in flight start nothing new.
    for (const header of await many(100, () => client.authHeader())) assert.equal(header, first.header)
    assert.equal(mock.count('vendy.auth'), 2, 'exactly one background refresh')

    const session = await refreshed
    const next = await client.authHeader()
    assert.notEqual(next, first.header)
    assert.equal(next.Authorization, session.headerValue)
    assert.ok((await client.getSession()).expiresAt > first.session.expiresAt)
    assert.equal(mock.count('vendy.auth'), 2)
  })

  it('refreshWindowMs shorter than half the lifetime is honoured: no refresh before it', async (t) => {
    const clock = virtualClock(t)
    const refreshWindowMs = 60_000
    const { mock, client } = await setup(t, 'vendy', { refreshWindowMs })
    const first = await firstToken(client, refreshWindowMs)
    assert.equal(first.refreshAtLatest, first.session.expiresAt - refreshWindowMs)

    // Days past half the (7 day) lifetime, but more than refreshWindowMs before expiry: still fresh.
    clock.to(first.refreshAtLatest - 1)
    for (const header of await many(100, () => client.authHeader())) assert.equal(header, first.header)
    assert.equal(mock.count('vendy.auth'), 1)

    clock.to(first.refreshAtLatest)
    assert.ok(Date.now() < first.usableUntilEarliest, 'test setup: inside the window')
    const refreshed = nextEvent(client, 'refresh')
    assert.equal(await client.authHeader(), first.header)
    await refreshed
    assert.equal(mock.count('vendy.auth'), 2)
  })

  it('PuppetVendors: refreshes through POST /refresh-token with the current token in x-access-token (under /v2)', async (t) => {
    const clock = virtualClock(t)
    // A /v2 base URL, as in PuppetVendors' production form.
    const { mock, client: v2 } = await setup(t, 'puppetvendors', (m) => ({ baseUrl: `${m.baseUrl}/v2` }))
    // A 24 h token: its refresh window opens 5 min before expiry, when far more than the 5 s the
    // refresh endpoint needs are left.
    mock.script('pv.refresh', { delayMs: 1000 })
    const first = await firstToken(v2)

    clock.to(first.refreshAtLatest)
    const refreshed = nextEvent(v2, 'refresh')
    const started = performance.now()
    for (const header of await many(100, () => v2.authHeader())) assert.equal(header, first.header)
    assert.ok(performance.now() - started < 800, 'answered before the refresh endpoint answered')

    await waitFor(() => mock.count('pv.refresh') === 1, { what: 'POST /refresh-token' })
    const refresh = mock.requests.find((r) => r.endpoint === 'pv.refresh')
    assert.equal(refresh.method, 'POST')
    assert.equal(refresh.path, '/v2/refresh-token')
    assert.equal(refresh.headers['x-access-token'], first.session.token)
    assert.ok(!refresh.body.includes(SECRETS.pvApiKey), 'the API key is not sent to /refresh-token')

    await refreshed
    const next = await v2.authHeader()
    assert.notEqual(next, first.header)
    assert.notEqual(next['x-access-token'], first.session.token)
    assert.equal(mock.count('pv.authenticate'), 1, 'no re-authentication')
    assert.equal(mock.count('pv.refresh'), 1, 'exactly one refresh')
    // The refresh answer has no scope/permissions/...; the session keeps those of the first one.
    const session = await v2.getSession()
    assert.equal(session.token, next['x-access-token'])
    assert.equal(session.scope, 'vendor')
    assert.deepEqual(session.permissions, ['orders:read', 'products:read'])
    assert.equal(session.vendorId, 'vendor_123')
    assert.equal(session.mode, 'test')
    assert.equal(session.shopDomain, 'mock-store.myshopify.com')
  })

  it('PuppetVendors: when /refresh-token answers 401 (revoked token) the refresh falls back to POST /authenticate', async (t) => {
    const clock = virtualClock(t)
    const { mock, client } = await setup(t, 'puppetvendors')
    const first = await firstToken(client)
    mock.revokeTokens()

    clock.to(first.refreshAtLatest)
    const refreshed = nextEvent(client, 'refresh')
    assert.equal(await client.authHeader(), first.header)
    await refreshed
    assert.deepEqual(
      mock.requests.map((r) => r.endpoint),
      ['pv.authenticate', 'pv.refresh', 'pv.authenticate'],
    )
    assert.equal(mock.requests[1].headers['x-access-token'], first.session.token)
    assert.deepEqual(JSON.parse(mock.requests[2].body), { apiKey: SECRETS.pvApiKey })
    const next = await client.authHeader()
    assert.notEqual(next, first.header)
    assert.notEqual(next['x-access-token'], first.session.token)
  })

  it('PuppetVendors: a scripted 401 on every /refresh-token also falls back to /authenticate', async (t) => {
    const clock = virtualClock(t)
    const { mock, client } = await setup(t, 'puppetvendors')
    mock.setDefault('pv.refresh', {
      status: 401,
      body: { success: false, error: { message: 'Invalid or expired token', code: 'UNAUTHORIZED' } },
    })
    const first = await firstToken(client)
    clock.to(first.refreshAtLatest)
    const refreshed = nextEvent(client, 'refresh')
    assert.equal(await client.authHeader(), first.header)
    await refreshed
    assert.equal(mock.count('pv.authenticate'), 2, 'the fall-back POST /authenticate')
    assert.equal(mock.count('pv.refresh'), 1)
    assert.notEqual(await client.authHeader(), first.header)
  })

  for (const provider of ['vendy', 'puppetvendors']) {
    it(`${provider}: a failed background refresh keeps serving the valid token, retries after backoff, and an error surfaces only when no valid token is left`, async (t) => {
      const clock = virtualClock(t)
      const { mock, client } = await setup(t, provider, { maxRetries: 0 })
      const failing = { status: 500, body: { success: false, error: { message: 'maintenance' } } }
      const first = await firstToken(client)
      mock.setDefault(endpointOf[provider], failing)
      if (provider === 'puppetvendors') mock.setDefault('pv.refresh', failing)
      const requestsSoFar = () => mock.count()

      clock.to(first.refreshAtLatest)
      let failed = nextEvent(client, 'error')
      assert.equal(await client.authHeader(), first.header)
      assert.equal((await failed).code, 'SERVER_ERROR')
      assert.equal(requestsSoFar(), 2, 'the first background refresh')
      assert.equal(await client.authHeader(), first.header, 'the failure is not handed to callers')

      // The first backoff is below 1 s (from when the failure arrived): a call after it starts
      // another background attempt.
      clock.to(first.refreshAtLatest + 2_000)
      assert.ok(Date.now() < first.usableUntilEarliest - 60_000, 'test setup: the token is still usable')
      failed = nextEvent(client, 'error')
      assert.equal(await client.authHeader(), first.header)
      await failed
      // (>= 3: if the random first backoff was very short, the call above may already have
      // started the second attempt, and this one a third.)
      assert.ok(requestsSoFar() >= 3, 'the retried background refresh')
      assert.equal(await client.authHeader(), first.header, 'still the valid token')

      // Past the safety margin no token is left to serve: now the caller sees the failure.
      clock.to(first.usableUntilLatest)
      const before = requestsSoFar()
      await expectVendorError(client.authHeader(), { code: 'SERVER_ERROR', status: 500, provider })
      assert.ok(requestsSoFar() > before, 'the caller waited for a new (failed) exchange')

      // The failure is not cached: once the vendor recovers, the next call gets a token.
      mock.setDefault(endpointOf[provider], null)
      mock.setDefault('pv.refresh', null)
      const recovered = await client.authHeader()
      assert.notEqual(tokenOf(recovered), first.session.token)
      assert.ok(decodeJwt(tokenOf(recovered)).exp * 1000 > Date.now())
    })
  }

  it('a call made while a failed background refresh settles, past its backoff, leaves the next call to start another attempt', async (t) => {
    const clock = virtualClock(t)
    // The call lands 0 to 4 microtask hops after the failure's 'error' event: one of them is
    // between the refresh's rejection and the moment it is over, where a call was told "refresh"
    // while the failed one still counted as in flight, so no attempt started until the margin.
    // (One mock for all: its certificate is made valid from the clock's time when it starts.)
    const { mock } = await setup(t, 'vendy')
    for (let hops = 0; hops <= 4; hops++) {
      mock.reset()
      const client = createClient(optionsFor(mock, 'vendy', { maxRetries: 0 }))
      t.after(() => client.close())
      const first = await firstToken(client)
      mock.setDefault(endpointOf.vendy, { status: 500, body: { success: false, error: { message: 'maintenance' } } })
      clock.to(first.refreshAtLatest)
      const calls = []
      client.once('error', () => {
        clock.tick(2_000) // past the backoff (under 1 s for a first failure)
        let later = Promise.resolve()
        for (let i = 0; i < hops; i++) later = later.then(() => undefined)
        later.then(() => calls.push(client.authHeader()))
      })
      const failed = nextEvent(client, 'error')
      assert.equal(await client.authHeader(), first.header)
      await failed
      assert.equal(await calls[0], first.header, 'the valid token is served meanwhile')
      assert.equal(await client.authHeader(), first.header)
      await settled(() => mock.count() >= 3, { what: `a second background attempt (hops: ${hops})` })
    }
  })

  for (const provider of ['vendy', 'puppetvendors']) {
    it(`${provider}: an expired token is never handed out: callers wait for a new one (one shared request)`, async (t) => {
      const clock = virtualClock(t)
      const { mock, client } = await setup(t, provider)
      mock.script(endpointOf[provider], [{}, { delayMs: 300 }])
      const first = await firstToken(client)
      clock.to(first.session.expiresAt + 100)

      const started = performance.now()
      const headers = await many(50, () => client.authHeader())
      const waited = performance.now() - started
      assert.ok(waited >= 250, `callers waited ${waited} ms for the new token (the vendor took 300 ms)`)
      assert.equal(new Set(headers).size, 1)
      const token = tokenOf(headers[0])
      assert.notEqual(token, first.session.token)
      assert.ok(decodeJwt(token).exp * 1000 > Date.now(), 'the new JWT has not expired')
      assert.equal(mock.count(), 2, 'one shared request for all waiting callers')
      assert.equal(mock.count(endpointOf[provider]), 2, 'an expired PuppetVendors token is not sent to /refresh-token')
      const session = await client.getSession()
      assert.ok(session.expiresAt > Date.now())
    })
  }

  it('a token within its safety margin (not yet expired) is not handed out either', async (t) => {
    const clock = virtualClock(t)
    const { mock, client } = await setup(t, 'vendy')
    // A 7 day token: margin 10 s before expiry. No call is made inside the refresh window.
    mock.script('vendy.auth', [{}, { delayMs: 200 }])
    const first = await firstToken(client)
    clock.to(first.usableUntilLatest)
    assert.ok(Date.now() < first.session.expiresAt - 9_000, 'test setup: the old token is still valid')
    const header = await client.authHeader()
    assert.notEqual(header, first.header)
    assert.ok(decodeJwt(tokenOf(header)).exp * 1000 - Date.now() > 1000)
    assert.equal(mock.count('vendy.auth'), 2)
  })
})

// ---------------------------------------------------------------- invalidate / close

describe('invalidate(), close()', () => {
  it('invalidate() makes the next call fetch a new token (Vendy)', async (t) => {
    const { mock, client } = await setup(t, 'vendy')
    const first = await client.authHeader()
    client.invalidate()
    assert.equal(mock.count(), 1, 'invalidate() itself makes no request')
    const second = await client.authHeader()
    assert.notEqual(second.Authorization, first.Authorization)
    assert.equal(mock.count('vendy.auth'), 2)
    assert.equal(await client.authHeader(), second, 'cached again')
    assert.equal(mock.count('vendy.auth'), 2)
  })

  it('invalidate() on PuppetVendors re-authenticates (the dropped token is not sent to /refresh-token)', async (t) => {
    const { mock, client } = await setup(t, 'puppetvendors')
    const first = await client.authHeader()
    client.invalidate()
    const second = await client.authHeader()
    assert.notEqual(second['x-access-token'], first['x-access-token'])
    assert.equal(mock.count('pv.authenticate'), 2)
    assert.equal(mock.count('pv.refresh'), 0)
  })

  it('after close(), authHeader() and getSession() reject with CLOSED and make no request', async (t) => {
    const { mock, client } = await setup(t, 'vendy')
    await client.authHeader()
    client.close()
    client.close() // idempotent
    await expectVendorError(client.authHeader(), { code: 'CLOSED', provider: 'vendy' })
    await expectVendorError(client.getSession(), { code: 'CLOSED', provider: 'vendy' })
    client.invalidate()
    await expectVendorError(client.authHeader(), { code: 'CLOSED' })
    assert.equal(mock.count(), 1)
  })

  it('close() on a cold client: calls reject with CLOSED and nothing is requested', async (t) => {
    const { mock, client } = await setup(t, 'puppetvendors')
    client.close()
    await expectVendorError(client.authHeader(), { code: 'CLOSED', provider: 'puppetvendors' })
    assert.equal(mock.count(), 0)
  })

  it('close() rejects every caller waiting on a stalled exchange with CLOSED promptly', async (t) => {
    const { mock, client } = await setup(t, 'vendy', { timeoutMs: 60_000 })
    mock.script('vendy.auth', { stall: true })
    const waiting = Array.from({ length: 10 }, () => client.authHeader())
    const session = client.getSession()
    await waitFor(() => mock.count('vendy.auth') === 1, { what: 'the stalled request' })
    const closedAt = Date.now()
    client.close()
    for (const pending of [...waiting, session]) {
      await expectVendorError(pending, { code: 'CLOSED', provider: 'vendy' })
    }
    const elapsed = Date.now() - closedAt
    assert.ok(elapsed < 2000, `rejected ${elapsed} ms after close()`)
    assert.equal(mock.count('vendy.auth'), 1)
  })

  it(
    '[Symbol.dispose]() closes the client',
    { skip: typeof Symbol.dispose !== 'symbol' && 'no Symbol.dispose' },
    async (t) => {
      const { client } = await setup(t, 'vendy')
      await client.authHeader()
      client[Symbol.dispose]()
      await expectVendorError(client.authHeader(), { code: 'CLOSED' })
    },
  )
})

// ------------------------------------------------------------------------ several clients

describe('several clients in one process', () => {
  it('Vendy and two PuppetVendors shops keep separate tokens; invalidate() and close() touch only their own', async (t) => {
    const mock = await startMock({
      puppetvendors: { keys: [{ apiKey: SECRETS.pvApiKey, shopDomain: 'mock-store.myshopify.com', multiShop: true }] },
    })
    const vendy = createClient(optionsFor(mock, 'vendy'))
    const shopA = createClient(optionsFor(mock, 'puppetvendors', { shopDomain: 'shop-a.myshopify.com' }))
    const shopB = createClient(optionsFor(mock, 'puppetvendors', { shopDomain: 'shop-b.myshopify.com' }))
    t.after(async () => {
      for (const c of [vendy, shopA, shopB]) c.close()
      await mock.close()
    })

    const [hv, ha, hb] = await Promise.all([vendy.authHeader(), shopA.authHeader(), shopB.authHeader()])
    assert.ok(hv.Authorization && ha['x-access-token'] && hb['x-access-token'])
    assert.notEqual(ha['x-access-token'], hb['x-access-token'])
    assert.equal(mock.count('vendy.auth'), 1)
    assert.equal(mock.count('pv.authenticate'), 2)
    const shops = mock.requests
      .filter((r) => r.endpoint === 'pv.authenticate')
      .map((r) => JSON.parse(r.body).shopDomain)
    assert.deepEqual(shops.sort(), ['shop-a.myshopify.com', 'shop-b.myshopify.com'])
    assert.equal((await shopA.getSession()).shopDomain, 'shop-a.myshopify.com')
    assert.equal((await shopB.getSession()).shopDomain, 'shop-b.myshopify.com')

    shopA.invalidate()
    const ha2 = await shopA.authHeader()
    assert.notEqual(ha2['x-access-token'], ha['x-access-token'])
    assert.equal(await shopB.authHeader(), hb, 'shop B keeps its token')
    assert.equal(await vendy.authHeader(), hv, 'Vendy keeps its token')
    assert.equal(mock.count('pv.authenticate'), 3)
    assert.equal(mock.count('vendy.auth'), 1)

    vendy.close()
    await expectVendorError(vendy.authHeader(), { code: 'CLOSED' })
    assert.equal(await shopA.authHeader(), ha2, 'closing one client leaves the others working')
    assert.equal(await shopB.authHeader(), hb)
    assert.equal(mock.count(), 4)
  })

  it('clients on two different mock vendors (different CAs) work side by side', async (t) => {
    const [m1, m2] = await Promise.all([startMock(), startMock()])
    const c1 = createClient(optionsFor(m1, 'puppetvendors'))
    const c2 = createClient(optionsFor(m2, 'puppetvendors'))
    t.after(async () => {
      c1.close()
      c2.close()
      await Promise.all([m1.close(), m2.close()])
    })
    const [h1, h2] = await Promise.all([c1.authHeader(), c2.authHeader()])
    assert.notEqual(h1['x-access-token'], h2['x-access-token'])
    assert.equal(m1.count(), 1)
    assert.equal(m2.count(), 1)
  })
})
