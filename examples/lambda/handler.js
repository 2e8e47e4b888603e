'use strict'
// A Lambda-style handler (AWS Lambda, Vercel and Netlify functions, Cloud Functions): the client
// lives in module scope, so every warm invocation of the same instance reuses its token. Only
// the first (cold) invocation makes an exchange. Nothing here keeps the process alive between
// invocations: the client holds no timer and no open handle.
//
// Environment: PUPPETVENDORS_API_KEY (and PUPPETVENDORS_SHOP_DOMAIN); PUPPETVENDORS_BASE_URL /
// PUPPETVENDORS_API_URL only to point at a mock. Packaging: see README, "Lambda zips".

const { createClient } = require('vendor-auth')

const puppetVendors = createClient({ provider: 'puppetvendors', baseUrl: process.env.PUPPETVENDORS_BASE_URL })
const API_URL = process.env.PUPPETVENDORS_API_URL ?? 'https://api.puppetvendors.com/v2'

/** @param {{ status?: string }} event */
exports.handler = async (event) => {
  const status = (event && event.status) || 'open'
  const response = await puppetVendors.fetch(`${API_URL}/orders?status=${encodeURIComponent(status)}`)
  return {
    statusCode: response.ok ? 200 : 502,
    headers: { 'content-type': 'application/json' },
    body: await response.text(),
  }
}
