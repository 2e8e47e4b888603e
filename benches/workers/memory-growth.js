'use strict'
// Figure 5 (growth). Run with --expose-gc. RSS and heapUsed after 10k `authHeader()` calls and
// after 1M, each reading after a full GC. argv[2]: 'vendorAuth' (the subject) or 'plain' (the
// same loop on a hand-written cached-token getter, the reference).

const { createClient } = require('vendor-auth')
const { optionsFor } = require('../lib/bench-mock')
const { main, mock, fullGc } = require('../lib/worker')

class PlainCachedToken {
  constructor(header, refreshAt) {
    this.header = header
    this.refreshAt = refreshAt
  }

  async get() {
    if (Date.now() < this.refreshAt) return this.header
    throw new Error('not expected in this benchmark')
  }
}

async function loopVendorAuth(client, n) {
  for (let i = 0; i < n; i++) await client.authHeader()
}

async function loopPlain(plain, n) {
  for (let i = 0; i < n; i++) await plain.get()
}

async function reading() {
  await fullGc()
  const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage()
  return { rss, heapUsed, external, arrayBuffers }
}

main(async ({ quick }) => {
  if (typeof globalThis.gc !== 'function') throw new Error('run with --expose-gc')
  const subject = process.argv[2]
  const SMALL = 10_000
  const LARGE = quick ? 300_000 : 1_000_000
  const client = createClient(optionsFor(mock))
  const header = await client.authHeader()
  const session = await client.getSession()
  const plain = new PlainCachedToken(header, session.expiresAt - 300_000)
  const run = subject === 'plain' ? (n) => loopPlain(plain, n) : (n) => loopVendorAuth(client, n)
  await run(SMALL)
  const small = await reading()
  await run(LARGE - SMALL)
  const large = await reading()
  client.close()
  return { subject, small, large, calls: { small: SMALL, large: LARGE } }
})
