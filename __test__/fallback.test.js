'use strict'
// The Node fallback: where no native binary loads (here: the package copied without any .node
// file and without its platform package, as on macOS or Windows before their binaries are
// published), `require('vendor-auth')` uses the wasm build, says so in one debug line, and works:
// real exchanges against the local HTTPS mock, with caCert and with NODE_EXTRA_CA_CERTS.
// Run: node --test __test__/fallback.test.js

const { describe, it, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const { SECRETS, startMock } = require('./helpers')
const { ROOT, runNode, lastJsonLine, assertNoSecrets } = require('./helpers/util')

/** The package as installed without its platform package: no .node file anywhere. */
function copyPackage(into, { withWasm = true } = {}) {
  const dest = path.join(into, 'node_modules', 'vendor-auth')
  fs.mkdirSync(dest, { recursive: true })
  for (const entry of ['package.json', 'binding.js', 'lib', 'testing', ...(withWasm ? ['wasm'] : [])]) {
    fs.cpSync(path.join(ROOT, entry), path.join(dest, entry), { recursive: true })
  }
  return dest
}

/** The child's environment: no override that could point the loader at a binary. */
function env(extra) {
  return { NAPI_RS_NATIVE_LIBRARY_PATH: '', VENDOR_AUTH_FORCE_WASM: '', DEBUG: 'vendor-auth', ...extra }
}

const USE = `
  const { authenticate, createClient, VendorAuthError } = require('vendor-auth')
  const opts = (provider, extra) => ({
    provider, baseUrl: process.env.MOCK_BASE_URL,
    ...(provider === 'vendy'
      ? { accessKey: process.env.AK, secretKey: process.env.SK }
      : { apiKey: process.env.PV_KEY }),
    ...extra,
  })
  const ca = process.env.USE_CA ? { caCert: process.env.USE_CA } : {}
  ;(async () => {
    const loaded = Object.keys(require.cache).filter((f) => f.endsWith('.node'))
    try {
      const session = await authenticate(opts('puppetvendors', ca))
      const client = createClient(opts('vendy', ca))
      const header = await client.authHeader()
      const again = await client.authHeader()
      console.log(JSON.stringify({ ok: true, loaded, session: session.toJSON(), headerNames: Object.keys(header), same: header === again, doneAt: Date.now() }))
    } catch (error) {
      console.log(JSON.stringify({ ok: false, loaded, code: error.code, message: error.message, isVendorAuthError: error instanceof VendorAuthError, doneAt: Date.now() }))
    }
  })()`

describe('no native binary for this platform: the wasm build', () => {
  let mock
  let otherMock
  let tmp
  let childEnv
  before(async () => {
    mock = await startMock()
    otherMock = await startMock()
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vendor-auth-fallback-'))
    copyPackage(path.join(tmp, 'app'))
    copyPackage(path.join(tmp, 'bare'), { withWasm: false })
    childEnv = {
      MOCK_BASE_URL: mock.baseUrl,
      AK: SECRETS.vendyAccessKey,
      SK: SECRETS.vendySecretKey,
      PV_KEY: SECRETS.pvApiKey,
    }
  })
  after(async () => {
    await mock.close()
    await otherMock.close()
    fs.rmSync(tmp, { recursive: true, force: true })
  })

  const run = (dir, extra) => runNode(['-e', USE], { cwd: path.join(tmp, dir), env: env({ ...childEnv, ...extra }) })

  it('loads, says so in one debug line, and exchanges tokens (caCert)', async () => {
    const result = await run('app', { USE_CA: mock.caCert })
    assert.equal(result.code, 0, result.stderr)
    const out = lastJsonLine(result.stdout)
    assert.equal(out.ok, true, JSON.stringify(out))
    assert.deepEqual(out.loaded, [], 'no .node file was loaded')
    assert.equal(out.session.provider, 'puppetvendors')
    assert.match(out.session.token, /^eyJhbG…$/)
    assert.deepEqual(out.headerNames, ['Authorization'])
    assert.equal(out.same, true, 'the second authHeader() came from the cache')
    const notes = result.stderr.split('\n').filter((l) => l.includes('WebAssembly build'))
    assert.equal(notes.length, 1, result.stderr)
    assert.match(
      notes[0],
      new RegExp(
        `^vendor-auth using the WebAssembly build: no native binary loads on ${process.platform}-${process.arch} \\(`,
      ),
    )
    assert.match(result.stderr, /puppetvendors answered HTTP 200/)
    assertNoSecrets(result.stdout + result.stderr, 'child output')
    assert.equal(mock.count('pv.authenticate'), 1)
    assert.equal(mock.count('vendy.auth'), 1)
  })

  it('NODE_EXTRA_CA_CERTS is trusted, alone and next to a caCert of another CA', async () => {
    const caFile = path.join(tmp, 'mock-ca.pem')
    fs.writeFileSync(caFile, mock.caCert)
    for (const extra of [{}, { USE_CA: otherMock.caCert }]) {
      const result = await run('app', { NODE_EXTRA_CA_CERTS: caFile, ...extra })
      const out = lastJsonLine(result.stdout)
      assert.equal(out.ok, true, `${JSON.stringify(extra)}: ${JSON.stringify(out)}`)
    }
  })

  it('an untrusted certificate is NETWORK mentioning caCert, after one attempt', async () => {
    const result = await run('app', {})
    const out = lastJsonLine(result.stdout)
    assert.equal(out.ok, false)
    assert.equal(out.code, 'NETWORK')
    assert.match(out.message, /not trusted.*caCert/)
    // The handshake fails, so the mock counts no request: the debug lines show one attempt.
    const attempts = result.stderr.split('\n').filter((l) => /puppetvendors POST /.test(l))
    assert.equal(attempts.length, 1, `not retried: ${result.stderr}`)
  })

  it('without the wasm build either: UNSUPPORTED_PLATFORM, naming both', async () => {
    const result = await run('bare', { USE_CA: mock.caCert })
    assert.notEqual(result.code, 0)
    assert.match(result.stderr, /UNSUPPORTED_PLATFORM/)
    assert.match(result.stderr, /no native binary that loads/)
    assert.match(result.stderr, /The WebAssembly build did not load either/)
  })
})
