'use strict'
// vendor-auth's edge-light entry in a real Next.js app built with webpack (`next build
// --webpack`): middleware.js and an edge route handler under `next build && next start` (suite.js).
// Run: npm run test:next (or node --test __test__/next/next-webpack.test.js; see harness.js).

const { nextAppSuite } = require('./suite')

nextAppSuite('webpack')
