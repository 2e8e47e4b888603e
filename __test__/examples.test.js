'use strict'
// The examples under examples/, each run against the mock vendor (its CA trusted through
// NODE_EXTRA_CA_CERTS, as a deployed app would trust a corporate CA) and a fake vendor API that
// checks every token with mock.verify(), as the real API would. Examples are written as an
// application writes them (no baseUrl, the vendors' real API URLs): the processes that run them
// preload fixtures/examples/vendor-hosts.js, which points the vendors' hosts at the mock and the
// fake API, as DNS would.
//   quick-start.mjs    the README's first example: the API refuses the first token (revoked at
//                      the vendor), invalidate(headers), then client.fetch: 2 exchanges, 200
//   authenticate.mjs   one exchange; printing the Session shows no token
//   shared-store.mjs   run twice on a real redis-server: the second process makes no exchange
//   express/app.js     200 concurrent GET /wallets on a cold start → one exchange; a revoked token
//                      → client.fetch gets a new one and retries; refused keys → 502 with the code
//   nest/              compiled with tsc (decorators + metadata), run as `node dist/main.js`, and
//                      through an application context: injection by class and by token, closed by
//                      app.close()
//   lambda/handler.js  called twice in one process: the second invocation makes no request
//   testing/           a user's own node:test file against vendor-auth/testing: it passes
// Run: node --test __test__/examples.test.js

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const http = require('node:http')
const os = require('node:os')
const path = require('node:path')

const { startMockVendor, MOCK_CREDENTIALS } = require('../testing')
const { ROOT, runNode, lastJsonLine, withEnv, assertNoSecrets } = require('./helpers/util')
const { clientFor } = require('./helpers')
const { JWT_PATTERN, runTestFiles } = require('./helpers/faults')
const { startRedis } = require('./helpers/redis')

const EXAMPLES = path.join(ROOT, 'examples')
/** Points the vendors' hosts at this file's mock vendor and fake API (see the header). */
const VENDOR_HOSTS = path.join(__dirname, 'fixtures', 'examples', 'vendor-hosts.js')
/** The files under examples/ that a test of this file has run. */
const ran = new Set()

let mock
let api
let caFile

/**
 * A fake vendor API on loopback: every path answers 200 with what mock.verify() said, or 401.
 * `revokeNext = true`: the vendor revokes its tokens just before the next request arrives.
 */
async function startFakeApi(vendor) {
  const seen = []
  const api = { revokeNext: false }
  const server = http.createServer((req, res) => {
    if (api.revokeNext) {
      api.revokeNext = false
      vendor.revokeTokens()
    }
    const token = vendor.verify(req.headers)
    seen.push({ url: req.url, provider: token && token.provider })
    res.writeHead(token ? 200 : 401, { 'content-type': 'application/json' })
    res.end(JSON.stringify(token ? { url: req.url, items: [{ id: 1 }] } : { error: 'UNAUTHORIZED' }))
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return Object.assign(api, {
    url: `http://127.0.0.1:${server.address().port}`,
    seen,
    close: () => new Promise((resolve) => server.close(resolve)),
  })
}

test.before(async () => {
  mock = await startMockVendor()
  api = await startFakeApi(mock)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vendor-auth-examples-'))
  caFile = path.join(dir, 'mock-ca.pem')
  fs.writeFileSync(caFile, mock.caCert)
})

test.after(async () => {
  await api.close()
  await mock.close()
  fs.rmSync(path.dirname(caFile), { recursive: true, force: true })
})

/** The environment a deployed example gets: keys, the mock's CA, and where vendor-hosts.js points. */
function exampleEnv(extra = {}) {
  return {
    NODE_EXTRA_CA_CERTS: caFile,
    VENDY_ACCESS_KEY: MOCK_CREDENTIALS.vendy.accessKey,
    VENDY_SECRET_KEY: MOCK_CREDENTIALS.vendy.secretKey,
    PUPPETVENDORS_API_KEY: MOCK_CREDENTIALS.puppetvendors.apiKey,
    PUPPETVENDORS_SHOP_DOMAIN: undefined,
    VENDOR_AUTH_EXAMPLE_BASE_URL: mock.baseUrl,
    VENDOR_AUTH_EXAMPLE_API_URL: api.url,
    ...extra,
  }
}

/** `node -r vendor-hosts.js <args>` in the repository, as a deployed app (`file`: the example run). */
function runExample(file, args, { env = {}, timeoutMs = 30_000 } = {}) {
  ran.add(file)
  return runNode(['-r', VENDOR_HOSTS, ...args], { env: exampleEnv(env), timeoutMs })
}

/** Request counts at the mock since `before` (`mock.count()` by endpoint, and in all). */
function countsSince(before) {
  return {
    vendy: mock.count('vendy.auth') - before.vendy,
    pv: mock.count('pv.authenticate') - before.pv,
    all: mock.count() - before.all,
  }
}
const counts = () => ({ vendy: mock.count('vendy.auth'), pv: mock.count('pv.authenticate'), all: mock.count() })

test('quick start: the API refuses the revoked token, invalidate(headers), then client.fetch exchanges once more', async () => {
  const before = counts()
  const seen = api.seen.length
  api.revokeNext = true
  const run = await runExample('examples/quick-start.mjs', [path.join(EXAMPLES, 'quick-start.mjs')])
  assert.equal(run.code, 0, run.stdout + run.stderr)
  assert.deepEqual(lastJsonLine(run.stdout), {
    first: 401,
    then: 200,
    body: { url: '/wallets', items: [{ id: 1 }] },
  })
  assert.deepEqual(countsSince(before), { vendy: 2, pv: 0, all: 2 }, 'the first token, and one after the 401')
  // invalidate(headers) dropped the refused token, so client.fetch sent the new one at once.
  assert.deepEqual(
    api.seen.slice(seen).map((s) => s.provider),
    [null, 'vendy'],
  )
})

test('authenticate: one exchange; printing the Session shows its fields, never the token', async () => {
  const before = counts()
  const run = await runExample('examples/authenticate.mjs', [path.join(EXAMPLES, 'authenticate.mjs')])
  assert.equal(run.code, 0, run.stdout + run.stderr)
  assert.match(run.stdout, /^Session \{\n {2}provider: 'puppetvendors',\n {2}token: 'eyJhbG…',/)
  assert.match(run.stdout, /permissions: \[ 'orders:read', 'products:read' \]/)
  assert.doesNotMatch(run.stdout, JWT_PATTERN)
  assertNoSecrets(run.stdout, 'the printed session')
  assert.deepEqual(countsSince(before), { vendy: 0, pv: 1, all: 1 })
})

test('shared store: the example run in two processes on one redis-server makes one exchange', async (t) => {
  const redis = await startRedis()
  t.after(() => redis.stop())
  const before = counts()
  const first = await runExample('examples/shared-store.mjs', [path.join(EXAMPLES, 'shared-store.mjs')], {
    env: { REDIS_URL: redis.url },
  })
  assert.equal(first.code, 0, first.stdout + first.stderr)
  assert.deepEqual(countsSince(before), { vendy: 0, pv: 1, all: 1 })
  const second = await runExample('examples/shared-store.mjs', [path.join(EXAMPLES, 'shared-store.mjs')], {
    env: { REDIS_URL: redis.url },
  })
  assert.equal(second.code, 0, second.stdout + second.stderr)
  for (const run of [first, second]) assert.deepEqual(lastJsonLine(run.stdout), { header: ['x-access-token'] })
  assert.deepEqual(countsSince(before), { vendy: 0, pv: 1, all: 1 }, 'the second process adopted the shared token')
})

async function listen(app) {
  const server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s))
  })
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) }
}

test('express: 200 concurrent requests on a cold start cause one exchange; a revoked token is replaced', async (t) => {
  ran.add('examples/express/app.js')
  const { createApp } = require(path.join(EXAMPLES, 'express', 'app.js'))
  mock.reset()
  const vendy = await withEnv({ NODE_EXTRA_CA_CERTS: caFile }, () =>
    clientFor(t, { provider: 'vendy', ...MOCK_CREDENTIALS.vendy, baseUrl: mock.baseUrl }),
  )
  const server = await listen(createApp(vendy, api.url))
  t.after(() => server.close())

  const responses = await Promise.all(Array.from({ length: 200 }, () => fetch(`${server.url}/wallets`)))
  assert.deepEqual([...new Set(responses.map((r) => r.status))], [200])
  assert.deepEqual(await responses[0].json(), { url: '/wallets', items: [{ id: 1 }] })
  assert.equal(mock.count('vendy.auth'), 1, 'one exchange for 200 requests')

  mock.revokeTokens() // the vendor's API now refuses the cached token
  const after = await fetch(`${server.url}/wallets`)
  assert.equal(after.status, 200)
  assert.equal(mock.count('vendy.auth'), 2, 'one new exchange after the 401')
  assert.deepEqual(
    api.seen.slice(-2).map((s) => s.provider),
    [null, 'vendy'],
  )
})

test('express: keys the vendor refuses → 502 with the error code, no secret in the answer', async (t) => {
  const { createApp } = require(path.join(EXAMPLES, 'express', 'app.js'))
  const wrong = 'vendy-sk-WRONG-0123456789'
  const vendy = clientFor(t, {
    provider: 'vendy',
    accessKey: MOCK_CREDENTIALS.vendy.accessKey,
    secretKey: wrong,
    baseUrl: mock.baseUrl,
    caCert: mock.caCert,
  })
  const server = await listen(createApp(vendy, api.url))
  t.after(() => server.close())
  const response = await fetch(`${server.url}/wallets`)
  assert.equal(response.status, 502)
  const text = await response.text()
  assert.equal(JSON.parse(text).error, 'UNAUTHORIZED')
  assert.ok(!text.includes(wrong))
})

test('nest: compiled with tsc, `node dist/main.js` prints the orders, through the module and the injected client', async () => {
  const tsc = await runNode([path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'examples/nest'], {
    timeoutMs: 120_000,
  })
  assert.equal(tsc.code, 0, tsc.stdout + tsc.stderr)
  const exchanges = mock.count('pv.authenticate')
  ran.add('examples/nest/app.module.ts')
  ran.add('examples/nest/orders.service.ts')
  const run = await runExample('examples/nest/main.ts', [path.join(EXAMPLES, 'nest', 'dist', 'main.js')])
  assert.equal(run.code, 0, run.stdout + run.stderr)
  assert.deepEqual(lastJsonLine(run.stdout), { url: '/orders?status=open', items: [{ id: 1 }] })
  assert.equal(mock.count('pv.authenticate') - exchanges, 1)
})

test('nest: the client is injectable by class and by token, one instance, closed by app.close()', async () => {
  // Needs the compiled example (the test above builds it; the files are run in order).
  const script = `
    require('reflect-metadata')
    const { NestFactory } = require('@nestjs/core')
    const { AuthClient } = require('vendor-auth')
    const { VENDOR_AUTH_CLIENT } = require('vendor-auth/nest')
    const { AppModule } = require('./examples/nest/dist/app.module.js')
    const { OrdersService } = require('./examples/nest/dist/orders.service.js')
    ;(async () => {
      const app = await NestFactory.createApplicationContext(AppModule, { logger: false })
      const client = app.get(AuthClient)
      const orders = await app.get(OrdersService).list('shipped')
      const header = Object.keys(await client.authHeader())
      await app.close()
      const closed = await client.authHeader().then(() => 'open', (error) => error.code)
      console.log(JSON.stringify({ same: client === app.get(VENDOR_AUTH_CLIENT), provider: client.provider, header, orders, closed }))
    })().catch((error) => { console.error(error); process.exitCode = 1 })
  `
  const run = await runExample('examples/nest/app.module.ts', ['-e', script])
  assert.equal(run.code, 0, run.stdout + run.stderr)
  assert.deepEqual(lastJsonLine(run.stdout), {
    same: true,
    provider: 'puppetvendors',
    header: ['x-access-token'],
    orders: { url: '/orders?status=shipped', items: [{ id: 1 }] },
    closed: 'CLOSED',
  })
})

test('lambda: two invocations in one process, the second makes no request to the vendor', async () => {
  // The runtime loads the module once (cold start), with the function's environment, then invokes it.
  const script = `
    const { handler } = require('./examples/lambda/handler.js')
    ;(async () => {
      const first = await handler({ status: 'open' })
      const second = await handler({ status: 'shipped' })
      console.log(JSON.stringify([first, second]))
    })().catch((error) => { console.error(error); process.exitCode = 1 })
  `
  const before = counts()
  const run = await runExample('examples/lambda/handler.js', ['-e', script])
  assert.equal(run.code, 0, run.stdout + run.stderr)
  const [first, second] = lastJsonLine(run.stdout)
  assert.equal(first.statusCode, 200, first.body)
  assert.deepEqual(JSON.parse(first.body), { url: '/orders?status=open', items: [{ id: 1 }] })
  assert.equal(second.statusCode, 200, second.body)
  assert.equal(JSON.parse(second.body).url, '/orders?status=shipped')
  assert.deepEqual(countsSince(before), { vendy: 0, pv: 1, all: 1 }, 'one exchange (cold), no request when warm')
  assert.deepEqual(
    api.seen.slice(-2).map((s) => s.provider),
    ['puppetvendors', 'puppetvendors'],
  )
})

test("testing: a user's own node:test file against vendor-auth/testing passes", async () => {
  ran.add('examples/testing/orders.test.js')
  const { code, output } = await runTestFiles([path.join(EXAMPLES, 'testing', 'orders.test.js')], {
    killAfterMs: 60_000,
  })
  assert.equal(code, 0, output)
  assert.match(output, /^# pass 2$/m)
  assert.match(output, /^# fail 0$/m)
})
