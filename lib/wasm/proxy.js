'use strict'
// HTTP CONNECT tunnels for the Node fallback, through the proxy the core decided
// (src/conventions.rs, by way of https-transport.js): `{ name, scheme, host, port, authorization }`.
// The proxy's credentials travel only in the CONNECT's Proxy-Authorization header.

// Loaded on first use, as node:https is (see https-transport.js).
let net
let http

/** The request option that bounds a tunnel's CONNECT by the request's own `timeoutMs`. */
const CONNECT_TIMEOUT = Symbol('vendor-auth CONNECT timeout')

/** A tunnel that could not be made: its message names the proxy, the target and why. */
class TunnelError extends Error {}

/**
 * Opens a tunnel through `proxy` to `host:port` with HTTP CONNECT; `done(error, socket)`, the
 * error's message in `failed(authority, why)`'s words. Bounded by `timeoutMs`. The socket holds no
 * event loop: a foreground request's own timer holds it, and a background one must not.
 */
function tunnel(proxy, { host, port, timeoutMs, failed }, done) {
  net ??= require('node:net')
  http ??= require('node:http')
  const authority = `${net.isIP(host) === 6 ? `[${host}]` : host}:${port}`
  let settled = false
  let timer
  const fail = (why) => {
    if (settled) return
    settled = true
    clearTimeout(timer)
    done(new TunnelError(failed(authority, why)))
  }
  if (proxy.scheme !== 'http') {
    return fail(`unsupported scheme ${proxy.scheme} (the Node fallback tunnels through http:// proxies only)`)
  }
  const headers = { __proto__: null, host: authority }
  if (proxy.authorization !== undefined) headers['proxy-authorization'] = proxy.authorization
  // As in https-transport.js's Agent: an inherited `signal` must not crash the process.
  const connect = (options) => net.connect({ ...options, signal: undefined })
  const req = http.request({
    host: proxy.host,
    port: proxy.port,
    method: 'CONNECT',
    path: authority,
    headers,
    createConnection: connect,
  })
  timer = setTimeout(() => req.destroy(new Error(`no answer within timeoutMs = ${timeoutMs} ms`)), timeoutMs)
  timer.unref()
  req.on('socket', (socket) => socket.unref())
  req.on('error', (error) => fail(error.message))
  req.on('connect', (res, socket, head) => {
    const status = res.statusCode
    if (status < 200 || status > 299) {
      socket.destroy()
      // The status's standard reason, not the proxy's own text (which could echo our header).
      return fail(`the proxy answered the CONNECT with ${status} ${http.STATUS_CODES[status] ?? ''}`.trimEnd())
    }
    if (settled) return socket.destroy()
    settled = true
    clearTimeout(timer)
    if (head.length > 0) socket.unshift(head)
    done(null, socket)
  })
  req.end()
}

module.exports = { tunnel, TunnelError, CONNECT_TIMEOUT }
