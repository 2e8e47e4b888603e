'use strict'
// The server-only guard (issue 4): vendor-auth must refuse to load in a browser bundle, in a
// browser-like global scope, and when its `.node` file is loaded directly under browser globals;
// Node (main thread and worker_threads) and Deno-like scopes load normally.
//
// Real tools: esbuild bundles fixture apps for `platform: 'browser'`, a node:http server on
// 127.0.0.1 serves them, and headless Chromium driven by playwright-core runs them (a system
// Chromium, else the one inside the @sparticuz/chromium npm package: see helpers/browser.js).
// Node cases run as child processes (fixtures/server-only/) so that each gets a fresh global
// scope, module cache and environment.
//
// Run: node --test __test__/server-only.test.js

const { describe, test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { execFile } = require('node:child_process')
const fs = require('node:fs')
const http = require('node:http')
const path = require('node:path')
const vm = require('node:vm')

const { launchChromium } = require('./helpers/browser')

const ROOT = path.resolve(__dirname, '..')
const FIXTURES = path.join(__dirname, 'fixtures')
const APP_DIR = path.join(FIXTURES, 'browser-app')
const PROBE = path.join(FIXTURES, 'server-only', 'probe.js')
const WORKER_HOST = path.join(FIXTURES, 'server-only', 'worker-host.js')

const OPT_IN = 'VENDOR_AUTH_ALLOW_DOM_GLOBALS'
/** The app's key, present in the environment while bundling; it must never reach a bundle. */
const KEY_MARKER = 'vk_test_BUNDLECHECK_9c2e7a41d5'

const BROWSER_ENTRY_INPUTS = ['lib/browser.js', 'lib/guard.js', 'lib/errors.js']
/** Package files that must never be part of a browser bundle. */
const NODE_ONLY = /^(lib\/(index|native|client|session|options)\.m?js|binding\.js|testing\/.*|.*\.node)$/

// ------------------------------------------------------------------ helpers

/** The environment of a child: ours without the opt-in or node:test's marker, plus `extra`. */
function childEnv(extra = {}) {
  const env = { ...process.env }
  delete env[OPT_IN]
  delete env.NODE_TEST_CONTEXT
  return { ...env, ...extra }
}

/** Run a fixture script with a JSON config; resolves its one JSON line of output. */
function runChild(script, config, extraEnv) {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [script, JSON.stringify(config)],
      { cwd: ROOT, env: childEnv(extraEnv), timeout: 20_000 },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`${path.basename(script)} failed: ${error.message}\n${stderr}`))
        const line = stdout.trim().split('\n').pop()
        try {
          resolve(JSON.parse(line))
        } catch {
          reject(new Error(`${path.basename(script)} printed no JSON: ${stdout}\n${stderr}`))
        }
      },
    )
  })
}

const probe = (config, extraEnv) => runChild(PROBE, config, extraEnv)

/** Assert a probe result is the JS entry's refusal (a real VendorAuthError). */
function assertJsRefusal(result, where) {
  assert.equal(result.ok, false, `expected a refusal, loaded: ${JSON.stringify(result)}`)
  const { error } = result
  assert.equal(error.code, 'SERVER_ONLY', JSON.stringify(error))
  assert.equal(error.name, 'VendorAuthError')
  assert.equal(error.constructorName, 'VendorAuthError')
  assert.equal(error.isVendorAuthError, true)
  assert.match(error.message, /server-only/)
  assert.match(error.message, /Call it from your server/)
  assert.match(error.message, /VENDOR_AUTH_ALLOW_DOM_GLOBALS=1/)
  if (where) assert.match(error.message, where)
}

/** Assert a probe result is the native addon's refusal at initialisation. */
function assertNativeRefusal(result) {
  assert.equal(result.ok, false, `expected a refusal, loaded: ${JSON.stringify(result)}`)
  assert.equal(result.error.code, 'SERVER_ONLY', JSON.stringify(result.error))
  assert.match(result.error.message, /server-only/)
  assert.match(result.error.message, /Call it from your server/)
}

/** Assert the package entry loaded with its API. */
function assertPackageLoaded(result) {
  assert.equal(result.ok, true, `expected a load, got: ${JSON.stringify(result.error)}`)
  assert.equal(result.types.authenticate, 'function')
  assert.equal(result.types.createClient, 'function')
  assert.equal(result.types.VendorAuthError, 'function')
}

/** Assert the `.node` file loaded (its N-API exports are there). */
function assertNativeLoaded(result) {
  assert.equal(result.ok, true, `expected a load, got: ${JSON.stringify(result.error)}`)
  assert.equal(result.types.NativeClient, 'function')
  assert.equal(result.types.knownOptions, 'function')
}

// ------------------------------------------------------------------ browser bundles

describe('browser bundles (esbuild, platform browser) in headless Chromium', () => {
  let esbuild
  let browser
  let launched
  let server
  let baseUrl
  const served = {} // url path -> { type, body }
  const requests = []
  const bundles = {}

  async function bundle(name, options) {
    const result = await esbuild.build({
      absWorkingDir: ROOT,
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
      ...options,
    })
    assert.equal(result.outputFiles.length, 1)
    const text = result.outputFiles[0].text
    bundles[name] = { text, inputs: Object.keys(result.metafile.inputs).sort() }
    return bundles[name]
  }

  before(async () => {
    esbuild = require('esbuild')

    // The app's key is in the environment of the build, as a naive app's would be; esbuild
    // inlines only what `define` says, and nothing is defined for it.
    const saved = { key: process.env.PUPPETVENDORS_API_KEY, optIn: process.env[OPT_IN] }
    process.env.PUPPETVENDORS_API_KEY = KEY_MARKER
    process.env[OPT_IN] = '1'
    try {
      await bundle('app', { entryPoints: [path.join(APP_DIR, 'main.js')] })
      await bundle('testing', { entryPoints: [path.join(APP_DIR, 'testing-main.js')] })
      // A bundle that forges the opt-in every way a page could: inlined by `define`, and a
      // `process` polyfill. The browser entry must refuse regardless.
      await bundle('forged', {
        entryPoints: [path.join(APP_DIR, 'main.js')],
        format: 'iife',
        define: { [`process.env.${OPT_IN}`]: '"1"' },
        banner: { js: `globalThis.process = { env: { ${OPT_IN}: '1' }, versions: { node: '20.0.0' } };` },
      })
      await bundle('guard', { entryPoints: [path.join(APP_DIR, 'guard-probe.js')], format: 'iife' })
    } finally {
      for (const [name, value] of [
        ['PUPPETVENDORS_API_KEY', saved.key],
        [OPT_IN, saved.optIn],
      ]) {
        if (value === undefined) delete process.env[name]
        else process.env[name] = value
      }
    }

    const html = (file) => ({ type: 'text/html; charset=utf-8', body: fs.readFileSync(path.join(APP_DIR, file)) })
    const js = (text) => ({ type: 'text/javascript; charset=utf-8', body: text })
    for (const name of ['app', 'testing', 'forged']) {
      served[`/${name}/`] = html('index.html')
      served[`/${name}/bundle.js`] = js(bundles[name].text)
    }
    served['/guard/'] = html('guard.html')
    served['/guard/guard-probe.js'] = js(bundles.guard.text)

    server = http.createServer((req, res) => {
      requests.push(req.url)
      const entry = served[new URL(req.url, 'http://x').pathname]
      if (!entry) {
        res.writeHead(404, { 'content-type': 'text/plain' })
        return res.end('not found')
      }
      res.writeHead(200, { 'content-type': entry.type, 'cache-control': 'no-store' })
      res.end(entry.body)
    })
    await new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', resolve)
    })
    baseUrl = `http://127.0.0.1:${server.address().port}`

    launched = await launchChromium()
    browser = launched.browser
  })

  after(async () => {
    if (browser) await browser.close()
    if (server) {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
    if (esbuild) await esbuild.stop()
  })

  /** Open `/${name}/` and wait for the global the fixture sets. */
  async function visit(name, globals) {
    const page = await browser.newPage()
    const pageErrors = []
    page.on('pageerror', (err) => pageErrors.push(err.message))
    try {
      await page.goto(`${baseUrl}/${name}/`, { timeout: 15_000 })
      const values = {}
      for (const g of globals) {
        await page.waitForFunction((key) => window[key] !== undefined, g, { timeout: 15_000 })
        values[g] = await page.evaluate((key) => window[key], g)
      }
      return { values, body: await page.textContent('body'), pageErrors }
    } finally {
      await page.close()
    }
  }

  function assertBrowserEntryOnly(b) {
    for (const input of BROWSER_ENTRY_INPUTS) assert.ok(b.inputs.includes(input), `${input} in ${b.inputs}`)
    const nodeOnly = b.inputs.filter((input) => NODE_ONLY.test(input))
    assert.deepEqual(nodeOnly, [], 'Node-only package files in a browser bundle')
    // No native loader and no reference to an addon file.
    assert.doesNotMatch(b.text, /\.node['"`]/)
    assert.doesNotMatch(b.text, /requireNative|process\.dlopen|NAPI_RS_NATIVE_LIBRARY_PATH/)
    // The opt-in is never read through a (bundler-inlinable) `process.env.NAME` expression.
    assert.doesNotMatch(b.text, new RegExp(`env\\s*(\\.\\s*${OPT_IN}|\\[\\s*['"\`]${OPT_IN})`))
  }

  function assertPageRefused({ values, body, pageErrors }) {
    const result = values.__vendorAuthResult
    assert.equal(result.loaded, false, `the app loaded in the browser: ${JSON.stringify(result)}`)
    assert.equal(result.code, 'SERVER_ONLY')
    assert.equal(result.name, 'VendorAuthError')
    assert.equal(result.constructorName, 'VendorAuthError')
    assert.equal(result.isError, true)
    assert.match(result.message, /server-only/)
    assert.match(result.message, /browser bundle/)
    assert.match(result.message, /Call it from your server/)
    assert.match(body, /"code":"SERVER_ONLY"/)
    assert.deepEqual(pageErrors, [], 'the error should have been caught by the page')
  }

  test('the app bundle resolves vendor-auth to the browser entry and leaks no key', () => {
    const b = bundles.app
    assertBrowserEntryOnly(b)
    assert.ok(b.inputs.includes('__test__/fixtures/browser-app/app.js'))
    // The app's key expression is bundled as written, not inlined from the build environment.
    assert.ok(b.text.includes('process.env.PUPPETVENDORS_API_KEY'), 'the app code is in the bundle')
    assert.ok(!b.text.includes(KEY_MARKER), 'the key value from the environment is in the bundle')
    for (const name of ['testing', 'forged', 'guard']) assert.ok(!bundles[name].text.includes(KEY_MARKER), name)
  })

  test('the page reports SERVER_ONLY in headless Chromium', async (t) => {
    const { source, path: executable, unpackMs, launchMs } = launched
    t.diagnostic(
      `Chromium ${browser.version()} from ${source} (${executable})` +
        `${unpackMs ? `, unpacked in ${(unpackMs / 1000).toFixed(1)} s` : ''}, launched in ${(launchMs / 1000).toFixed(1)} s`,
    )
    const visit1 = await visit('app', ['__vendorAuthResult'])
    assertPageRefused(visit1)
    assert.ok(!visit1.body.includes(KEY_MARKER))
    assert.ok(!requests.some((url) => /\.node\b|binding/.test(url)), `requests: ${requests}`)
  })

  test("'vendor-auth/testing' bundled for the browser hits the browser entry too", async () => {
    const b = bundles.testing
    assertBrowserEntryOnly(b)
    assert.doesNotMatch(b.text, /forkMockVendor|ENDPOINTS|createServer/)
    assertPageRefused(await visit('testing', ['__vendorAuthResult']))
  })

  test('a page that forges the opt-in (define + process polyfill) is still refused', async () => {
    const b = bundles.forged
    assertBrowserEntryOnly(b)
    assertPageRefused(await visit('forged', ['__vendorAuthResult']))
  })

  test('the Node entry guard judges a real page and a real web worker browser-like', async () => {
    const { values, pageErrors } = await visit('guard', ['__guardResult', '__workerGuardResult'])
    assert.deepEqual(pageErrors, [])
    const pageResult = values.__guardResult
    assert.match(pageResult.reason, /browser page/)
    assert.equal(pageResult.error.code, 'SERVER_ONLY')
    assert.equal(pageResult.error.name, 'VendorAuthError')
    const workerResult = values.__workerGuardResult
    assert.equal(workerResult.workerError, undefined, workerResult.workerError)
    assert.match(workerResult.reason, /web worker/)
    assert.equal(workerResult.error.code, 'SERVER_ONLY')
    assert.equal(workerResult.error.name, 'VendorAuthError')
  })

  test('control: the same app bundled for platform node gets the native entry', async () => {
    // Shows the checks above would catch a bundle that took the Node entry: without the
    // `browser` condition the loader and the native bridge are bundled.
    const b = await bundle('node-control', {
      entryPoints: [path.join(APP_DIR, 'app.js')],
      platform: 'node',
      external: ['*.node'],
    })
    assert.ok(b.inputs.includes('binding.js'), `${b.inputs}`)
    assert.ok(b.inputs.includes('lib/native.js'))
    assert.ok(!b.inputs.includes('lib/browser.js'))
  })

  test('the legacy `browser` field maps the Node entry files to the browser entry', async () => {
    for (const file of ['lib/index.js', 'lib/index.mjs']) {
      const b = await bundle(`legacy-${file}`, {
        stdin: {
          contents: `import * as va from './${file}'\nexport default va\n`,
          resolveDir: ROOT,
          sourcefile: 'legacy-entry.js',
        },
      })
      assertBrowserEntryOnly(b)
    }
  })
})

test('lib/browser.js and the guard are in the published files', async () => {
  const stdout = await new Promise((resolve, reject) => {
    // npm is npm.cmd on Windows, which Node runs only through a shell.
    const windows = process.platform === 'win32'
    execFile(
      windows ? 'npm.cmd' : 'npm',
      ['pack', '--dry-run', '--json', '--ignore-scripts'],
      { cwd: ROOT, timeout: 30_000, shell: windows },
      (error, out, err) => (error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out)),
    )
  })
  const files = JSON.parse(stdout)[0].files.map((f) => f.path)
  for (const file of ['lib/browser.js', 'lib/guard.js', 'lib/errors.js', 'lib/index.js', 'lib/index.mjs']) {
    assert.ok(files.includes(file), `${file} not packed: ${files}`)
  }
})

// ------------------------------------------------------------------ Node with browser globals

describe('Node entry with browser globals set before require', { concurrency: true }, () => {
  test('window + document → VendorAuthError SERVER_ONLY that says what to do', async () => {
    assertJsRefusal(await probe({ target: 'package', globals: ['window', 'document'] }), /jsdom/)
  })

  test('only document → SERVER_ONLY', async () => {
    assertJsRefusal(await probe({ target: 'package', globals: ['document'] }))
  })

  test('only window → SERVER_ONLY', async () => {
    assertJsRefusal(await probe({ target: 'package', globals: ['window'] }))
  })

  test('the ESM entry (import) → SERVER_ONLY', async () => {
    assertJsRefusal(await probe({ target: 'esm', globals: ['window', 'document'] }))
  })
})

describe('the .node file loaded directly under browser globals', { concurrency: true }, () => {
  test('require(.node) with window → SERVER_ONLY from native init', async () => {
    assertNativeRefusal(await probe({ target: 'native', globals: ['window'] }))
  })

  test('require(.node) with only document → SERVER_ONLY', async () => {
    assertNativeRefusal(await probe({ target: 'native', globals: ['document'] }))
  })

  test('process.dlopen(.node) with window + document → SERVER_ONLY', async () => {
    assertNativeRefusal(await probe({ target: 'dlopen', globals: ['window', 'document'] }))
  })

  test('control: require(.node) in plain Node loads', async () => {
    assertNativeLoaded(await probe({ target: 'native' }))
  })

  test("a refusal the JS guard did not make reaches the entry as SERVER_ONLY, by the init's code (not its message)", async () => {
    // The JS guard reads process.env, native init the real environment: an opt-in only the JS
    // side sees lets the entry reach the loader, and native init refuses through binding.js,
    // which keeps only messages. The code comes as data (a global the init leaves), read once.
    const script = `
      globalThis.window = {}
      globalThis.document = {}
      Object.defineProperty(process, 'env', { value: { ...process.env, ${OPT_IN}: '1' } })
      try {
        require(${JSON.stringify(ROOT)})
        console.log(JSON.stringify({ loaded: true }))
      } catch (e) {
        console.log(JSON.stringify({ code: e.code, name: e.name, message: e.message, left: '__vendorAuthLoadRefused' in globalThis }))
      }`
    const out = await new Promise((resolve, reject) => {
      const env = { ...process.env, VENDOR_AUTH_FORCE_WASM: '', [OPT_IN]: '' }
      execFile(process.execPath, ['-e', script], { env, timeout: 30_000 }, (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(JSON.parse(stdout.trim().split('\n').pop())),
      )
    })
    assert.equal(out.code, 'SERVER_ONLY', JSON.stringify(out))
    assert.equal(out.name, 'VendorAuthError')
    assert.match(out.message, /server-only/)
    assert.equal(out.left, false, 'the global is read once and removed')
  })
})

// ------------------------------------------------------------------ jsdom opt-in

describe('jsdom opt-in (VENDOR_AUTH_ALLOW_DOM_GLOBALS in the real process env)', { concurrency: true }, () => {
  const dom = ['window', 'document']

  test('=1: the JS entry (require and import) and the .node file load', async () => {
    const env = { [OPT_IN]: '1' }
    const [cjs, esm, native, dlopen] = await Promise.all([
      probe({ target: 'package', globals: dom }, env),
      probe({ target: 'esm', globals: dom }, env),
      probe({ target: 'native', globals: dom }, env),
      probe({ target: 'dlopen', globals: ['window'] }, env),
    ])
    assertPackageLoaded(cjs)
    assertPackageLoaded(esm)
    assertNativeLoaded(native)
    assertNativeLoaded(dlopen)
  })

  for (const value of ['true', '0', '', 'yes', ' 1']) {
    test(`=${JSON.stringify(value)}: both the JS entry and the .node file refuse`, async () => {
      const env = { [OPT_IN]: value }
      const [js, native] = await Promise.all([
        probe({ target: 'package', globals: dom }, env),
        probe({ target: 'native', globals: dom }, env),
      ])
      assertJsRefusal(js)
      assertNativeRefusal(native)
    })
  }

  test('a fake Electron renderer is refused by the JS entry even with the opt-in', async () => {
    const env = { [OPT_IN]: '1' }
    const [withDom, withoutDom] = await Promise.all([
      probe({ target: 'package', globals: dom, processType: 'renderer' }, env),
      probe({ target: 'package', processType: 'renderer' }, env),
    ])
    assertJsRefusal(withDom, /Electron renderer/)
    assertJsRefusal(withoutDom, /Electron renderer/)
  })

  test('a fake Electron renderer is refused by native init even with the opt-in', async () => {
    const env = { [OPT_IN]: '1' }
    const electron = { electronVersion: '30.0.0', globals: dom }
    const [renderer, mainProcess] = await Promise.all([
      probe({ target: 'native', processType: 'renderer', ...electron }, env),
      // Control: Electron's main process (process.type 'browser') with the opt-in loads, so the
      // refusal above is the renderer check, not the faked version alone.
      probe({ target: 'native', processType: 'browser', ...electron }, env),
    ])
    assert.equal(renderer.electron, '30.0.0', 'process.versions.electron could not be faked')
    assert.equal(renderer.processType, 'renderer')
    assertNativeRefusal(renderer)
    assert.equal(mainProcess.electron, '30.0.0')
    assertNativeLoaded(mainProcess)
  })
})

// ------------------------------------------------------------------ no Node process (vm)

describe('guard in a global scope without a Node process (vm context)', () => {
  /** Evaluate lib/errors.js and lib/guard.js as CommonJS inside a fresh context with `globals`. */
  function guardIn(globals) {
    const context = vm.createContext({ ...globals })
    const loadCjs = (file, requireMap) => {
      const source = fs.readFileSync(path.join(ROOT, file), 'utf8')
      const wrapper = vm.runInContext(`(function (exports, require, module) {${source}\n})`, context, {
        filename: path.join(ROOT, file),
      })
      const module = { exports: {} }
      wrapper(
        module.exports,
        (id) => {
          if (!(id in requireMap)) throw new Error(`unexpected require(${id}) from ${file}`)
          return requireMap[id]
        },
        module,
      )
      return module.exports
    }
    const errors = loadCjs('lib/errors.js', {})
    const guard = loadCjs('lib/guard.js', { './errors': errors })
    return { context, guard, errors }
  }

  const fn = function () {}
  const polyfill = { env: { [OPT_IN]: '1' }, versions: { node: '20.0.0' } }

  const cases = [
    [
      'a web worker scope (WorkerGlobalScope + importScripts)',
      { WorkerGlobalScope: fn, importScripts: fn },
      /web worker/,
    ],
    ['a page (window + document)', { window: {}, document: {} }, /browser page/],
    ['a page with only document', { document: {} }, /browser page/],
    ['a page with a bundler process polyfill carrying the opt-in', { window: {}, process: polyfill }, /browser page/],
    ['a worker with a process polyfill', { WorkerGlobalScope: fn, importScripts: fn, process: polyfill }, /web worker/],
  ]
  for (const [name, globals, reason] of cases) {
    test(`${name} → SERVER_ONLY`, () => {
      const { guard, errors } = guardIn(globals)
      assert.match(guard.browserContextReason(), reason)
      assert.throws(
        () => guard.assertServerContext(),
        (err) =>
          err instanceof errors.VendorAuthError &&
          err.name === 'VendorAuthError' &&
          err.code === 'SERVER_ONLY' &&
          reason.test(err.message) &&
          /Call it from your server/.test(err.message),
      )
    })
  }

  test('a Deno 1.x scope (Deno, window is the global scope itself) → allowed', () => {
    const { guard, context } = guardIn({ Deno: { version: { deno: '1.46.0' } } })
    vm.runInContext('globalThis.window = globalThis', context)
    assert.equal(guard.browserContextReason(), null)
    guard.assertServerContext()
  })

  // Issue 20: a DOM is refused whatever else the scope says.
  const fakeDeno = { Deno: { version: { deno: '1' } } }
  const domCases = [
    ['a fake Deno next to window + document', { ...fakeDeno, window: {}, document: {} }],
    ['a fake Deno next to a window that is not the global scope', { ...fakeDeno, window: {} }],
    ['a fake Deno next to a document', { ...fakeDeno, document: {} }],
  ]
  for (const [name, globals] of domCases) {
    test(`${name} → SERVER_ONLY (server and edge checks)`, () => {
      const { guard } = guardIn(globals)
      assert.match(guard.browserContextReason(), /browser page/)
      assert.match(guard.edgeContextReason(), /browser page/)
    })
  }

  test('a fake Deno next to window === globalThis and a document (a DOM polyfill) → SERVER_ONLY', () => {
    const { guard, context } = guardIn({ ...fakeDeno, document: {} })
    vm.runInContext('globalThis.window = globalThis', context)
    assert.match(guard.browserContextReason(), /browser page/)
  })

  for (const [name, globals] of [
    ['Cloudflare Workers', { navigator: { userAgent: 'Cloudflare-Workers' } }],
    ['Vercel Edge', { EdgeRuntime: 'edge-runtime' }],
  ]) {
    test(`the edge check: ${name}'s name next to a DOM → SERVER_ONLY; without one → allowed`, () => {
      assert.match(guardIn({ ...globals, window: {}, document: {} }).guard.edgeContextReason(), /browser page/)
      assert.equal(guardIn(globals).guard.edgeContextReason(), null)
    })
  }

  test('a bare scope with none of these globals → allowed', () => {
    const { guard } = guardIn({})
    assert.equal(guard.browserContextReason(), null)
  })
})

// ------------------------------------------------------------------ a DOM, whatever else (issue 20)

/** Assert a probe result is the wasm glue's own refusal (an Error with code SERVER_ONLY). */
function assertGlueRefusal(result) {
  assert.equal(result.ok, false, `expected a refusal, loaded: ${JSON.stringify(result)}`)
  assert.equal(result.error.code, 'SERVER_ONLY', JSON.stringify(result.error))
  assert.match(result.error.message, /server-only/)
  assert.match(result.error.message, /Call it from your server/)
}

/** Assert the wasm glue loaded (its initSync is there). */
function assertGlueLoaded(result) {
  assert.equal(result.ok, true, `expected a load, got: ${JSON.stringify(result.error)}`)
  assert.equal(result.types.initSync, 'function')
  assert.equal(result.types.WasmClient, 'function')
}

describe('a DOM (window with document) is refused whatever else the global says', { concurrency: true }, () => {
  const fakeDeno = { deno: true }

  test('a fake Deno next to window + document: the package (require, import), vendor-auth/testing and the .node file refuse', async () => {
    const dom = { ...fakeDeno, globals: ['window', 'document'] }
    const [cjs, esm, testing, native, dlopen] = await Promise.all([
      probe({ target: 'package', ...dom }),
      probe({ target: 'esm', ...dom }),
      probe({ target: 'testing', ...dom }),
      probe({ target: 'native', ...dom }),
      probe({ target: 'dlopen', ...dom }),
    ])
    assertJsRefusal(cjs, /browser globals/)
    assertJsRefusal(esm)
    assertJsRefusal(testing)
    assertNativeRefusal(native)
    assertNativeRefusal(dlopen)
  })

  test('a fake Deno next to a DOM polyfill (window === globalThis, a document): refused', async () => {
    const polyfill = { ...fakeDeno, windowIsGlobal: true, globals: ['document'] }
    const [cjs, native, glue] = await Promise.all([
      probe({ target: 'package', ...polyfill }),
      probe({ target: 'native', ...polyfill }),
      probe({ target: 'wasm-cjs', ...polyfill }),
    ])
    assertJsRefusal(cjs)
    assertNativeRefusal(native)
    assertGlueRefusal(glue)
  })

  test('a fake Deno next to a window that is not the global scope: refused', async () => {
    const [cjs, native] = await Promise.all([
      probe({ target: 'package', ...fakeDeno, globals: ['window'] }),
      probe({ target: 'native', ...fakeDeno, globals: ['window'] }),
    ])
    assertJsRefusal(cjs)
    assertNativeRefusal(native)
  })

  test('vendor-auth/testing with window → SERVER_ONLY', async () => {
    assertJsRefusal(await probe({ target: 'testing', globals: ['window'] }))
  })

  test('the wasm glue loaded directly: wasm/vendor_auth.cjs and .mjs refuse window, a DOM, and a fake Deno beside one', async () => {
    const cases = [
      { globals: ['window'] },
      { globals: ['document'] },
      { globals: ['window', 'document'] },
      { ...fakeDeno, globals: ['window', 'document'] },
    ]
    const results = await Promise.all(
      cases.flatMap((c) => ['wasm-cjs', 'wasm-mjs'].map((target) => probe({ target, ...c }))),
    )
    for (const result of results) assertGlueRefusal(result)
  })

  test('control: the wasm glue loads in plain Node, and beside a DOM with the jsdom opt-in', async () => {
    const env = { [OPT_IN]: '1' }
    const [cjs, mjs, cjsOptIn, mjsOptIn] = await Promise.all([
      probe({ target: 'wasm-cjs' }),
      probe({ target: 'wasm-mjs' }),
      probe({ target: 'wasm-cjs', globals: ['window', 'document'] }, env),
      probe({ target: 'wasm-mjs', globals: ['window', 'document'] }, env),
    ])
    for (const result of [cjs, mjs, cjsOptIn, mjsOptIn]) assertGlueLoaded(result)
  })

  test('the glue files begin with the current guard of lib/guard.js (its functions in .cjs, the edge check in .mjs)', () => {
    const { gluePrelude } = require('../lib/guard')
    const banner = /^\/\/ Generated by scripts\/build-wasm\.js[^\n]*\n/
    for (const format of ['cjs', 'mjs']) {
      const text = fs.readFileSync(path.join(ROOT, 'wasm', `vendor_auth.${format}`), 'utf8')
      assert.match(text, banner, format)
      assert.ok(
        text.replace(banner, '').startsWith(gluePrelude(format)),
        `wasm/vendor_auth.${format} does not begin with gluePrelude('${format}'): run npm run build:wasm`,
      )
    }
  })

  test("a refused .node file's exports refuse every use, even where its load did not throw", async () => {
    // Deno 2.9 drops an exception thrown while an addon initialises; a fake Deno here takes
    // that path in Node (no throw), so the exports alone must refuse, and the package entry
    // must still say SERVER_ONLY (its loader reads an export, which throws).
    const script = `
      globalThis.window = {}
      globalThis.Deno = { version: { deno: '1' } }
      const native = require(${JSON.stringify(require('./fixtures/server-only/probe-core').nativeFile())})
      const keys = Object.keys(native)
      const uses = keys.map((key) => { try { native[key]; return 'used' } catch (e) { return e.code } })
      Object.defineProperty(process, 'env', { value: { ...process.env, ${OPT_IN}: '1' } })
      let entry
      try { require(${JSON.stringify(ROOT)}); entry = 'loaded' } catch (e) { entry = e.code + ' ' + e.name }
      console.log(JSON.stringify({ keys, uses, entry }))`
    const out = await new Promise((resolve, reject) => {
      const env = { ...childEnv(), VENDOR_AUTH_FORCE_WASM: '' }
      execFile(process.execPath, ['-e', script], { env, cwd: ROOT, timeout: 30_000 }, (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(JSON.parse(stdout.trim().split('\n').pop())),
      )
    })
    assert.ok(out.keys.includes('NativeClient'), JSON.stringify(out))
    assert.deepEqual(new Set(out.uses), new Set(['SERVER_ONLY']), JSON.stringify(out))
    assert.equal(out.entry, 'SERVER_ONLY VendorAuthError')
  })
})

// ------------------------------------------------------------------ server runtimes load

describe('server runtimes load normally', { concurrency: true }, () => {
  test('plain Node: require, import, vendor-auth/testing and the .node file', async () => {
    const [cjs, esm, testing, native] = await Promise.all([
      probe({ target: 'package' }),
      probe({ target: 'esm' }),
      probe({ target: 'testing' }),
      probe({ target: 'native' }),
    ])
    assertPackageLoaded(cjs)
    assertPackageLoaded(esm)
    assert.equal(testing.ok, true, JSON.stringify(testing.error))
    assert.equal(testing.types.startMockVendor, 'function')
    assertNativeLoaded(native)
  })

  test('worker_threads: workers load next to the main thread; a worker with window is refused', async () => {
    const out = await runChild(WORKER_HOST, {
      mainTarget: 'package',
      workers: [
        { target: 'package' },
        { target: 'esm' },
        { target: 'native' },
        { target: 'package', globals: ['window'] },
        { target: 'native', globals: ['document'] },
      ],
    })
    assertPackageLoaded(out.main)
    const [cjs, esm, native, jsRefused, nativeRefused] = out.workers
    assertPackageLoaded(cjs)
    assertPackageLoaded(esm)
    assertNativeLoaded(native)
    assertJsRefusal(jsRefused)
    assertNativeRefusal(nativeRefused)
  })

  test('a Deno 1.x-like global (Deno, and a window that is the global scope itself, no document) loads', async () => {
    const deno = { deno: true, windowIsGlobal: true }
    const [pkg, esm, native, glue] = await Promise.all([
      probe({ target: 'package', ...deno }),
      probe({ target: 'esm', ...deno }),
      probe({ target: 'native', ...deno }),
      probe({ target: 'wasm-cjs', ...deno }),
    ])
    assertPackageLoaded(pkg)
    assertPackageLoaded(esm)
    assertNativeLoaded(native)
    assertGlueLoaded(glue)
  })
})

// ------------------------------------------------------------------ guard vs native init

// Regressions: where the JS guard and the native init check could disagree, the native refusal
// used to surface as a missing-binary error (the generated loader keeps only messages). Now the
// load either succeeds or fails with code SERVER_ONLY.
describe('JS guard and native init agree, or the refusal still says SERVER_ONLY', () => {
  const loadsOrServerOnly = (result) => {
    if (result.ok) return
    assert.equal(
      result.error.code,
      'SERVER_ONLY',
      `${result.error.message}\ncauses: ${result.error.causes.join(' | ')}`,
    )
  }

  test('`globalThis.window = undefined` (typeof vs has-property)', async () => {
    loadsOrServerOnly(await probe({ target: 'package', undefinedGlobals: ['window'] }))
  })

  test('worker with the opt-in only in its own `env` option', async () => {
    const out = await runChild(WORKER_HOST, {
      workers: [{ target: 'package', globals: ['window'], env: { [OPT_IN]: '1' } }],
    })
    loadsOrServerOnly(out.workers[0])
  })
})
