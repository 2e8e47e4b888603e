'use strict'
// The core's stand-ins for two std facilities (src/compact.rs: kept out of the .wasm for its size,
// docs/wasm.md "Size"): f64's Display, in the INVALID_OPTIONS message for a number out of range,
// and char::to_lowercase, in the redaction's case folding. The Rust tests compare them with std
// over every char and a large sample of doubles; here the native addon and the WebAssembly build
// (each in a child process) give the same message, std's, and redact the same non-ASCII key.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { runNode } = require('./helpers/util')
const { mockFor } = require('./helpers')

const BUILDS = { native: {}, wasm: { VENDOR_AUTH_FORCE_WASM: '1' } }

/** Run `script` (which prints JSON) in a child on each build; its `INPUT` env holds `input`. */
async function inEachBuild(script, input) {
  const results = {}
  for (const [build, env] of Object.entries(BUILDS)) {
    const child = await runNode(['-e', script], { env: { ...env, INPUT: JSON.stringify(input) } })
    assert.equal(child.code, 0, `${build}: ${child.stderr}`)
    results[build] = JSON.parse(child.stdout)
  }
  return results
}

test('a number out of range is written as std writes an f64, on both builds', async () => {
  // [value given, how Rust's `{}` writes it]
  const cases = [
    [1.5, '1.5'],
    [0.1, '0.1'],
    [-2.5, '-2.5'],
    [11, '11'],
    [10.000000000000002, '10.000000000000002'],
    [0.30000000000000004, '0.30000000000000004'],
    [1e21, '1000000000000000000000'],
    [1e-7, '0.0000001'],
    [123e-20, '0.00000000000000000123'],
    // Exactly halfway between two shortest forms: std rounds up (serde_json's printer to even).
    [725651467582506.25, '725651467582506.3'],
    [2 ** -40, '0.0000000000009094947017729282'],
    [1.5e30, '1500000000000000000000000000000'],
    [NaN, 'NaN'],
    [Infinity, 'inf'],
    [-Infinity, '-inf'],
  ]
  const script = `
    const va = require('.')
    const values = JSON.parse(process.env.INPUT).map((text) => Number(text))
    console.log(JSON.stringify(values.map((maxRetries) => {
      try {
        va.createClient({ provider: 'vendy', accessKey: 'ak', secretKey: 'sk', maxRetries }).close()
        return 'accepted'
      } catch (e) {
        return e.code + ': ' + e.message
      }
    })))`
  const { native, wasm } = await inEachBuild(
    script,
    cases.map(([value]) => String(value)),
  )
  const expected = cases.map(
    ([, shown]) => `INVALID_OPTIONS: maxRetries must be a whole number from 0 to 10, not ${shown}`,
  )
  assert.deepEqual(native, expected)
  assert.deepEqual(wasm, expected)
})

test('a non-ASCII key echoed in another case is redacted, on both builds', async (t) => {
  const mock = await mockFor(t)
  const key = 'vk_Ärger_Öl_Élan_Дождь_Ωμέγα_Աrm_İz_LEAKCHECK'
  // JS's case mappings of these letters are Unicode's, as Rust's are.
  const echoes = [key.toUpperCase(), key.toLowerCase(), key.slice(0, 20).toUpperCase() + key.slice(20)]
  const script = `
    const va = require('.')
    const { baseUrl, caCert, key, count } = JSON.parse(process.env.INPUT)
    ;(async () => {
      const seen = []
      for (let i = 0; i < count; i++) {
        const error = await va.authenticate({ provider: 'puppetvendors', apiKey: key, baseUrl, caCert }).then(
          () => ({ code: 'none' }),
          (e) => e,
        )
        seen.push({ code: error.code, vendorMessage: error.vendorMessage })
      }
      console.log(JSON.stringify(seen))
    })()`
  for (const [build, env] of Object.entries(BUILDS)) {
    mock.script(
      'pv.authenticate',
      echoes.map((echo) => ({ status: 401, body: { success: false, error: { message: `bad key ${echo}` } } })),
    )
    const input = { baseUrl: mock.baseUrl, caCert: mock.caCert, key, count: echoes.length }
    const child = await runNode(['-e', script], { env: { ...env, INPUT: JSON.stringify(input) } })
    assert.equal(child.code, 0, `${build}: ${child.stderr}`)
    const seen = JSON.parse(child.stdout)
    assert.deepEqual(
      seen,
      echoes.map(() => ({ code: 'UNAUTHORIZED', vendorMessage: 'bad key [redacted]' })),
      `${build}: ${child.stdout}`,
    )
  }
})
