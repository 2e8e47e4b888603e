'use strict'
// The behaviour suites of the native build, run again against the wasm build in Node (forced
// with VENDOR_AUTH_FORCE_WASM=1, over the node:https transport), against the same local HTTPS
// mock: same API, same error codes and messages, same lifecycle. Each suite runs in a child
// `node --test`, so this process's module cache keeps the native build. The debug log is on, and
// each suite's output is checked as npm test checks the native run's (helpers/faults.js
// findLeaks): no credential, no piece of one, no JWT.
//
// Not re-run: server-only (the .node file's own init guard; the edge guard is tested in
// workerd.test.js), mock-vendor (tests the mock, not the library), leak (the scan's self-check),
// soak (a load test of the native build), workerd and fallback (wasm already), store (tokenStore
// is not supported on the wasm build yet), schema (the native schema against the types). A few
// cases skip themselves on the wasm build, saying why (tokenStore; hostile's polluted `signal`).
// Run: node --test __test__/wasm.test.js

const { test, describe, it } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')

const { mask, runTestFiles, findLeaks } = require('./helpers/faults')

const SUITES = [
  'authenticate.test.js',
  'basic-scheme.test.js',
  'client.test.js',
  'events.test.js',
  'faults.test.js',
  'fetch-origins.test.js',
  'hostile.test.js',
  'lifecycle.test.js',
  'node-conventions.test.js',
  'redaction.test.js',
  'rotation.test.js',
  // The shared store's whole suite on the Node fallback: its fleets of processes (which inherit
  // VENDOR_AUTH_FORCE_WASM), the refresh window, a killed lock holder, a shared 429, Redis
  // stopped and restarted.
  'store.test.js',
  'store-attacks.test.js',
  'tracing.test.js',
  'traffic.test.js',
]
const TIMEOUT_MS = 240_000

function runSuite(file) {
  return runTestFiles([path.join(__dirname, file)], {
    extraEnv: { VENDOR_AUTH_FORCE_WASM: '1', DEBUG: 'vendor-auth', FORCE_COLOR: undefined, NO_COLOR: '1' },
    killAfterMs: TIMEOUT_MS - 10_000,
  })
}

test('the wasm build is the one forced (its fallback line, no .node loaded)', async () => {
  const { runNode } = require('./helpers/util')
  const script = `
    const va = require('.')
    const loaded = Object.keys(require.cache).filter((f) => f.endsWith('.node') || f.endsWith('binding.js'))
    const lines = []
    va.createClient({ provider: 'vendy', accessKey: 'ak', secretKey: 'sk', logger: (l) => lines.push(l) }).close()
    console.log(JSON.stringify({ loaded, lines }))`
  const result = await runNode(['-e', script], { env: { VENDOR_AUTH_FORCE_WASM: '1' } })
  assert.equal(result.code, 0, result.stderr)
  const { loaded, lines } = JSON.parse(result.stdout)
  assert.deepEqual(loaded, [])
  assert.deepEqual(lines, ['vendor-auth using the WebAssembly build (VENDOR_AUTH_FORCE_WASM=1)'])
})

// Two suites at a time (the machine's two cores; the suites mostly wait on the mock and on token
// lifetimes). npm test runs this file alone, after the others (scripts/test.js EXCLUSIVE).
describe('the behaviour suites against the wasm build, two at a time', { concurrency: 2 }, () => {
  for (const file of SUITES) defineSuite(file)
})

function defineSuite(file) {
  it(`${file} against the wasm build`, { timeout: TIMEOUT_MS }, async (t) => {
    const { code, signal, output } = await runSuite(file)
    const summary = (name) => Number((new RegExp(`^# ${name} (\\d+)$`, 'm').exec(output) || [])[1])
    t.diagnostic(`${summary('pass')} passed, ${summary('fail')} failed, ${summary('skipped')} skipped`)
    const failures = output
      .split('\n')
      .filter((line) => /^\s*not ok /.test(line))
      .join('\n')
    assert.equal(signal, null, `killed (${signal})`)
    assert.equal(code, 0, `failed under the wasm build:\n${failures}\n${mask(output.slice(-4000))}`)
    // A suite skips a case only to say it does not apply to the wasm build, and why, or because
    // this runner lacks what it needs, named by a VENDOR_AUTH_TEST_NO_* variable set here (the
    // release workflow's Windows jobs have no redis-server).
    const skipped = output.split('\n').filter((line) => /^\s*ok \d+ - .* # SKIP/.test(line))
    const byEnvironment = (line) => {
      const named = /\((VENDOR_AUTH_TEST_NO_[A-Z]+)=[^)]+\)/.exec(line)
      return named !== null && Boolean(process.env[named[1]])
    }
    for (const line of skipped)
      if (!byEnvironment(line)) assert.match(line, /# SKIP .*wasm build/, 'a skip that does not say why')
    if (summary('pass') === 0 && skipped.length > 0 && skipped.every(byEnvironment))
      return t.skip(skipped[0].replace(/^.*# SKIP\s*/, ''))
    assert.ok(summary('pass') > 0, 'no test ran')
    assert.match(
      output,
      /vendor-auth (vendy|puppetvendors) (POST https:\/\/|permanent credential)/,
      'the debug log was on',
    )
    assert.deepEqual(findLeaks(output), [], 'credentials or tokens in the output')
  })
}
