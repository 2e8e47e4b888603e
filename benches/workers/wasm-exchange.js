'use strict'
// Figure 7d. One exchange through the wasm build over `fetch` (the edge entries' transport: the
// core builds the request, fetch sends it, the core parses the answer), against a bare `fetch` of
// the same request (same headers and body, JSON parsed). Both use Node's global fetch and its
// pool, trusting the mock through NODE_EXTRA_CA_CERTS (fetch takes no caCert). Context: the Node
// fallback (wasm over node:https, with caCert) against a bare https keep-alive request, and the
// native build.

const https = require('node:https')
const path = require('node:path')
const { authenticate: nativeAuthenticate } = require('vendor-auth')
const { defineApi } = require('../../lib/api')
const { wasmDriverFactory } = require('../../lib/wasm/driver')
const { fetchTransport } = require('../../lib/wasm/fetch-transport')
const { nodeWasmDriverFactory } = require('../../lib/wasm/node')
const { BENCH, optionsFor } = require('../lib/bench-mock')
const { main, mock, now } = require('../lib/worker')
const { rotate, median } = require('../lib/stats')

main(async ({ quick }) => {
  if (!process.env.NODE_EXTRA_CA_CERTS) throw new Error('start this worker with NODE_EXTRA_CA_CERTS=<mock CA>')
  const ROUNDS = quick ? 5 : 15
  const PER_ROUND = 25
  const url = new URL('/authenticate', mock.baseUrl)
  const body = JSON.stringify({ apiKey: BENCH.pvApiKey })
  const headers = {
    'content-type': 'application/json',
    accept: 'application/json',
    'user-agent': 'vendor-auth/0.1.0',
  }

  // The Node fallback (this initialises the glue from the .wasm bytes), and the edge API over
  // Node's fetch: what lib/edge.js builds, with the same (CommonJS) glue.
  const fallback = defineApi(nodeWasmDriverFactory())
  const glue = require(path.join('..', '..', 'wasm', 'vendor_auth.cjs'))
  const edge = defineApi(wasmDriverFactory(glue, { transport: fetchTransport, env: {} }))
  const edgeOptions = optionsFor(mock, { caCert: undefined })
  const fallbackOptions = optionsFor(mock)
  const keepAlive = new https.Agent({ keepAlive: true, maxSockets: 1 })

  const check = (json) => {
    if (!json || json.success !== true || typeof json.data?.token !== 'string') throw new Error('unexpected answer')
    return json
  }
  async function bareFetch() {
    const res = await fetch(url, { method: 'POST', headers, body, redirect: 'manual' })
    if (res.status !== 200) throw new Error(`HTTP ${res.status}`)
    return check(await res.json())
  }
  function bareHttps() {
    return new Promise((resolve, reject) => {
      const req = https.request(url, { method: 'POST', agent: keepAlive, headers }, (res) => {
        const chunks = []
        res.on('data', (c) => chunks.push(c))
        res.on('error', reject)
        res.on('end', () => {
          try {
            resolve(check(JSON.parse(Buffer.concat(chunks).toString('utf8'))))
          } catch (error) {
            reject(error)
          }
        })
      })
      req.on('error', reject)
      req.end(body)
    })
  }
  const token = async (promise) => {
    const session = await promise
    if (!session.token) throw new Error('no token')
  }

  const subjects = {
    wasmFetch: () => token(edge.authenticate(edgeOptions)),
    bareFetch,
    wasmHttps: () => token(fallback.authenticate(fallbackOptions)),
    bareHttps,
    native: () => token(nativeAuthenticate(fallbackOptions)),
  }
  const names = Object.keys(subjects)
  for (let w = 0; w < 2; w++) for (const name of names) for (let i = 0; i < PER_ROUND; i++) await subjects[name]()

  const perRound = Object.fromEntries(names.map((name) => [name, []]))
  for (let r = 0; r < ROUNDS; r++) {
    for (const name of rotate(names, r)) {
      const samples = []
      for (let i = 0; i < PER_ROUND; i++) {
        const t0 = now()
        await subjects[name]()
        samples.push(now() - t0)
      }
      perRound[name].push(median(samples)) // ms per exchange, this round
    }
  }
  keepAlive.destroy()
  return { rounds: ROUNDS, msPerExchange: perRound }
})
