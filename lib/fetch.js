'use strict'
// `client.fetch(input, init)`: the global fetch with the client's auth header, and one retry with
// a new token when the vendor's API answers 401 to the old one.

const { VendorAuthError } = require('./errors')

/** Hosts where plain http never leaves the machine (local development and tests). */
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]'])

/**
 * @param {{ authHeader(o?: { signal?: AbortSignal }): Promise<Record<string, string>>,
 *   invalidate(stale?: unknown): boolean }} client
 */
async function authFetch(client, input, init) {
  const fetchImpl = globalThis.fetch
  if (typeof fetchImpl !== 'function') {
    throw new VendorAuthError('INVALID_OPTIONS', 'client.fetch() needs a global fetch (Node 18 or later)')
  }
  // Own properties only, so that a polluted Object.prototype cannot add a body or headers.
  const options = ownCopy(init)
  const request = new Request(input, options)
  const url = new URL(request.url)
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
    throw new VendorAuthError(
      'INSECURE_URL',
      `client.fetch() sends the token only over https: (plain http only to localhost), not to a ${url.protocol} URL`,
    )
  }
  // The caller's signal (in init or on a Request) also bounds the wait for a token.
  const call =
    input instanceof Request || (options !== undefined && options.signal != null)
      ? { signal: request.signal }
      : undefined
  // A stream body can be sent once; any other body is replayed from a copy.
  const spare = replayable(options) ? request.clone() : null

  const header = await client.authHeader(call)
  const response = await fetchImpl(withHeader(request, header))
  if (response.status !== 401 || spare === null) return response

  client.invalidate(header)
  const fresh = await client.authHeader(call)
  if (sameHeader(fresh, header)) return response // nothing newer to offer
  await discard(response)
  return fetchImpl(withHeader(spare, fresh))
}

function ownCopy(init) {
  if (init === undefined || init === null) return undefined
  if (typeof init !== 'object') {
    throw new VendorAuthError('INVALID_OPTIONS', `fetch init must be an object, not a ${typeof init}`)
  }
  const copy = Object.create(null)
  for (const key of Object.keys(init)) copy[key] = init[key]
  return copy
}

/** Whether init's body can be sent twice (a Request's own body is copied by `clone()`). */
function replayable(options) {
  const body = options === undefined ? undefined : options.body
  return body === undefined || body === null || !isStream(body)
}

function isStream(body) {
  if (typeof ReadableStream === 'function' && body instanceof ReadableStream) return true
  // Node streams and async iterables: consumed as they are read.
  return typeof body === 'object' && typeof body[Symbol.asyncIterator] === 'function'
}

/** A copy of `request` whose headers carry `header` (the caller's other headers kept). */
function withHeader(request, header) {
  const headers = new Headers(request.headers)
  for (const [name, value] of Object.entries(header)) headers.set(name, value)
  return new Request(request, { headers })
}

function sameHeader(a, b) {
  const [name] = Object.keys(a)
  return name !== undefined && a[name] === b[name]
}

async function discard(response) {
  try {
    await response.body?.cancel()
  } catch {
    // Already consumed or errored: nothing to free.
  }
}

module.exports = { authFetch }
