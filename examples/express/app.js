'use strict'
// Express 5: a route that calls the vendor's API through client.fetch(), which adds the
// Authorization header and, after a 401, gets a new token and retries once. One client for the
// whole app: 200 concurrent requests on a cold start cause one exchange.
//
// Run: VENDY_ACCESS_KEY=… VENDY_SECRET_KEY=… node examples/express/app.js
// (VENDY_BASE_URL / VENDY_API_URL only to point at a mock; its CA through NODE_EXTRA_CA_CERTS.)

const express = require('express')
const { createClient, VendorAuthError } = require('vendor-auth')

/**
 * @param {import('vendor-auth').AuthClient<'vendy'>} vendy
 * @param {string} apiUrl the vendor's API, e.g. https://api.vendy.money
 */
function createApp(vendy, apiUrl) {
  const app = express()

  app.get('/wallets', async (req, res) => {
    // Express 5 passes a rejected promise to the error handler below.
    const response = await vendy.fetch(`${apiUrl}/wallets`, { signal: AbortSignal.timeout(10_000) })
    res.status(response.ok ? 200 : 502).json(await response.json())
  })

  // #region errors
  // A token that could not be had: say which failure (never a secret: messages hold none)
  app.use((error, req, res, next) => {
    if (!(error instanceof VendorAuthError)) return next(error)
    const status = error.code === 'RATE_LIMITED' ? 503 : 502
    if (error.retryAfterMs !== undefined) res.set('Retry-After', String(Math.ceil(error.retryAfterMs / 1000)))
    res.status(status).json({ error: error.code, message: error.message })
  })
  // #endregion
  return app
}

module.exports = { createApp }

if (require.main === module) {
  const vendy = createClient({ provider: 'vendy', baseUrl: process.env.VENDY_BASE_URL })
  const server = createApp(vendy, process.env.VENDY_API_URL ?? 'https://api.vendy.money').listen(
    Number(process.env.PORT ?? 3000),
    () => console.log(`listening on http://localhost:${server.address().port}/wallets`),
  )
  process.on('SIGTERM', () => server.close(() => vendy.close()))
}
