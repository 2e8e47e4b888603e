'use strict'
// The shared token store on every build: the Node fallback (the WebAssembly build over
// node:https) shares one entry with native processes, because the store key and the sealed format
// are the core's. Real Redis (started here on a free loopback port), real processes, counts at
// the mock vendor: mixed fleets here; the whole store suite runs on native (store.test.js) and
// on the fallback (wasm.test.js re-runs it).
// Run: node --test __test__/store-builds.test.js

const { it, before, after, beforeEach } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')

const { createClient, redisTokenStore } = require('..')
const { defineClient } = require('../lib/client')
const { nodeWasmDriverFactory } = require('../lib/wasm/node')
const { startMock, optionsFor } = require('./helpers')
const { runNode, lastJsonLine, waitFor } = require('./helpers/util')
const { virtualClock } = require('./helpers/clock')
const { startRedis, ownRedis } = require('./helpers/redis')

const PV = 'puppetvendors'
const FIXTURE = path.join(__dirname, 'fixtures', 'store-client.js')
const WASM_BUILT = fs.existsSync(path.join(__dirname, '..', 'wasm', 'vendor_auth_bg.wasm'))
// VENDOR_AUTH_TEST_NO_REDIS: where no redis-server can be had (release.yml's Windows jobs), named
// in the skip; anywhere else a missing redis-server fails (helpers/redis.js).
const NO_REDIS = process.env.VENDOR_AUTH_TEST_NO_REDIS
const skip =
  (NO_REDIS && `no redis-server on this runner (VENDOR_AUTH_TEST_NO_REDIS=${NO_REDIS})`) ||
  (!WASM_BUILT && 'the WebAssembly build is missing (npm run build:wasm)')

let mock
let redis
let nodeRedis
/** A client class over the WebAssembly build, in this process beside the native one. */
let createWasmClient

before(async () => {
  if (skip) return
  redis = await startRedis()
  mock = await startMock()
  nodeRedis = require('redis').createClient({ url: redis.url })
  nodeRedis.on('error', () => {})
  await nodeRedis.connect()
  createWasmClient = defineClient(nodeWasmDriverFactory()).createClient
})
after(async () => {
  if (skip) return
  await nodeRedis.quit()
  await mock.close()
  await redis.stop()
})
beforeEach(async () => {
  if (skip) return
  mock.reset()
  await nodeRedis.flushAll()
})

const clients = []
const track = (client) => {
  clients.push(client)
  return client
}
after(() => clients.forEach((c) => c.close()))

/** Runs `builds.length` fleet processes that start together, one per entry ('native' or 'wasm'). */
async function fleet(builds, env = {}) {
  const startAt = Date.now() + 2500
  const results = await Promise.all(
    builds.map((build) =>
      runNode([FIXTURE], {
        env: {
          MOCK_BASE_URL: mock.baseUrl,
          MOCK_CA_CERT: mock.caCert,
          REDIS_URL: redis.url,
          START_AT: String(startAt),
          FIXTURE_MODE: 'cold',
          VENDOR_AUTH_FORCE_WASM: build === 'wasm' ? '1' : undefined,
          ...env,
        },
        timeoutMs: 30_000,
      }),
    ),
  )
  return results.map((r) => {
    assert.equal(r.code, 0, `a fleet process failed (killed: ${r.killed}): ${r.stderr}`)
    return lastJsonLine(r.stdout)
  })
}

it(
  'the Node fallback and the native build use the same store key and open each other’s sealed sessions',
  { skip },
  async () => {
    const store = redisTokenStore(nodeRedis)
    const native = track(createClient(optionsFor(mock, PV, { tokenStore: store })))
    const header = await native.authHeader()
    const lines = []
    const wasm = track(createWasmClient(optionsFor(mock, PV, { tokenStore: store, logger: (l) => lines.push(l) })))
    assert.deepEqual(await wasm.authHeader(), header)
    assert.equal(mock.count('pv.authenticate'), 1, 'the wasm client adopted the native one’s token')
    assert.ok(
      lines.some((l) => l.includes('adopted the shared session')),
      lines.join('\n'),
    )
    assert.deepEqual(
      (await nodeRedis.keys('*')).map((k) => k.split(':').pop()),
      ['session'],
      'one entry, and the lock released',
    )

    // And the other way round, after the API refused that token.
    await nodeRedis.flushAll()
    mock.reset()
    const wasm2 = track(createWasmClient(optionsFor(mock, PV, { tokenStore: store })))
    const fromWasm = await wasm2.authHeader()
    const native2 = track(createClient(optionsFor(mock, PV, { tokenStore: store })))
    assert.deepEqual(await native2.authHeader(), fromWasm)
    assert.equal(mock.count('pv.authenticate'), 1)
  },
)

it(
  'one 429 stops a mixed fleet: a rate limit the native build shares is honoured by the fallback',
  { skip },
  async () => {
    const store = redisTokenStore(nodeRedis)
    mock.script('pv.authenticate', [{ status: 429, headers: { 'Retry-After': '120' } }])
    const native = track(createClient(optionsFor(mock, PV, { tokenStore: store })))
    await assert.rejects(native.authHeader(), (e) => e.code === 'RATE_LIMITED')
    const wasm = track(createWasmClient(optionsFor(mock, PV, { tokenStore: store })))
    await assert.rejects(wasm.authHeader(), (e) => {
      assert.equal(e.code, 'RATE_LIMITED')
      assert.ok(e.retryAfterMs > 100_000 && e.retryAfterMs <= 120_000, String(e.retryAfterMs))
      assert.match(e.message, /another process sharing the token store/)
      return true
    })
    assert.equal(mock.count('pv.authenticate'), 1, 'the fallback sent no request')
  },
)

it('8 cold processes on the Node fallback: exactly 1 exchange', { skip }, async () => {
  const reports = await fleet(Array(8).fill('wasm'))
  assert.equal(mock.count('pv.authenticate'), 1)
  assert.equal(new Set(reports.map((r) => r.tokens[0])).size, 1, 'all use the same token')
})

it('a mixed fleet (4 native, 4 fallback processes): exactly 1 exchange', { skip }, async () => {
  const reports = await fleet(['native', 'wasm', 'native', 'wasm', 'native', 'wasm', 'native', 'wasm'])
  assert.equal(mock.count('pv.authenticate'), 1)
  assert.equal(new Set(reports.map((r) => r.tokens[0])).size, 1, 'all use the same token')
})

it(
  'the refresh window on a mixed fleet (4 native, 4 fallback, ioredis): exactly 1 refresh, and all move to its token',
  { skip },
  async () => {
    // As store.test.js's fleet: a 12 s token (window 6 s, usable ~10.8 s), authHeader() every 25 ms
    // until ~9 s after the start, in real time (child processes do not see a virtual clock).
    mock.script('pv.authenticate', [{ lifetimeSec: 12 }])
    const runUntil = Date.now() + 2500 + 9000
    const reports = await fleet(['native', 'wasm', 'native', 'wasm', 'native', 'wasm', 'native', 'wasm'], {
      FIXTURE_MODE: 'window',
      FIXTURE_STORE: 'ioredis',
      RUN_UNTIL: String(runUntil),
    })
    assert.equal(mock.count('pv.authenticate'), 1)
    assert.equal(mock.count('pv.refresh'), 1)
    const finals = new Set(reports.map((r) => r.tokens[r.tokens.length - 1]))
    assert.equal(finals.size, 1, 'every process ends on the one refreshed token')
  },
)

it(
  'a killed lock holder on the fallback: native and fallback waiters finish with exactly one more exchange',
  { skip },
  async () => {
    // The holder (a fallback process) stalls at the mock and is SIGKILLed there. exchangeTimeoutMs
    // 1500 -> lock TTL 1500 + 3 x 300 + 500 = 2900 ms; then one waiter takes over.
    mock.script('pv.authenticate', [{ stall: true }])
    const env = (build) => ({
      MOCK_BASE_URL: mock.baseUrl,
      MOCK_CA_CERT: mock.caCert,
      REDIS_URL: redis.url,
      FIXTURE_MODE: 'cold',
      EXCHANGE_TIMEOUT_MS: '1500',
      VENDOR_AUTH_FORCE_WASM: build === 'wasm' ? '1' : undefined,
    })
    const holder = runNode([FIXTURE], {
      env: env('wasm'),
      timeoutMs: 20_000,
      onSpawn: (child) => {
        waitFor(() => mock.count('pv.authenticate') === 1, { what: 'the stalled exchange', timeoutMs: 15_000 }).then(
          () => child.kill('SIGKILL'),
          () => child.kill('SIGKILL'),
        )
      },
    })
    await waitFor(() => mock.count('pv.authenticate') === 1, { what: 'the holder', timeoutMs: 15_000 })
    assert.ok(
      (await nodeRedis.keys('*')).some((k) => k.endsWith(':lock')),
      'the holder holds the lock',
    )
    const waiters = Promise.all(
      ['native', 'wasm', 'native'].map((b) => runNode([FIXTURE], { env: env(b), timeoutMs: 20_000 })),
    )
    assert.equal((await holder).signal, 'SIGKILL')
    const results = await waiters
    for (const r of results) assert.equal(r.code, 0, r.stderr)
    assert.equal(
      new Set(results.map((r) => lastJsonLine(r.stdout).tokens[0])).size,
      1,
      'the waiters share the new token',
    )
    assert.equal(mock.count('pv.authenticate'), 2, 'exactly one more exchange')
  },
)

it(
  'Redis stopped and restarted under a native and a fallback client: each gets its own token, then they share again',
  { skip },
  async (t) => {
    const clock = virtualClock(t)
    const own = await ownRedis()
    const { connections } = own
    try {
      const native = track(
        createClient(optionsFor(mock, PV, { tokenStore: await own.tokenStore(), storeTimeoutMs: 200 })),
      )
      const wasm = track(
        createWasmClient(optionsFor(mock, PV, { tokenStore: await own.tokenStore(), storeTimeoutMs: 200 })),
      )
      const errors = []
      for (const c of [native, wasm]) c.on('error', (e) => errors.push(e.code))
      assert.deepEqual(await native.authHeader(), await wasm.authHeader())
      assert.equal(mock.count('pv.authenticate'), 1)

      await own.server.stop()
      for (const c of [native, wasm]) c.invalidate()
      const [hn, hw] = await Promise.all([native.authHeader(), wasm.authHeader()])
      assert.notDeepEqual(hn, hw, 'each got its own token from the vendor')
      assert.equal(mock.count('pv.authenticate'), 3)
      assert.deepEqual(errors, ['STORE_UNAVAILABLE', 'STORE_UNAVAILABLE'])

      await own.server.start()
      await waitFor(() => connections.every((r) => r.isReady), { what: 'reconnected', timeoutMs: 10_000 })
      clock.tick(2_100) // past the store's fault back-off (2 s)
      wasm.invalidate()
      const shared = await wasm.authHeader()
      native.invalidate()
      assert.deepEqual(await native.authHeader(), shared, 'the native client adopted what the fallback published')
      assert.equal(mock.count('pv.authenticate'), 4)
      assert.deepEqual(errors, ['STORE_UNAVAILABLE', 'STORE_UNAVAILABLE'], 'one report each per outage')
    } finally {
      await own.close()
    }
  },
)
