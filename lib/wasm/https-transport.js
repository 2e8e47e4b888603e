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

const fs = require('node:fs')
const https = require('node:https')
const tls = require('node:tls')
const { VendorAuthError } = require('../errors')
const { TIMEOUT, ABORTED, OTHER, classify } = require('./failure')

/** Pools kept at once; more distinct caCert values than this evict the oldest (as native). */
const MAX_POOLS = 8
const pools = new Map() // caCert ('' for none) -> https.Agent

/** A caCert that is not PEM is refused before any I/O, as the native build refuses it. */
function check(options) {
  if (options.caCert === undefined) return
  try {
    tls.createSecureContext({ ca: options.caCert })
  } catch (error) {
    throw new VendorAuthError('INVALID_OPTIONS', `caCert could not be read as PEM certificates: ${error.message}`)
  }
}

function agentFor(caCert = '') {
  let agent = pools.get(caCert)
  if (agent === undefined) {
    if (pools.size >= MAX_POOLS) pools.delete(pools.keys().next().value)
    // Given `ca`, Node uses only those: the usual roots (with NODE_EXTRA_CA_CERTS) come too.
    const options = caCert === '' ? {} : { ca: [...defaultRoots(), caCert] }
    agent = new https.Agent({ keepAlive: true, ...options })
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
      roots.push(fs.readFileSync(extra, 'utf8'))
    } catch {
      // Node warned about it at start-up and trusts nothing from it either.
    }
  }
  return roots
}

function send(request, { caCert, background, signal, maxBody }) {
  return new Promise((resolve) => {
    let settled = false
    let req
    const finish = (result) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      signal.removeEventListener('abort', onClose)
      resolve(result)
    }
    const stop = (result) => {
      finish(result)
      req.destroy()
    }
    const timer = setTimeout(() => stop({ failure: TIMEOUT }), request.timeoutMs)
    if (background) timer.unref()
    const onClose = () => stop({ failure: ABORTED })
    signal.addEventListener('abort', onClose, { once: true })

    req = https.request(request.url, {
      method: request.method,
      headers: Object.fromEntries(request.headers),
      agent: agentFor(caCert),
    })
    // A pooled socket serves foreground and background requests in turn.
    req.on('socket', (socket) => (background ? socket.unref() : socket.ref()))
    req.on('error', (error) => finish(classify(error)))
    req.on('response', (res) => {
      const status = res.statusCode
      const headers = []
      for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) headers.push([res.rawHeaders[i], res.rawHeaders[i + 1]])
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
