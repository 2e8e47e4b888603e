'use strict'
// The mock vendor the benchmarks run against, and the (obviously fake) credentials it accepts.
// Same pattern as __test__/helpers: known fake credentials and an `optionsFor` helper. The mock
// runs in its own process (forkMockVendor) so its work stays out of the measured event loop.

const { forkMockVendor } = require('../../testing')

/** Obviously fake credentials. */
const BENCH = Object.freeze({
  pvApiKey: 'vk_test_BENCHMARK_5e7a1c3b9d',
  shopDomain: 'bench-store.myshopify.com',
})

/** Start the mock vendor (child process) with the bench credentials. */
function forkBenchMock() {
  return forkMockVendor({
    puppetvendors: { keys: [{ apiKey: BENCH.pvApiKey, shopDomain: BENCH.shopDomain }] },
  })
}

/** Options for `authenticate()`/`createClient()` against the mock (PuppetVendors). */
function optionsFor(mock, extra = {}) {
  return {
    provider: 'puppetvendors',
    apiKey: BENCH.pvApiKey,
    baseUrl: mock.baseUrl,
    caCert: mock.caCert,
    ...extra,
  }
}

module.exports = { BENCH, forkBenchMock, optionsFor }
