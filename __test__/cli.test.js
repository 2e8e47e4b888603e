'use strict'
// `vendor-auth check` (bin/vendor-auth.js) run as a user runs it, in a child process with the
// credentials in its environment, against the mock: the summary (provider, environment, mode,
// permissions, shop, expiry) and never the token or a key, --json, --print-token (to stdout only),
// exit 1 with the error code, a provider inferred from the environment, --staging, --help (the
// timeouts' defaults from the core's schema), an unknown option named with the closest known one,
// --exchange-timeout-ms against a host that never answers, and CA files that are not regular files
// or are over 1 MiB refused at once (--ca-cert) or ignored with a log line (NODE_EXTRA_CA_CERTS).

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')
const { execFileSync } = require('node:child_process')

const { startMock, SECRETS } = require('./helpers')
const { ROOT, runNode, closedPort, CREDENTIAL_ENV } = require('./helpers/util')
const { assertClean } = require('./helpers/faults')

const BIN = path.join(ROOT, 'bin', 'vendor-auth.js')
const NO_CREDENTIALS = Object.fromEntries(CREDENTIAL_ENV.map((name) => [name, undefined]))
const VENDY_ENV = { VENDY_ACCESS_KEY: SECRETS.vendyAccessKey, VENDY_SECRET_KEY: SECRETS.vendySecretKey }
const PV_ENV = { PUPPETVENDORS_API_KEY: SECRETS.pvApiKey }

let mock
let caFile
/** A folder for this file's own CA files (a FIFO, one over 1 MiB, …). */
let dir

test.before(async () => {
  mock = await startMock()
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vendor-auth-cli-'))
  caFile = path.join(dir, 'mock-ca.pem')
  fs.writeFileSync(caFile, mock.caCert)
})

test.after(async () => {
  await mock.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

/** Runs the CLI with `env` over an environment without credentials, proxies or DEBUG. */
async function cli(args, env = {}, timeoutMs = 20_000) {
  // runNode() merges this into process.env; an undefined value removes the variable.
  const base = {
    ...NO_CREDENTIALS,
    DEBUG: undefined,
    HTTPS_PROXY: undefined,
    https_proxy: undefined,
    NODE_EXTRA_CA_CERTS: undefined,
    SSL_CERT_FILE: undefined,
    SSL_CERT_DIR: undefined,
    VENDOR_AUTH_FORCE_WASM: undefined,
  }
  const run = await runNode([BIN, ...args], {
    env: { ...base, NODE_TEST_CONTEXT: undefined, ...env },
    timeoutMs,
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
  assert.match(unknown.stderr, /INVALID_OPTIONS: unknown option '--stagin'; did you mean --staging\?/)
  const missingCa = await cli(['check', '--ca-cert', '/nonexistent/ca.pem'], VENDY_ENV)
  assert.match(missingCa.stderr, /could not read --ca-cert \/nonexistent\/ca\.pem: ENOENT/)
})

/** Both builds, as a user gets each: the native addon, and the WebAssembly build (forced). */
const BUILDS = [
  ['native', {}],
  ['wasm', { VENDOR_AUTH_FORCE_WASM: '1' }],
]

test("an unknown option is named with the closest known one, not Node's parse error", async () => {
  mock.reset()
  const cases = [
    [['--base-uri', 'https://example.com'], "'--base-uri'; did you mean --base-url\\?"],
    [['--base-uri=https://example.com'], "'--base-uri'; did you mean --base-url\\?"],
    [['--baseUrl', 'https://example.com'], "'--baseUrl'; did you mean --base-url\\?"],
    [['--ca_cert', caFile], "'--ca_cert'; did you mean --ca-cert\\?"],
    [['--timeout', '5'], "'--timeout'; did you mean --timeout-ms\\?"],
    [['--exchange-timeout', '5'], "'--exchange-timeout'; did you mean --exchange-timeout-ms\\?"],
    [['--print'], "'--print'; did you mean --print-token\\?"],
    [['--frobnicate'], "'--frobnicate'; the options are --provider, --staging, --base-url, --ca-cert, .*--version"],
  ]
  const runs = await Promise.all(cases.map(([args]) => cli(['check', ...args], VENDY_ENV)))
  runs.forEach((run, i) => {
    assert.equal(run.code, 1, run.output)
    assert.equal(run.stdout, '')
    assert.match(run.stderr, new RegExp(`^vendor-auth check failed: INVALID_OPTIONS: unknown option ${cases[i][1]}`))
    assert.doesNotMatch(run.stderr, /positional argument|Unknown option/, "Node's own words")
  })
  const json = await cli(['check', '--json', '--base-uri', 'https://example.com'], VENDY_ENV)
  const { error } = JSON.parse(json.stdout)
  assert.equal(error.code, 'INVALID_OPTIONS')
  assert.match(error.message, /did you mean --base-url\?/)
  assert.equal(mock.count(), 0)
})

test('--help on each build: the timeouts with their defaults from the option schema, and how long a dead host is waited for', async () => {
  const { loadBinding } = require('../lib/native')
  const defaults = new Map(JSON.parse(loadBinding().optionSchema()).options.map((o) => [o.name, o.default]))
  const timeout = defaults.get('timeoutMs')
  const exchange = defaults.get('exchangeTimeoutMs')
  assert.match(String(exchange), /^\d+$/)
  for (const [build, env] of BUILDS) {
    const help = await cli(['--help'], env)
    assert.equal(help.code, 0, help.output)
    const text = help.stdout.replace(/\s+/g, ' ')
    for (const part of [
      `--timeout-ms <ms> bound on each attempt, connect to last byte (default ${timeout})`,
      `--exchange-timeout-ms <ms> bound on the whole exchange: every attempt and retry wait (default ${exchange})`,
      `A host that does not answer is waited for at most --exchange-timeout-ms (${exchange / 1000} s by default)`,
    ]) {
      assert.ok(text.includes(part), `${build}: --help lacks "${part}":\n${help.stdout}`)
    }
  }
})

test('--exchange-timeout-ms bounds the whole check against a host that accepts and never answers (each build)', async (t) => {
  const sockets = new Set()
  const dead = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise((resolve) => dead.listen(0, '127.0.0.1', resolve))
  t.after(() => {
    for (const socket of sockets) socket.destroy()
    dead.close()
  })
  const baseUrl = `https://127.0.0.1:${dead.address().port}`
  for (const [build, env] of BUILDS) {
    // Each attempt may take 5 s; the whole exchange only 0.8 s.
    const args = ['check', '--json', '--base-url', baseUrl, '--timeout-ms', '5000', '--exchange-timeout-ms', '800']
    const run = await cli(args, { ...VENDY_ENV, ...env })
    assert.equal(run.code, 1, run.output)
    const { error } = JSON.parse(run.stdout)
    assert.equal(error.code, 'TIMEOUT', `${build}: ${error.message}`)
    assert.match(error.message, /^no token within exchangeTimeoutMs = 800 ms/, build)
    // The whole run (a Node start included) ends soon after the bound, before one attempt's 5 s.
    assert.ok(run.elapsedMs >= 800 && run.elapsedMs < 5_000, `${build}: ${run.elapsedMs} ms`)
  }
  const bad = await cli(['check', '--exchange-timeout-ms', '1.5'], VENDY_ENV)
  assert.match(bad.stderr, /INVALID_OPTIONS: --exchange-timeout-ms must be a positive whole number/)
})

/** A FIFO in this file's folder (opening one for reading waits for a writer). */
function fifo(name) {
  const file = path.join(dir, name)
  execFileSync('mkfifo', [file])
  return file
}

test('--ca-cert that is a device, a FIFO, a folder or over 1 MiB is refused at once; 1 MiB is read', async () => {
  mock.reset()
  const huge = path.join(dir, 'huge.pem')
  fs.writeFileSync(huge, `${mock.caCert}\n`.padEnd(1024 * 1024 + 1, '#'))
  const cases = [
    ['/dev/zero', 'is not a regular file \\(a character device\\)'],
    [fifo('ca-fifo.pem'), 'is not a regular file \\(a FIFO\\)'],
    [dir, 'is not a regular file \\(a folder\\)'],
    [huge, 'is larger than 1 MiB, more than any bundle of CA certificates'],
  ]
  // Refused before anything is read: 5 s (a Node start on a busy machine) is plenty; the old
  // reader grew by about 300 MB a second on /dev/zero and waited for ever on the FIFO.
  const runs = await Promise.all(
    cases.map(([file]) => cli(['check', '--base-url', mock.baseUrl, '--ca-cert', file], VENDY_ENV, 5_000)),
  )
  runs.forEach((run, i) => {
    const [file, why] = cases[i]
    assert.equal(run.killed, false, `${file}: still running after 5 s`)
    assert.equal(run.code, 1, run.output)
    assert.match(
      run.stderr,
      new RegExp(
        `^vendor-auth check failed: INVALID_OPTIONS: --ca-cert ${file} ${why}; pass a PEM file of CA certificates`,
      ),
    )
  })
  const largest = path.join(dir, 'largest.pem')
  fs.writeFileSync(largest, `${mock.caCert}\n`.padEnd(1024 * 1024, '#'))
  const ok = await cli(['check', '--base-url', mock.baseUrl, '--ca-cert', largest], VENDY_ENV)
  assert.equal(ok.code, 0, ok.output)
  assert.equal(mock.count('vendy.auth'), 1)
})

test('NODE_EXTRA_CA_CERTS naming a device or a file over 1 MiB is ignored with a log line, SSL_CERT_FILE too, at once (each build)', async () => {
  // (A FIFO there makes Node itself wait before any script runs: the core's reader refusing one
  // is tested in src/native/conventions.rs.)
  const huge = path.join(dir, 'huge-extra.pem')
  fs.writeFileSync(huge, `${mock.caCert}\n`.padEnd(1024 * 1024 + 1, '#'))
  const cases = [
    ['/dev/zero', 'it is not a regular file'],
    [huge, 'it is larger than 1 MiB'],
  ]
  for (const [build, env] of BUILDS) {
    for (const [file, why] of cases) {
      const extra = { ...VENDY_ENV, ...env, NODE_EXTRA_CA_CERTS: file, DEBUG: 'vendor-auth' }
      const run = await cli(['check', '--base-url', mock.baseUrl, '--ca-cert', caFile], extra, 10_000)
      assert.equal(run.killed, false, `${build}, ${file}: still running after 10 s`)
      assert.equal(run.code, 0, `${build}, ${file}: ${run.output}`)
      const line = `vendor-auth vendy NODE_EXTRA_CA_CERTS=${file} was ignored: ${why}`
      assert.ok(run.stderr.includes(line), `${build}: no "${line}" in:\n${run.stderr}`)
    }
    // SSL_CERT_FILE (the roots in place of the system's): such a file adds no root, and is not
    // waited on either (the mock's CA comes from --ca-cert).
    for (const file of ['/dev/zero', huge]) {
      const extra = { ...VENDY_ENV, ...env, SSL_CERT_FILE: file }
      const run = await cli(['check', '--base-url', mock.baseUrl, '--ca-cert', caFile], extra, 10_000)
      assert.equal(run.killed, false, `${build}, SSL_CERT_FILE=${file}: still running after 10 s`)
      assert.equal(run.code, 0, `${build}, SSL_CERT_FILE=${file}: ${run.output}`)
    }
  }
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
