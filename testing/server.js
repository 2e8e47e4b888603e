'use strict'
// The in-process mock vendor server: HTTPS plumbing, request recording and
// the application of fault-scripting steps. Vendor behaviour lives in
// vendors.js, step validation in steps.js, certificates in certs.js.

const https = require('node:https')
const net = require('node:net')
const { setTimeout: sleepTimer } = require('node:timers/promises')

const { createCertificates } = require('./certs')
const { createJwtIssuer } = require('./jwt')
const { ENDPOINTS, StepBook, resolveStep } = require('./steps')
const { resolveVendorOptions, routeFor, handleNormally } = require('./vendors')
const { verifyCredential } = require('./verify')

const BODY_LIMIT_BYTES = 64 * 1024 // request bodies beyond this get a 413
const STREAM_CHUNK_BYTES = 16 * 1024 // chunk size for oversized answers
const JSON_TYPE = 'application/json; charset=utf-8'

// ---------------------------------------------------------------- small helpers

const has = (obj, key) => Object.prototype.hasOwnProperty.call(obj, key)

/** Sleeps unless the server closes first; resolves false when aborted. */
async function sleep(ms, signal) {
  try {
    await sleepTimer(ms, undefined, { signal })
    return true
  } catch {
    return false
  }
}

/** Resolves true on 'drain', false if the response closes (client gone) or the server stops. */
function drained(res, signal) {
  return new Promise((resolve) => {
    const finish = (value) => {
      res.off('drain', onDrain)
      res.off('close', onClose)
      signal.removeEventListener('abort', onClose)
      resolve(value)
    }
    const onDrain = () => finish(true)
    const onClose = () => finish(false)
    res.on('drain', onDrain)
    res.on('close', onClose)
    signal.addEventListener('abort', onClose)
  })
}

/** Reads the request body as UTF-8, rejecting with code BODY_TOO_LARGE beyond `limit`. */
function readBody(req, limit) {
  return new Promise((resolve, reject) => {
    const chunks = []
    let size = 0
    req.on('data', (chunk) => {
      size += chunk.length
      if (size > limit) {
        req.removeAllListeners('data')
        req.resume() // discard the rest
        const err = new Error('request body too large')
        err.code = 'BODY_TOO_LARGE'
        err.partial = Buffer.concat(chunks).toString('utf8')
        reject(err)
      } else {
        chunks.push(chunk)
      }
    })
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
    req.on('close', () => reject(new Error('request aborted'))) // no-op once settled
  })
}

/** A read-only byte source: `{ length, slice(start, end) → Buffer }`. */
const bufferSource = (buf) => ({ length: buf.length, slice: (s, e) => buf.subarray(s, e) })

/**
 * A lazily generated body of exactly `n` bytes shaped like a JSON token
 * answer: `{"token":"aaaa…"}` (or plain `a`s when n is too small for that).
 */
function oversizedSource(n) {
  const prefix = Buffer.from('{"token":"')
  const suffix = Buffer.from('"}')
  const framed = n >= prefix.length + suffix.length
  return {
    length: n,
    slice(start, end) {
      const out = Buffer.alloc(end - start, 'a')
      if (!framed) return out
      if (start < prefix.length) prefix.copy(out, 0, start, Math.min(end, prefix.length))
      const suffixStart = n - suffix.length
      if (end > suffixStart) {
        suffix.copy(out, Math.max(suffixStart - start, 0), Math.max(start - suffixStart, 0), end - suffixStart)
      }
      return out
    },
  }
}

/** Encodes a scripted or normal body: strings/bytes verbatim, anything else as JSON. */
function encodeBody(body) {
  if (body === undefined) return Buffer.alloc(0)
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  return Buffer.from(typeof body === 'string' ? body : JSON.stringify(body), 'utf8')
}

// ---------------------------------------------------------------- answering

/**
 * Builds the answer a (resolved) step asks for:
 * `{ status, headers, source, streamed }` where `streamed` means "no
 * Content-Length; write in chunks" (oversized answers).
 */
function buildAnswer(ctx, endpoint, request, step) {
  const headers = { 'content-type': JSON_TYPE }
  if (has(step, 'oversizedBytes')) {
    return { status: step.status ?? 200, headers, source: oversizedSource(step.oversizedBytes), streamed: true }
  }
  if (has(step, 'status') || has(step, 'body')) {
    return { status: step.status ?? 200, headers, source: bufferSource(encodeBody(step.body)), streamed: false }
  }
  const normal = handleNormally(ctx, endpoint, request, step)
  return { status: normal.status, headers, source: bufferSource(encodeBody(normal.body)), streamed: false }
}

/** Writes status and headers (defaults first, the step's headers override). */
function writeHead(res, answer, stepHeaders) {
  res.statusCode = answer.status
  for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value)
  if (!answer.streamed) res.setHeader('content-length', answer.source.length)
  for (const [name, value] of Object.entries(stepHeaders ?? {})) {
    res.setHeader(name, Array.isArray(value) ? value.map(String) : String(value))
  }
}

/**
 * Writes `source` in chunks, honouring backpressure, pausing `intervalMs`
 * between chunks, and stopping as soon as the client or the server goes away.
 */
async function writeChunks(res, source, { chunkBytes, intervalMs }, signal) {
  res.flushHeaders()
  for (let offset = 0; offset < source.length; offset += chunkBytes) {
    if (offset > 0 && intervalMs > 0 && !(await sleep(intervalMs, signal))) return
    if (res.destroyed || signal.aborted) return
    const chunk = source.slice(offset, Math.min(offset + chunkBytes, source.length))
    if (!res.write(chunk) && !(await drained(res, signal))) return
  }
  res.end()
}

/** Sends a complete answer, slowly if the step asks for trickling. */
async function sendAnswer(res, answer, step, signal) {
  writeHead(res, answer, step.headers)
  if (step.trickle) return writeChunks(res, answer.source, step.trickle, signal)
  if (answer.streamed) return writeChunks(res, answer.source, { chunkBytes: STREAM_CHUNK_BYTES, intervalMs: 0 }, signal)
  res.end(answer.source.slice(0, answer.source.length))
}

/** Sends a small JSON answer (used for 413 and mock-internal errors). */
function sendJson(res, status, body, extraHeaders = {}) {
  if (res.headersSent) return res.destroy()
  const payload = Buffer.from(JSON.stringify(body))
  res.writeHead(status, { 'content-type': JSON_TYPE, 'content-length': payload.length, ...extraHeaders })
  res.end(payload)
}

const mockError = (message, code) => ({ success: false, error: { message, code } })

// ---------------------------------------------------------------- request flow

/** Resets (TCP RST) the connection carrying `req`, falling back to a plain destroy. */
function resetConnection(state, req) {
  const tlsSocket = req.socket
  const raw = state.rawSockets.get(`${tlsSocket.remoteAddress}:${tlsSocket.remotePort}`)
  try {
    if (raw && typeof raw.resetAndDestroy === 'function') raw.resetAndDestroy()
  } finally {
    tlsSocket.destroy()
  }
}

/** Applies a resolved step to a recorded request. */
async function applyStep(state, endpoint, request, step, req, res) {
  const { signal } = state.abort
  if (step.delayMs > 0 && !(await sleep(step.delayMs, signal))) return
  if (res.destroyed) return // the client gave up while we waited
  if (step.reset) return resetConnection(state, req)
  if (step.stall) return // never answer; close() destroys the socket
  await sendAnswer(res, buildAnswer(state.ctx, endpoint, request, step), step, signal)
}

async function handleRequest(state, req, res) {
  const at = Date.now()
  const endpoint = routeFor(req.method, req.url)
  const record = (body) => {
    const request = { endpoint, method: req.method, path: req.url, headers: { ...req.headers }, body, at }
    state.requests.push(request)
    return request
  }
  let body
  try {
    body = await readBody(req, BODY_LIMIT_BYTES)
  } catch (err) {
    if (err.code !== 'BODY_TOO_LARGE') return // client aborted: nothing to answer
    record(err.partial)
    return sendJson(res, 413, mockError('Request body too large', 'PAYLOAD_TOO_LARGE'), { connection: 'close' })
  }
  const request = record(body)
  if (endpoint === null) return applyStep(state, null, request, {}, req, res)

  let step
  try {
    step = await resolveStep(endpoint, state.steps.next(endpoint), request)
  } catch (err) {
    // A function step threw or returned something invalid: make it visible.
    return sendJson(res, 500, mockError(`mock step error: ${err.message}`, 'MOCK_STEP_ERROR'))
  }
  await applyStep(state, endpoint, request, step, req, res)
}

// ---------------------------------------------------------------- server lifecycle

function listen(server, port, host) {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve(server.address().port)
    })
  })
}

/** Keeps track of raw TCP sockets (to reset or destroy them on demand). */
function trackSockets(server, state) {
  server.on('connection', (socket) => {
    const key = `${socket.remoteAddress}:${socket.remotePort}`
    state.rawSockets.set(key, socket)
    socket.on('close', () => state.rawSockets.delete(key))
  })
}

function createCloser(server, state) {
  let closing = null
  return function close() {
    if (closing) return closing
    state.abort.abort() // stops pending delays, trickles and oversized writers
    closing = new Promise((resolve) => server.close(() => resolve()))
    server.closeAllConnections()
    for (const socket of state.rawSockets.values()) socket.destroy() // incl. stalled or mid-handshake
    return closing
  }
}

function assertCountFilter(endpoint) {
  if (endpoint !== undefined && endpoint !== null && !ENDPOINTS.includes(endpoint)) {
    throw new TypeError(
      `unknown mock endpoint ${JSON.stringify(endpoint)}; expected one of ${ENDPOINTS.join(', ')} or null`,
    )
  }
}

/**
 * Starts a mock Vendy + PuppetVendors HTTPS server. See index.d.ts for the
 * options and the returned MockVendor's API.
 */
async function startMockVendor(options = {}) {
  const host = options.host ?? '127.0.0.1'
  const clockOffsetMs = options.clockOffsetMs ?? 0
  if (!Number.isFinite(clockOffsetMs)) throw new TypeError('clockOffsetMs must be a finite number of milliseconds')
  const { caCert, cert, key } = await createCertificates({ host })
  const state = {
    ctx: { options: resolveVendorOptions(options), issuer: createJwtIssuer({ clockOffsetMs }) },
    clockOffsetMs,
    steps: new StepBook(),
    requests: [],
    rawSockets: new Map(),
    abort: new AbortController(),
  }
  const server = https.createServer({ cert, key }, (req, res) => {
    // Every answer's Date header tells the vendor's (possibly skewed) clock, read from `Date`
    // like the JWT's iat/exp: a test that mocks Date (node:test mock timers) moves both. Node's
    // own Date header would read the real clock.
    res.setHeader('date', new Date(Date.now() + clockOffsetMs).toUTCString())
    handleRequest(state, req, res).catch((err) =>
      sendJson(res, 500, mockError(`mock failure: ${err.message}`, 'MOCK_FAILURE')),
    )
  })
  trackSockets(server, state)
  const port = await listen(server, options.port ?? 0, host)
  const urlHost = net.isIPv6(host) ? `[${host}]` : host

  return {
    baseUrl: `https://${urlHost}:${port}`,
    caCert,
    port,
    requests: state.requests,
    script: (endpoint, steps) => state.steps.script(endpoint, steps),
    setDefault: (endpoint, step) => state.steps.setDefault(endpoint, step),
    pending: (endpoint) => state.steps.pending(endpoint),
    count(endpoint) {
      assertCountFilter(endpoint)
      if (endpoint === undefined) return state.requests.length
      return state.requests.filter((r) => r.endpoint === endpoint).length
    },
    reset() {
      state.requests.length = 0 // keep the same array: callers may hold it
      state.steps.clear()
    },
    revokeTokens: () => state.ctx.issuer.revokeAll(),
    verify: (credential) => verifyCredential(state.ctx.issuer, clockOffsetMs, credential),
    close: createCloser(server, state),
  }
}

module.exports = { startMockVendor, BODY_LIMIT_BYTES }
