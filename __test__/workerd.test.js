'use strict'
// A real edge runtime: Cloudflare's workerd (the `workerd` npm package ships the binary) runs a
// worker that imports vendor-auth through the `workerd` export condition, bundled with esbuild
// the way wrangler bundles (conditions workerd/worker/browser, the .wasm imported as a compiled
// module, no nodejs_compat). The worker authenticates against this process's HTTPS mock vendor
// (workerd trusts the mock's CA through the tlsOptions of its network service) and answers with
// redacted fields; the test calls it over loopback.
// Run: node --test __test__/workerd.test.js

const { describe, it, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawn } = require('node:child_process')

const { SECRETS, startMock } = require('./helpers')
const { ROOT, closedPort, waitFor, assertNoSecrets } = require('./helpers/util')
const { bundleWorkers } = require('./helpers/workerd')
const { JWT_PATTERN } = require('./helpers/faults')

const WORKER = path.join(__dirname, 'fixtures', 'workerd', 'worker.js')

// workerd's npm binary is glibc-only: where it cannot run (release.yml's Alpine/musl jobs set
// VENDOR_AUTH_TEST_NO_WORKERD), the suite skips, naming the variable; anywhere else a workerd that
// does not start fails.
const NO_WORKERD = process.env.VENDOR_AUTH_TEST_NO_WORKERD
const skip = NO_WORKERD ? `workerd's binary does not run here (VENDOR_AUTH_TEST_NO_WORKERD=${NO_WORKERD})` : false

function config({ port, compatibilityFlags = [] }) {
  const flags = compatibilityFlags.map((f) => JSON.stringify(f)).join(', ')
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    # The worker's global fetch: loopback only, trusting the mock vendor's CA.
    (name = "internet", network = (allow = ["local"], tlsOptions = (trustedCertificates = [embed "mock-ca.pem"]))),
  ],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);

const worker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "vendor_auth_bg.wasm", wasm = embed "vendor_auth_bg.wasm"),
  ],
  compatibilityDate = "2025-06-01",
  compatibilityFlags = [${flags}],
  bindings = [
    (name = "MOCK_BASE_URL", fromEnvironment = "MOCK_BASE_URL"),
    (name = "PV_KEY", fromEnvironment = "PV_KEY"),
    (name = "VENDY_AK", fromEnvironment = "VENDY_AK"),
    (name = "VENDY_SK", fromEnvironment = "VENDY_SK"),
  ],
);
`
}

describe('vendor-auth in workerd (Cloudflare Workers runtime)', { timeout: 120_000, skip }, () => {
  let mock
  let tmp
  let bundle
  let workerd
  let stderr = ''
  let base

  before(async () => {
    mock = await startMock()
    bundle = (await bundleWorkers({ worker: WORKER })).worker
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vendor-auth-workerd-'))
    fs.writeFileSync(path.join(tmp, 'worker.js'), bundle.text)
    fs.copyFileSync(path.join(ROOT, 'wasm', 'vendor_auth_bg.wasm'), path.join(tmp, 'vendor_auth_bg.wasm'))
    fs.writeFileSync(path.join(tmp, 'mock-ca.pem'), mock.caCert)
    const port = await closedPort()
    fs.writeFileSync(path.join(tmp, 'config.capnp'), config({ port }))
    base = `http://127.0.0.1:${port}`
    // The keys reach the worker as bindings from this environment, never through the bundle.
    workerd = spawn(require('workerd').default, ['serve', path.join(tmp, 'config.capnp')], {
      cwd: tmp,
      env: {
        ...process.env,
        MOCK_BASE_URL: mock.baseUrl,
        PV_KEY: SECRETS.pvApiKey,
        VENDY_AK: SECRETS.vendyAccessKey,
        VENDY_SK: SECRETS.vendySecretKey,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    workerd.stdout.setEncoding('utf8').on('data', (chunk) => (stderr += chunk))
    workerd.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk))
    await waitFor(
      async () => {
        if (workerd.exitCode !== null) assert.fail(`workerd exited (${workerd.exitCode}): ${stderr}`)
        return fetch(`${base}/runtime`).then(
          (res) => res.ok,
          () => false,
        )
      },
      { timeoutMs: 30_000, intervalMs: 100, what: 'workerd to listen' },
    )
  })

  after(async () => {
    if (workerd && workerd.exitCode === null) {
      workerd.kill('SIGTERM')
      await new Promise((resolve) => workerd.once('close', resolve))
    }
    if (mock) await mock.close()
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true })
  })

  /** GET a route of the worker: its JSON, checked to hold no credential and no token. */
  async function call(route) {
    const res = await fetch(`${base}/${route}`)
    const text = await res.text()
    assert.equal(res.status, 200, `${route}: ${text}\nworkerd: ${stderr}`)
    assertNoSecrets(text, `${route} answer`)
    assert.doesNotMatch(text, JWT_PATTERN, `${route} answer holds a JWT`)
    return JSON.parse(text)
  }

  it('the bundle took the workerd entry: the wasm build and fetch, no Node built-in, no native loader', () => {
    for (const input of ['lib/workerd.mjs', 'lib/edge.js', 'lib/wasm/driver.js', 'lib/wasm/fetch-transport.js']) {
      assert.ok(bundle.inputs.includes(input), `${input} in ${bundle.inputs}`)
    }
    assert.ok(bundle.inputs.includes('wasm/vendor_auth.mjs'))
    for (const input of [
      'lib/index.js',
      'lib/native.js',
      'lib/backend.js',
      'binding.js',
      'lib/wasm/https-transport.js',
    ]) {
      assert.ok(!bundle.inputs.includes(input), `${input} must not be bundled`)
    }
    // (esbuild's own CommonJS wrapper is a function named __require.)
    assert.doesNotMatch(bundle.text, /\bnode:|import\.meta|(?<![\w$])require\(/)
    assert.match(bundle.text, /from "\.\/vendor_auth_bg\.wasm"/)
  })

  it('runs as Cloudflare-Workers, without nodejs_compat', async () => {
    const out = await call('runtime')
    assert.equal(out.userAgent, 'Cloudflare-Workers')
    assert.equal(out.process, 'undefined')
    assert.equal(out.codes, Object.keys(require('..').ErrorCodes).length, 'the same codes as the Node entry')
  })

  it('authenticate() through the runtime fetch: a Session with redacted fields, debug lines from the core', async () => {
    mock.reset()
    const out = await call('authenticate')
    assert.equal(out.isSession, true)
    assert.equal(out.session.provider, 'puppetvendors')
    assert.match(out.session.token, /^eyJhbG…$/)
    assert.equal(out.session.headerName, 'x-access-token')
    assert.deepEqual(out.session.permissions, ['orders:read', 'products:read'])
    assert.ok(out.session.expiresAt > Date.now() + 3_600_000)
    assert.ok(out.tokenLength > 100, 'the real token is there for the worker to use')
    assert.equal(mock.count('pv.authenticate'), 1)
    const [request] = mock.requests
    assert.equal(request.headers['user-agent'], 'vendor-auth/0.1.0')
    assert.deepEqual(JSON.parse(request.body), { apiKey: SECRETS.pvApiKey })
    assert.match(out.lines[0], /^vendor-auth puppetvendors POST https:\/\/127\.0\.0\.1:\d+\/authenticate$/)
    assert.match(out.lines[1], /answered HTTP 200 in \d+ ms/)
    assert.match(out.lines[2], /new token eyJhbG… expires at/)
  })

  it('a client at module scope: one exchange, then its cached header serves later requests', async () => {
    mock.reset()
    const first = await call('client')
    assert.deepEqual(first.headerNames, ['Authorization'])
    assert.equal(first.bearer, true)
    assert.equal(first.same, true)
    assert.equal(first.client.session.token, 'eyJhbG…')
    const second = await call('client')
    assert.equal(second.session.expiresAt, first.session.expiresAt)
    assert.equal(mock.count('vendy.auth'), 1, 'the second request was served from the cache')
  })

  it('a tokenStore inside workerd: the second client adopts the first one’s sealed session (1 exchange)', async () => {
    mock.reset()
    const out = await call('store')
    assert.equal(out.same, true)
    assert.equal(mock.count('pv.authenticate'), 1, 'the second client sent no request')
    assert.deepEqual(out.keys, ['session'], 'one sealed entry; the lock was released')
    assert.equal(out.sealed, true, 'sealed, and the token is not in it')
    assert.equal(out.adopted, true)
    // First client: read, lock, read again, publish, release; second: read (and adopt).
    // Each look reads the session, the rate limit and the lock at once.
    const look = ['get', 'get', 'get']
    assert.deepEqual(out.calls, [...look, 'lock', ...look, 'set', 'release', ...look])
  })

  it('503 then 200: retried after a backoff timer inside workerd', async () => {
    mock.reset()
    mock.script('pv.authenticate', [{ status: 503 }])
    const out = await call('retry')
    assert.equal(out.session.provider, 'puppetvendors')
    assert.equal(mock.count('pv.authenticate'), 2)
    assert.ok(out.lines.some((l) => /answered HTTP 503/.test(l)))
    assert.ok(out.lines.some((l) => /retry in \d+ ms/.test(l)))
  })

  it('a refused key is UNAUTHORIZED with the status, as a VendorAuthError', async () => {
    mock.reset()
    const { error } = await call('refused')
    assert.equal(error.isVendorAuthError, true)
    assert.equal(error.name, 'VendorAuthError')
    assert.equal(error.code, 'UNAUTHORIZED')
    assert.equal(error.status, 401)
    assert.equal(error.provider, 'puppetvendors')
    assert.equal(mock.count('pv.authenticate'), 1)
  })

  it('a stalled vendor is TIMEOUT after timeoutMs', async () => {
    mock.reset()
    mock.script('pv.authenticate', [{ stall: true }])
    const started = Date.now()
    const { error } = await call('timeout')
    assert.equal(error.code, 'TIMEOUT')
    assert.match(error.message, /timeoutMs = 300 ms/)
    assert.ok(Date.now() - started < 5_000)
  })

  it("caCert is refused (fetch cannot take one): INVALID_OPTIONS naming the runtime's setting", async () => {
    const { error } = await call('cacert')
    assert.equal(error.code, 'INVALID_OPTIONS')
    assert.match(error.message, /trustedCertificates/)
  })
})
