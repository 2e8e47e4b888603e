'use strict'
// `vendor-auth check` (bin/vendor-auth.js) run as a user runs it, in a child process with the
// credentials in its environment, against the mock: the summary (provider, environment, mode,
// permissions, shop, expiry) and never the token or a key, --json, --print-token (to stdout only),
// exit 1 with the error code, a provider inferred from the environment, --staging, --help.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const { startMock, SECRETS } = require('./helpers')
const { ROOT, runNode, closedPort, CREDENTIAL_ENV } = require('./helpers/util')
const { assertClean } = require('./helpers/faults')

const BIN = path.join(ROOT, 'bin', 'vendor-auth.js')
const NO_CREDENTIALS = Object.fromEntries(CREDENTIAL_ENV.map((name) => [name, undefined]))
const VENDY_ENV = { VENDY_ACCESS_KEY: SECRETS.vendyAccessKey, VENDY_SECRET_KEY: SECRETS.vendySecretKey }
const PV_ENV = { PUPPETVENDORS_API_KEY: SECRETS.pvApiKey }

let mock
let caFile

test.before(async () => {
  mock = await startMock()
  caFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vendor-auth-cli-')), 'mock-ca.pem')
  fs.writeFileSync(caFile, mock.caCert)
})

test.after(async () => {
  await mock.close()
  fs.rmSync(path.dirname(caFile), { recursive: true, force: true })
})

/** Runs the CLI with `env` over an environment without credentials, proxies or DEBUG. */
async function cli(args, env = {}) {
  // runNode() merges this into process.env; an undefined value removes the variable.
  const base = { ...NO_CREDENTIALS, DEBUG: undefined, HTTPS_PROXY: undefined, https_proxy: undefined }
  const run = await runNode([BIN, ...args], {
    env: { ...base, NODE_TEST_CONTEXT: undefined, ...env },
    timeoutMs: 20_000,
  })
  return { ...run, output: run.stdout + run.stderr }
}

test('--help: usage on stdout, exit 0; no command: exit 1 with INVALID_OPTIONS', async () => {
  const help = await cli(['--help'])
  assert.equal(help.code, 0)
  for (const part of [
    'vendor-auth check',
    '--provider <vendy|puppetvendors>',
    '--staging',
    '--json',
    '--print-token',
  ]) {
    assert.ok(help.stdout.includes(part), `usage lacks ${part}`)
  }
  const bare = await cli([])
  assert.equal(bare.code, 1)
  assert.match(bare.stderr, /INVALID_OPTIONS: a command is needed/)
})

test('check (Vendy, --ca-cert): the summary without the token or a key, exit 0', async () => {
  const run = await cli(['check', '--provider', 'vendy', '--base-url', mock.baseUrl, '--ca-cert', caFile], VENDY_ENV)
  assert.equal(run.code, 0, run.output)
  assert.match(run.stdout, /^ok: vendy exchanged the credentials for a token$/m)
  assert.match(run.stdout, /^ {2}environment {2}production$/m)
  assert.match(run.stdout, /^ {2}mode {9}\(not stated by vendy\)$/m)
  assert.match(run.stdout, /^ {2}expires {6}\d{4}-\d\d-\d\dT.*Z \(in (6 d 23|7 d 0) h\)$/m)
  assert.match(run.stdout, /header {7}Authorization \(the token is not shown/)
  assertClean(run.output, [], 'CLI output')
  assert.equal(mock.count('vendy.auth'), 1)
})

test('check with the provider inferred from the environment and trust from NODE_EXTRA_CA_CERTS', async () => {
  const run = await cli(['check', '--base-url', mock.baseUrl], { ...PV_ENV, NODE_EXTRA_CA_CERTS: caFile })
  assert.equal(run.code, 0, run.output)
  assert.match(run.stdout, /^ok: puppetvendors /m)
  assert.match(run.stdout, /^ {2}mode {9}test$/m)
  assert.match(run.stdout, /^ {2}permissions {2}orders:read, products:read$/m)
  assert.match(run.stdout, /^ {2}shop {9}mock-store\.myshopify\.com$/m)
  assert.match(run.stdout, /^ {2}expires .*\(in (23 h 59 min|1 d 0 h)\)$/m)
  assertClean(run.output, [], 'CLI output')
})

test('--json: one object with every field but the token', async () => {
  const run = await cli(['check', '--json', '--base-url', mock.baseUrl, '--ca-cert', caFile], PV_ENV)
  assert.equal(run.code, 0, run.output)
  const report = JSON.parse(run.stdout)
  assert.deepEqual(Object.keys(report), [
    'ok',
    'provider',
    'environment',
    'mode',
    'permissions',
    'shopDomain',
    'vendorId',
    'expiresAt',
    'expiresInSeconds',
    'headerName',
  ])
  assert.equal(report.ok, true)
  assert.equal(report.headerName, 'x-access-token')
  assert.ok(report.expiresInSeconds > 86_000 && report.expiresInSeconds <= 86_400, String(report.expiresInSeconds))
  assert.equal(run.stderr, '')
  assertClean(run.output, [], 'CLI output')
})

test('--print-token: the token alone on stdout (usable as $(…)), the summary on stderr', async () => {
  const run = await cli(['check', '--print-token', '--base-url', mock.baseUrl, '--ca-cert', caFile], VENDY_ENV)
  assert.equal(run.code, 0, run.output)
  const token = run.stdout.trim()
  assert.equal(run.stdout, `${token}\n`)
  assert.equal(mock.verify(token).provider, 'vendy')
  assert.match(run.stderr, /^ok: vendy /)
  assertClean(run.stderr, [token], 'stderr')

  const json = await cli(['check', '--json', '--print-token', '--base-url', mock.baseUrl, '--ca-cert', caFile], PV_ENV)
  const report = JSON.parse(json.stdout)
  assert.equal(mock.verify(report.token).provider, 'puppetvendors')
})

test('refused credentials: exit 1 with UNAUTHORIZED (text and --json), no secret anywhere', async () => {
  const wrong = { VENDY_ACCESS_KEY: SECRETS.vendyAccessKey, VENDY_SECRET_KEY: 'vendy-sk-LEAKCHECK-wrong-000' }
  const text = await cli(['check', '--base-url', mock.baseUrl, '--ca-cert', caFile], wrong)
  assert.equal(text.code, 1)
  assert.match(text.stderr, /^vendor-auth check failed: UNAUTHORIZED: /)
  assert.equal(text.stdout, '')
  const json = await cli(['check', '--json', '--base-url', mock.baseUrl, '--ca-cert', caFile], wrong)
  assert.equal(json.code, 1)
  const { ok, error } = JSON.parse(json.stdout)
  assert.equal(ok, false)
  assert.equal(error.code, 'UNAUTHORIZED')
  assert.equal(error.status, 401)
  assert.equal(error.provider, 'vendy')
  for (const run of [text, json]) {
    assertClean(run.output, [], 'CLI output')
    assert.ok(!run.output.includes('vendy-sk-LEAKCHECK-wrong-000'))
  }
})

test('no credentials, or both vendors: exit 1 with INVALID_OPTIONS saying what to set or pass', async () => {
  const none = await cli(['check'])
  assert.equal(none.code, 1)
  assert.match(none.stderr, /INVALID_OPTIONS: no vendor credentials in the environment: set VENDY_ACCESS_KEY/)
  const both = await cli(['check'], { ...VENDY_ENV, ...PV_ENV })
  assert.equal(both.code, 1)
  assert.match(both.stderr, /both vendy and puppetvendors .*: pass --provider/)
  const bad = await cli(['check', '--provider', 'other', '--json'], VENDY_ENV)
  assert.equal(JSON.parse(bad.stdout).error.code, 'INVALID_OPTIONS')
  const unknown = await cli(['check', '--stagin'])
  assert.match(unknown.stderr, /INVALID_OPTIONS: Unknown option '--stagin'/)
  const missingCa = await cli(['check', '--ca-cert', '/nonexistent/ca.pem'], VENDY_ENV)
  assert.match(missingCa.stderr, /could not read --ca-cert \/nonexistent\/ca\.pem: ENOENT/)
})

test('--staging goes to the staging host (seen through a dead loopback proxy: nothing leaves the machine)', async () => {
  const port = await closedPort()
  const proxy = { HTTPS_PROXY: `http://127.0.0.1:${port}`, NO_PROXY: undefined, no_proxy: undefined }
  const staging = await cli(['check', '--staging', '--json', '--timeout-ms', '2000'], { ...VENDY_ENV, ...proxy })
  const { error } = JSON.parse(staging.stdout)
  assert.equal(error.code, 'NETWORK')
  assert.match(
    error.message,
    new RegExp(`proxy http://127\\.0\\.0\\.1:${port} .* to api\\.staging\\.vendy\\.money:443`),
  )
  const production = await cli(['check', '--json'], { ...PV_ENV, ...proxy })
  assert.match(JSON.parse(production.stdout).error.message, /to api\.puppetvendors\.com:443/)
})

test('package.json names the CLI as the vendor-auth bin, with a node shebang', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
  assert.deepEqual(pkg.bin, { 'vendor-auth': 'bin/vendor-auth.js' })
  assert.ok(pkg.files.includes('bin/'))
  assert.ok(fs.readFileSync(BIN, 'utf8').startsWith('#!/usr/bin/env node\n'))
  assert.ok(fs.statSync(BIN).mode & 0o111, 'executable')
})
