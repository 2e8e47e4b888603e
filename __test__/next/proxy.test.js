'use strict'
// Next 16's proxy.js (the new name of middleware.js): it always runs on the Node.js runtime (Next
// refuses a `runtime` config in it at build time), so it does not get the edge-light entry but
// the Node entry, like a Node route handler: with `serverExternalPackages: ['vendor-auth']` (the
// README's Next.js row) it is loaded from node_modules at run time, the native addon from the
// platform package where this host has one. __test__/fixtures/next-proxy over next-app (whose
// middleware.js it replaces), Turbopack; against the HTTPS mock vendor, counts at the mock.
// Run: npm run test:next (or node --test __test__/next/proxy.test.js; see harness.js).

const { describe, it, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')

const { SECRETS, startMock } = require('../helpers')
const { JWT_PATTERN } = require('../helpers/faults')
const { assertNoSecrets } = require('../helpers/util')
const { VERSIONS, workspace, nextBuild, nextStart, vendorApi } = require('./harness')

describe(`Next.js ${VERSIONS.next} proxy.js (Node.js runtime), Turbopack`, { timeout: 180_000 }, () => {
  let mock
  let api
  let ws
  let app
  let server

  before(async () => {
    mock = await startMock()
    api = await vendorApi(mock)
    ws = workspace()
    app = ws.app('next-proxy', ['next-app', 'next-proxy'], { platformPackage: true })
    fs.rmSync(path.join(app.dir, 'middleware.js')) // Next refuses middleware.js beside proxy.js
    const { output, seconds } = await nextBuild(app.dir, 'turbopack')
    console.log(`# next build (turbopack, proxy.js): ${seconds.toFixed(1)} s`)
    assert.match(output, /Proxy \(Middleware\)/)
    const caFile = path.join(app.dir, 'mock-ca.pem')
    fs.writeFileSync(caFile, mock.caCert)
    server = await nextStart(app.dir, {
      caFile,
      env: {
        PUPPETVENDORS_API_KEY: SECRETS.pvApiKey,
        VENDOR_AUTH_EXAMPLE_BASE_URL: mock.baseUrl,
        VENDOR_AUTH_EXAMPLE_API_URL: api.url,
        DEBUG: 'vendor-auth',
      },
    })
  })

  after(async () => {
    if (server) await server.stop()
    if (api) await api.close()
    if (mock) await mock.close()
    if (ws) ws.dispose()
  })

  it('a runtime config in proxy.js is a build error (so the edge entry never applies to it)', async () => {
    const edge = ws.app('next-proxy-edge', ['next-app', 'next-proxy'])
    fs.rmSync(path.join(edge.dir, 'middleware.js'))
    fs.appendFileSync(path.join(edge.dir, 'proxy.js'), "\nexport const runtime = 'edge'\n")
    await assert.rejects(nextBuild(edge.dir, 'turbopack'), /Route segment config is not allowed in Proxy file/)
  })

  it('cold requests at once share one exchange; the vendor API gets the token, the browser never does', async () => {
    const answers = await Promise.all(
      [1, 2, 3].map(async (page) => {
        const res = await fetch(`${server.base}/vendor/orders?page=${page}`, { headers: { cookie: 'session=browser' } })
        return { status: res.status, text: await res.text() }
      }),
    )
    for (const [i, { status, text }] of answers.entries()) {
      assert.equal(status, 200, `${text}\n${server.log()}`)
      assert.doesNotMatch(text, JWT_PATTERN)
      assert.deepEqual(JSON.parse(text), {
        verified: true,
        provider: 'puppetvendors',
        path: `/v2/orders?page=${i + 1}`,
      })
    }
    assert.equal(mock.count('pv.authenticate'), 1)
    assert.ok(api.seen.every((s) => s.verified && s.cookie === null))
    // The Node entry: the native addon where the platform package is installed, else the
    // WebAssembly fallback, which says so in the debug log.
    assert.match(server.log(), /vendor-auth puppetvendors POST https:/, 'the debug log is on')
    const fallback = /vendor-auth using the WebAssembly build/.test(server.log())
    assert.equal(fallback, !app.platformPackage, server.log())
    assertNoSecrets(server.log(), 'next start output')
  })
})
