'use strict'
// Which entry a bundler picks by export condition, and the edge entries' runtime guard:
//   - wrangler (workerd, worker, browser) → lib/workerd.mjs; Vercel (edge-light, worker, browser)
//     → lib/edge-light.mjs; a non-browser `worker` runtime → lib/workerd.mjs;
//   - a browser's web worker or service worker bundle (worker + browser) → the throwing browser
//     entry, with nothing of the wasm build in it;
//   - and where a bundle forces the edge entry into a browser's dedicated worker or service
//     worker anyway, its guard refuses with SERVER_ONLY (headless Chromium, as in
//     server-only.test.js).
// The edge entries running for real: workerd.test.js.
// Run: node --test __test__/edge-entry.test.js

const { describe, test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const http = require('node:http')
const path = require('node:path')

const { edgeContextReason } = require('../lib/guard')
const { launchChromium } = require('./helpers/browser')

const ROOT = path.resolve(__dirname, '..')
const PROBE_DIR = path.join(__dirname, 'fixtures', 'edge-guard')

/** .wasm imports: kept external as wrangler does, or replaced by a stub for a browser probe. */
function wasmPlugin(mode) {
  return {
    name: 'wasm',
    setup(build) {
      build.onResolve({ filter: /\.wasm(\?module)?$/ }, (args) =>
        mode === 'external'
          ? { path: `./${path.basename(args.path.replace(/\?module$/, ''))}`, external: true }
          : { path: args.path, namespace: 'wasm-stub' },
      )
      build.onLoad({ filter: /.*/, namespace: 'wasm-stub' }, () => ({ contents: 'export default undefined' }))
    },
  }
}

async function bundle({ conditions, platform, entry, format = 'esm', wasm = 'external' }) {
  const input = entry
    ? { entryPoints: [entry] }
    : { stdin: { contents: "export * from 'vendor-auth'\n", resolveDir: ROOT, sourcefile: 'app.js' } }
  const result = await require('esbuild').build({
    absWorkingDir: ROOT,
    ...input,
    bundle: true,
    format,
    platform,
    conditions,
    mainFields: platform === 'neutral' ? ['browser', 'module', 'main'] : undefined,
    external: platform === 'node' ? ['*.node'] : [],
    plugins: [wasmPlugin(wasm)],
    write: false,
    metafile: true,
    logLevel: 'silent',
  })
  return { text: result.outputFiles[0].text, inputs: Object.keys(result.metafile.inputs).sort() }
}

describe('export conditions pick the entry', () => {
  const cases = [
    ['wrangler (workerd, worker, browser)', ['workerd', 'worker', 'browser'], 'neutral', 'lib/workerd.mjs'],
    ['Vercel Edge (edge-light, worker, browser)', ['edge-light', 'worker', 'browser'], 'neutral', 'lib/edge-light.mjs'],
    ['a non-browser worker runtime (worker)', ['worker'], 'neutral', 'lib/workerd.mjs'],
    ["a browser's worker bundle (worker + browser, platform browser)", ['worker'], 'browser', 'lib/browser.mjs'],
    ['a browser bundle', [], 'browser', 'lib/browser.mjs'],
    ['Node (control)', [], 'node', 'lib/index.mjs'],
  ]
  for (const [what, conditions, platform, entry] of cases) {
    test(`${what} → ${entry}`, async () => {
      const b = await bundle({ conditions, platform })
      assert.ok(b.inputs.includes(entry), `${entry} not in ${b.inputs}`)
      const wasmGlue = b.inputs.includes('wasm/vendor_auth.mjs')
      const native = b.inputs.includes('lib/native.js')
      if (entry === 'lib/browser.mjs') {
        assert.ok(!wasmGlue && !native, `the browser entry bundles nothing else: ${b.inputs}`)
        assert.doesNotMatch(b.text, /vendor_auth_bg\.wasm/)
      } else if (entry === 'lib/index.mjs') {
        assert.ok(native && !wasmGlue)
      } else {
        assert.ok(wasmGlue && !native, `${b.inputs}`)
        assert.doesNotMatch(b.text, /\bnode:/, 'no Node built-in in an edge bundle')
      }
    })
  }
})

describe("the edge entries' runtime guard (edgeContextReason)", () => {
  const fn = function () {}
  const cases = [
    ['Cloudflare Workers', { navigator: { userAgent: 'Cloudflare-Workers' } }, null],
    ['Vercel Edge', { EdgeRuntime: 'edge-runtime' }, null],
    ['an unknown server-side runtime', {}, null],
    ['a browser page', { window: {}, document: {} }, /browser page/],
    ['a dedicated worker', { WorkerGlobalScope: fn, importScripts: fn }, /web worker/],
    ['a service worker', { WorkerGlobalScope: fn, ServiceWorkerGlobalScope: fn, importScripts: fn }, /web worker/],
    ['a worker scope without WorkerGlobalScope', { importScripts: fn }, /browser worker/],
  ]
  for (const [what, scope, expected] of cases) {
    test(`${what}: ${expected ? 'refused' : 'allowed'}`, () => {
      const reason = edgeContextReason(scope)
      if (expected === null) assert.equal(reason, null)
      else assert.match(String(reason), expected)
    })
  }
})

describe('the workerd entry forced into browser workers (headless Chromium)', () => {
  let server
  let browser

  before(async () => {
    const b = await bundle({
      conditions: ['workerd'],
      platform: 'browser',
      entry: path.join(PROBE_DIR, 'probe.js'),
      format: 'iife',
      wasm: 'stub',
    })
    assert.ok(b.inputs.includes('lib/workerd.mjs'), `${b.inputs}`)
    const files = {
      '/': { type: 'text/html; charset=utf-8', body: fs.readFileSync(path.join(PROBE_DIR, 'index.html')) },
      '/probe.js': { type: 'text/javascript; charset=utf-8', body: b.text },
    }
    server = http.createServer((req, res) => {
      const file = files[new URL(req.url, 'http://x').pathname]
      if (!file) return res.writeHead(404).end()
      res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' }).end(file.body)
    })
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
    // CHROMIUM_PATH, a system Chromium, else the one from npm (helpers/browser.js).
    ;({ browser } = await launchChromium())
  })

  after(async () => {
    if (browser) await browser.close()
    if (server) {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })

  test('a dedicated worker and a service worker both get SERVER_ONLY', async () => {
    const page = await browser.newPage()
    try {
      await page.goto(`http://127.0.0.1:${server.address().port}/`, { timeout: 15_000 })
      for (const key of ['__workerResult', '__serviceWorkerResult']) {
        await page.waitForFunction((k) => window[k] !== undefined, key, { timeout: 15_000 })
        const result = await page.evaluate((k) => window[k], key)
        assert.equal(result.loaded, false, `${key}: ${JSON.stringify(result)}`)
        assert.equal(result.code, 'SERVER_ONLY', JSON.stringify(result))
        assert.equal(result.name, 'VendorAuthError')
        assert.match(result.message, /web worker/)
      }
    } finally {
      await page.close()
    }
  })
})
