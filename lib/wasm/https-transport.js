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
// Which proxy and which roots are the core's decisions (src/conventions.rs, through
// src/wasm/conventions.rs), as in the native build: this file reads the variables and files the
// core asks for, opens the connection it decided (direct or through a CONNECT tunnel) and moves
// bytes.
// Redirects are not followed (https never does), each attempt is bounded by `timeoutMs` from the
// first byte sent to the last read, and no more than a little past the body cap is read.

const { VendorAuthError } = require('../errors')
const { TIMEOUT, CONNECT, UNTRUSTED, ABORTED, classify } = require('./failure')
const { tunnel, TunnelError, CONNECT_TIMEOUT } = require('./proxy')
// (Loaded by Node at start-up already.)
const path = require('node:path')

// Loaded on first use: node:https and node:tls take ~5 ms to load, which require('vendor-auth')
// should not pay (the native build's own start-up is lazy too).
let https
let tls
let fs
let Agent
let glue
function load() {
  if (Agent !== undefined) return
  https = require('node:https')
  tls = require('node:tls')
  fs = require('node:fs')
  // The instance lib/wasm/node.js loaded and initialised (from wherever it found it: a bundle's
  // folder is not the package's).
  glue = require('./node').loadedGlue()
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
      const proxy = this.proxy
      if (proxy === undefined) return super.createConnection(own)
      const failed = (authority, why) => glue.proxyFailed(proxy.name, authority, own.host, why)
      const target = { host: own.host, port: own.port, timeoutMs: own[CONNECT_TIMEOUT], failed }
      tunnel(proxy, target, (error, socket) =>
        error ? oncreate(error) : oncreate(null, super.createConnection({ ...own, socket })),
      )
    }
  }
}

/** The file system as the core reads it for Node's conventions (src/wasm/conventions.rs). */
const files = {
  stat(file) {
    try {
      const stat = fs.statSync(file, { bigint: true })
      const id = `${stat.dev}:${stat.ino}`
      const version = [id, stat.size, stat.mtimeNs, stat.ctimeNs].join(':')
      // (rustls-native-certs tells files apart by inode on Unix only.)
      return { isFile: stat.isFile(), id: process.platform === 'win32' ? undefined : id, version }
    } catch {
      return undefined
    }
  },
  // A regular file's bytes, at most `limit + 1` of them. Opened without blocking (opening a FIFO
  // would wait for a writer), and refused unless what was opened is a regular file (a device
  // such as /dev/zero never ends).
  read(file, limit) {
    let fd
    try {
      fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0))
      // (The native build's words: src/conventions.rs NOT_REGULAR.)
      if (!fs.fstatSync(fd).isFile()) throw new Error('it is not a regular file')
      const chunks = []
      let length = 0
      while (length <= limit) {
        const chunk = Buffer.allocUnsafe(Math.min(64 * 1024, limit + 1 - length))
        const read = fs.readSync(fd, chunk, 0, chunk.length, null)
        if (read === 0) break
        chunks.push(chunk.subarray(0, read))
        length += read
      }
      return Buffer.concat(chunks, length)
    } catch (error) {
      throw String(error.message)
    } finally {
      if (fd !== undefined) fs.closeSync(fd)
    }
  },
  list(dir) {
    try {
      return fs.readdirSync(dir).reduce((paths, entry) => `${paths}\0${path.join(dir, entry)}`, '')
    } catch {
      return undefined
    }
  },
}

/** Pools kept at once; more distinct keys than this evict the oldest (as native). */
const MAX_POOLS = 8
/** Trust (`trustKey` below) -> its secure context, or null for Node's default one. */
const contexts = new Map()
/** Trust and proxy -> https.Agent. */
const pools = new Map()

function remember(map, key, value) {
  if (map.size >= MAX_POOLS) map.delete(map.keys().next().value)
  map.set(key, value)
  return value
}

/**
 * A client's trust and proxies, decided by the core from the environment when the client is
 * created, as the native build decides them (a caCert that is not PEM is refused there, before
 * any I/O): `{ conventions, caCert, trustKey, note, routes }`, `note` saying why
 * NODE_EXTRA_CA_CERTS added nothing, for the client's log.
 */
function open(options) {
  load()
  const variables = { __proto__: null }
  for (const name of glue.conventionVariables().split(',')) {
    // Own entries only: an Object.prototype polluted with HTTPS_PROXY sets no proxy.
    if (Object.hasOwn(process.env, name)) variables[name] = process.env[name]
  }
  const conventions = new glue.NodeConventions(variables, process.platform === 'win32', files)
  const caCert = options.caCert
  const trustKey = JSON.stringify([caCert, conventions.trustKey])
  const opened = { conventions, caCert, trustKey, note: conventions.note, routes: new Map() }
  // Checked now, alone (refused before any I/O, as the native build refuses it). The secure
  // context with every root is built at the first request (contextFor, once per trust), as the
  // native build builds its HTTPS client: a client served from initialSession or the shared
  // store never pays for it (~0.1 s with a system bundle of roots).
  if (caCert !== undefined && !contexts.has(trustKey)) {
    try {
      tls.createSecureContext({ ca: caCert })
    } catch (error) {
      throw new VendorAuthError('INVALID_OPTIONS', `caCert could not be read as PEM certificates: ${error.message}`)
    }
  }
  return opened
}

/**
 * The secure context for a client's trust, built once per trust (an agent given `ca` itself
 * would re-serialise every root into its pool key on each request: measured +1 ms per request).
 */
function contextFor({ conventions, caCert, trustKey }) {
  let context = contexts.get(trustKey)
  if (context === undefined) {
    const extra = [conventions.extraRoots, caCert].filter((pem) => pem !== undefined)
    const replaced = conventions.replacesSystemRoots
    // Given a CA, Node trusts only it: the usual roots come too.
    const roots = () => (replaced ? [conventions.systemRoots(files)] : nodeRoots())
    context = extra.length === 0 && !replaced ? null : tls.createSecureContext({ ca: [...roots(), ...extra] })
    remember(contexts, trustKey, context)
  }
  return context
}

/** Node's own roots, without those NODE_EXTRA_CA_CERTS added at start-up (its file counts as read now). */
function nodeRoots() {
  // Node 22.15+/23.5+ say which are which.
  if (typeof tls.getCACertificates === 'function') {
    const startUp = new Set(tls.getCACertificates('extra'))
    return tls.getCACertificates('default').filter((cert) => !startUp.has(cert))
  }
  return tls.rootCertificates
}

/** The proxy the core decided for a request to `url` (a client sends to one or two URLs). */
function proxyFor(url, opened) {
  if (!opened.conventions.proxied) return undefined
  if (!opened.routes.has(url)) {
    const proxy = opened.conventions.proxyFor(url)
    opened.routes.set(url, proxy === undefined ? undefined : JSON.parse(proxy))
  }
  return opened.routes.get(url)
}

/** The pool for a request to `url` now: its agent, its proxy, and what its trust ignored. */
function routeFor(url, opened) {
  const proxy = proxyFor(url, opened)
  const key = `${opened.trustKey}\n${proxy === undefined ? '' : proxy.key}`
  let agent = pools.get(key)
  if (agent === undefined) {
    const context = contextFor(opened)
    // HTTP/1.1 is offered by name (ALPN), as the native transport offers it: a server that speaks
    // only HTTP/2 then refuses the handshake (a permanent failure) rather than answering a
    // protocol-less request with an HTTP/1 error page.
    const options = { keepAlive: true, ALPNProtocols: ['http/1.1'] }
    if (context !== null) options.secureContext = context
    agent = remember(pools, key, new Agent(options, proxy))
  }
  return { agent, proxy, ignored: opened.note }
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
    result.detail += proxy.through
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
