'use strict'
// Your own tests against the mock vendor that vendor-auth/testing ships (the README's "Testing your
// own code"): a script of faults for the token endpoint, and a fake API of yours that checks tokens
// as the vendor's would. Run: node --test examples/testing/orders.test.js
// (Needs the optional peers @peculiar/x509 and reflect-metadata, as vendor-auth/testing says.)

// #region mock-vendor
const test = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const { createClient } = require('vendor-auth')
const { startMockVendor, MOCK_CREDENTIALS } = require('vendor-auth/testing')

const at = (mock) => ({ baseUrl: mock.baseUrl, caCert: mock.caCert }) // HTTPS on 127.0.0.1, with its own CA

test('client.fetch gets a new token when the API refuses a revoked one', async (t) => {
  const mock = await startMockVendor()
  t.after(() => mock.close())
  // The vendor API's stand-in: a token must be this mock's, signed, unexpired and not revoked
  const api = http.createServer((req, res) => res.writeHead(mock.verify(req.headers) ? 200 : 401).end())
  await new Promise((resolve) => api.listen(0, '127.0.0.1', resolve))
  t.after(() => api.close())
  const vendy = createClient({ provider: 'vendy', ...MOCK_CREDENTIALS.vendy, ...at(mock) })
  t.after(() => vendy.close())
  const url = `http://127.0.0.1:${api.address().port}/wallets`
  assert.equal((await vendy.fetch(url)).status, 200)
  mock.revokeTokens() // the API now answers 401 to that token
  assert.equal((await vendy.fetch(url)).status, 200)
  assert.equal(mock.count('vendy.auth'), 2)
})
// #endregion

test('a 503 from the token endpoint is retried', async (t) => {
  const mock = await startMockVendor()
  t.after(() => mock.close())
  const client = createClient({ provider: 'puppetvendors', ...MOCK_CREDENTIALS.puppetvendors, ...at(mock) })
  t.after(() => client.close())
  mock.script('pv.authenticate', [{ status: 503 }]) // then normal answers
  await client.authHeader()
  assert.equal(mock.count('pv.authenticate'), 2)
})
