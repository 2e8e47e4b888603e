'use strict'
// Figure 1. Hot path: `await client.authHeader()` with a fresh token, in ns/op, against
// (a) a hand-written cached-token async getter and (b) google-auth-library's
// `OAuth2Client#getRequestHeaders()` with a cached credential. Rounds interleave the three
// subjects in a rotating order; each round gives a ratio.

const { createClient } = require('vendor-auth')
const { OAuth2Client } = require('google-auth-library')
const { optionsFor } = require('../lib/bench-mock')
const { main, mock, now } = require('../lib/worker')
const { rotate } = require('../lib/stats')

/**
 * The reference: what one would write by hand. An async getter, a Date.now() check against the
 * refresh point, a cached frozen header object; the slow path (never taken here) fetches.
 */
class PlainCachedToken {
  constructor(fetchHeader) {
    this.fetchHeader = fetchHeader
    this.header = null
    this.refreshAt = 0
  }

  async get() {
    if (Date.now() < this.refreshAt) return this.header
    const { header, refreshAt } = await this.fetchHeader()
    this.header = header
    this.refreshAt = refreshAt
    return header
  }
}

// One loop function per subject, so each call site stays monomorphic.
async function loopVendorAuth(client, n) {
  let h
  for (let i = 0; i < n; i++) h = await client.authHeader()
  return h
}

async function loopPlain(plain, n) {
  let h
  for (let i = 0; i < n; i++) h = await plain.get()
  return h
}

async function loopGoogle(gal, n) {
  let h
  for (let i = 0; i < n; i++) h = await gal.getRequestHeaders()
  return h
}

main(async ({ quick }) => {
  const N = quick ? 200_000 : 1_000_000
  const N_GOOGLE = N / 10 // ~10× slower per op; ns/op = elapsed / iterations either way
  const ROUNDS = quick ? 5 : 11

  const client = createClient(optionsFor(mock))
  const header = await client.authHeader()
  const session = await client.getSession()
  const plain = new PlainCachedToken(async () => ({ header, refreshAt: session.expiresAt - 300_000 }))
  await plain.get()
  const gal = new OAuth2Client()
  gal.setCredentials({ access_token: session.token, expiry_date: Date.now() + 3600e3 })
  const galHeaders = await gal.getRequestHeaders()
  if (typeof galHeaders.get !== 'function' || !galHeaders.get('authorization')) {
    throw new Error('google-auth-library getRequestHeaders() did not return a Headers object with authorization')
  }
  const requestsBefore = await mock.count()

  const subjects = {
    vendorAuth: { n: N, run: (n) => loopVendorAuth(client, n) },
    plain: { n: N, run: (n) => loopPlain(plain, n) },
    google: { n: N_GOOGLE, run: (n) => loopGoogle(gal, n) },
  }
  const names = Object.keys(subjects)

  // Warm-up: get every loop optimised before timing.
  for (let w = 0; w < 3; w++) for (const name of names) await subjects[name].run(subjects[name].n / 5)

  const perRound = Object.fromEntries(names.map((name) => [name, []]))
  for (let r = 0; r < ROUNDS; r++) {
    for (const name of rotate(names, r)) {
      const { n, run } = subjects[name]
      await new Promise((resolve) => setImmediate(resolve)) // let pending I/O run between loops
      const t0 = now()
      const h = await run(n)
      const elapsed = now() - t0
      if (!h) throw new Error(`${name} returned no header`)
      perRound[name].push((elapsed * 1e6) / n) // ns/op
    }
  }

  const requestsAfter = await mock.count()
  if (requestsAfter !== requestsBefore) {
    throw new Error(`the hot path made ${requestsAfter - requestsBefore} request(s): the token was not fresh`)
  }
  client.close()
  return { N, N_GOOGLE, rounds: ROUNDS, nsPerOp: perRound }
})
