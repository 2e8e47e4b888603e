'use strict'
// forkMockVendor: runs the mock vendor server in a child process (see
// mock-process.js) and drives it over IPC, so that benchmarks can keep the
// server's work out of the measured event loop.
//
// Protocol: the parent sends `{ id, method, args }`; the child answers
// `{ id, ok: true, value }` or `{ id, ok: false, error: { name, message } }`.
// The channel uses Node's "advanced" (structured clone) serialization so
// Buffers and `undefined` values inside steps survive the trip.

const { fork } = require('node:child_process')
const path = require('node:path')

const CHILD_ENTRY = path.join(__dirname, 'mock-process.js')
const EXIT_GRACE_MS = 5000 // after disconnecting, wait this long before SIGKILL

/** Rejects function steps, which cannot cross a process boundary. */
function assertSerialisableSteps(steps) {
  const list = Array.isArray(steps) ? steps : [steps]
  if (list.some((step) => typeof step === 'function')) {
    throw new TypeError(
      'function steps are not supported by forkMockVendor (they cannot be sent to another process); ' +
        'use startMockVendor for dynamic steps',
    )
  }
}

/** Rebuilds an error sent by the child, keeping TypeError as TypeError. */
function reviveError({ name, message }) {
  const err = name === 'TypeError' ? new TypeError(message) : new Error(message)
  if (name !== 'TypeError' && name) err.name = name
  return err
}

/**
 * Wraps a forked child in a request/response RPC. The child handle is only
 * referenced (keeps the parent alive) while calls are in flight or the child
 * is shutting down; an idle mock never holds the parent's event loop open.
 */
function createRpc(child) {
  const pending = new Map() // id -> { resolve, reject }
  let nextId = 1
  let exited = false
  let holdOpen = false // set while closing: wait for the child's exit

  function updateRef() {
    const referenced = holdOpen || pending.size > 0
    if (referenced) child.ref()
    else child.unref()
    if (child.channel) {
      if (referenced) child.channel.ref()
      else child.channel.unref()
    }
  }

  function failAll(err) {
    for (const { reject } of pending.values()) reject(err)
    pending.clear()
  }

  child.on('message', (msg) => {
    const entry = msg && pending.get(msg.id)
    if (!entry) return
    pending.delete(msg.id)
    updateRef()
    if (msg.ok) entry.resolve(msg.value)
    else entry.reject(reviveError(msg.error))
  })
  child.on('error', (err) => failAll(err))
  child.on('exit', (code, signal) => {
    exited = true
    failAll(new Error(`mock vendor process exited (${signal ?? `code ${code}`})`))
  })

  function call(method, ...args) {
    if (exited || !child.connected) {
      return Promise.reject(new Error(`mock vendor process is not running (cannot call ${method})`))
    }
    const id = nextId++
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject })
      updateRef()
      child.send({ id, method, args }, (err) => {
        if (err && pending.delete(id)) {
          updateRef()
          reject(err)
        }
      })
    })
  }

  /** Disconnects and resolves once the child has exited (SIGKILL after a grace period). */
  function shutdown() {
    if (exited) return Promise.resolve()
    holdOpen = true
    updateRef()
    return new Promise((resolve) => {
      const killTimer = setTimeout(() => child.kill('SIGKILL'), EXIT_GRACE_MS)
      child.once('exit', () => {
        clearTimeout(killTimer)
        resolve()
      })
      if (child.connected) child.disconnect()
      else child.kill()
    })
  }

  return { call, shutdown, updateRef }
}

/**
 * Starts the mock vendor server in a child process. See index.d.ts
 * (`ForkedMockVendor`) for the API.
 */
async function forkMockVendor(options = {}) {
  const child = fork(CHILD_ENTRY, [], {
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: [], // do not inherit --inspect, --test, loaders… from the parent
  })
  const rpc = createRpc(child)
  let started
  try {
    started = await rpc.call('start', options)
  } catch (err) {
    await rpc.shutdown()
    throw err
  }

  let closing = null
  return {
    baseUrl: started.baseUrl,
    caCert: started.caCert,
    port: started.port,
    pid: child.pid,
    count: (endpoint) => rpc.call('count', endpoint),
    pending: (endpoint) => rpc.call('pending', endpoint),
    requests: () => rpc.call('requests'),
    async script(endpoint, steps) {
      assertSerialisableSteps(steps)
      await rpc.call('script', endpoint, steps)
    },
    async setDefault(endpoint, step) {
      assertSerialisableSteps(step)
      await rpc.call('setDefault', endpoint, step)
    },
    reset: () => rpc.call('reset').then(() => undefined),
    revokeTokens: () => rpc.call('revokeTokens').then(() => undefined),
    // A Headers object does not survive the trip: its entries do.
    verify: (credential) =>
      rpc.call(
        'verify',
        typeof Headers === 'function' && credential instanceof Headers ? Object.fromEntries(credential) : credential,
      ),
    close() {
      closing ??= rpc
        .call('close')
        .catch(() => undefined) // the child may already be gone; shutting down is what matters
        .then(() => rpc.shutdown())
      return closing
    },
  }
}

module.exports = { forkMockVendor }
