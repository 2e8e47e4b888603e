'use strict'
// The shared store when someone else can write it, or it dies: a squatted lock is never waited
// for, a replayed older sealed session never rolls a client back to a token it held or that the
// API refused, and a Redis client with no 'error' listener cannot end the process. All against a
// real redis-server (started here) and counts at the mock vendor; both builds (wasm.test.js).
// Run: node --test __test__/store-attacks.test.js

const { describe, it, before, after, beforeEach } = require('node:test')
const assert = require('node:assert/strict')
const { spawn } = require('node:child_process')
const path = require('node:path')

const { createClient, redisTokenStore } = require('..')
const { SECRETS, startMock, optionsFor } = require('./helpers')
const { startRedis } = require('./helpers/redis')
const { virtualClock } = require('./helpers/clock')

const PV = 'puppetvendors'

if (process.env.VENDOR_AUTH_TEST_NO_REDIS) {
  it('store attacks', (t) =>
    t.skip(`no redis-server here (VENDOR_AUTH_TEST_NO_REDIS=${process.env.VENDOR_AUTH_TEST_NO_REDIS})`))
  return
}

let mock
let redis
let r
before(async () => {
  redis = await startRedis()
  mock = await startMock()
  r = require('redis').createClient({ url: redis.url })
  r.on('error', () => {})
  await r.connect()
})
after(async () => {
  await r.quit().catch(() => {})
  await mock.close()
  await redis.stop()
})
beforeEach(async () => {
  mock.reset()
  await r.flushAll()
})

const made = []
function client(extra = {}) {
  const c = createClient({ ...optionsFor(mock, PV), tokenStore: redisTokenStore(r), ...extra })
  made.push(c)
  return c
}
after(() => made.forEach((c) => c.close()))

/** The store's keys for the test credential, found by a first client's exchange. */
async function storeKeys() {
  const c = client()
  await c.authHeader()
  c.close()
  const [session] = await r.keys('*:session')
  assert.ok(session, 'the first client published a session')
  const id = session.slice(0, -':session'.length)
  return { session, lock: `${id}:lock` }
}

describe('a squatted lock', () => {
  it('a lock vendor-auth did not write (no TTL) is never waited for: 4 cold clients, one exchange, no wait', async () => {
    const keys = await storeKeys()
    await r.del(keys.session)
    await r.set(keys.lock, 'anything') // no TTL: it would stay for ever
    mock.reset()
    const started = performance.now()
    const headers = await Promise.all(Array.from({ length: 4 }, () => client().authHeader()))
    const took = performance.now() - started
    assert.equal(new Set(headers.map((h) => h['x-access-token'])).size, 1, 'one token for all')
    assert.equal(mock.count('pv.authenticate'), 1)
    // One exchange plus a second, at most (the old protocol waited about 22 s).
    assert.ok(took < 1000 + 5000, `took ${Math.round(took)} ms`)
    assert.notEqual(await r.get(keys.lock), 'anything', 'the squatted value is gone')
  })

  it('a squatter who writes the lock back at once: each cold client still gets its header at once', async () => {
    const keys = await storeKeys()
    await r.del(keys.session)
    mock.reset()
    let squatting = true
    const squat = (async () => {
      while (squatting) {
        await r.set(keys.lock, 'squat', { NX: true })
        await new Promise((resolve) => setImmediate(resolve))
      }
    })()
    try {
      const started = performance.now()
      const header = await client().authHeader()
      assert.ok(header['x-access-token'])
      assert.ok(performance.now() - started < 5000)
      assert.ok(mock.count('pv.authenticate') <= 1)
    } finally {
      squatting = false
      await squat
    }
  })
})

describe('a replayed sealed session', () => {
  it('a warm client that held a newer token never adopts an older one written back', async (t) => {
    const clock = virtualClock(t)
    const keys = await storeKeys()
    const older = await r.get(keys.session)
    clock.tick(60_000) // the next token is issued a minute later: it expires a minute later
    // A newer token is published (a 401 made a client exchange again).
    const a = client()
    const first = await a.authHeader()
    mock.revokeTokens()
    a.invalidate(first)
    const second = await a.authHeader()
    assert.notEqual(second['x-access-token'], first['x-access-token'])
    const b = client()
    assert.deepEqual(await b.authHeader(), second, 'b shares the newer token')
    // The attacker writes the older sealed value back; b's token is refused.
    await r.set(keys.session, older)
    mock.reset()
    b.invalidate(second)
    const after = await b.authHeader()
    assert.notEqual(after['x-access-token'], first['x-access-token'], 'not rolled back to the older token')
    assert.equal(mock.count('pv.authenticate'), 1, 'b exchanged for a new one')
  })

  it('a cold client fooled by a replay adopts the refused token at most once', async () => {
    const keys = await storeKeys()
    const older = await r.get(keys.session)
    mock.revokeTokens() // the token in `older` is dead now
    await r.set(keys.session, older)
    mock.reset()
    const c = client()
    const fooled = await c.authHeader() // can't be known until the API refuses it: documented
    assert.equal(mock.count('pv.authenticate'), 0)
    c.invalidate(fooled) // the API said 401
    await r.set(keys.session, older) // and the attacker keeps writing it back
    const fresh = await c.authHeader()
    assert.notEqual(fresh['x-access-token'], fooled['x-access-token'])
    assert.equal(mock.count('pv.authenticate'), 1)
    await r.set(keys.session, older)
    c.invalidate(fresh)
    const third = await c.authHeader()
    assert.notEqual(third['x-access-token'], fooled['x-access-token'], 'never adopted again')
  })
})

describe("a Redis client with no 'error' listener", () => {
  for (const kind of ['node-redis', 'ioredis']) {
    it(`${kind}: Redis killed and restarted: the process lives, reports STORE_UNAVAILABLE once, keeps its headers`, async (t) => {
      const own = await startRedis()
      t.after(() => own.stop())
      const child = spawn(
        process.execPath,
        [path.join(__dirname, 'fixtures', 'store-attacks', 'redis-no-listener.js')],
        {
          env: {
            ...process.env,
            REDIS_URL: own.url,
            MOCK_BASE_URL: mock.baseUrl,
            MOCK_CA_CERT: mock.caCert,
            API_KEY: SECRETS.pvApiKey,
            KIND: kind,
          },
          stdio: ['pipe', 'pipe', 'pipe'],
        },
      )
      t.after(() => child.kill())
      let stderr = ''
      child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk))
      const lines = []
      let wake = () => {}
      child.stdout.setEncoding('utf8').on('data', (chunk) => {
        lines.push(
          ...chunk
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l)),
        )
        wake()
      })
      const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)))
      const next = async (n) => {
        const deadline = Date.now() + 20_000
        while (lines.length < n) {
          const woken = new Promise((resolve) => (wake = resolve))
          const code = await Promise.race([exited, woken, new Promise((resolve) => setTimeout(resolve, 500))])
          if (code !== undefined) assert.fail(`the process ended (${code}): ${stderr}`)
          if (Date.now() > deadline) assert.fail(`no line ${n}: ${stderr}`)
        }
        return lines[n - 1]
      }
      assert.deepEqual(await next(1), { at: 'first', header: true })
      await own.stop()
      child.stdin.write('go\n')
      const down = await next(2)
      assert.equal(down.header, true, 'a header while Redis is down')
      assert.ok(down.codes.length >= 1 && down.codes.every((c) => c === 'STORE_UNAVAILABLE'), JSON.stringify(down))
      await own.start()
      child.stdin.write('go\n')
      const back = await next(3)
      assert.equal(back.logged, true, 'the debug log says a listener was added')
      assert.ok(back.errors <= 2, `reported once per outage (and once by the store protocol): ${back.errors}`)
      assert.equal(await exited, 0, stderr)
    })
  }
})
