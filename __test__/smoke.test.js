'use strict'
// The smoke set: what must hold on every Node line users run, in seconds. `npm run
// test:node-versions` (scripts/node-versions.sh) runs this file on Node 22 and 24, and the pack
// test's install there (scripts/pack-test.js --node); the whole suite runs once, on the Node the
// README names (`npm test`). Here: the package loads (CommonJS and ESM, one instance, the native
// addon), one exchange per vendor against the local HTTPS mock, the herd (1,000 concurrent callers
// on a cold client share one exchange), and the server-only guard (the JS entry and the .node
// file's own init refuse under browser globals).
// Run: node --test __test__/smoke.test.js

const { test } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')

const vendorAuth = require('..')
const { authenticate, createClient, VendorAuthError } = vendorAuth
const { mockFor, optionsFor } = require('./helpers')
const { runNode } = require('./helpers/util')

const ENDPOINT = { vendy: 'vendy.auth', puppetvendors: 'pv.authenticate' }
const PROBE = path.join(__dirname, 'fixtures', 'server-only', 'probe.js')

test(`loads on Node ${process.version}: CommonJS and ESM give one instance, on the native addon`, async () => {
  assert.equal(typeof authenticate, 'function')
  assert.equal(typeof createClient, 'function')
  const esm = await import('vendor-auth')
  assert.equal(esm.createClient, createClient, 'import and require share one instance')
  assert.equal(esm.VendorAuthError, VendorAuthError)
  const addons = Object.keys(require.cache).filter((f) => f.endsWith('.node'))
  assert.equal(addons.length, 1, `the native addon is loaded (not the wasm fallback): ${addons.join(', ')}`)
})

for (const provider of ['vendy', 'puppetvendors']) {
  test(`${provider}: one exchange gives a token the vendor accepts`, async (t) => {
    const mock = await mockFor(t)
    const session = await authenticate(optionsFor(mock, provider))
    assert.equal(mock.count(ENDPOINT[provider]), 1)
    assert.equal(mock.verify(session.token).provider, provider)
    assert.ok(session.expiresAt > Date.now())
  })
}

test('the herd: 1,000 concurrent authHeader() calls on a cold client make one exchange', async (t) => {
  const mock = await mockFor(t)
  mock.script(ENDPOINT.puppetvendors, { delayMs: 100 })
  const client = createClient(optionsFor(mock, 'puppetvendors'))
  t.after(() => client.close())
  const headers = await Promise.all(Array.from({ length: 1000 }, () => client.authHeader()))
  assert.equal(mock.count(), 1)
  assert.equal(new Set(headers).size, 1, 'every caller got the same header')
  assert.equal(mock.verify(headers[0]['x-access-token']).provider, 'puppetvendors')
})

test('the server-only guard: browser globals → SERVER_ONLY, from the JS entry and the .node init', async () => {
  const probe = async (config) => {
    const env = { VENDOR_AUTH_ALLOW_DOM_GLOBALS: undefined, NODE_TEST_CONTEXT: undefined }
    const result = await runNode([PROBE, JSON.stringify(config)], { env, timeoutMs: 20_000 })
    assert.equal(result.code, 0, result.stderr)
    return JSON.parse(result.stdout.trim().split('\n').pop())
  }
  const [js, native, plain] = await Promise.all([
    probe({ target: 'package', globals: ['window', 'document'] }),
    probe({ target: 'native', globals: ['window'] }),
    probe({ target: 'native' }),
  ])
  assert.equal(js.ok, false, JSON.stringify(js))
  assert.equal(js.error.code, 'SERVER_ONLY')
  assert.equal(js.error.isVendorAuthError, true)
  assert.equal(native.ok, false, JSON.stringify(native))
  assert.equal(native.error.code, 'SERVER_ONLY')
  assert.equal(plain.ok, true, `the control (no browser globals) loads: ${JSON.stringify(plain.error)}`)
})
