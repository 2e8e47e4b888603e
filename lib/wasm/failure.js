'use strict'
// How a transport reports a request that got no answer: `{ failure, detail }`, with `failure` one
// of the kinds the core knows (src/wasm/binding.rs `WasmRun::failed`), classified from the error's
// code where the runtime gives one (Node, Bun: `code`, also on `cause`), not from its text (but for
// the one TLS alert Node gives no code of). A runtime that gives no code (workerd) gets OTHER: a
// network failure, retried.

const TIMEOUT = 0
const CONNECT = 1
const UNTRUSTED = 2
const OTHER = 3
const ABORTED = 4
/** The server refused HTTP/1.1 when the protocol was negotiated (ALPN): it speaks only HTTP/2. */
const NO_HTTP1 = 5

const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
])
/** OpenSSL's verification failures as Node reports them (`err.code`). */
const UNTRUSTED_CODE =
  /^(UNABLE_TO_(GET_ISSUER_CERT|GET_ISSUER_CERT_LOCALLY|VERIFY_LEAF_SIGNATURE|DECRYPT_CERT_SIGNATURE)|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_[A-Z_]+|ERR_TLS_CERT_ALTNAME_INVALID)$/

/** `{ failure, detail }` for an error a transport caught. */
function classify(error) {
  let detail = ''
  for (let e = error, depth = 0; e && depth < 5; e = e.cause, depth++) {
    const message = typeof e.message === 'string' ? e.message : String(e)
    if (message && !detail.includes(message)) detail = detail ? `${detail}: ${message}` : message
    const code = typeof e.code === 'string' ? e.code : undefined
    if (code === undefined) continue
    if (CONNECT_CODES.has(code)) return { failure: CONNECT, detail }
    if (UNTRUSTED_CODE.test(code)) return { failure: UNTRUSTED, detail }
    if (code === 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL') return { failure: NO_HTTP1, detail }
    // Node reports the server's TLS alert on the socket as a bare EPROTO: the alert's number
    // (120, no_application_protocol, RFC 7301) is only in OpenSSL's text.
    if (code === 'EPROTO' && /\balert number 120\b/.test(message)) return { failure: NO_HTTP1, detail }
  }
  return { failure: OTHER, detail: detail || 'the request failed' }
}

module.exports = { TIMEOUT, CONNECT, UNTRUSTED, OTHER, ABORTED, NO_HTTP1, classify }
