'use strict'
// A Lambda-style handler (AWS Lambda, Vercel and Netlify functions, Cloud Functions): the client
// lives in module scope, so every warm invocation of the same instance reuses its token. Only
// the first (cold) invocation makes an exchange. Nothing here keeps the process alive between
// invocations: the client holds no timer and no open handle.
//
// Environment: PUPPETVENDORS_API_KEY (and PUPPETVENDORS_SHOP_DOMAIN). Packaging: README,
// "Serverless". (__test__/examples.test.js runs it against the mock vendor.)

// #region handler
const { createClient } = require('vendor-auth')

// Module scope: created once per instance; every warm invocation reuses its token
const puppetVendors = createClient({ provider: 'puppetvendors' })

exports.handler = async (event) => {
  const status = encodeURIComponent(event.status ?? 'open')
  const response = await puppetVendors.fetch(`https://api.puppetvendors.com/v2/orders?status=${status}`)
  return { statusCode: response.ok ? 200 : 502, body: await response.text() }
}
// #endregion
