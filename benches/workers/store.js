'use strict'
// Figure 7. The shared token store (`tokenStore` on a real redis-server started here):
// (a) a cold client whose token is already in the store: time from createClient() to the first
//     header, against a cold client that exchanges on its own over a new TLS connection (a
//     never-seen caCert: a new pool, as in figure 2's context row); both build a new client with
//     a new caCert, so both pay the same construction;
// (b) the hot path with a store configured, against the hand-written async getter of figure 1
//     (and a count of store calls during the loops: there must be none);
// context: a cold client seeded with initialSession (no I/O at all), so that (a) minus it is
//     what reading Redis adds to a cold start.

const { createClient, redisTokenStore } = require('vendor-auth')
const { optionsFor } = require('../lib/bench-mock')
const { main, mock, now } = require('../lib/worker')
const { rotate, median } = require('../lib/stats')
const { startRedis } = require('../../__test__/helpers/redis')

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

class PlainCachedToken {
  constructor(header, refreshAt) {
    this.header = header
    this.refreshAt = refreshAt
  }

  async get() {
    if (Date.now() < this.refreshAt) return this.header
    throw new Error('not fresh')
  }
}

main(async ({ quick }) => {
  const ROUNDS = quick ? 5 : 11
  const PER_ROUND = quick ? 5 : 15
  const N = quick ? 200_000 : 1_000_000
  const server = await startRedis()
  const redis = require('redis').createClient({ url: server.url })
  redis.on('error', () => {})
  await redis.connect()
  const store = redisTokenStore(redis)
  const calls = { n: 0 }
  const counted = {
    get: (...a) => (calls.n++, store.get(...a)),
    set: (...a) => (calls.n++, store.set(...a)),
    lock: (...a) => (calls.n++, store.lock(...a)),
    release: (...a) => (calls.n++, store.release(...a)),
  }
  let distinctCa = 0
  const newCa = () => `bench store ${++distinctCa}\n${mock.caCert}`

  try {
    // Put a token in the store.
    const publisher = createClient(optionsFor(mock, { tokenStore: counted }))
    const header = await publisher.authHeader()
    const kept = await publisher.getSession()

    const cold = async (extra) => {
      const t0 = now()
      const client = createClient(optionsFor(mock, { caCert: newCa(), ...extra }))
      const h = await client.authHeader()
      const ms = now() - t0
      client.close()
      if (!h) throw new Error('no header')
      return ms
    }
    const subjects = {
      fromStore: () => cold({ tokenStore: store }),
      ownExchangeNewTls: () => cold({}),
      initialSession: () => cold({ initialSession: kept }),
    }
    const names = Object.keys(subjects)
    const exchangesBefore = await mock.count('pv.authenticate')
    for (let w = 0; w < 2; w++) for (const name of names) for (let i = 0; i < 3; i++) await subjects[name]()
    const perRound = Object.fromEntries(names.map((name) => [name, []]))
    for (let r = 0; r < ROUNDS; r++) {
      for (const name of rotate(names, r)) {
        const samples = []
        for (let i = 0; i < PER_ROUND; i++) samples.push(await subjects[name]())
        perRound[name].push(median(samples))
      }
    }
    const exchanges = (await mock.count('pv.authenticate')) - exchangesBefore
    const ownExchanges = 2 * 3 + ROUNDS * PER_ROUND
    if (exchanges !== ownExchanges) {
      throw new Error(`${exchanges} exchanges, expected ${ownExchanges} (only the no-store subject's)`)
    }

    // (b) the hot path with a store configured.
    const client = createClient(optionsFor(mock, { tokenStore: counted }))
    await client.authHeader()
    const session = await client.getSession()
    const plain = new PlainCachedToken(header, session.expiresAt - 300_000)
    const hot = { vendorAuth: (n) => loopVendorAuth(client, n), plain: (n) => loopPlain(plain, n) }
    const hotNames = Object.keys(hot)
    for (let w = 0; w < 3; w++) for (const name of hotNames) await hot[name](N / 5)
    const callsBefore = calls.n
    const nsPerOp = { vendorAuth: [], plain: [] }
    for (let r = 0; r < ROUNDS; r++) {
      for (const name of rotate(hotNames, r)) {
        await new Promise((resolve) => setImmediate(resolve))
        const t0 = now()
        await hot[name](N)
        nsPerOp[name].push(((now() - t0) * 1e6) / N)
      }
    }
    const hotStoreCalls = calls.n - callsBefore
    client.close()
    publisher.close()
    return { rounds: ROUNDS, perRound: PER_ROUND, msColdClient: perRound, N, nsPerOp, hotStoreCalls }
  } finally {
    await redis.quit().catch(() => {})
    await server.stop()
  }
})
