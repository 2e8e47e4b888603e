'use strict'
// vendor-auth's edge-light entry in Vercel's own edge-runtime package (the VM `vercel dev` runs
// edge functions in): the function of __test__/fixtures/vercel-edge, bundled and served as
// `vercel dev` does it (edge-runtime-host.js), with vendor-auth as packed; its .wasm compiled in
// the host's realm, as Vercel hands it over. Against the HTTPS mock vendor, counts at the mock.
// Run: npm run test:next (or node --test __test__/next/edge-runtime.test.js; see harness.js).

const { describe, it, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { spawn } = require('node:child_process')

const { SECRETS, startMock } = require('../helpers')
const { JWT_PATTERN } = require('../helpers/faults')
const { assertNoSecrets, waitFor } = require('../helpers/util')
const { VERSIONS, workspace, vendorApi, childEnv } = require('./harness')

describe(`edge-runtime ${VERSIONS['edge-runtime']} (vercel dev's VM)`, { timeout: 120_000 }, () => {
  let mock
  let api
  let ws
  let host
  let log = ''
  let started

  before(async () => {
    mock = await startMock()
    api = await vendorApi(mock)
    ws = workspace()
    const app = ws.app('vercel-edge', ['vercel-edge'])
    const caFile = path.join(app.dir, 'mock-ca.pem')
    fs.writeFileSync(caFile, mock.caCert)
    host = spawn(
      process.execPath,
      [path.join(__dirname, 'edge-runtime-host.js'), path.join(app.dir, 'api', 'orders.js')],
      {
        env: childEnv({
          NODE_EXTRA_CA_CERTS: caFile,
          PUPPETVENDORS_API_KEY: SECRETS.pvApiKey,
          PUPPETVENDORS_BASE_URL: mock.baseUrl,
          PUPPETVENDORS_API_URL: `${api.url}/v2`,
        }),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    host.stdout.setEncoding('utf8').on('data', (c) => (log += c))
    host.stderr.setEncoding('utf8').on('data', (c) => (log += c))
    started = await waitFor(
      () => {
        if (host.exitCode !== null) assert.fail(`edge-runtime host exited (${host.exitCode}): ${log}`)
        const line = log.split('\n').find((l) => l.startsWith('{"url"'))
        return line && JSON.parse(line)
      },
      { timeoutMs: 60_000, intervalMs: 50, what: 'the edge-runtime server' },
    )
  })

  after(async () => {
    if (host && host.exitCode === null) {
      const closed = new Promise((resolve) => host.once('close', resolve))
      host.kill('SIGTERM')
      await closed
    }
    if (api) await api.close()
    if (mock) await mock.close()
    if (ws) ws.dispose()
  })

  it('bundled from the edge-light entry, its .wasm a global compiled outside the VM', () => {
    const inputs = started.inputs.map((f) => f.replace(/^.*node_modules\/vendor-auth\//, 'vendor-auth/'))
    assert.ok(inputs.includes('vendor-auth/lib/edge-light.mjs'), inputs.join(', '))
    assert.ok(!inputs.some((f) => /vendor-auth\/(lib\/native\.js|binding\.js|lib\/index\.m?js)$/.test(f)))
    assert.equal(started.bindings.length, 1)
  })

  it('cold requests at once: one exchange; then the cached header; the token never in the answer', async () => {
    const answers = await Promise.all(
      [1, 2, 3].map(async (page) => {
        const res = await fetch(`${started.url}/api/orders?page=${page}`)
        return { status: res.status, text: await res.text() }
      }),
    )
    for (const [i, { status, text }] of answers.entries()) {
      assert.equal(status, 200, `${text}\n${log}`)
      assertNoSecrets(text)
      assert.doesNotMatch(text, JWT_PATTERN)
      assert.deepEqual(JSON.parse(text), {
        verified: true,
        provider: 'puppetvendors',
        path: `/v2/orders?page=${i + 1}`,
      })
    }
    const again = await fetch(`${started.url}/api/orders`)
    assert.equal(again.status, 200)
    assert.equal(mock.count('pv.authenticate'), 1, 'one exchange for 4 requests')
    assert.deepEqual(JSON.parse(mock.requests[0].body), { apiKey: SECRETS.pvApiKey })
    assertNoSecrets(log, 'edge-runtime output')
    assert.doesNotMatch(log, /Argument 0 must be a buffer source/)
  })
})
