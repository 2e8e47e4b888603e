'use strict'
// Figure 2. Cold exchange latency: `authenticate()` against the same exchange
// (POST /authenticate, JSON body, JSON answer parsed) done with Node's built-in `fetch` and with
// `node:https`, over HTTPS to the mock (its own process). Node's fetch takes no custom CA, so
// this worker is started with NODE_EXTRA_CA_CERTS pointing at the mock's CA; fetch and https both
// use the default store (system roots + that CA), as vendor-auth uses system roots + caCert.
//
// With reuse: vendor-auth's pooled connection (one pool per caCert), fetch's global dispatcher,
// an https.Agent({ keepAlive: true }). Without reuse (context): fetch and https with
// `Connection: close`, and authenticate() with a never-seen caCert (a new pool each time, so a
// new TLS connection plus building a new HTTPS client).

const https = require('node:https')
const { authenticate } = require('vendor-auth')
const { BENCH, optionsFor } = require('../lib/bench-mock')
const { main, mock, now } = require('../lib/worker')
const { rotate, median } = require('../lib/stats')

main(async ({ quick }) => {
  if (!process.env.NODE_EXTRA_CA_CERTS) throw new Error('start this worker with NODE_EXTRA_CA_CERTS=<mock CA>')
  const ROUNDS = quick ? 5 : 15
  const url = new URL('/authenticate', mock.baseUrl)
  const body = JSON.stringify({ apiKey: BENCH.pvApiKey })
  const opts = optionsFor(mock)
  const keepAlive = new https.Agent({ keepAlive: true, maxSockets: 1 })
  let distinctCa = 0

  const check = (json) => {
    if (!json || json.success !== true || typeof json.data?.token !== 'string') throw new Error('unexpected answer')
    return json
  }

  function viaHttps(agent, headers = {}) {
    return new Promise((resolve, reject) => {
      const req = https.request(
        url,
        {
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers },
        },
        (res) => {
          const chunks = []
          res.on('data', (c) => chunks.push(c))
          res.on('error', reject)
          res.on('end', () => {
            try {
              if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`)
              resolve(check(JSON.parse(Buffer.concat(chunks).toString('utf8'))))
            } catch (error) {
              reject(error)
            }
          })
        },
      )
      req.on('error', reject)
      req.end(body)
    })
  }

  async function viaFetch(headers = {}) {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })
    if (res.status !== 200) throw new Error(`HTTP ${res.status}`)
    return check(await res.json())
  }

  async function viaVendorAuth(extra) {
    const session = await authenticate(extra ? { ...opts, ...extra } : opts)
    if (!session.token) throw new Error('no token')
    return session
  }

  const subjects = {
    // With connection reuse (the figure and its references).
    vendorAuth: { perRound: 25, run: () => viaVendorAuth() },
    fetchReuse: { perRound: 25, run: () => viaFetch() },
    httpsKeepAlive: { perRound: 25, run: () => viaHttps(keepAlive) },
    // A new connection every time (context).
    fetchNew: { perRound: 6, run: () => viaFetch({ connection: 'close' }) },
    httpsNew: { perRound: 6, run: () => viaHttps(false) },
    vendorAuthNewPool: {
      perRound: 3,
      // A comment line before the PEM makes a distinct caCert: a new pool, so a new connection.
      run: () => viaVendorAuth({ caCert: `bench ${++distinctCa}\n${mock.caCert}` }),
    },
  }
  const names = Object.keys(subjects)

  // The first call of each kind in this process (one sample each; includes lazy initialisation:
  // vendor-auth's runtime and first pool, undici's loading, Node's TLS context).
  const first = {}
  for (const name of ['vendorAuth', 'fetchReuse', 'httpsKeepAlive']) {
    const t0 = now()
    await subjects[name].run()
    first[name] = now() - t0
  }

  for (let w = 0; w < 2; w++)
    for (const name of names) for (let i = 0; i < subjects[name].perRound; i++) await subjects[name].run()

  const perRound = Object.fromEntries(names.map((name) => [name, []]))
  for (let r = 0; r < ROUNDS; r++) {
    for (const name of rotate(names, r)) {
      const { perRound: k, run } = subjects[name]
      const samples = []
      for (let i = 0; i < k; i++) {
        const t0 = now()
        await run()
        samples.push(now() - t0)
      }
      perRound[name].push(median(samples)) // ms per exchange, this round
    }
  }
  keepAlive.destroy()
  return { rounds: ROUNDS, msPerExchange: perRound, firstInProcessMs: first }
})
