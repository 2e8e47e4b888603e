'use strict'
// Figure 3. Herd: 10,000 concurrent `authHeader()` calls on a cold client (no token yet). The
// mock must see exactly one request; the time until all 10,000 promises resolve is compared with
// one `authenticate()` exchange in the same round (same pooled connection, same mock; median of 3).
// Context: the floor for plain JS, 10,000 callers awaiting one shared authenticate() promise.

const { authenticate, createClient } = require('vendor-auth')
const { optionsFor } = require('../lib/bench-mock')
const { main, mock, now } = require('../lib/worker')
const { rotate, median } = require('../lib/stats')

const CALLERS = 10_000

main(async ({ quick }) => {
  const ROUNDS = quick ? 7 : 21
  const opts = optionsFor(mock)
  const requests = () => mock.count('pv.authenticate')

  async function herd() {
    const client = createClient(opts)
    const before = await requests()
    const t0 = now()
    const calls = new Array(CALLERS)
    for (let i = 0; i < CALLERS; i++) calls[i] = client.authHeader()
    const issued = now()
    const headers = await Promise.all(calls)
    const t1 = now()
    const seen = (await requests()) - before
    client.close()
    if (!headers[CALLERS - 1] || headers[0] !== headers[CALLERS - 1]) throw new Error('callers got different headers')
    return { ms: t1 - t0, issueMs: issued - t0, requests: seen }
  }

  // The reference: one authenticate() (median of 3 in a row, to steady a one-sample figure).
  async function oneExchange() {
    const samples = []
    for (let i = 0; i < 3; i++) {
      const t0 = now()
      await authenticate(opts)
      samples.push(now() - t0)
    }
    return { ms: median(samples) }
  }

  async function floor() {
    const t0 = now()
    const shared = authenticate(opts).then((s) => s.headers)
    const calls = new Array(CALLERS)
    for (let i = 0; i < CALLERS; i++) calls[i] = shared
    await Promise.all(calls)
    return { ms: now() - t0 }
  }

  const subjects = { herd, oneExchange, floor }
  const names = Object.keys(subjects)
  for (let w = 0; w < 3; w++) for (const name of names) await subjects[name]()

  const out = { herdMs: [], issueMs: [], requests: [], oneExchangeMs: [], floorMs: [] }
  for (let r = 0; r < ROUNDS; r++) {
    for (const name of rotate(names, r)) {
      await new Promise((resolve) => setImmediate(resolve))
      const res = await subjects[name]()
      if (name === 'herd') {
        out.herdMs.push(res.ms)
        out.issueMs.push(res.issueMs)
        out.requests.push(res.requests)
      } else {
        out[`${name}Ms`].push(res.ms)
      }
    }
  }
  return { callers: CALLERS, rounds: ROUNDS, ...out }
})
