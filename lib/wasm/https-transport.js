'use strict'
// The Node fallback's transport: node:https rather than Node's global fetch, because
//   - `caCert` must be trusted next to the usual roots, per client: Node 20's fetch takes a CA
//     only through an undici `Agent` from the `undici` package (a dependency whose major must
//     match the undici bundled in each Node version); https takes `ca` directly;
//   - a background refresh must not hold the event loop (as in the native build): an https
//     request's socket can be unref'd, a fetch cannot;
//   - one keep-alive pool per distinct trust (caCert, NODE_EXTRA_CA_CERTS, SSL_CERT_FILE /
//     SSL_CERT_DIR) and proxy (HTTPS_PROXY, NO_PROXY…), as the native transport keeps, with the
//     environment read when a client is created (`open`), as the native build reads it.
// Redirects are not followed (https never does), each attempt is bounded by `timeoutMs` from the
// first byte sent to the last read, and no more than a little past the body cap is read.

const { VendorAuthError } = require('../errors')
const { TIMEOUT, CONNECT, UNTRUSTED, ABORTED, classify } = require('./failure')
const { env, proxySettings, proxyFor, tunnel, TunnelError, CONNECT_TIMEOUT } = require('./proxy')
// (Both loaded by Node at start-up already.)
const { isUtf8 } = require('node:buffer')
const path = require('node:path')

// Loaded on first use: node:https and node:tls take ~5 ms to load, which require('vendor-auth')
// should not pay (the native build's own start-up is lazy too).
let https
let tls
let fs
let X509Certificate
let Agent
function load() {
  if (Agent !== undefined) return
  https = require('node:https')
  tls = require('node:tls')
  fs = require('node:fs')
  X509Certificate = require('node:crypto').X509Certificate
  Agent = class extends https.Agent {
    constructor(options, proxy) {
      super(options)
      this.proxy = proxy
    }

    createConnection(options, oncreate) {
      // Node's tls.connect copies its options into a plain object, where an Object.prototype
      // polluted with our own option name `signal` would abort the socket, and crash the process
      // (an 'error' nobody listens to yet): an own one shadows it. (The request still fails, as a
      // NETWORK error: Node's http client reads an inherited `signal` too, out of our reach.)
      const own = { ...options, signal: undefined }
      if (this.proxy === undefined) return super.createConnection(own)
      const target = { host: own.host, port: own.port, timeoutMs: own[CONNECT_TIMEOUT] }
      tunnel(this.proxy, target, (error, socket) =>
        error ? oncreate(error) : oncreate(null, super.createConnection({ ...own, socket })),
      )
    }
  }
}

/** Pools kept at once; more distinct keys than this evict the oldest (as native). */
const MAX_POOLS = 8
/** Trust (see `trustNow`) -> its secure context, or null for Node's default one. */
const contexts = new Map()
/** Trust and proxy -> https.Agent. */
const pools = new Map()

function remember(map, key, value) {
  if (map.size >= MAX_POOLS) map.delete(map.keys().next().value)
  map.set(key, value)
  return value
}

/**
 * A client's trust and proxies, read when it is created as the native build reads them (a caCert
 * that is not PEM is refused there, before any I/O): `{ trust, proxies, note }`, `note` saying why
 * NODE_EXTRA_CA_CERTS added nothing, for the client's log.
 */
function open(options) {
  const trust = trustNow(options.caCert)
  try {
    contextFor(trust) // builds (once per trust) the secure context that reads it
  } catch (error) {
    throw new VendorAuthError('INVALID_OPTIONS', `caCert could not be read as PEM certificates: ${error.message}`)
  }
  return { trust, proxies: proxySettings(), note: trust.ignored }
}

/**
 * What a pool trusts, read now as the native build reads it at client creation: `caCert`, the
 * file NODE_EXTRA_CA_CERTS names (by its text: a rewritten file is a new pool), and the
 * SSL_CERT_FILE / SSL_CERT_DIR that replace the usual roots. `ignored` says why
 * NODE_EXTRA_CA_CERTS added nothing, when it names a file.
 */
function trustNow(caCert) {
  load()
  const { pem, reading, ignored } = extraCaCerts()
  const certFile = env('SSL_CERT_FILE')
  const certDir = env('SSL_CERT_DIR')
  const key = JSON.stringify([caCert, pem === undefined ? 0 : reading, certFile, certDir])
  return { key, caCert, pem, certFile, certDir, ignored }
}

/** The last reading of NODE_EXTRA_CA_CERTS: the file's identity then, and what it gave. */
let lastExtra
let readings = 0

/**
 * NODE_EXTRA_CA_CERTS now: `{ pem, reading, ignored }`, `reading` numbering each reading (the
 * pool key of a `pem`). The file is read again only when it changed (a bundle of ~150 roots took
 * ~25 ms to check, on every client and authenticate()).
 */
function extraCaCerts() {
  const file = env('NODE_EXTRA_CA_CERTS')
  if (!file) return {}
  let identity
  try {
    const stat = fs.statSync(file, { bigint: true })
    identity = [file, stat.dev, stat.ino, stat.size, stat.mtimeNs, stat.ctimeNs].join('\0')
  } catch {
    // Read (and named) below, never cached.
  }
  if (identity !== undefined && lastExtra !== undefined && lastExtra.identity === identity) return lastExtra.result
  const result = { ...readExtraCaCerts(file), reading: ++readings }
  if (identity !== undefined) lastExtra = { identity, result }
  return result
}

/** NODE_EXTRA_CA_CERTS as the native build reads it (src/native/conventions.rs), with its words. */
function readExtraCaCerts(file) {
  const ignored = (why) => ({ ignored: `NODE_EXTRA_CA_CERTS=${file} was ignored, as Node ignores it: ${why}` })
  let bytes
  try {
    bytes = fs.readFileSync(file)
  } catch (error) {
    return ignored(`could not be read: ${error.message}`)
  }
  if (!isUtf8(bytes)) return ignored('not PEM text')
  const pem = bytes.toString('utf8')
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[^-]*-----END CERTIFICATE-----/g)
  if (blocks === null) return ignored('it holds no PEM certificate')
  try {
    for (const block of blocks) new X509Certificate(block)
  } catch (error) {
    return ignored(`not readable as PEM certificates: ${error.message}`)
  }
  return { pem }
}

/**
 * The secure context for `trust`, built once per trust (an agent given `ca` itself would
 * re-serialise every root into its pool key on each request: measured +1 ms per request).
 */
function contextFor(trust) {
  let context = contexts.get(trust.key)
  if (context === undefined) {
    const extra = [trust.pem, trust.caCert].filter((pem) => pem !== undefined)
    const replaced = trust.certFile !== undefined || (trust.certDir ?? '') !== ''
    // Given a CA, Node trusts only it: the usual roots come too.
    context = extra.length === 0 && !replaced ? null : tls.createSecureContext({ ca: [...usualRoots(trust), ...extra] })
    remember(contexts, trust.key, context)
  }
  return context
}

/** The roots trusted besides the extra ones: SSL_CERT_FILE / SSL_CERT_DIR's, else Node's own. */
function usualRoots({ certFile, certDir }) {
  if (certFile !== undefined || (certDir ?? '') !== '') return systemRoots(certFile, certDir)
  // Node 22.15+/23.5+ say it directly; the start-up NODE_EXTRA_CA_CERTS is left to the file's
  // text as read now.
  if (typeof tls.getCACertificates === 'function') {
    const startUp = new Set(tls.getCACertificates('extra'))
    return tls.getCACertificates('default').filter((cert) => !startUp.has(cert))
  }
  return tls.rootCertificates
}

/**
 * The roots SSL_CERT_FILE and SSL_CERT_DIR (a list of folders) name, read as rustls-native-certs
 * reads them for the native build: every file's certificates, the unreadable ones skipped.
 */
function systemRoots(certFile, certDir = '') {
  const files = certFile === undefined ? [] : [certFile]
  for (const dir of certDir.split(path.delimiter)) {
    if (dir === '') continue
    try {
      for (const entry of fs.readdirSync(dir)) files.push(path.join(dir, entry))
    } catch {
      // As rustls-native-certs: a folder that cannot be read adds nothing.
    }
  }
  const roots = []
  for (const file of files) {
    try {
      if (fs.statSync(file).isFile()) roots.push(fs.readFileSync(file, 'utf8'))
    } catch {
      // Nor does a file (or a dangling link).
    }
  }
  return roots
}

/** The pool for a request to `url` now: its agent, its proxy, and what its trust ignored. */
function routeFor(url, { trust, proxies }) {
  const proxy = proxyFor(url, proxies)
  const key = `${trust.key}\n${proxy === undefined ? '' : proxy.key}`
  let agent = pools.get(key)
  if (agent === undefined) {
    const context = contextFor(trust)
    // HTTP/1.1 is offered by name (ALPN), as the native transport offers it: a server that speaks
    // only HTTP/2 then refuses the handshake (a permanent failure) rather than answering a
    // protocol-less request with an HTTP/1 error page.
    const options = { keepAlive: true, ALPNProtocols: ['http/1.1'] }
    if (context !== null) options.secureContext = context
    agent = remember(pools, key, new Agent(options, proxy))
  }
  return { agent, proxy, ignored: trust.ignored }
}

/**
 * `{ failure, detail }` for an error of a request sent by `route`, in the native build's words
 * (src/native/transport.rs `explain`): a tunnel that failed names the proxy; an untrusted
 * certificate says why NODE_EXTRA_CA_CERTS was ignored; anything else through a proxy says so.
 */
function explain(error, { proxy, ignored }) {
  if (error instanceof TunnelError) return { failure: CONNECT, detail: error.message }
  const result = classify(error)
  if (result.failure === UNTRUSTED) {
    if (ignored !== undefined) result.detail += `. ${ignored}`
  } else if (proxy !== undefined) {
    result.detail += ` (through the proxy ${proxy.name})`
  }
  return result
}

function send(request, { opened, background, closing, maxBody, answerHeaders }) {
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

    let route
    try {
      route = routeFor(request.url, opened)
      req = https.request(request.url, {
        method: request.method,
        headers: Object.fromEntries(request.headers),
        agent: route.agent,
        [CONNECT_TIMEOUT]: request.timeoutMs,
      })
    } catch (error) {
      return finish(classify(error))
    }
    const fail = (error) => finish(explain(error, route))
    // A pooled socket serves foreground and background requests in turn.
    req.on('socket', (socket) => (background ? socket.unref() : socket.ref()))
    req.on('error', fail)
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
      res.on('error', fail)
      // After 'end' this changes nothing; before it, the answer was cut off.
      res.on('close', () => {
        if (!settled) fail(new Error('the connection closed before the answer was complete'))
      })
    })
    req.end(request.body)
  })
}

module.exports = { httpsTransport: { open, send } }
