// The README's quick start, as an application runs it: Vendy keys from the environment, a header
// for a request of your own, then client.fetch doing both.
// Run: VENDY_ACCESS_KEY=… VENDY_SECRET_KEY=… node examples/quick-start.mjs
// (__test__/examples.test.js runs it against the mock vendor, the first API call refused.)

// #region quick-start
import { createClient } from 'vendor-auth'

// Keys from the options or the environment: VENDY_ACCESS_KEY, VENDY_SECRET_KEY
const vendy = createClient({ provider: 'vendy' })

// A header for your own request: cached, refreshed before expiry, one exchange for all callers
const headers = await vendy.authHeader() // { Authorization: 'Bearer eyJ…' }
const res = await fetch('https://api.vendy.money/wallets', { headers })
if (res.status === 401) vendy.invalidate(headers) // revoked: the next call gets a new token

// Or both in one call: the header merged in, and one retry with a new token after a 401
const wallets = await vendy.fetch('https://api.vendy.money/wallets')
// #endregion

console.log(JSON.stringify({ first: res.status, then: wallets.status, body: await wallets.json() }))
vendy.close()
