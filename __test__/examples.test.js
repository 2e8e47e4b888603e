'use strict'
// The examples under examples/, each run against the mock vendor (its CA trusted through
// NODE_EXTRA_CA_CERTS, as a deployed app would trust a corporate CA) and a fake vendor API that
// checks every token with mock.verify(), as the real API would:
//   express/app.js   200 concurrent GET /wallets on a cold start → one exchange; a revoked token
//                    → client.fetch gets a new one and retries; refused keys → 502 with the code
//   nest/            compiled with tsc (decorators + metadata), run as `node dist/main.js`, and
//                    through an application context: injection by class and by token, closed by
//                    app.close()
//   lambda/handler.js  called twice in one process: the second invocation makes no exchange

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const http = require('node:http')
const os = require('node:os')
const path = require('node:path')

const { startMockVendor, MOCK_CREDENTIALS } = require('../testing')
const { ROOT, runNode, lastJsonLine, withEnv } = require('./helpers/util')
const { clientFor } = require('./helpers')

const EXAMPLES = path.join(ROOT, 'examples')

let mock
let api
let caFile

/** A fake vendor API on loopback: every path answers 200 with what mock.verify() said, or 401. */
async function startFakeApi(vendor) {
  const seen = []
  const server = http.createServer((req, res) => {
    const token = vendor.verify(req.headers)
    seen.push({ url: req.url, provider: token && token.provider })
    res.writeHead(token ? 200 : 401, { 'content-type': 'application/json' })
    res.end(JSON.stringify(token ? { url: req.url, items: [{ id: 1 }] } : { error: 'UNAUTHORIZED' }))
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    seen,
    close: () => new Promise((resolve) => server.close(resolve)),
  }
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

/** The environment a deployed example gets: keys, the mock's CA, and where the vendor is. */
function exampleEnv() {
  return {
    NODE_EXTRA_CA_CERTS: caFile,
    PUPPETVENDORS_API_KEY: MOCK_CREDENTIALS.puppetvendors.apiKey,
    PUPPETVENDORS_SHOP_DOMAIN: undefined,
    PUPPETVENDORS_BASE_URL: mock.baseUrl,
    PUPPETVENDORS_API_URL: api.url,
  }
}

async function listen(app) {
  const server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s))
  })
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) }
}

test('express: 200 concurrent requests on a cold start cause one exchange; a revoked token is replaced', async (t) => {
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
  const run = await runNode([path.join(EXAMPLES, 'nest', 'dist', 'main.js')], { env: exampleEnv(), timeoutMs: 30_000 })
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
  const run = await runNode(['-e', script], { env: exampleEnv(), timeoutMs: 30_000 })
  assert.equal(run.code, 0, run.stdout + run.stderr)
  assert.deepEqual(lastJsonLine(run.stdout), {
    same: true,
    provider: 'puppetvendors',
    header: ['x-access-token'],
    orders: { url: '/orders?status=shipped', items: [{ id: 1 }] },
    closed: 'CLOSED',
  })
})

test('lambda: two invocations in one process, the second makes no exchange', async () => {
  const file = path.join(EXAMPLES, 'lambda', 'handler.js')
  delete require.cache[file]
  // The runtime loads the module once (cold start), with the function's environment.
  const { handler } = await withEnv(exampleEnv(), () => require(file))
  const before = { exchanges: mock.count('pv.authenticate'), requests: mock.count() }

  const first = await handler({ status: 'open' })
  assert.equal(first.statusCode, 200, first.body)
  assert.deepEqual(JSON.parse(first.body), { url: '/orders?status=open', items: [{ id: 1 }] })
  assert.equal(mock.count('pv.authenticate') - before.exchanges, 1, 'the cold invocation: one exchange')

  const second = await handler({ status: 'shipped' })
  assert.equal(second.statusCode, 200, second.body)
  assert.equal(JSON.parse(second.body).url, '/orders?status=shipped')
  assert.equal(mock.count() - before.requests, 1, 'the warm invocation: no request to the vendor at all')
  assert.deepEqual(
    api.seen.slice(-2).map((s) => s.provider),
    ['puppetvendors', 'puppetvendors'],
  )
})
