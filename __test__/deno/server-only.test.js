'use strict'
// The server-only guard on a real Deno (issue 20): run inside Deno by `npm run test:deno`
// (scripts/test-deno.js), once per build (the native addon, and the wasm build with
// VENDOR_AUTH_FORCE_WASM=1), never by Node (skipped there: __test__/server-only.test.js covers
// Node). Each case is a Deno process of its own (process.execPath is Deno here) that sets up its
// global scope and loads vendor-auth the way the case says (fixtures/server-only/probe.js).
//
// Deno 2.9 defines no `window` or `document`, and has a real `process`: a DOM there is a
// polyfill (a test environment, a rendering library), and vendor-auth must refuse it as it
// refuses one in Node, with code SERVER_ONLY, on both builds and by every file a user can load.

const { describe, test } = require('node:test')
const assert = require('node:assert/strict')
const { execFile } = require('node:child_process')
const path = require('node:path')

const ROOT = path.resolve(__dirname, '../..')
const PROBE = path.join(__dirname, '..', 'fixtures', 'server-only', 'probe.js')
const OPT_IN = 'VENDOR_AUTH_ALLOW_DOM_GLOBALS'
const onDeno = typeof globalThis.Deno === 'object' && globalThis.Deno !== null
const wasmBuild = process.env.VENDOR_AUTH_FORCE_WASM === '1'
/** A DOM as polyfills make one: the global scope is its window, and a document beside it. */
const DOM = { windowIsGlobal: true, globals: ['document'] }

/** Run `script` (a file and its arguments, or `-e` code) under this Deno; its last JSON line. */
function runDeno(args, extraEnv = {}) {
  const env = { ...process.env, ...extraEnv }
  delete env[OPT_IN]
  delete env.NODE_TEST_CONTEXT
  if (extraEnv[OPT_IN] !== undefined) env[OPT_IN] = extraEnv[OPT_IN]
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd: ROOT, env, timeout: 30_000 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`${args[0]} failed: ${error.message}\n${stderr}`))
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop()))
      } catch {
        reject(new Error(`no JSON from ${args[0]}: ${stdout}\n${stderr}`))
      }
    })
  })
}

const probe = (config, env) => runDeno([PROBE, JSON.stringify(config)], env)

function assertRefused(result, { vendorAuthError = false } = {}) {
  assert.equal(result.ok, false, `expected a refusal, loaded: ${JSON.stringify(result)}`)
  assert.equal(result.error.code, 'SERVER_ONLY', JSON.stringify(result.error))
  assert.match(result.error.message, /server-only/)
  assert.match(result.error.message, /Call it from your server/)
  if (vendorAuthError) {
    assert.equal(result.error.name, 'VendorAuthError')
    assert.equal(result.error.isVendorAuthError, true)
  }
}

function assertLoaded(result, exportName) {
  assert.equal(result.ok, true, `expected a load, got: ${JSON.stringify(result.error)}`)
  assert.equal(result.types[exportName], 'function', JSON.stringify(result.types))
}

const skip = !onDeno && 'runs under Deno: npm run test:deno'

describe(`the server-only guard on Deno (${wasmBuild ? 'wasm build' : 'native addon'})`, { skip }, () => {
  test('a plain Deno loads vendor-auth every way: require, import, vendor-auth/testing, the .node file, the wasm glue', async () => {
    const [cjs, esm, testing, native, glueCjs, glueMjs] = await Promise.all([
      probe({ target: 'package' }),
      probe({ target: 'esm' }),
      probe({ target: 'testing' }),
      probe({ target: 'native' }),
      probe({ target: 'wasm-cjs' }),
      probe({ target: 'wasm-mjs' }),
    ])
    assertLoaded(cjs, 'createClient')
    assertLoaded(esm, 'createClient')
    assertLoaded(testing, 'startMockVendor')
    assertLoaded(native, 'NativeClient')
    assertLoaded(glueCjs, 'initSync')
    assertLoaded(glueMjs, 'initSync')
  })

  test('a DOM polyfilled on Deno (window = globalThis, a document): every file refuses with SERVER_ONLY', async () => {
    const [cjs, esm, testing, native, glueCjs, glueMjs] = await Promise.all([
      probe({ target: 'package', ...DOM }),
      probe({ target: 'esm', ...DOM }),
      probe({ target: 'testing', ...DOM }),
      probe({ target: 'native', ...DOM }),
      probe({ target: 'wasm-cjs', ...DOM }),
      probe({ target: 'wasm-mjs', ...DOM }),
    ])
    assertRefused(cjs, { vendorAuthError: true })
    assertRefused(esm, { vendorAuthError: true })
    assertRefused(testing, { vendorAuthError: true })
    // The .node file: Deno drops an exception thrown while an addon initialises, so its exports
    // refuse every use instead (the probe reads each one).
    assertRefused(native)
    assertRefused(glueCjs)
    assertRefused(glueMjs)
  })

  test('a window ({}) or a document alone on Deno: refused', async () => {
    const [windowOnly, documentOnly, nativeWindow] = await Promise.all([
      probe({ target: 'package', globals: ['window'] }),
      probe({ target: 'package', globals: ['document'] }),
      probe({ target: 'native', globals: ['window'] }),
    ])
    assertRefused(windowOnly, { vendorAuthError: true })
    assertRefused(documentOnly, { vendorAuthError: true })
    assertRefused(nativeWindow)
  })

  test('control: a window that is the global scope, without a document (Deno 1.x had one), loads', async () => {
    const [cjs, native] = await Promise.all([
      probe({ target: 'package', windowIsGlobal: true }),
      probe({ target: 'native', windowIsGlobal: true }),
    ])
    assertLoaded(cjs, 'createClient')
    assertLoaded(native, 'NativeClient')
  })

  test('control: the jsdom opt-in (VENDOR_AUTH_ALLOW_DOM_GLOBALS=1 in the environment) loads beside a DOM', async () => {
    const env = { [OPT_IN]: '1' }
    const [cjs, native, glue] = await Promise.all([
      probe({ target: 'package', ...DOM }, env),
      probe({ target: 'native', ...DOM }, env),
      probe({ target: 'wasm-cjs', ...DOM }, env),
    ])
    assertLoaded(cjs, 'createClient')
    assertLoaded(native, 'NativeClient')
    assertLoaded(glue, 'initSync')
  })

  test('a refusal only the native check makes reaches the entry as SERVER_ONLY (the refused exports)', async () => {
    // An opt-in only process.env shows lets the JS checks pass; the addon reads the real
    // environment and refuses. Deno drops the throw of its init, so the loader meets the refusal
    // when it reads an export. The native addon alone: the wasm build's checks are JS.
    const script = `
      globalThis.window = globalThis
      globalThis.document = {}
      Object.defineProperty(process, 'env', { value: { ...process.env, ${OPT_IN}: '1' } })
      let out
      try {
        require(${JSON.stringify(ROOT)})
        out = { loaded: true }
      } catch (e) {
        out = { code: e.code, name: e.name, left: '__vendorAuthLoadRefused' in globalThis }
      }
      console.log(JSON.stringify(out))`
    const out = await runDeno(['-e', script], { VENDOR_AUTH_FORCE_WASM: '' })
    assert.deepEqual(out, { code: 'SERVER_ONLY', name: 'VendorAuthError', left: false })
  })
})
