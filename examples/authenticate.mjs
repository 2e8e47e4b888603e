// One exchange without a client (the README's API section): PuppetVendors keys from the
// environment, the session's fields, and what printing it shows.
// Run: PUPPETVENDORS_API_KEY=… node examples/authenticate.mjs

// #region authenticate
import { authenticate } from 'vendor-auth'

// Keys from the options or the environment: PUPPETVENDORS_API_KEY (and PUPPETVENDORS_SHOP_DOMAIN)
const session = await authenticate({ provider: 'puppetvendors' })
session.headers // { 'x-access-token': 'eyJ…' }: spread it into a request's headers
session.expiresAt // ms since the epoch (null: never, for Vendy's scheme 'basic')
session.permissions // ['orders:read', …]: each vendor's own fields
console.log(session) // Session { provider: 'puppetvendors', token: 'eyJhbG…', … }: never the whole token
// #endregion
