// ESM flavour of the browser entry: evaluating it throws SERVER_ONLY (see browser.js). It
// declares the names of every entry (`vendor-auth`, `/testing`, `/nest`) so that a client-side
// `import { createClient } from 'vendor-auth'` fails with that error, rather than with a
// bundler's "export 'createClient' was not found" that never says why.
import './browser.js'

export let authenticate, createClient, AuthClient, VendorAuthError, ErrorCodes, Session, redisTokenStore
export let upstashTokenStore, durableObjectTokenStore, VendorAuthTokenStore
export let startMockVendor, forkMockVendor, ENDPOINTS, MOCK_CREDENTIALS
export let VendorAuthModule, VENDOR_AUTH_CLIENT
export default undefined
