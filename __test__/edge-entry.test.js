'use strict'
// Which entry a bundler picks by export condition, and the edge entries' runtime guard:
//   - wrangler (workerd, worker, browser) → lib/workerd.mjs; Vercel (edge-light, worker, browser)
//     → lib/edge-light.mjs; a non-browser `worker` runtime → lib/workerd.mjs;
//   - a browser's web worker or service worker bundle (worker + browser) → the throwing browser
//     entry, with nothing of the wasm build in it;
//   - and where a bundle forces the edge entry into a browser's dedicated worker or service
//     worker anyway, its guard refuses with SERVER_ONLY (headless Chromium, as in
//     server-only.test.js).
//   - a WebAssembly.Module compiled in another realm (as Next.js's edge sandbox and Vercel's
//     edge-runtime hand over a `?module` import) initialises the edge-light entry: no
//     `instanceof` on the way (node:vm here; the real runtimes in __test__/next/).
// The edge entries running for real: workerd.test.js.
// Run: node --test __test__/edge-entry.test.js

const { describe, test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const http = require('node:http')
const path = require('node:path')

const vm = require('node:vm')

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
      // 'stub': nothing; 'global': the binding a sandbox puts on the global (Next.js, edge-runtime).
      const contents = mode === 'global' ? 'export default globalThis.__vendorAuthWasm' : 'export default undefined'
      build.onLoad({ filter: /.*/, namespace: 'wasm-stub' }, () => ({ contents }))
    },
  }
}

async function bundle({ conditions, platform, entry, format = 'esm', wasm = 'external', globalName }) {
  const input = entry
    ? { entryPoints: [entry] }
    : { stdin: { contents: "export * from 'vendor-auth'\n", resolveDir: ROOT, sourcefile: 'app.js' } }
  const result = await require('esbuild').build({
    absWorkingDir: ROOT,
    ...input,
    bundle: true,
    format,
    globalName,
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

describe('a WebAssembly.Module from another realm (the sandboxes of Next.js and edge-runtime)', () => {
  /**
   * The edge-light bundle run in a node:vm context, as Next.js and Vercel's edge-runtime run
   * middleware: the module was compiled by the host (this realm) and put on the sandbox's global,
   * so `instanceof WebAssembly.Module` is false in there. `wasmBinding` is what the global holds.
   */
  async function loadInSandbox(wasmBinding) {
    const b = await bundle({
      conditions: ['edge-light', 'worker', 'browser'],
      platform: 'neutral',
      format: 'iife',
      globalName: 'vendorAuth',
      wasm: 'global',
    })
    assert.ok(b.inputs.includes('lib/edge-light.mjs'), `${b.inputs}`)
    const host = { TextEncoder, TextDecoder, crypto, console, URL, Headers, Request, Response, fetch }
    const context = vm.createContext({ ...host, setTimeout, clearTimeout, AbortController, AbortSignal })
    context.EdgeRuntime = 'edge-runtime'
    context.__vendorAuthWasm = wasmBinding
    const crossRealm = vm.runInContext('__vendorAuthWasm instanceof WebAssembly.Module', context)
    vm.runInContext(b.text, context, { filename: 'edge-light-bundle.js' })
    return { context, crossRealm }
  }

  test("the edge entry initialises from it and serves a header (Vendy's scheme 'basic': no I/O)", async () => {
    const compiled = new WebAssembly.Module(fs.readFileSync(path.join(ROOT, 'wasm', 'vendor_auth_bg.wasm')))
    const { context, crossRealm } = await loadInSandbox(compiled)
    assert.equal(crossRealm, false, 'the sandbox sees a module of another realm (the precondition)')
    const header = await vm.runInContext(
      `vendorAuth.createClient({ provider: 'vendy', scheme: 'basic', accessKey: 'ak-edge', secretKey: 'sk-edge' }).authHeader()`,
      context,
    )
    assert.deepEqual({ ...header }, { Authorization: `Basic ${Buffer.from('ak-edge:sk-edge').toString('base64')}` })
    const code = await vm.runInContext(
      `vendorAuth.authenticate({ provider: 'vendy' }).then(() => 'resolved', (error) => error.code)`,
      context,
    )
    assert.equal(code, 'INVALID_OPTIONS', 'the core runs: missing keys are reported at first use')
  })

  test('a bundle that gives something else than a module or bytes: UNSUPPORTED_PLATFORM naming it', async () => {
    await assert.rejects(loadInSandbox('/_next/static/media/vendor_auth_bg.0f3c.wasm'), (error) => {
      assert.equal(error.code, 'UNSUPPORTED_PLATFORM')
      assert.match(error.message, /the string "\/_next\/static\/media\/vendor_auth_bg\.0f3c\.wasm"/)
      assert.match(error.message, /vendor-auth\/esbuild/)
      return true
    })
  })

  test("the glue's initSync recognises a compiled module by its brand, not by instanceof", () => {
    const glue = fs.readFileSync(path.join(ROOT, 'wasm', 'vendor_auth.mjs'), 'utf8')
    const initSync = glue.slice(glue.indexOf('\nfunction initSync('), glue.indexOf('\nasync function __wbg_init('))
    assert.match(initSync, /isCompiledModule\(module\)/)
    assert.doesNotMatch(initSync, /instanceof/)
  })
})
