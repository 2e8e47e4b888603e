'use strict'
// Node's conventions for trust and proxies: NODE_EXTRA_CA_CERTS (read at client creation, merged
// with caCert; a missing or empty file is ignored as Node ignores it, and said so), SSL_CERT_FILE,
// HTTPS_PROXY / NO_PROXY through a loopback CONNECT proxy, and a dead proxy's error naming the
// proxy. Every pool is keyed on its extra roots, so each case uses a mock with a fresh CA (a new
// pool, built with the environment of that moment).

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const http = require('node:http')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')

const { authenticate } = require('..')
const { optionsFor, mockFor, SECRETS } = require('./helpers')
const { closedPort, withEnv, expectVendorError } = require('./helpers/util')

const PV = 'puppetvendors'
const CLEAN_ENV = {
  NODE_EXTRA_CA_CERTS: undefined,
  SSL_CERT_FILE: undefined,
  SSL_CERT_DIR: undefined,
  HTTPS_PROXY: undefined,
  https_proxy: undefined,
  ALL_PROXY: undefined,
  all_proxy: undefined,
  NO_PROXY: undefined,
  no_proxy: undefined,
}

/** Options against `mock` without its caCert (trust must come from the environment). */
function untrusted(mock, extra = {}) {
  const { caCert, ...options } = optionsFor(mock, PV, { maxRetries: 0, ...extra })
  void caCert
  return options
}

/** A file in a fresh temporary folder, removed when the test ends. */
function tempFile(t, name, contents) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vendor-auth-conventions-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  const file = path.join(dir, name)
  if (contents !== undefined) fs.writeFileSync(file, contents)
  return file
}

/** A loopback HTTP proxy that tunnels CONNECT requests, and records their targets. */
async function connectProxy(t) {
  const targets = []
  const sockets = new Set()
  const server = http.createServer((req, res) => res.writeHead(405).end())
  server.on('connect', (req, client, head) => {
    targets.push(req.url)
    const [host, port] = req.url.split(':')
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      upstream.write(head)
      upstream.pipe(client).pipe(upstream)
    })
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('error', () => {})
      s.on('close', () => sockets.delete(s))
    }
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => {
    for (const s of sockets) s.destroy()
    return new Promise((resolve) => server.close(resolve))
  })
  return { url: `http://127.0.0.1:${server.address().port}`, targets }
}

test('without caCert or NODE_EXTRA_CA_CERTS the mock is not trusted (the baseline)', async (t) => {
  const mock = await mockFor(t)
  await withEnv(CLEAN_ENV, () =>
    expectVendorError(authenticate(untrusted(mock)), { code: 'NETWORK', message: /not trusted/ }),
  )
})

test('NODE_EXTRA_CA_CERTS set after start-up is honoured by the next client (no caCert)', async (t) => {
  const mock = await mockFor(t)
  const file = tempFile(t, 'ca.pem', mock.caCert)
  const session = await withEnv({ ...CLEAN_ENV, NODE_EXTRA_CA_CERTS: file }, () => authenticate(untrusted(mock)))
  assert.equal(session.provider, PV)
  assert.equal(mock.count('pv.authenticate'), 1)
})

test('NODE_EXTRA_CA_CERTS and caCert are merged: both CAs are trusted at once', async (t) => {
  const [a, b] = [await mockFor(t), await mockFor(t)]
  const file = tempFile(t, 'ca.pem', a.caCert)
  await withEnv({ ...CLEAN_ENV, NODE_EXTRA_CA_CERTS: file }, async () => {
    // caCert names B's CA; A's comes from the environment.
    await authenticate({ ...untrusted(a), caCert: b.caCert })
    await authenticate({ ...untrusted(b), caCert: b.caCert })
  })
  assert.equal(a.count('pv.authenticate'), 1)
  assert.equal(b.count('pv.authenticate'), 1)
})

test('the connection pool follows the file: rewriting NODE_EXTRA_CA_CERTS drops the old trust', async (t) => {
  const [a, b] = [await mockFor(t), await mockFor(t)]
  const file = tempFile(t, 'ca.pem', a.caCert)
  await withEnv({ ...CLEAN_ENV, NODE_EXTRA_CA_CERTS: file }, async () => {
    await authenticate(untrusted(a))
    fs.writeFileSync(file, b.caCert)
    await expectVendorError(authenticate(untrusted(a)), { code: 'NETWORK', message: /not trusted/ })
    await authenticate(untrusted(b))
  })
  assert.equal(a.count('pv.authenticate'), 1, 'the refused TLS handshake sent no request')
  assert.equal(b.count('pv.authenticate'), 1)
})

test('a missing NODE_EXTRA_CA_CERTS file is ignored, as Node does, and named in the log and in a certificate error', async (t) => {
  const mock = await mockFor(t)
  const missing = tempFile(t, 'missing.pem')
  await withEnv({ ...CLEAN_ENV, NODE_EXTRA_CA_CERTS: missing }, async () => {
    const lines = []
    const session = await authenticate({ ...optionsFor(mock, PV), logger: (line) => lines.push(line) })
    assert.equal(session.provider, PV, 'caCert still works')
    const note = lines.find((line) => line.includes('NODE_EXTRA_CA_CERTS'))
    assert.ok(note, lines.join('\n'))
    assert.ok(note.includes(missing) && /ignored/.test(note), note)

    const error = await expectVendorError(authenticate(untrusted(mock)), { code: 'NETWORK' })
    assert.match(error.message, /not trusted/)
    assert.ok(error.message.includes(`NODE_EXTRA_CA_CERTS=${missing} was ignored`), error.message)
  })
})

test('a NODE_EXTRA_CA_CERTS file without a certificate is ignored and named', async (t) => {
  const mock = await mockFor(t)
  const file = tempFile(t, 'junk.pem', 'this is not a certificate\n')
  await withEnv({ ...CLEAN_ENV, NODE_EXTRA_CA_CERTS: file }, async () => {
    const error = await expectVendorError(authenticate(untrusted(mock)), { code: 'NETWORK' })
    assert.match(error.message, /NODE_EXTRA_CA_CERTS=.* was ignored, as Node ignores it: it holds no PEM certificate/)
    // The bad file does not make caCert fail.
    await authenticate(optionsFor(mock, PV))
  })
})

test('SSL_CERT_FILE replaces the system roots (documented; read by rustls-native-certs)', async (t) => {
  const mock = await mockFor(t)
  const file = tempFile(t, 'roots.pem', mock.caCert)
  const session = await withEnv({ ...CLEAN_ENV, SSL_CERT_FILE: file }, () => authenticate(untrusted(mock)))
  assert.equal(session.provider, PV)
})

test('HTTPS_PROXY is honoured (one CONNECT to the vendor host) and NO_PROXY bypasses it', async (t) => {
  const proxy = await connectProxy(t)
  const viaProxy = await mockFor(t)
  await withEnv({ ...CLEAN_ENV, HTTPS_PROXY: proxy.url }, () => authenticate(optionsFor(viaProxy, PV)))
  assert.deepEqual(proxy.targets, [`127.0.0.1:${viaProxy.port}`])

  const direct = await mockFor(t)
  await withEnv({ ...CLEAN_ENV, HTTPS_PROXY: proxy.url, NO_PROXY: 'localhost,127.0.0.1' }, () =>
    authenticate(optionsFor(direct, PV)),
  )
  assert.equal(proxy.targets.length, 1, 'NO_PROXY: no CONNECT for the second mock')
  assert.equal(direct.count('pv.authenticate'), 1)
})

test("a dead proxy's error names the proxy and the variable, never the proxy's credentials", async (t) => {
  const mock = await mockFor(t)
  const port = await closedPort()
  const password = 'proxy-pw-LEAKCHECK-5e7a'
  const error = await withEnv({ ...CLEAN_ENV, https_proxy: `http://proxyuser:${password}@127.0.0.1:${port}` }, () =>
    expectVendorError(authenticate(optionsFor(mock, PV, { maxRetries: 0 })), { code: 'NETWORK', provider: PV }),
  )
  assert.ok(error.message.includes(`proxy http://127.0.0.1:${port} (from https_proxy)`), error.message)
  assert.ok(error.message.includes(`to 127.0.0.1:${mock.port}`), error.message)
  assert.match(error.message, /NO_PROXY/)
  for (const secret of [password, 'proxyuser', SECRETS.pvApiKey]) assert.ok(!error.message.includes(secret))
  assert.equal(mock.count(), 0)
})
