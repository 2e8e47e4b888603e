'use strict'
// Child-process entry for forkMockVendor (see fork.js for the IPC protocol).
// Runs one mock vendor server and exits as soon as the parent disconnects
// (parent called close(), exited or crashed).

const { startMockVendor } = require('./server')

if (typeof process.send !== 'function') {
  console.error('vendor-auth/testing/mock-process.js must be started by forkMockVendor()')
  process.exit(1)
}

let mock = null

function requireMock() {
  if (!mock) throw new Error('mock vendor server not started')
  return mock
}

// The RPC methods the parent may call. Return values must be serialisable.
const METHODS = {
  async start(options) {
    if (mock) throw new Error('mock vendor server already started')
    mock = await startMockVendor(options)
    return { baseUrl: mock.baseUrl, caCert: mock.caCert, port: mock.port }
  },
  script: (endpoint, steps) => requireMock().script(endpoint, steps),
  setDefault: (endpoint, step) => requireMock().setDefault(endpoint, step),
  count: (endpoint) => requireMock().count(endpoint),
  pending: (endpoint) => requireMock().pending(endpoint),
  requests: () => requireMock().requests.slice(),
  reset: () => requireMock().reset(),
  revokeTokens: () => requireMock().revokeTokens(),
  verify: (credential) => requireMock().verify(credential),
  close: () => (mock ? mock.close() : undefined),
}

function reply(message) {
  // The parent may disconnect at any time; a lost reply is not an error here.
  if (process.connected) process.send(message, () => {})
}

process.on('message', async ({ id, method, args = [] } = {}) => {
  try {
    const fn = Object.prototype.hasOwnProperty.call(METHODS, method) ? METHODS[method] : null
    if (!fn) throw new Error(`unknown mock vendor RPC method ${JSON.stringify(method)}`)
    const value = await fn(...args)
    reply({ id, ok: true, value: value === undefined ? null : value })
  } catch (err) {
    reply({ id, ok: false, error: { name: err?.name ?? 'Error', message: String(err?.message ?? err) } })
  }
})

process.on('disconnect', () => {
  const closing = mock ? mock.close() : Promise.resolve()
  closing.finally(() => process.exit(0))
})
