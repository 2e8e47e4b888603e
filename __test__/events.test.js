'use strict'
// Client events ('refresh', 'error') and seeding a client with a kept session (initialSession).
// Run: node --test __test__/events.test.js

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { inspect } = require('node:util')

const { authenticate, createClient } = require('..')
const { optionsFor, mockFor, clientFor } = require('./helpers')
const { runNode } = require('./helpers/util')

const PV = 'puppetvendors'

// ------------------------------------------------------------------ events

test("'refresh' gets each new Session (redacted when printed); 'error' each failed exchange", async (t) => {
  const mock = await mockFor(t)
  const client = clientFor(t, optionsFor(mock, PV))
  const refreshes = []
  const errors = []
  client.on('refresh', (s) => refreshes.push(s)).on('error', (e) => errors.push(e))
  const header = await client.authHeader()
  assert.equal(refreshes.length, 1)
  assert.equal(refreshes[0].token, header['x-access-token'])
  assert.ok(!inspect(refreshes[0]).includes(refreshes[0].token), 'printed redacted')
  assert.ok(!JSON.stringify(refreshes[0]).includes(refreshes[0].token), 'JSON redacted')
  mock.script('pv.authenticate', [{ status: 500 }, { status: 500 }, { status: 500 }])
  client.invalidate()
  await assert.rejects(client.authHeader(), (e) => e.code === 'SERVER_ERROR')
  assert.equal(errors.length, 1)
  assert.equal(errors[0].code, 'SERVER_ERROR')
  // A remembered failure is not an exchange: no event.
  mock.script('pv.authenticate', [{ status: 429, headers: { 'Retry-After': '60' } }])
  await assert.rejects(client.authHeader(), (e) => e.code === 'RATE_LIMITED')
  await assert.rejects(client.authHeader(), (e) => e.code === 'RATE_LIMITED')
  assert.equal(errors.length, 2)
  assert.equal(client.listenerCount('refresh'), 1)
})

test('once() fires once; off() removes; unknown events and non-functions are INVALID_OPTIONS', async (t) => {
  const mock = await mockFor(t)
  const client = clientFor(t, optionsFor(mock, 'vendy'))
  let once = 0
  let on = 0
  const listener = () => (on += 1)
  client.once('refresh', () => (once += 1)).on('refresh', listener)
  await client.authHeader()
  client.invalidate()
  await client.authHeader()
  assert.equal(once, 1)
  assert.equal(on, 2)
  client.off('refresh', listener)
  client.invalidate()
  await client.authHeader()
  assert.equal(on, 2)
  assert.throws(
    () => client.on('refreshed', () => {}),
    (e) => e.code === 'INVALID_OPTIONS' && /refresh, error/.test(e.message),
  )
  assert.throws(
    () => client.on('error', 'not a function'),
    (e) => e.code === 'INVALID_OPTIONS',
  )
})

test('removeAllListeners(event) empties one event, () every event; an emit under way goes on', async (t) => {
  const mock = await mockFor(t)
  const client = clientFor(t, optionsFor(mock, PV))
  const calls = []
  client
    .on('refresh', () => calls.push('on'))
    .once('refresh', () => calls.push('once'))
    .on('error', () => calls.push('error'))
  assert.equal(client.removeAllListeners('refresh'), client, 'chains, as EventEmitter')
  assert.equal(client.listenerCount('refresh'), 0)
  assert.equal(client.listenerCount('error'), 1)
  await client.authHeader()
  assert.deepEqual(calls, [])
  // A listener that removes them all: the others of this emit still run, the next emit none.
  client.on('refresh', () => {
    calls.push('first')
    client.removeAllListeners()
  })
  client.on('refresh', () => calls.push('second'))
  client.invalidate()
  await client.authHeader()
  assert.deepEqual(calls, ['first', 'second'])
  assert.equal(client.listenerCount('refresh') + client.listenerCount('error'), 0)
  mock.script('pv.authenticate', [{ status: 400 }])
  client.invalidate()
  await assert.rejects(client.authHeader(), (e) => e.code === 'BAD_REQUEST')
  client.invalidate()
  await client.authHeader()
  assert.deepEqual(calls, ['first', 'second'], "neither the 'error' nor a 'refresh' listener is left")
  // As off(): an event it does not know removes nothing, and throws nothing.
  client.on('error', () => {})
  client.removeAllListeners('refreshed')
  assert.equal(client.listenerCount('error'), 1)
})

test('listeners that throw or reject break neither the call nor the process', async (t) => {
  const mock = await mockFor(t)
  const lines = []
  const client = clientFor(t, optionsFor(mock, 'vendy', { logger: (l) => lines.push(l) }))
  const unhandled = []
  const onUnhandled = (reason) => unhandled.push(reason)
  process.on('unhandledRejection', onUnhandled)
  t.after(() => process.off('unhandledRejection', onUnhandled))
  client.on('refresh', () => {
    throw new TypeError('metrics down')
  })
  client.on('refresh', async () => {
    throw new RangeError('async metrics down')
  })
  client.on('error', () => {
    throw new Error('alerting down')
  })
  assert.match((await client.authHeader()).Authorization, /^Bearer /)
  mock.script('vendy.auth', [{ status: 400 }])
  client.invalidate()
  await assert.rejects(client.authHeader(), (e) => e.code === 'BAD_REQUEST')
  await new Promise((resolve) => setTimeout(resolve, 20))
  assert.deepEqual(unhandled, [])
  assert.ok(
    lines.some((l) => l.includes("the 'refresh' listener failed (TypeError)")),
    lines.join('\n'),
  )
  assert.ok(
    lines.some((l) => l.includes("the 'refresh' listener failed (RangeError)")),
    lines.join('\n'),
  )
  assert.ok(
    lines.some((l) => l.includes("the 'error' listener failed (Error)")),
    lines.join('\n'),
  )
})

test("a failed background refresh with no 'error' listener does not crash the process", async () => {
  // In a child (a crash must not take the test runner with it), on a virtual clock: node:test's
  // mock timers move Date (only Date) into the 7 day token's refresh window; the background
  // refresh fails (the mock answers 500) twice, and nothing listens for 'error'.
  const script = `
    const { mock: { timers } } = require('node:test')
    const { createClient } = require(${JSON.stringify(require.resolve('..'))})
    const { startMockVendor } = require(${JSON.stringify(require.resolve('../testing'))})
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
    ;(async () => {
      timers.enable({ apis: ['Date'], now: Date.now() })
      const mock = await startMockVendor()
      let failures = 0
      const logger = (line) => { if (line.includes('background refresh failed')) failures += 1 }
      const client = createClient({ provider: 'vendy', accessKey: 'vendy-test-access-key', secretKey: 'vendy-test-secret-key', baseUrl: mock.baseUrl, caCert: mock.caCert, logger })
      client.on('refresh', () => {})
      await client.authHeader()
      const { expiresAt } = await client.getSession()
      mock.setDefault('vendy.auth', { status: 500 })
      for (const at of [expiresAt - 60_000, expiresAt - 50_000]) {
        timers.tick(at - Date.now())
        const before = failures
        await client.authHeader()
        for (let i = 0; i < 500 && failures === before; i++) await sleep(10)
        await sleep(50)
      }
      console.log(JSON.stringify({ requests: mock.count('vendy.auth'), failures }))
      client.close(); await mock.close()
    })()
  `
  const result = await runNode(['-e', script], { timeoutMs: 15_000 })
  assert.equal(result.code, 0, result.stderr)
  const { requests, failures } = JSON.parse(result.stdout.trim().split('\n').pop())
  assert.equal(requests, 3, 'the first exchange and two background refreshes')
  assert.equal(failures, 2, 'both failed, and the process went on')
})

// ------------------------------------------------------------------ initialSession

test('initialSession from authenticate() skips the exchange; the seeded token is served at once', async (t) => {
  const mock = await mockFor(t)
  const kept = await authenticate(optionsFor(mock, PV))
  assert.equal(mock.count('pv.authenticate'), 1)
  const client = clientFor(t, optionsFor(mock, PV, { initialSession: kept }))
  assert.deepEqual(await client.authHeader(), { 'x-access-token': kept.token })
  assert.deepEqual((await client.getSession()).permissions, kept.permissions)
  assert.equal(mock.count('pv.authenticate'), 1, 'no exchange for the seeded client')
})

test('initialSession as { token, expiresAt } from a cache (e.g. JSON of the two fields)', async (t) => {
  const mock = await mockFor(t)
  const { token, expiresAt } = await authenticate(optionsFor(mock, 'vendy'))
  const cached = JSON.parse(JSON.stringify({ token, expiresAt }))
  const client = clientFor(t, optionsFor(mock, 'vendy', { initialSession: cached }))
  assert.deepEqual(await client.authHeader(), { Authorization: `Bearer ${token}` })
  assert.equal(mock.count('vendy.auth'), 1)
})

test('an expired initialSession is skipped (the first call exchanges); a malformed one is INVALID_OPTIONS', async (t) => {
  const mock = await mockFor(t)
  const kept = await authenticate(optionsFor(mock, PV))
  const expired = clientFor(
    t,
    optionsFor(mock, PV, { initialSession: { token: kept.token, expiresAt: Date.now() - 1 } }),
  )
  assert.notEqual((await expired.authHeader())['x-access-token'], kept.token)
  assert.equal(mock.count('pv.authenticate'), 2)
  const cases = [
    ['tok', /must be an object/],
    [{ expiresAt: Date.now() + 60_000 }, /needs a token/],
    [{ token: kept.token }, /needs expiresAt/],
    [JSON.parse(JSON.stringify(kept)), /redacted token/],
    [{ token: 'a\r\nb', expiresAt: Date.now() + 60_000 }, /characters not allowed/],
    [{ token: 'abc', expiresAt: Date.now() + 400 * 86_400_000 }, /more than a year/],
    [{ ...{ token: kept.token, expiresAt: kept.expiresAt }, provider: 'vendy' }, /vendy session, not puppetvendors/],
  ]
  for (const [initialSession, message] of cases) {
    assert.throws(
      () => createClient(optionsFor(mock, PV, { initialSession })),
      (e) => e.code === 'INVALID_OPTIONS' && message.test(e.message) && !e.message.includes(kept.token),
      String(message),
    )
  }
  // Own properties only: an inherited token is not a token.
  const proto = { token: kept.token, expiresAt: kept.expiresAt }
  assert.throws(
    () => createClient(optionsFor(mock, PV, { initialSession: Object.create(proto) })),
    (e) => e.code === 'INVALID_OPTIONS',
  )
  await assert.rejects(
    authenticate(optionsFor(mock, PV, { initialSession: kept })),
    (e) => e.code === 'INVALID_OPTIONS' && /createClient/.test(e.message),
  )
  assert.equal(mock.count('pv.authenticate'), 2)
})

test('a seeded token the API refuses: invalidate(stale) and the next call exchanges', async (t) => {
  const mock = await mockFor(t)
  const kept = await authenticate(optionsFor(mock, PV))
  const client = clientFor(t, optionsFor(mock, PV, { initialSession: kept }))
  const stale = await client.authHeader()
  assert.equal(client.invalidate(stale), true)
  assert.notEqual((await client.authHeader())['x-access-token'], kept.token)
  assert.equal(mock.count('pv.authenticate'), 2)
})
