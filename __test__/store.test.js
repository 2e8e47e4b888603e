'use strict'
// Many processes, one token: the shared token store (`tokenStore`) on a real Redis (started here
// on a free loopback port; .ci/run installs redis-server), with both adapters (node-redis and
// ioredis), fleets of child processes (fixtures/store-client.js) and counts at the mock vendor.
// Run: node --test __test__/store.test.js

const { describe, it, before, after, beforeEach } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')

const { createClient, redisTokenStore, ErrorCodes } = require('..')
const { SECRETS, startMock, optionsFor } = require('./helpers')
const { runNode, lastJsonLine, waitFor } = require('./helpers/util')
const { virtualClock } = require('./helpers/clock')
const { assertClean } = require('./helpers/faults')
const { startRedis, ownRedis } = require('./helpers/redis')

const PV = 'puppetvendors'
const FIXTURE = path.join(__dirname, 'fixtures', 'store-client.js')

// Where no redis-server can be had (release.yml's Windows jobs: Redis ships no Windows server),
// VENDOR_AUTH_TEST_NO_REDIS names why, and the suite is one skipped test saying so. Anywhere else
// a missing redis-server fails (helpers/redis.js).
const NO_REDIS = process.env.VENDOR_AUTH_TEST_NO_REDIS
if (NO_REDIS) {
  it('the shared token store on a real Redis', {
    skip: `no redis-server on this runner (VENDOR_AUTH_TEST_NO_REDIS=${NO_REDIS})`,
  })
  return
}

let mock
let redis
/** node-redis and ioredis clients of the test process itself. */
let nodeRedis
let ioredis

before(async () => {
  redis = await startRedis()
  mock = await startMock()
  nodeRedis = require('redis').createClient({ url: redis.url })
  nodeRedis.on('error', () => {})
  await nodeRedis.connect()
  const Redis = require('ioredis')
  ioredis = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 })
  ioredis.on('error', () => {})
  await ioredis.connect()
})
after(async () => {
  await Promise.allSettled([nodeRedis.quit(), ioredis.quit()])
  await mock.close()
  await redis.stop()
})
beforeEach(async () => {
  mock.reset()
  await nodeRedis.flushAll()
})

const clients = []
const client = (options) => {
  const c = createClient(options)
  clients.push(c)
  return c
}
after(() => clients.forEach((c) => c.close()))

/** Every key and value in Redis now. */
async function dump() {
  const keys = await nodeRedis.keys('*')
  return Promise.all(keys.map(async (key) => ({ key, value: await nodeRedis.get(key) })))
}

/** Runs `count` fleet processes (fixtures/store-client.js) that start together; their reports. */
async function fleet(count, env = {}, { timeoutMs = 30_000 } = {}) {
  const startAt = Date.now() + 2500
  const results = await Promise.all(
    Array.from({ length: count }, () =>
      runNode([FIXTURE], {
        env: {
          MOCK_BASE_URL: mock.baseUrl,
          MOCK_CA_CERT: mock.caCert,
          REDIS_URL: redis.url,
          START_AT: String(startAt),
          ...env,
        },
        timeoutMs,
      }),
    ),
  )
  return results.map((r) => {
    assert.equal(r.code, 0, `a fleet process failed (killed: ${r.killed}): ${r.stderr}`)
    return lastJsonLine(r.stdout)
  })
}

// ------------------------------------------------------------------ in one process

for (const kind of ['node-redis', 'ioredis']) {
  it(`${kind}: a cold client adopts the token another client published; no second exchange`, async () => {
    const store = redisTokenStore(kind === 'ioredis' ? ioredis : nodeRedis)
    const a = client(optionsFor(mock, PV, { tokenStore: store }))
    const header = await a.authHeader()
    const lines = []
    const b = client(optionsFor(mock, PV, { tokenStore: store, logger: (l) => lines.push(l) }))
    const refreshed = []
    b.on('refresh', (s) => refreshed.push(s))
    assert.deepEqual(await b.authHeader(), header)
    assert.equal(mock.count('pv.authenticate'), 1)
    assert.equal(refreshed.length, 1, "adopting a session is a new session for b: one 'refresh'")
    assert.ok(
      lines.some((l) => l.includes('adopted the shared session')),
      lines.join('\n'),
    )
    // The lock was released.
    assert.deepEqual(
      (await dump()).map((e) => e.key.split(':').pop()),
      ['session'],
    )
  })
}

it('the stored value holds neither the credential nor the token; the key names provider and base URL only', async () => {
  const a = client(optionsFor(mock, PV, { tokenStore: redisTokenStore(nodeRedis, { keyPrefix: 'app1:' }) }))
  const token = (await a.authHeader())['x-access-token']
  const entries = await dump()
  assert.equal(entries.length, 1)
  const [{ key, value }] = entries
  assert.ok(key.startsWith(`app1:puppetvendors:${mock.baseUrl}/:`), key)
  assert.match(value, /^v1\.[\w-]+$/)
  for (const text of [key, value]) {
    assertClean(text, [token], 'Redis')
    assert.ok(!text.includes(SECRETS.pvApiKey))
    assert.ok(!text.includes(token.split('.')[2]), 'no part of the token signature')
    assert.ok(!text.includes(Buffer.from(token).toString('base64url').slice(0, 24)), 'not merely encoded')
  }
  // Another credential reads another key; a changed byte does not open.
  const tampered = value.slice(0, 40) + (value[40] === 'A' ? 'B' : 'A') + value.slice(41)
  await nodeRedis.set(key, tampered)
  const lines = []
  const b = client(
    optionsFor(mock, PV, {
      tokenStore: redisTokenStore(nodeRedis, { keyPrefix: 'app1:' }),
      logger: (l) => lines.push(l),
    }),
  )
  assert.notEqual((await b.authHeader())['x-access-token'], token)
  assert.equal(mock.count('pv.authenticate'), 2, 'the tampered value was not used')
  assert.ok(
    lines.some((l) => l.includes('did not open')),
    lines.join('\n'),
  )
})

it('the hot path never calls the store while the token is fresh', async () => {
  const store = redisTokenStore(nodeRedis)
  const calls = { get: 0, set: 0, lock: 0, release: 0 }
  const counted = Object.fromEntries(
    Object.keys(calls).map((name) => [name, (...args) => (calls[name]++, store[name](...args))]),
  )
  const c = client(optionsFor(mock, PV, { tokenStore: counted }))
  await c.authHeader()
  const after = { ...calls }
  for (let i = 0; i < 1000; i++) await c.authHeader()
  await c.getSession()
  assert.deepEqual(calls, after)
  // Each look reads the session, the rate limit and the lock at once (3 gets), twice.
  assert.deepEqual(after, { get: 6, set: 1, lock: 1, release: 1 })
})

it('one 429 stops the fleet: a remembered rate limit is shared, and other clients reject without a request', async () => {
  const store = redisTokenStore(ioredis)
  mock.script('pv.authenticate', [{ status: 429, headers: { 'Retry-After': '120' } }])
  const a = client(optionsFor(mock, PV, { tokenStore: store }))
  await assert.rejects(a.authHeader(), (e) => e.code === 'RATE_LIMITED')
  assert.equal(mock.count('pv.authenticate'), 1)
  const b = client(optionsFor(mock, PV, { tokenStore: store }))
  const errors = []
  b.on('error', (e) => errors.push(e))
  await assert.rejects(b.authHeader(), (e) => {
    assert.equal(e.code, 'RATE_LIMITED')
    assert.equal(e.status, 429)
    assert.ok(e.retryAfterMs > 100_000 && e.retryAfterMs <= 120_000, String(e.retryAfterMs))
    assert.match(e.message, /another process sharing the token store/)
    return true
  })
  await assert.rejects(b.authHeader(), (e) => e.code === 'RATE_LIMITED')
  assert.equal(mock.count('pv.authenticate'), 1, 'b sent no request')
  assert.deepEqual(errors, [], 'a remembered failure is not an exchange: no event')
  const [limit] = (await dump()).filter((e) => e.key.endsWith(':rate-limit'))
  assert.match(limit.value, /^v1\./, 'sealed like a session')
  assert.ok((await nodeRedis.pTTL(limit.key)) > 100_000)
})

it('invalidate(stale) never adopts the refused token back from the store', async () => {
  const store = redisTokenStore(nodeRedis)
  const a = client(optionsFor(mock, PV, { tokenStore: store }))
  const b = client(optionsFor(mock, PV, { tokenStore: store }))
  const first = await a.authHeader()
  assert.deepEqual(await b.authHeader(), first)
  // The API refused the token: both drop it; exactly one new exchange, both get the new one.
  assert.equal(a.invalidate(first), true)
  assert.equal(b.invalidate(first), true)
  const [ha, hb] = await Promise.all([a.authHeader(), b.authHeader()])
  assert.notDeepEqual(ha, first)
  assert.deepEqual(ha, hb)
  assert.equal(mock.count('pv.authenticate'), 2)
})

it('tokenStore and storeTimeoutMs are checked before any I/O; authenticate() refuses them', async () => {
  const { authenticate } = require('..')
  const store = redisTokenStore(nodeRedis)
  for (const bad of [42, { get() {} }, { get: 1, set() {}, lock() {}, release() {} }]) {
    assert.throws(
      () => createClient(optionsFor(mock, PV, { tokenStore: bad })),
      (e) => e.code === 'INVALID_OPTIONS' && /tokenStore/.test(e.message),
    )
  }
  for (const bad of [0, 1.5, '300', 120_000]) {
    assert.throws(
      () => createClient(optionsFor(mock, PV, { tokenStore: store, storeTimeoutMs: bad })),
      (e) => e.code === 'INVALID_OPTIONS' && /storeTimeoutMs/.test(e.message),
    )
  }
  assert.throws(
    () => createClient(optionsFor(mock, PV, { storeTimeoutMs: 100 })),
    (e) => e.code === 'INVALID_OPTIONS',
  )
  await assert.rejects(
    authenticate(optionsFor(mock, PV, { tokenStore: store })),
    (e) => e.code === 'INVALID_OPTIONS' && /createClient/.test(e.message),
  )
  assert.throws(
    () => redisTokenStore({}),
    (e) => e.code === 'INVALID_OPTIONS',
  )
  assert.throws(
    () => redisTokenStore(nodeRedis, { prefix: 'x' }),
    (e) => e.code === 'INVALID_OPTIONS',
  )
  // A polluted Object.prototype does not make an object a store.
  Object.prototype.lock = () => true
  try {
    assert.throws(
      () => createClient(optionsFor(mock, PV, { tokenStore: { get() {}, set() {}, release() {} } })),
      (e) => e.code === 'INVALID_OPTIONS' && /lock/.test(e.message),
    )
  } finally {
    delete Object.prototype.lock
  }
  // A class instance is fine (methods on its prototype).
  class MemoryStore {
    map = new Map()
    get(key) {
      return this.map.get(key) ?? null
    }
    set(key, value) {
      this.map.set(key, value)
    }
    lock(key, owner) {
      if (this.map.has(key)) return false
      this.map.set(key, owner)
      return true
    }
    release(key, owner) {
      if (this.map.get(key) === owner) this.map.delete(key)
    }
  }
  const memory = new MemoryStore()
  const a = client(optionsFor(mock, PV, { tokenStore: memory }))
  const b = client(optionsFor(mock, PV, { tokenStore: memory }))
  assert.deepEqual(await a.authHeader(), await b.authHeader())
  assert.equal(mock.count('pv.authenticate'), 1)
})

// ------------------------------------------------------------------ degraded mode

describe('degraded mode: a store fault never fails authHeader() while the vendor answers', () => {
  const broken = {
    'throws synchronously': () => ({
      get() {
        throw new Error('boom')
      },
      set() {
        throw new Error('boom')
      },
      lock() {
        throw new Error('boom')
      },
      release() {
        throw new Error('boom')
      },
    }),
    rejects: () => {
      const no = () => Promise.reject(Object.assign(new Error('ECONNREFUSED'), { code: 'ECONNREFUSED' }))
      return { get: no, set: no, lock: no, release: no }
    },
    'never answers': () => {
      const hang = () => new Promise(() => {})
      return { get: hang, set: hang, lock: hang, release: hang }
    },
  }
  for (const [what, make] of Object.entries(broken)) {
    it(`a store that ${what}: own exchange, one STORE_UNAVAILABLE 'error', a debug line`, async () => {
      const lines = []
      const c = client(optionsFor(mock, PV, { tokenStore: make(), storeTimeoutMs: 100, logger: (l) => lines.push(l) }))
      const errors = []
      c.on('error', (e) => errors.push(e))
      const started = Date.now()
      assert.match((await c.authHeader())['x-access-token'], /^eyJ/)
      assert.ok(Date.now() - started < 2000, `${Date.now() - started} ms`)
      c.invalidate()
      await c.authHeader()
      assert.equal(mock.count('pv.authenticate'), 2)
      assert.deepEqual(
        errors.map((e) => e.code),
        [ErrorCodes.STORE_UNAVAILABLE],
      )
      assert.equal(errors[0].provider, PV)
      assert.ok(
        lines.some((l) => l.includes('token store') && l.includes('exchanging on our own')),
        lines.join('\n'),
      )
    })
  }
})

it('Redis stopped mid-run: clients keep working from the vendor, then share again after it restarts', async (t) => {
  const clock = virtualClock(t)
  // Own Redis server and connections for this test (the shared one stays up for the others).
  const own = await ownRedis()
  const { connections } = own
  try {
    const a = client(optionsFor(mock, PV, { tokenStore: await own.tokenStore(), storeTimeoutMs: 200 }))
    const b = client(optionsFor(mock, PV, { tokenStore: await own.tokenStore(), storeTimeoutMs: 200 }))
    const errors = []
    for (const c of [a, b]) c.on('error', (e) => errors.push(e.code))
    assert.deepEqual(await a.authHeader(), await b.authHeader())
    assert.equal(mock.count('pv.authenticate'), 1)

    await own.server.stop()
    for (const c of [a, b]) c.invalidate()
    const [ha, hb] = await Promise.all([a.authHeader(), b.authHeader()])
    assert.notDeepEqual(ha, hb, 'each got its own token from the vendor')
    assert.equal(mock.count('pv.authenticate'), 3)
    assert.deepEqual(errors, ['STORE_UNAVAILABLE', 'STORE_UNAVAILABLE'])

    await own.server.start()
    await waitFor(() => connections.every((r) => r.isReady), { what: 'reconnected', timeoutMs: 10_000 })
    // During the fault back-off (2 s) the store is not asked: a's new token is its own.
    clock.tick(1_900)
    a.invalidate()
    const alone = await a.authHeader()
    assert.equal(mock.count('pv.authenticate'), 4)
    assert.deepEqual(await connections[0].keys('*'), [], 'nothing published to the restarted Redis yet')
    // After it, the store is asked again.
    clock.tick(200)
    a.invalidate()
    const shared = await a.authHeader()
    b.invalidate()
    assert.notDeepEqual(shared, alone)
    assert.deepEqual(await b.authHeader(), shared, 'b adopted what a published')
    assert.equal(mock.count('pv.authenticate'), 5)
    assert.deepEqual(errors, ['STORE_UNAVAILABLE', 'STORE_UNAVAILABLE'])
  } finally {
    await own.close()
  }
})

// ------------------------------------------------------------------ fleets of processes

describe('a fleet of 8 processes on one store', () => {
  it('8 cold processes: exactly 1 exchange at the mock (8 without the store)', async () => {
    const shared = await fleet(8, { FIXTURE_MODE: 'cold' })
    assert.equal(mock.count('pv.authenticate'), 1)
    assert.equal(new Set(shared.map((r) => r.tokens[0])).size, 1, 'all use the same token')
    mock.reset()
    const alone = await fleet(8, { FIXTURE_MODE: 'cold', FIXTURE_STORE: 'none' })
    assert.equal(mock.count('pv.authenticate'), 8)
    assert.equal(new Set(alone.map((r) => r.tokens[0])).size, 8)
  })

  it('the refresh window: exactly 1 refresh across the 8 (ioredis), and all move to its token', async () => {
    // Child processes do not see a virtual clock: the token really ages here. A 12 s token: refresh
    // window 6 s, usable for ~10.8 s. The fleet calls authHeader() every 25 ms until ~9 s after its
    // start, through the window. (Not shorter: the processes' first calls may start seconds late
    // on a busy machine, and the run must still cover the first window and end before the
    // refreshed token's; an 8 s token with a 6 s run failed that way under load.)
    mock.script('pv.authenticate', [{ lifetimeSec: 12 }])
    const runUntil = Date.now() + 2500 + 9000
    const reports = await fleet(8, { FIXTURE_MODE: 'window', FIXTURE_STORE: 'ioredis', RUN_UNTIL: String(runUntil) })
    assert.equal(mock.count('pv.authenticate'), 1)
    assert.equal(mock.count('pv.refresh'), 1)
    const finals = new Set(reports.map((r) => r.tokens[r.tokens.length - 1]))
    assert.equal(finals.size, 1, 'every process ends on the one refreshed token')
    // The first token then the refreshed one (a process that started very late may see only the
    // refreshed one).
    for (const r of reports) assert.ok(r.tokens.length <= 2, `${r.tokens.length} tokens`)
  })

  it('the lock holder killed mid-exchange: another process finishes, with exactly one more exchange after the lock expires', async () => {
    // The holder's exchange stalls at the mock; it is SIGKILLed there. exchangeTimeoutMs 1500 →
    // lock TTL 1500 + 3 × 300 + 500 = 2900 ms.
    mock.script('pv.authenticate', [{ stall: true }])
    const env = {
      MOCK_BASE_URL: mock.baseUrl,
      MOCK_CA_CERT: mock.caCert,
      REDIS_URL: redis.url,
      FIXTURE_MODE: 'cold',
      EXCHANGE_TIMEOUT_MS: '1500',
    }
    let killedAt = 0
    const holder = runNode([FIXTURE], {
      env,
      timeoutMs: 20_000,
      onSpawn: (child) => {
        waitFor(() => mock.count('pv.authenticate') === 1, { what: 'the stalled exchange', timeoutMs: 15_000 }).then(
          () => {
            killedAt = Date.now()
            child.kill('SIGKILL')
          },
          () => child.kill('SIGKILL'),
        )
      },
    })
    await waitFor(() => mock.count('pv.authenticate') === 1, { what: 'the holder', timeoutMs: 15_000 })
    const lock = (await dump()).find((e) => e.key.endsWith(':lock'))
    assert.ok(lock, 'the holder holds the lock')
    const waiters = Promise.all(Array.from({ length: 3 }, () => runNode([FIXTURE], { env, timeoutMs: 20_000 })))
    const held = await holder
    assert.equal(held.signal, 'SIGKILL')
    const results = await waiters
    for (const r of results) assert.equal(r.code, 0, r.stderr)
    const tokens = results.map((r) => lastJsonLine(r.stdout).tokens[0])
    assert.equal(new Set(tokens).size, 1, 'the waiters share the new token')
    assert.equal(mock.count('pv.authenticate'), 2, 'exactly one more exchange')
    const takeover = mock.requests.filter((r) => r.endpoint === 'pv.authenticate')[1].at
    assert.ok(takeover - killedAt > 1000, `the takeover waited for the lock to expire (${takeover - killedAt} ms)`)
  })
})
