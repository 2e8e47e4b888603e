'use strict'
// Proxies from the environment for the Node fallback, by the rules the native build follows
// (hyper-util's `Matcher::from_system`, which reqwest reads; see src/native/conventions.rs):
// HTTPS_PROXY / https_proxy, else ALL_PROXY / all_proxy (the first of each pair that is set, even
// if empty), NO_PROXY / no_proxy with curl's rules, and none at all under CGI (REQUEST_METHOD set).
// A proxy is named in messages as `scheme://host[:port] (from VARIABLE)`, never with its
// credentials, which travel only in the CONNECT's Proxy-Authorization header.

// Loaded on first use, as node:https is (see https-transport.js).
let net
let http

/** The request option that bounds a tunnel's CONNECT by the request's own `timeoutMs`. */
const CONNECT_TIMEOUT = Symbol('vendor-auth CONNECT timeout')

/** A tunnel that could not be made: its message names the proxy, the target and why. */
class TunnelError extends Error {}

/** The value of `name` in the real process environment (own entries only), or undefined. */
function env(name) {
  return Object.hasOwn(process.env, name) ? process.env[name] : undefined
}

/** The first of `names` that is set (as hyper-util's `get_first_env`), as [name, value]. */
function firstSet(names) {
  for (const name of names) {
    const value = env(name)
    if (value !== undefined) return [name, value]
  }
  return [undefined, '']
}

/**
 * The proxy settings of the environment now (read once per client, as the native build reads
 * them), or undefined when there is no proxy: `{ proxy, noProxy }`, where `proxy` is
 * `{ key, name, origin, authorization, unsupported }`. `key` tells pools apart (it holds the
 * credentials: never shown); `unsupported` says why the fallback cannot use it.
 */
function proxySettings() {
  if (env('REQUEST_METHOD') !== undefined) return undefined
  const [httpsName, httpsValue] = firstSet(['HTTPS_PROXY', 'https_proxy'])
  const [allName, allValue] = firstSet(['ALL_PROXY', 'all_proxy'])
  const proxy = parseProxy(httpsValue, httpsName) ?? parseProxy(allValue, allName)
  if (proxy === undefined) return undefined
  return { proxy, noProxy: firstSet(['NO_PROXY', 'no_proxy'])[1] }
}

/** The proxy of `settings` (from `proxySettings`) for a request to `url`, unless NO_PROXY says not. */
function proxyFor(url, settings) {
  if (settings === undefined) return undefined
  net ??= require('node:net')
  const { hostname } = new URL(url)
  return bypassed(hostname, settings.noProxy) ? undefined : settings.proxy
}

/** A proxy variable's value as the native build reads it, or undefined when it names none. */
function parseProxy(value, variable) {
  if (value === '') return undefined
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value)?.[1].toLowerCase()
  if (scheme !== undefined && !/^(https?|socks(4a?|5h?))$/.test(scheme)) return undefined
  let url
  try {
    url = new URL(scheme === undefined ? `http://${value}` : value)
  } catch {
    return undefined
  }
  if (url.hostname === '') return undefined
  const name = `${url.protocol}//${url.host} (from ${variable})`
  let authorization
  if (url.username !== '' || url.password !== '') {
    const pair = `${decode(url.username)}:${decode(url.password)}`
    authorization = `Basic ${Buffer.from(pair).toString('base64')}`
  }
  const unsupported =
    url.protocol === 'http:'
      ? undefined
      : `unsupported scheme ${url.protocol.slice(0, -1)} (the Node fallback tunnels through http:// proxies only)`
  return { key: value, name, origin: `http://${url.host}`, authorization, unsupported }
}

function decode(text) {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

/** Whether NO_PROXY sends `host` direct: IPs and CIDRs against IPs, domains by curl's rules. */
function bypassed(host, noProxy) {
  const bare = host.startsWith('[') ? host.slice(1, -1) : host
  const family = net.isIP(bare)
  for (const entry of noProxy.split(',')) {
    const rule = entry.trim()
    if (rule === '') continue
    const [address, prefix] = rule.split('/')
    const ruleFamily = net.isIP(address)
    if (ruleFamily !== 0) {
      if (ruleFamily === family && inNetwork(bare, address, prefix, family)) return true
    } else if (family === 0 && domainMatches(rule.toLowerCase(), bare.toLowerCase())) {
      return true
    }
  }
  return false
}

/** Whether `address` is `network` (no `prefix`) or in `network/prefix`, both of IP `family`. */
function inNetwork(address, network, prefix, family) {
  const type = family === 4 ? 'ipv4' : 'ipv6'
  const list = new net.BlockList()
  try {
    if (prefix === undefined) list.addAddress(network, type)
    else if (/^\d+$/.test(prefix)) list.addSubnet(network, Number(prefix), type)
    else return false
  } catch {
    return false
  }
  return list.check(address, type)
}

/** hyper-util's `DomainMatcher::contains` (curl's CURLOPT_NOPROXY rules). */
function domainMatches(rule, domain) {
  if (rule === domain || (rule.startsWith('.') && rule.slice(1) === domain)) return true
  if (domain.endsWith(rule)) return rule.startsWith('.') || domain[domain.length - rule.length - 1] === '.'
  return rule === '*'
}

/**
 * Opens a tunnel through `proxy` to `host:port` with HTTP CONNECT; `done(error, socket)`. Bounded
 * by `timeoutMs`. The socket holds no event loop: a foreground request's own timer holds it, and
 * a background one must not.
 */
function tunnel(proxy, { host, port, timeoutMs }, done) {
  net ??= require('node:net')
  http ??= require('node:http')
  const authority = `${net.isIP(host) === 6 ? `[${host}]` : host}:${port}`
  let settled = false
  let timer
  const fail = (why) => {
    if (settled) return
    settled = true
    clearTimeout(timer)
    done(
      new TunnelError(
        `could not get through the proxy ${proxy.name} to ${authority}: ${why}. Check the proxy, or exclude ${host} with NO_PROXY`,
      ),
    )
  }
  if (proxy.unsupported !== undefined) return fail(proxy.unsupported)
  const headers = { __proto__: null, host: authority }
  if (proxy.authorization !== undefined) headers['proxy-authorization'] = proxy.authorization
  // As in https-transport.js's Agent: an inherited `signal` must not crash the process.
  const connect = (options) => net.connect({ ...options, signal: undefined })
  const req = http.request(proxy.origin, {
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

module.exports = { env, proxySettings, proxyFor, tunnel, TunnelError, CONNECT_TIMEOUT }
