'use strict'
// Shared by the Node tests: the known fake credentials every test uses (so the leak test can
// search all output for them), and a mock vendor configured with them.

const { startMockVendor } = require('../../testing')

/** Obviously fake credentials, long enough to be found if they ever leak. */
const SECRETS = Object.freeze({
  vendyAccessKey: 'vendy-ak-LEAKCHECK-7f3a9c1e5b',
  vendySecretKey: 'vendy-sk-LEAKCHECK-2d8e4b6a0c',
  vendyUsername: 'merchant-LEAKCHECK@example.com',
  vendyPassword: 'vendy-pw-LEAKCHECK-9a1b3c5d7e',
  pvApiKey: 'vk_test_LEAKCHECK_c4e6a8b0d2',
})

/** Start the mock vendor with the known credentials. */
function startMock(options = {}) {
  return startMockVendor({
    ...options,
    vendy: {
      accessKey: SECRETS.vendyAccessKey,
      secretKey: SECRETS.vendySecretKey,
      username: SECRETS.vendyUsername,
      password: SECRETS.vendyPassword,
      ...options.vendy,
    },
    puppetvendors: {
      keys: [{ apiKey: SECRETS.pvApiKey, shopDomain: 'mock-store.myshopify.com' }],
      ...options.puppetvendors,
    },
  })
}

/** Options for `authenticate()`/`createClient()` against `mock` for a provider. */
function optionsFor(mock, provider, extra = {}) {
  const creds =
    provider === 'vendy'
      ? { accessKey: SECRETS.vendyAccessKey, secretKey: SECRETS.vendySecretKey }
      : { apiKey: SECRETS.pvApiKey }
  return { provider, baseUrl: mock.baseUrl, caCert: mock.caCert, ...creds, ...extra }
}

/** A fresh mock for one test, closed when the test ends (even on failure). */
async function mockFor(t, options) {
  const mock = await startMock(options)
  t.after(() => mock.close())
  return mock
}

/** A client closed when the test ends. */
function clientFor(t, options) {
  const { createClient } = require('../..')
  const client = createClient(options)
  t.after(() => client.close())
  return client
}

module.exports = { SECRETS, startMock, optionsFor, mockFor, clientFor }
