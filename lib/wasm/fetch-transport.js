'use strict'
// The edge transport: the runtime's global `fetch`. Redirects are not followed (`manual`: a 3xx
// answer goes to the core, which refuses it), each attempt is bounded by its `timeoutMs` from
// the first byte sent to the last one read, and no more than a little past the body cap is read.
// No Node built-ins here.

const { VendorAuthError } = require('../errors')
const { TIMEOUT, ABORTED, classify } = require('./failure')

const EMPTY = new Uint8Array(0)

/** fetch cannot be given a CA per request: trust is the runtime's configuration. */
function open(options) {
  if (options.caCert !== undefined) {
    throw new VendorAuthError(
      'INVALID_OPTIONS',
      "caCert cannot be honoured by this runtime's fetch: trust a private CA in the runtime's own " +
        'configuration (workerd: a tlsOptions trustedCertificates entry on the network service; Node: NODE_EXTRA_CA_CERTS)',
    )
  }
}

async function send(request, { background, closing, maxBody, answerHeaders }) {
  const controller = new AbortController()
  let why
  const abort = (reason) => {
    if (why === undefined) why = reason
    controller.abort()
  }
  const timer = setTimeout(() => abort(TIMEOUT), request.timeoutMs)
  if (background && typeof timer === 'object' && typeof timer.unref === 'function') timer.unref()
  const unsubscribe = closing.subscribe(() => abort(ABORTED))
  try {
    const response = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      redirect: 'manual',
      signal: controller.signal,
    })
    const headers = []
    for (const name of answerHeaders) {
      const value = response.headers.get(name)
      if (value !== null) headers.push([name, value])
    }
    const length = response.headers.get('content-length')
    const declared = length === null ? NaN : Number(length)
    if (response.ok && declared > maxBody) {
      // A success this large cannot be a token answer: not read at all.
      await cancel(response.body)
      return { status: response.status, headers, body: EMPTY, complete: false }
    }
    if (declared <= maxBody && !response.headers.has('content-encoding')) {
      // A declared length bounds what is read (uncompressed: fetch would inflate a compressed
      // body past it): no need to count.
      return { status: response.status, headers, body: new Uint8Array(await response.arrayBuffer()), complete: true }
    }
    const { body, complete } = await readCapped(response.body, maxBody)
    return { status: response.status, headers, body, complete }
  } catch (error) {
    if (why !== undefined) return { failure: why, detail: '' }
    return classify(error)
  } finally {
    clearTimeout(timer)
    unsubscribe()
  }
}

/** At most `max + 1` bytes of `stream` (then it is cancelled): `{ body, complete }`. */
async function readCapped(stream, max) {
  if (stream === null) return { body: EMPTY, complete: true }
  const reader = stream.getReader()
  const chunks = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    chunks.push(value)
    size += value.byteLength
    if (size > max) {
      await reader.cancel().catch(() => {})
      return { body: concat(chunks, size), complete: false }
    }
  }
  return { body: concat(chunks, size), complete: true }
}

function concat(chunks, size) {
  if (chunks.length === 1) return chunks[0]
  const out = new Uint8Array(size)
  let at = 0
  for (const chunk of chunks) {
    out.set(chunk, at)
    at += chunk.byteLength
  }
  return out
}

async function cancel(stream) {
  try {
    await stream?.cancel()
  } catch {
    // already errored: nothing to free
  }
}

module.exports = { fetchTransport: { open, send } }
