'use strict'
// The driver contract (lib/driver.d.ts) is a type both drivers are checked against: the native
// binding's NativeClient (binding.d.ts, generated from src/native/binding.rs) and the wasm
// build's WasmDriver (lib/wasm/driver.js, its shape inferred by TypeScript). A drifted driver
// must fail the same check.
// Run: node --test __test__/driver-contract.test.js

const { test } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')

const { runNode } = require('./helpers/util')

const ROOT = path.join(__dirname, '..')
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
const DIR = path.join(__dirname, 'driver-contract')
const tsc = (config) => runNode([TSC, '-p', path.join(DIR, config)], { timeoutMs: 120_000 })

test('both drivers (native NativeClient, wasm WasmDriver) and their store runs satisfy lib/driver.d.ts', async () => {
  const run = await tsc('tsconfig.contract.json')
  assert.equal(run.code, 0, `${run.stdout}${run.stderr}`)
})

test('the check fails on drift: a driver without plan() and with another exchange() is refused', async () => {
  const run = await tsc('tsconfig.drifted.json')
  assert.notEqual(run.code, 0, 'a drifted driver compiled')
  assert.match(run.stdout, /drifted\.ts.*error TS\d+: Property 'plan' is missing/)
})
