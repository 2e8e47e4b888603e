'use strict'
// The native boundary never aborts the process: a panic inside a synchronous binding call comes
// back as a VendorAuthError with code INTERNAL, and the process and the client go on. The panic
// is made by a hook that exists only in test builds: a debug addon built here with the cargo
// feature `test-hooks`, where VENDOR_AUTH_TEST_PANIC=<call> makes that call panic. (The release
// addon has no such hook: the last test checks that the variable changes nothing there.)
// Run: node --test __test__/panic.test.js

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const { defineClient } = require('../lib/client')
const { nativeDriverFactory } = require('../lib/native')
const { VendorAuthError, createClient } = require('..')
const { startMock, optionsFor } = require('./helpers')

const ROOT = path.join(__dirname, '..')
const PV = 'puppetvendors'
const HOOK = 'VENDOR_AUTH_TEST_PANIC'
// Where there is no Rust (release.yml's test jobs test the downloaded binary), the cases that need
// the hooked debug addon skip, naming VENDOR_AUTH_TEST_NO_CARGO; the release binary's case runs.
// Anywhere else a missing cargo fails.
const NO_CARGO = process.env.VENDOR_AUTH_TEST_NO_CARGO
const skip = NO_CARGO ? `the test-hooks addon is built with cargo (VENDOR_AUTH_TEST_NO_CARGO=${NO_CARGO})` : false

let mock
let hooked
let dir

before(async () => {
  mock = await startMock()
  if (skip) return
  // A debug build reuses what `cargo test` compiled; only this crate is built again (~15 s).
  execFileSync('cargo', ['build', '--lib', '--quiet', '--features', 'test-hooks'], { cwd: ROOT, stdio: 'inherit' })
  const metadata = execFileSync('cargo', ['metadata', '--format-version', '1', '--no-deps'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
  const library = path.join(JSON.parse(metadata).target_directory, 'debug', libraryName())
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vendor-auth-panic-'))
  const addon = path.join(dir, 'vendor-auth-test-hooks.node')
  fs.copyFileSync(library, addon)
  hooked = defineClient(nativeDriverFactory(require(addon)))
})
after(async () => {
  delete process.env[HOOK]
  await mock.close()
  if (dir) fs.rmSync(dir, { recursive: true, force: true })
})

function libraryName() {
  if (process.platform === 'win32') return 'vendor_auth.dll'
  return process.platform === 'darwin' ? 'libvendor_auth.dylib' : 'libvendor_auth.so'
}

/** Runs `fn` with the hook set to `call`, and unsets it after. */
async function panicking(call, fn) {
  process.env[HOOK] = call
  try {
    return await fn()
  } finally {
    delete process.env[HOOK]
  }
}

function assertInternal(error, call) {
  assert.ok(error instanceof VendorAuthError, `a VendorAuthError, not ${error && error.constructor.name}`)
  assert.equal(error.code, 'INTERNAL')
  assert.match(error.message, new RegExp(`internal error \\(a bug\\) in ${call}\\(\\)`))
  assert.match(error.message, /test hook: a panic in/)
  assert.match(error.message, /please report/)
  return true
}

test('a panic in plan() rejects that call with INTERNAL; the process and the client go on', { skip }, async () => {
  const client = hooked.createClient(optionsFor(mock, PV))
  await panicking('plan', () => assert.rejects(client.authHeader(), (e) => assertInternal(e, 'plan')))
  assert.equal(mock.count(), 0, 'nothing was sent')
  const header = await client.authHeader()
  assert.match(header['x-access-token'], /\S/)
  assert.equal(mock.count('pv.authenticate'), 1)
  client.close()
})

test('a panic while constructing is INTERNAL from createClient(), not INVALID_OPTIONS', { skip }, async () => {
  await panicking('NativeClient', async () => {
    assert.throws(
      () => hooked.createClient(optionsFor(mock, PV)),
      (e) => assertInternal(e, 'NativeClient'),
    )
  })
  const client = hooked.createClient(optionsFor(mock, PV))
  assert.equal(client.provider, PV)
  client.close()
})

test('a panic in adopt() (initialSession) is INTERNAL; the next client adopts', { skip }, async () => {
  const source = hooked.createClient(optionsFor(mock, PV))
  const kept = await source.getSession()
  source.close()
  await panicking('adopt', async () => {
    assert.throws(
      () => hooked.createClient(optionsFor(mock, PV, { initialSession: kept })),
      (e) => assertInternal(e, 'adopt'),
    )
  })
  const client = hooked.createClient(optionsFor(mock, PV, { initialSession: kept }))
  mock.reset()
  assert.equal((await client.getSession()).token, kept.token)
  assert.equal(mock.count(), 0, 'served from initialSession')
  client.close()
})

test('the release build has no hook: the variable changes nothing there', async () => {
  const client = createClient(optionsFor(mock, PV))
  await panicking('plan', async () => {
    assert.match((await client.authHeader())['x-access-token'], /\S/)
  })
  client.close()
})
