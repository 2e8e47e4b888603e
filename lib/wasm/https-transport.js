'use strict'
// The Node fallback's transport: node:https rather than Node's global fetch, because
//   - `caCert` must be trusted next to the usual roots, per client: Node 20's fetch takes a CA
//     only through an undici `Agent` from the `undici` package (a dependency whose major must
//     match the undici bundled in each Node version); https takes `ca` directly;
//   - a background refresh must not hold the event loop (as in the native build): an https
//     request's socket can be unref'd, a fetch cannot;
//   - one keep-alive pool per distinct caCert, as the native transport keeps.
// Redirects are not followed (https never does), each attempt is bounded by `timeoutMs` from the
// first byte sent to the last read, and no more than a little past the body cap is read.

const { VendorAuthError } = require('../errors')
const { TIMEOUT, ABORTED, OTHER, classify } = require('./failure')

// Loaded on first use: node:https and node:tls take ~5 ms to load, which require('vendor-auth')
// should not pay (the native build's own start-up is lazy too).
let https
let tls
function load() {
  https ??= require('node:https')
  tls ??= require('node:tls')
}

/** Pools kept at once; more distinct caCert values than this evict the oldest (as native). */
const MAX_POOLS = 8
const pools = new Map() // caCert ('' for none) -> https.Agent

/** A caCert that is not PEM is refused before any I/O, as the native build refuses it. */
function check(options) {
  if (options.caCert === undefined) return
  try {
    agentFor(options.caCert) // builds (once per caCert) the secure context that reads it
  } catch (error) {
    throw new VendorAuthError('INVALID_OPTIONS', `caCert could not be read as PEM certificates: ${error.message}`)
  }
}

function agentFor(caCert = '') {
  let agent = pools.get(caCert)
  if (agent === undefined) {
    load()
    // Given a CA, Node trusts only it: the usual roots (with NODE_EXTRA_CA_CERTS) come too. As one
    // secure context built once: an agent given `ca` itself re-serialises every root into its pool
    // key on each request (measured: +1 ms per request).
    const options = caCert === '' ? {} : { secureContext: tls.createSecureContext({ ca: [...defaultRoots(), caCert] }) }
    // HTTP/1.1 is offered by name (ALPN), as the native transport offers it: a server that speaks
    // only HTTP/2 then refuses the handshake (a permanent failure) rather than answering a
    // protocol-less request with an HTTP/1 error page.
    agent = new https.Agent({ keepAlive: true, ALPNProtocols: ['http/1.1'], ...options })
    if (pools.size >= MAX_POOLS) pools.delete(pools.keys().next().value)
    pools.set(caCert, agent)
  }
  return agent
}

/** Node's default trust: its bundled roots plus NODE_EXTRA_CA_CERTS. */
function defaultRoots() {
  // Node 22.15+/23.5+ say it directly.
  if (typeof tls.getCACertificates === 'function') return tls.getCACertificates('default')
  const roots = [...tls.rootCertificates]
  const extra = process.env.NODE_EXTRA_CA_CERTS
  if (extra) {
    try {
      roots.push(require('node:fs').readFileSync(extra, 'utf8'))
    } catch {
      // Node warned about it at start-up and trusts nothing from it either.
    }
  }
  return roots
}

function send(request, { caCert, background, closing, maxBody, answerHeaders }) {
  return new Promise((resolve) => {
    let settled = false
    let req
    const finish = (result) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      unsubscribe()
      resolve(result)
    }
    const stop = (result) => {
      finish(result)
      if (req !== undefined) req.destroy()
    }
    const timer = setTimeout(() => stop({ failure: TIMEOUT }), request.timeoutMs)
    if (background) timer.unref()
    const unsubscribe = closing.subscribe(() => stop({ failure: ABORTED }))

    try {
      const agent = agentFor(caCert) // (loads node:https the first time)
      req = https.request(request.url, { method: request.method, headers: Object.fromEntries(request.headers), agent })
    } catch (error) {
      return finish(classify(error))
    }
    // A pooled socket serves foreground and background requests in turn.
    req.on('socket', (socket) => (background ? socket.unref() : socket.ref()))
    req.on('error', (error) => finish(classify(error)))
    req.on('response', (res) => {
      const status = res.statusCode
      const headers = []
      for (const name of answerHeaders) {
        const value = res.headers[name]
        if (typeof value === 'string') headers.push([name, value])
      }
      const success = status >= 200 && status < 300
      if (success && Number(res.headers['content-length']) > maxBody) {
        // A success this large cannot be a token answer: not read at all.
        return stop({ status, headers, body: Buffer.alloc(0), complete: false })
      }
      const chunks = []
      let size = 0
      res.on('data', (chunk) => {
        chunks.push(chunk)
        size += chunk.length
        if (size > maxBody) stop({ status, headers, body: Buffer.concat(chunks, size), complete: false })
      })
      res.on('end', () => finish({ status, headers, body: Buffer.concat(chunks, size), complete: true }))
      res.on('error', (error) => finish(classify(error)))
      // After 'end' this changes nothing; before it, the answer was cut off.
      res.on('close', () => finish({ failure: OTHER, detail: 'the connection closed before the answer was complete' }))
    })
    req.end(request.body)
  })
}

module.exports = { httpsTransport: { send, check } }
