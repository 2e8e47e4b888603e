// Keys from a secret manager, rotated without a restart: a credential option given as a function
// is asked before each exchange (never on the hot path), so a key rotated in the secret manager
// is used from the next exchange on. Run by __test__/rotation.test.js against the mock vendor,
// which knows both keys: PUPPETVENDORS_API_KEY and, once rotated, ROTATED_API_KEY.
// Run: PUPPETVENDORS_API_KEY=… ROTATED_API_KEY=… node examples/secret-manager.mjs

// #region secret-manager
import { createClient } from 'vendor-auth'

const puppetVendors = createClient({
  provider: 'puppetvendors',
  // Asked before each exchange; a rotated key is used from the next one on, without a restart
  apiKey: () => secrets.get('puppetvendors/api-key'),
})
// #endregion

// A stand-in for your secret manager's client (AWS Secrets Manager, Vault, Doppler…)
const stored = new Map([['puppetvendors/api-key', process.env.PUPPETVENDORS_API_KEY]])
const secrets = { get: async (name) => stored.get(name) }

const before = await puppetVendors.authHeader()
// The key is rotated in the secret manager, and the vendor's API refuses the old token (a 401)
stored.set('puppetvendors/api-key', process.env.ROTATED_API_KEY)
puppetVendors.invalidate(before)
const after = await puppetVendors.authHeader()
console.log(JSON.stringify({ newToken: after['x-access-token'] !== before['x-access-token'] }))
puppetVendors.close()
