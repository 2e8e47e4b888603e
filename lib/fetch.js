'use strict'
// `client.fetch(input, init)`: the global fetch with the client's auth header, and one retry with
// a new token when the vendor's API answers 401 to the old one.
//
// Where the token goes (README "Security model"):
// - only to a URL the core trusts (`checkOrigin`: the vendor's API, baseUrl's origin, loopback
//   when baseUrl is loopback, `allowedOrigins`), checked before any request;
// - redirects are followed here, not by fetch (`redirect: 'manual'`), so that the header goes only
//   to the origin the caller asked for: a hop to another origin (another host, port, or from
//   https: to http:) is followed without it, for every vendor header (fetch itself drops only
//   `Authorization`). The caller's `redirect` mode is honoured ('follow', 'manual', 'error');
// - a 401 retries with a new token only when it came from a request that carried the token.

const { VendorAuthError } = require('./errors')

/** As fetch: at most 20 redirects. */
const MAX_REDIRECTS = 20
/** Headers that describe a body, dropped with the body when a redirect turns a request into GET. */
const BODY_HEADERS = ['content-encoding', 'content-language', 'content-location', 'content-type', 'content-length']
/** Headers fetch drops on a redirect to another origin (undici's list). */
const CROSS_ORIGIN_DROPPED = ['authorization', 'proxy-authorization', 'cookie', 'host']

/**
 * @param {{ authHeader(o?: { signal?: AbortSignal }): Promise<Record<string, string>>,
 *   invalidate(stale?: unknown): boolean }} client
 * @param {(url: string) => void} checkOrigin throws the refusal when the token may not go to url
 */
async function authFetch(client, input, init, checkOrigin) {
  const fetchImpl = globalThis.fetch
  if (typeof fetchImpl !== 'function') {
    throw new VendorAuthError('INVALID_OPTIONS', 'client.fetch() needs a global fetch (Node 18 or later)')
  }
  // Own properties only, so that a polluted Object.prototype cannot add a body or headers.
  const options = ownCopy(init)
  const request = new Request(input, options)
  checkOrigin(request.url)
  // The caller's signal (in init or on a Request) also bounds the wait for a token.
  const call =
    isRequest(input) || (options !== undefined && options.signal != null) ? { signal: request.signal } : undefined
  // A stream body can be sent once; any other body is replayed from a copy.
  const spare = replayable(options) ? request.clone() : null

  const header = await client.authHeader(call)
  const first = await send(fetchImpl, request, header, spare !== null)
  if (first.response.status !== 401 || !first.carried || spare === null) return first.response

  client.invalidate(header)
  const fresh = await client.authHeader(call)
  if (sameHeader(fresh, header)) return first.response // nothing newer to offer
  await discard(first.response)
  return (await send(fetchImpl, spare, fresh, true)).response
}

/**
 * Send `request` with `header` on it, following redirects as the request's own `redirect` mode
 * says, the header only on hops to the request's own origin. Resolves to the final response and
 * whether the request that produced it carried the header.
 */
async function send(fetchImpl, request, header, replayable) {
  const mode = request.redirect
  const origin = new URL(request.url).origin
  let current = request
  let carried = true
  for (let hops = 0; ; hops++) {
    // A 307/308 sends the body again: keep a copy of a hop that has one (a stream is sent once).
    const kept = mode === 'follow' && replayable && current.body !== null ? current.clone() : current
    const response = await fetchImpl(carried ? withHeader(current, header) : manual(current))
    if (!isRedirect(response.status) || !response.headers.has('location')) return { response, carried }
    if (mode === 'manual') return { response, carried }
    await discard(response)
    if (mode === 'error') {
      throw new TypeError(`fetch failed: redirect mode is 'error' and ${current.url} answered ${response.status}`)
    }
    if (hops >= MAX_REDIRECTS) {
      throw new TypeError(`fetch failed: more than ${MAX_REDIRECTS} redirects from ${request.url}`)
    }
    const target = new URL(response.headers.get('location'), current.url)
    current = follow(kept, response.status, target)
    carried = target.origin === origin
  }
}

function isRedirect(status) {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308
}

/**
 * The request for the next hop (fetch's rules): 303, and 301/302 after a POST, become a GET with
 * no body; 307/308 keep method and body. The caller's headers go along (the vendor header is
 * never among them), less those fetch drops on a hop to another origin.
 */
function follow(previous, status, target) {
  const method = previous.method
  const toGet = (status === 303 && method !== 'HEAD') || ((status === 301 || status === 302) && method === 'POST')
  const headers = new Headers(previous.headers)
  if (toGet) for (const name of BODY_HEADERS) headers.delete(name)
  if (target.origin !== new URL(previous.url).origin) for (const name of CROSS_ORIGIN_DROPPED) headers.delete(name)
  const body = toGet ? null : previous.body
  return new Request(target, {
    method: toGet ? 'GET' : method,
    headers,
    body,
    redirect: 'manual',
    signal: previous.signal,
    ...(body !== null ? { duplex: 'half' } : {}),
  })
}

/** `request` (a hop to another origin, so without the vendor header) with redirects left to us. */
function manual(request) {
  return new Request(request, { redirect: 'manual' })
}

/** A Request of any realm (an edge sandbox's is not this realm's): by its shape, not instanceof. */
function isRequest(input) {
  if (input === null || typeof input !== 'object') return false
  const proto = Object.getPrototypeOf(input)
  return (
    proto !== null &&
    proto !== Object.prototype &&
    typeof input.url === 'string' &&
    typeof input.clone === 'function' &&
    input.headers !== null &&
    typeof input.headers === 'object' &&
    typeof input.headers.get === 'function'
  )
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
  if (typeof body !== 'object') return false
  // A ReadableStream (of any realm: no instanceof on the edge path), a Node stream or an async
  // iterable: consumed as they are read.
  return typeof body.getReader === 'function' || typeof body[Symbol.asyncIterator] === 'function'
}

/** A copy of `request` whose headers carry `header` (the caller's other headers kept). */
function withHeader(request, header) {
  const headers = new Headers(request.headers)
  for (const [name, value] of Object.entries(header)) headers.set(name, value)
  return new Request(request, { headers, redirect: 'manual' })
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
