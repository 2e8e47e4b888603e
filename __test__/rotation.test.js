'use strict'
// Credentials from a secret manager, rotated without a restart: a credential option given as a
// function (sync or async) is asked before each exchange and never on the hot path; after a
// refusal the next call asks again, a changed key is tried at once and an unchanged one keeps
// the cool-down; a function that throws is INVALID_OPTIONS with its error as cause and is not
// asked in a loop; the shared store's key follows the value; the values are secrets like any key.
// Counts at the mock vendor. Both builds (wasm.test.js).
// Run: node --test __test__/rotation.test.js

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { inspect } = require('node:util')

const { authenticate, createClient } = require('..')
const { SECRETS, mockFor } = require('./helpers')
const { expectVendorError } = require('./helpers/util')
const { virtualClock } = require('./helpers/clock')

const SHOP = 'mock-store.myshopify.com'
const ROTATED = 'vk_test_ROTATED_4f9a0c2e7b1d5863'
const REFUSED = 'vk_test_REVOKED_0a1b2c3d4e5f6789'

/** A mock that knows the current key and the rotated one (not the revoked one). */
function twoKeyMock(t) {
  return mockFor(t, {
    puppetvendors: {
      keys: [
        { apiKey: SECRETS.pvApiKey, shopDomain: SHOP },
        { apiKey: ROTATED, shopDomain: SHOP },
      ],
    },
  })
}

/** A "secret manager": the value now, and how often it was asked. */
function secretManager(initial, { async = true } = {}) {
  const manager = {
    value: initial,
    asked: 0,
    get: async
      ? async () => {
          manager.asked++
          return manager.value
        }
      : () => {
          manager.asked++
          return manager.value
        },
  }
  return manager
}

function clientFor(t, mock, options) {
  const client = createClient({ provider: 'puppetvendors', baseUrl: mock.baseUrl, caCert: mock.caCert, ...options })
  t.after(() => client.close())
  return client
}

test('a key function is asked once per exchange, never on the hot path (sync and async)', async (t) => {
  const mock = await twoKeyMock(t)
  for (const async of [true, false]) {
    const vault = secretManager(SECRETS.pvApiKey, { async })
    const client = clientFor(t, mock, { apiKey: vault.get })
    assert.equal(vault.asked, 0, 'not asked at construction')
    const headers = await Promise.all(Array.from({ length: 50 }, () => client.authHeader()))
    for (let i = 0; i < 1000; i++) await client.authHeader()
    assert.equal(new Set(headers.map((h) => h['x-access-token'])).size, 1)
    assert.equal(vault.asked, 1, `asked once for 1050 calls (${async ? 'async' : 'sync'})`)
  }
  assert.equal(mock.count('pv.authenticate'), 2)
})

test('after a refusal the next call asks again: an unchanged key keeps the cool-down, a rotated one is tried at once', async (t) => {
  const mock = await twoKeyMock(t)
  const vault = secretManager(REFUSED)
  const client = clientFor(t, mock, { apiKey: vault.get })
  await expectVendorError(client.authHeader(), { code: 'UNAUTHORIZED' })
  assert.equal(mock.count('pv.authenticate'), 1)
  // Unchanged: asked again, and the cool-down stands (no request).
  await expectVendorError(client.authHeader(), { code: 'UNAUTHORIZED', message: /remembered/ })
  assert.equal(vault.asked, 2)
  assert.equal(mock.count('pv.authenticate'), 1)
  // Not asked again in a loop while the cool-down lasts.
  await expectVendorError(client.authHeader(), { code: 'UNAUTHORIZED' })
  assert.equal(vault.asked, 2)
  // The key is rotated; the vendor refuses the old one once more, then the new key is asked for.
  vault.value = ROTATED
  const clock = virtualClock(t)
  clock.tick(1_100) // the 1 s cool-down is over: the next exchange asks the function
  const header = await client.authHeader()
  assert.ok(header['x-access-token'])
  assert.equal(mock.count('pv.authenticate'), 2, 'one request with the rotated key')
  assert.equal(vault.asked, 3)
})

test('a rotated key right after a refusal is tried at once, inside the cool-down', async (t) => {
  const mock = await twoKeyMock(t)
  const vault = secretManager(REFUSED)
  const client = clientFor(t, mock, { apiKey: vault.get })
  await expectVendorError(client.authHeader(), { code: 'UNAUTHORIZED' })
  vault.value = ROTATED // the operator rotated it; no time passes
  const header = await client.authHeader()
  assert.ok(header['x-access-token'])
  assert.equal(mock.count('pv.authenticate'), 2)
  const { body } = mock.requests.at(-1)
  assert.match(
    typeof body === 'object' && !Buffer.isBuffer(body) ? JSON.stringify(body) : String(body),
    new RegExp(ROTATED),
  )
})

test('a key function that throws or returns no string: INVALID_OPTIONS with its error as cause, not asked in a loop', async (t) => {
  const mock = await twoKeyMock(t)
  const clock = virtualClock(t)
  const boom = new Error('vault unreachable')
  let asked = 0
  const client = clientFor(t, mock, {
    apiKey: async () => {
      asked++
      throw boom
    },
  })
  const errors = []
  client.on('error', (e) => errors.push(e))
  const error = await expectVendorError(client.authHeader(), { code: 'INVALID_OPTIONS', message: /apiKey function/ })
  assert.equal(error.cause, boom)
  for (let i = 0; i < 10; i++) await expectVendorError(client.authHeader(), { code: 'INVALID_OPTIONS' })
  assert.equal(asked, 1, 'remembered for a second, not asked again')
  clock.tick(1_001)
  await expectVendorError(client.authHeader(), { code: 'INVALID_OPTIONS', message: /asked again in 2 s/ })
  assert.equal(asked, 2)
  assert.equal(mock.count(), 0)
  assert.ok(errors.length >= 2 && errors.every((e) => e.code === 'INVALID_OPTIONS'))

  for (const [value, what] of [
    [undefined, /returned a undefined/],
    [42, /returned a number/],
    ['', /returned an empty string/],
  ]) {
    const other = clientFor(t, mock, { apiKey: () => value })
    await expectVendorError(other.authHeader(), { code: 'INVALID_OPTIONS', message: what })
  }
  // authenticate() takes functions too.
  await expectVendorError(
    authenticate({ provider: 'puppetvendors', baseUrl: mock.baseUrl, apiKey: () => Promise.reject(boom) }),
    {
      code: 'INVALID_OPTIONS',
    },
  )
  const session = await authenticate({
    provider: 'puppetvendors',
    baseUrl: mock.baseUrl,
    caCert: mock.caCert,
    apiKey: async () => SECRETS.pvApiKey,
  })
  assert.ok(session.token)
})

test('every credential option takes a function: Vendy keys, and the PuppetVendors shop that selects the key', async (t) => {
  const mock = await twoKeyMock(t)
  const pv = clientFor(t, mock, { apiKey: SECRETS.pvApiKey, shopDomain: async () => SHOP })
  assert.ok((await pv.authHeader())['x-access-token'])
  const vendy = createClient({
    provider: 'vendy',
    baseUrl: mock.baseUrl,
    caCert: mock.caCert,
    accessKey: () => SECRETS.vendyAccessKey,
    secretKey: async () => SECRETS.vendySecretKey,
  })
  t.after(() => vendy.close())
  assert.match((await vendy.authHeader()).Authorization, /^Bearer /)
  assert.equal(mock.count(), 2)
})

test('the values a function gives are secrets: never in errors, logs, inspect or JSON', async (t) => {
  const mock = await twoKeyMock(t)
  const lines = []
  const vault = secretManager(REFUSED)
  const client = clientFor(t, mock, { apiKey: vault.get, logger: (line) => lines.push(line) })
  const error = await expectVendorError(client.authHeader(), { code: 'UNAUTHORIZED' })
  vault.value = ROTATED
  await client.authHeader()
  const seen = [
    inspect(error, { depth: 5 }),
    JSON.stringify(error),
    inspect(client, { depth: 5 }),
    JSON.stringify(client),
    ...lines,
  ]
  for (const text of seen) {
    assert.ok(!text.includes(REFUSED) && !text.includes(ROTATED), `a key in: ${text.slice(0, 200)}`)
  }
})

test("the shared store's key follows the value: processes on the new key share again", async (t) => {
  const mock = await twoKeyMock(t)
  const values = new Map()
  const tokenStore = {
    async get(key) {
      return values.get(key) ?? null
    },
    async set(key, value) {
      values.set(key, value)
    },
    async lock(key, owner) {
      if (values.has(key)) return false
      values.set(key, owner)
      return true
    },
    async release(key, owner) {
      if (values.get(key) === owner) values.delete(key)
    },
  }
  const vaultA = secretManager(SECRETS.pvApiKey)
  const a = clientFor(t, mock, { apiKey: vaultA.get, tokenStore })
  await a.authHeader()
  const before = [...values.keys()].filter((k) => k.endsWith(':session'))
  // Rotated everywhere: a's next exchange (after a 401) uses the new key and publishes under its
  // entry; b, on the new key from the start, adopts it.
  vaultA.value = ROTATED
  a.invalidate()
  const fresh = await a.authHeader()
  const after = [...values.keys()].filter((k) => k.endsWith(':session'))
  assert.equal(after.length, 2, 'a second entry, under the new key')
  assert.notDeepEqual(after, before)
  const b = clientFor(t, mock, { apiKey: async () => ROTATED, tokenStore })
  assert.deepEqual(await b.authHeader(), fresh)
  assert.equal(mock.count('pv.authenticate'), 2)
})

test("the README's example (examples/secret-manager.mjs): a key rotated in the secret manager is used without a restart", async (t) => {
  const fs = require('node:fs')
  const os = require('node:os')
  const path = require('node:path')
  const { ROOT, runNode, lastJsonLine } = require('./helpers/util')
  const mock = await twoKeyMock(t)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vendor-auth-rotation-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  fs.writeFileSync(path.join(dir, 'ca.pem'), mock.caCert)
  // As examples.test.js runs the examples: vendor-hosts.js points the vendor's host at the mock.
  const run = await runNode(
    [
      '-r',
      path.join(__dirname, 'fixtures', 'examples', 'vendor-hosts.js'),
      path.join(ROOT, 'examples', 'secret-manager.mjs'),
    ],
    {
      env: {
        NODE_EXTRA_CA_CERTS: path.join(dir, 'ca.pem'),
        VENDOR_AUTH_EXAMPLE_BASE_URL: mock.baseUrl,
        VENDOR_AUTH_EXAMPLE_API_URL: 'http://127.0.0.1:9', // no API call in this example
        PUPPETVENDORS_API_KEY: SECRETS.pvApiKey,
        PUPPETVENDORS_SHOP_DOMAIN: undefined,
        ROTATED_API_KEY: ROTATED,
      },
      timeoutMs: 30_000,
    },
  )
  assert.equal(run.code, 0, run.stdout + run.stderr)
  assert.deepEqual(lastJsonLine(run.stdout), { newToken: true })
  const name = { [SECRETS.pvApiKey]: 'first key', [ROTATED]: 'rotated key' } // no key in a failure's output
  const keys = mock.requests.filter((r) => r.endpoint === 'pv.authenticate').map((r) => JSON.parse(r.body).apiKey)
  assert.deepEqual(
    keys.map((key) => name[key] ?? 'another key'),
    ['first key', 'rotated key'],
    'one exchange with each key, in one process',
  )
})
