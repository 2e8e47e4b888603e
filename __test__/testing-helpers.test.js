'use strict'
// vendor-auth/testing as a user's test suite meets it: without its optional peers (the error
// names them and the install command), MOCK_CREDENTIALS against a default mock, and
// mock.verify() behind a fake resource endpoint that client.fetch() calls.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const http = require('node:http')
const os = require('node:os')
const path = require('node:path')

const { authenticate } = require('..')
const { startMockVendor, forkMockVendor, MOCK_CREDENTIALS } = require('../testing')
const { ROOT, runNode, lastJsonLine } = require('./helpers/util')
const { clientFor } = require('./helpers')

/**
 * A copy of testing/ (with the server-only guard it loads, lib/guard.js and lib/errors.js) in a
 * folder where `node_modules` holds only `peers` (linked from ours).
 */
function isolatedTesting(t, peers) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vendor-auth-testing-peers-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  fs.cpSync(path.join(ROOT, 'testing'), path.join(dir, 'testing'), { recursive: true })
  for (const file of ['guard.js', 'errors.js']) fs.cpSync(path.join(ROOT, 'lib', file), path.join(dir, 'lib', file))
  for (const peer of peers) {
    fs.mkdirSync(path.dirname(path.join(dir, 'node_modules', peer)), { recursive: true })
    fs.symlinkSync(fs.realpathSync(path.join(ROOT, 'node_modules', peer)), path.join(dir, 'node_modules', peer), 'dir')
  }
  return dir
}

const START = `
const report = (e) => console.log(JSON.stringify({ code: e.code, message: e.message }))
mod.startMockVendor().then(async (m) => { await m.close(); console.log('{"started":true}') }, report)
`

test('without its optional peers, startMockVendor() names both and the install command (CJS and ESM)', async (t) => {
  const dir = isolatedTesting(t, [])
  const cjs = await runNode(['-e', `const mod = require('./testing')\n${START}`], { cwd: dir })
  const esm = await runNode(['--input-type=module', '-e', `import * as mod from './testing/index.mjs'\n${START}`], {
    cwd: dir,
  })
  for (const run of [cjs, esm]) {
    assert.equal(run.code, 0, run.stderr)
    const { code, message } = lastJsonLine(run.stdout)
    assert.equal(code, 'MODULE_NOT_FOUND')
    assert.match(
      message,
      /^vendor-auth\/testing needs its optional peer dependencies reflect-metadata and @peculiar\/x509/,
    )
    assert.match(message, /npm install --save-dev reflect-metadata @peculiar\/x509$/)
  }
})

test('with one peer missing, the message names that one', async (t) => {
  const dir = isolatedTesting(t, ['@peculiar/x509'])
  const run = await runNode(['-e', `const mod = require('./testing')\n${START}`], { cwd: dir })
  const { message } = lastJsonLine(run.stdout)
  assert.match(message, /needs its optional peer dependency reflect-metadata to make/)
  assert.doesNotMatch(message, /dependency @peculiar/)
})

test('what needs no certificate works without the peers: MOCK_CREDENTIALS and ENDPOINTS', async (t) => {
  const dir = isolatedTesting(t, [])
  const run = await runNode(
    ['-e', "const m = require('./testing'); console.log(JSON.stringify([m.MOCK_CREDENTIALS, m.ENDPOINTS]))"],
    { cwd: dir },
  )
  assert.equal(run.code, 0, run.stderr)
  assert.deepEqual(lastJsonLine(run.stdout), [MOCK_CREDENTIALS, ['vendy.auth', 'pv.authenticate', 'pv.refresh']])
})

test("MOCK_CREDENTIALS spread into the options work against a default mock, and can't be changed", async (t) => {
  const mock = await startMockVendor()
  t.after(() => mock.close())
  const common = { baseUrl: mock.baseUrl, caCert: mock.caCert }
  const vendy = await authenticate({ provider: 'vendy', ...MOCK_CREDENTIALS.vendy, ...common })
  const legacy = await authenticate({ provider: 'vendy', ...MOCK_CREDENTIALS.vendyLegacy, ...common })
  const pv = await authenticate({ provider: 'puppetvendors', ...MOCK_CREDENTIALS.puppetvendors, ...common })
  assert.equal(mock.count('vendy.auth'), 2)
  assert.equal(pv.shopDomain, MOCK_CREDENTIALS.puppetvendors.shopDomain)
  assert.equal(mock.verify(legacy.token).subject, MOCK_CREDENTIALS.vendyLegacy.username)
  assert.equal(mock.verify(vendy.token).subject, MOCK_CREDENTIALS.vendy.accessKey)
  assert.ok(Object.isFrozen(MOCK_CREDENTIALS) && Object.isFrozen(MOCK_CREDENTIALS.vendy))
})

test('mock.verify() behind a fake resource endpoint: client.fetch gets 200, what the API would refuse gets null', async (t) => {
  const mock = await startMockVendor()
  t.after(() => mock.close())
  const seen = []
  const api = http.createServer((req, res) => {
    const info = mock.verify(req.headers)
    seen.push(info)
    res.writeHead(info ? 200 : 401, { 'content-type': 'application/json' })
    res.end(JSON.stringify(info ? { orders: [], shop: info.shopDomain } : { error: 'unauthorized' }))
  })
  await new Promise((resolve) => api.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise((resolve) => api.close(resolve)))
  const url = `http://127.0.0.1:${api.address().port}/orders`

  const common = { baseUrl: mock.baseUrl, caCert: mock.caCert }
  const pv = clientFor(t, { provider: 'puppetvendors', ...MOCK_CREDENTIALS.puppetvendors, ...common })
  const response = await pv.fetch(url)
  assert.equal(response.status, 200)
  assert.deepEqual(await response.json(), { orders: [], shop: 'mock-store.myshopify.com' })
  assert.deepEqual(Object.keys(seen[0]).sort(), ['expiresAt', 'provider', 'shopDomain', 'subject', 'vendorId'])
  assert.equal(seen[0].provider, 'puppetvendors')
  const session = await pv.getSession()
  assert.ok(Math.abs(seen[0].expiresAt - session.expiresAt) < 2000, 'expiresAt on our clock')

  const vendy = await authenticate({ provider: 'vendy', ...MOCK_CREDENTIALS.vendy, ...common })
  assert.equal(mock.verify(vendy.headerValue).provider, 'vendy', "an Authorization value ('Bearer …')")
  assert.equal(mock.verify(new Headers(vendy.headers)).provider, 'vendy', 'a Headers')
  assert.equal(mock.verify({ 'x-access-token': vendy.token }), null, "a Vendy token in PuppetVendors' header")
  assert.equal(mock.verify({ Authorization: session.token }), null, 'no Bearer scheme')
  assert.equal(mock.verify({}), null, 'no token at all')
  const [head, body] = vendy.token.split('.')
  assert.equal(mock.verify(`${head}.${body}.forged`), null, 'a bad signature')

  const other = await startMockVendor()
  t.after(() => other.close())
  assert.equal(other.verify(vendy.token), null, "another mock's token")
  assert.throws(() => mock.verify(42), TypeError)

  mock.revokeTokens()
  assert.equal(mock.verify(vendy.token), null, 'revoked')
  // The endpoint now refuses the client's token (401), and client.fetch recovers: a new exchange
  // and one retry.
  const exchanges = mock.count('pv.authenticate')
  const retried = await pv.fetch(url)
  assert.equal(retried.status, 200)
  assert.deepEqual(
    seen.slice(-2).map((info) => info && info.provider),
    [null, 'puppetvendors'],
  )
  assert.equal(mock.count('pv.authenticate') - exchanges, 1)
})

test('forkMockVendor: verify() over IPC, a Headers too', async (t) => {
  const forked = await forkMockVendor()
  t.after(() => forked.close())
  const session = await authenticate({
    provider: 'puppetvendors',
    ...MOCK_CREDENTIALS.puppetvendors,
    baseUrl: forked.baseUrl,
    caCert: forked.caCert,
  })
  assert.equal((await forked.verify(session.token)).vendorId, 'vendor_123')
  assert.equal((await forked.verify(new Headers(session.headers))).provider, 'puppetvendors')
  assert.equal(await forked.verify('not-a-token'), null)
})
