'use strict'
// vendor-auth/testing: a mock Vendy + PuppetVendors auth server for tests
// and benchmarks of code that uses vendor-auth.
//
//   const { startMockVendor } = require('vendor-auth/testing');
//   const mock = await startMockVendor();
//   // point the client at mock.baseUrl, trust mock.caCert
//   mock.script('pv.authenticate', [{ status: 500 }, { delayMs: 200 }]);
//   ...
//   await mock.close();
//
// The implementation is split into small modules:
//   server.js        HTTPS server, request recording, applying fault steps
//   vendors.js       normal behaviour of the vendor endpoints
//   steps.js         step validation and per-endpoint step queues
//   verify.js        mock.verify(): checking tokens for users' fake resource endpoints
//   jwt.js           HS256 token issuing / verification / revocation
//   certs.js         per-server CA + leaf certificate generation
//   fork.js          forkMockVendor (parent side of the IPC)
//   mock-process.js  child-process entry for forkMockVendor
// See index.d.ts for the documented API.

// Server-only like the package: it refuses a browser-like scope before anything else.
require('../lib/guard').assertServerContext()

const { startMockVendor } = require('./server')
const { forkMockVendor } = require('./fork')
const { ENDPOINTS } = require('./steps')
const { MOCK_CREDENTIALS } = require('./vendors')

module.exports = { startMockVendor, forkMockVendor, ENDPOINTS, MOCK_CREDENTIALS }
