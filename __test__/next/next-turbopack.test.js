'use strict'
// vendor-auth's edge-light entry in a real Next.js app built with Turbopack (Next 16's default):
// middleware.js and an edge route handler under `next build && next start` (suite.js), then the
// first-header figure against a bare fetch.
// Run: npm run test:next (or node --test __test__/next/next-turbopack.test.js; see harness.js).

const { nextAppSuite } = require('./suite')

nextAppSuite('turbopack', { bench: true })
