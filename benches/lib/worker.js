'use strict'
// Worker side of the protocol in proc.js: the run configuration, the mock vendor (its control
// API proxied through the parent), and reporting the result.

const fs = require('node:fs')
const { setTimeout: sleep } = require('node:timers/promises')

const config = JSON.parse(process.env.BENCH_CONFIG || '{}')

let nextId = 1
const pending = new Map()
process.on('message', (msg) => {
  if (!msg || msg.type !== 'mock-reply') return
  const entry = pending.get(msg.id)
  if (!entry) return
  pending.delete(msg.id)
  if (pending.size === 0) process.channel.unref()
  if (msg.ok) entry.resolve(msg.value)
  else entry.reject(new Error(msg.error))
})
process.channel.unref()

function call(method, ...args) {
  return new Promise((resolve, reject) => {
    const id = nextId++
    pending.set(id, { resolve, reject })
    process.channel.ref()
    process.send({ type: 'mock', id, method, args })
  })
}

/** The shared mock vendor: `{ baseUrl, caCert, count(), setDefault(), … }`. */
const mock = {
  baseUrl: config.mock.baseUrl,
  caCert: fs.readFileSync(config.mock.caCertPath, 'utf8'),
  count: (endpoint) => call('count', endpoint),
  pending: (endpoint) => call('pending', endpoint),
  requests: () => call('requests'),
  script: (endpoint, steps) => call('script', endpoint, steps),
  setDefault: (endpoint, step) => call('setDefault', endpoint, step),
  reset: () => call('reset'),
}

/** Run `fn(config)` and send its value to the parent; any failure exits non-zero. */
function main(fn) {
  Promise.resolve()
    .then(() => fn(config))
    .then(
      (value) => {
        process.channel.ref()
        process.send({ type: 'result', value }, () => process.exit(0))
      },
      (error) => {
        console.error(error)
        process.exit(1)
      },
    )
}

/** Full garbage collection (workers that need it run with --expose-gc), settling finalizers. */
async function fullGc() {
  if (typeof globalThis.gc !== 'function') return
  for (let i = 0; i < 3; i++) {
    globalThis.gc()
    await new Promise((resolve) => setImmediate(resolve))
  }
}

/** High-resolution clock in ms (double). */
const now = () => performance.now()

module.exports = { config, mock, main, fullGc, now, sleep }
