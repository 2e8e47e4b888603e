'use strict'
// The Next.js suite of next-turbopack.test.js and next-webpack.test.js (a file per builder, so that
// each stays well within the runner's per-file bound): vendor-auth in a real Next.js app, built and
// run as a user does (`next build && next start`): __test__/fixtures/next-app, whose middleware.js
// and edge route handler (`runtime = 'edge'`) import 'vendor-auth', which Next resolves to the
// edge-light entry (the WebAssembly build, its .wasm imported with `?module` and compiled by Next
// outside the sandbox that runs the code). Against the HTTPS mock vendor (its CA trusted through
// NODE_EXTRA_CA_CERTS given to next start), exchange counts taken at the mock; the vendors' APIs
// stood in for by harness.vendorApi. The middleware and the route handler name no test URL: the
// fixture's instrumentation.js stands in for DNS inside the edge sandbox (test-only, as
// fixtures/examples/vendor-hosts.js does in Node).
// With `bench`, then the target: the first header in a fresh `next start`, against the
// same middleware doing one bare fetch of the mock's /authenticate (fixtures/next-app-bare),
// printed and kept in <cache>/next-bench.json.

const { describe, it, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { performance } = require('node:perf_hooks')

const { SECRETS, startMock } = require('../helpers')
const { JWT_PATTERN } = require('../helpers/faults')
const { assertNoSecrets } = require('../helpers/util')
const { VERSIONS, workspace, nextBuild, nextStart, vendorApi } = require('./harness')

const BENCH_ROUNDS = Number(process.env.NEXT_BENCH_ROUNDS) || 5

/**
 * The environment of `next start` (the build gets none of it): the keys, and where the test's
 * instrumentation.js sends the vendors' hosts (the mock's token endpoints, the fake API).
 */
function runtimeEnv(mock, api) {
  return {
    PUPPETVENDORS_API_KEY: SECRETS.pvApiKey,
    VENDY_ACCESS_KEY: SECRETS.vendyAccessKey,
    VENDY_SECRET_KEY: SECRETS.vendySecretKey,
    VENDOR_AUTH_EXAMPLE_BASE_URL: mock.baseUrl,
    VENDOR_AUTH_EXAMPLE_API_URL: api.url,
  }
}

/** GET `url`: status and JSON body, checked to hold no credential and no token (body and headers). */
async function get(url, headers = {}) {
  const res = await fetch(url, { headers })
  const text = await res.text()
  const shown = `${JSON.stringify([...res.headers])}\n${text}`
  assertNoSecrets(shown, `${url} answer`)
  assert.doesNotMatch(shown, JWT_PATTERN, `${url}: a token reached the browser`)
  return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : text }
}

/** The suite for `builder` ('turbopack' or 'webpack'); `bench`: the first-header figure after it. */
function nextAppSuite(builder, { bench = false } = {}) {
  let mock
  let api
  let ws
  let caFile
  let built

  before(async () => {
    mock = await startMock()
    api = await vendorApi(mock)
    ws = workspace()
    caFile = path.join(path.dirname(ws.tarball), 'mock-ca.pem')
    fs.writeFileSync(caFile, mock.caCert)
    console.log(`# next ${VERSIONS.next}, react ${VERSIONS.react}; cache ${ws.cache.dir}`)
  })

  after(async () => {
    if (api) await api.close()
    if (mock) await mock.close()
    if (ws) ws.dispose()
  })

  describe(`Next.js ${VERSIONS.next}, ${builder}: next build && next start`, { timeout: 180_000 }, () => {
    let app
    let server

    before(async () => {
      app = ws.app(`next-app-${builder}`, ['next-app'])
      const { output, seconds } = await nextBuild(app.dir, builder)
      console.log(`# next build (${builder}): ${seconds.toFixed(1)} s`)
      assert.match(output, /Proxy \(Middleware\)/)
      assert.match(output, /\/api\/wallets/)
      // Both compiled for the edge runtime (Next's edge manifest), each with the .wasm as a
      // binding that Next compiles outside the sandbox: the cross-realm module of the issue.
      const manifest = JSON.parse(fs.readFileSync(path.join(app.dir, '.next/server/middleware-manifest.json'), 'utf8'))
      const edge = [...Object.values(manifest.middleware), ...Object.values(manifest.functions)]
      assert.deepEqual(
        edge.map((f) => f.name).sort(),
        ['app/api/wallets/route', 'middleware'],
        JSON.stringify(manifest),
      )
      for (const f of edge) assert.equal(f.wasm?.length, 1, `${f.name}: one wasm binding`)
      built = app
      mock.reset()
      api.seen.length = 0
      server = await nextStart(app.dir, { env: runtimeEnv(mock, api), caFile })
    })

    after(async () => {
      if (server) await server.stop()
    })

    it('middleware.js: cold requests at once share one exchange; the vendor API gets the token, the browser never does', async () => {
      const first = await Promise.all(
        [1, 2, 3, 4].map((page) =>
          get(`${server.base}/vendor/orders?page=${page}`, { cookie: 'session=browser-only' }),
        ),
      )
      for (const [i, { status, body }] of first.entries()) {
        assert.equal(status, 200, `${JSON.stringify(body)}\n${server.log()}`)
        assert.deepEqual(body, { verified: true, provider: 'puppetvendors', path: `/v2/orders?page=${i + 1}` })
      }
      const later = await get(`${server.base}/vendor/products`)
      assert.deepEqual(later.body, { verified: true, provider: 'puppetvendors', path: '/v2/products' })
      assert.equal(mock.count('pv.authenticate'), 1, 'one exchange for 5 requests: the module-scope client')
      const [request] = mock.requests
      assert.deepEqual(JSON.parse(request.body), { apiKey: SECRETS.pvApiKey }, 'the key from the environment')
      assert.equal(api.seen.length, 5)
      assert.ok(
        api.seen.every((s) => s.verified && s.cookie === null),
        'every request to the API carried the token and none the cookie',
      )
    })

    it("an edge route handler (runtime = 'edge'): a 503 retried inside the sandbox, then its cached header", async () => {
      mock.script('vendy.auth', [{ status: 503 }])
      const first = await get(`${server.base}/api/wallets`)
      assert.equal(first.status, 200, `${JSON.stringify(first.body)}\n${server.log()}`)
      assert.deepEqual(first.body, { verified: true, provider: 'vendy', path: '/wallets' })
      assert.equal(mock.count('vendy.auth'), 2, '503, then 200 after the backoff timer')
      const second = await get(`${server.base}/api/wallets`)
      assert.equal(second.status, 200)
      assert.equal(mock.count('vendy.auth'), 2, 'the second request was served from the cache')
    })

    it('the server log holds no credential and no token', () => {
      assertNoSecrets(server.log(), 'next start output')
      assert.doesNotMatch(server.log(), JWT_PATTERN)
      assert.doesNotMatch(server.log(), /Argument 0 must be a buffer source|TypeError/)
    })
  })

  if (bench) {
    describe(`the issue's target: first header in a fresh next start, against one bare fetch (${builder})`, () => {
      it(
        `${BENCH_ROUNDS} rounds, each a fresh next start of either app, in alternating order`,
        { timeout: 180_000 },
        async () => {
          const subject = built
          assert.ok(subject, 'the app was built above')
          const reference = ws.app('bench-bare-fetch', ['next-app', 'next-app-bare'])
          await nextBuild(reference.dir, builder)
          const times = { subject: [], reference: [] }
          /** A fresh next start, one request to a path no middleware matches, then the timed first one. */
          async function firstHeader(app) {
            const server = await nextStart(app.dir, { env: runtimeEnv(mock, api), caFile })
            try {
              const before = mock.count('pv.authenticate')
              const started = performance.now()
              const res = await fetch(`${server.base}/vendor/orders`)
              const body = await res.json()
              const ms = performance.now() - started
              assert.equal(res.status, 200, `${JSON.stringify(body)}\n${server.log()}`)
              assert.equal(body.verified, true)
              assert.equal(mock.count('pv.authenticate') - before, 1, 'one exchange each')
              return ms
            } finally {
              await server.stop()
            }
          }
          for (let round = 0; round < BENCH_ROUNDS; round++) {
            const order = round % 2 === 0 ? ['subject', 'reference'] : ['reference', 'subject']
            for (const which of order) times[which].push(await firstHeader(which === 'subject' ? subject : reference))
          }
          const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
          const ratios = times.subject.map((t, i) => t / times.reference[i])
          const figure = {
            figure: `Next.js middleware: first header in a fresh next start (${builder}), ms`,
            vendorAuth: median(times.subject),
            bareFetch: median(times.reference),
            ratio: median(ratios),
            ratioMin: Math.min(...ratios),
            ratioMax: Math.max(...ratios),
            target: '≤ 2×',
            met: median(ratios) <= 2,
            rounds: times,
            next: VERSIONS.next,
            node: process.version,
          }
          fs.writeFileSync(path.join(ws.cache.dir, '..', 'next-bench.json'), JSON.stringify(figure, null, 2) + '\n')
          console.log(
            `# ${figure.figure}: vendor-auth ${figure.vendorAuth.toFixed(1)} ms, bare fetch ${figure.bareFetch.toFixed(1)} ms: ` +
              `${figure.ratio.toFixed(2)}× (${figure.ratioMin.toFixed(2)}–${figure.ratioMax.toFixed(2)}), target ${figure.target}: ` +
              `${figure.met ? 'met' : 'MISSED'}`,
          )
        },
      )
    })
  }
}

module.exports = { nextAppSuite }
