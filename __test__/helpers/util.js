'use strict'
// Small utilities shared by the Node tests (timing, JWTs, env, child processes, error checks).
// The fake credentials and the mock come from ./index.js (SECRETS, startMock, optionsFor).

const assert = require('node:assert/strict')
const net = require('node:net')
const path = require('node:path')
const { spawn } = require('node:child_process')
const { performance } = require('node:perf_hooks')
const { setTimeout: sleep } = require('node:timers/promises')
const { inspect } = require('node:util')

const { SECRETS } = require('./index')

/** The package root (where `require('vendor-auth')` resolves by self-reference). */
const ROOT = path.join(__dirname, '..', '..')

/** Environment variables the library reads credentials from. */
const CREDENTIAL_ENV = Object.freeze([
  'VENDY_ACCESS_KEY',
  'VENDY_SECRET_KEY',
  'PUPPETVENDORS_API_KEY',
  'PUPPETVENDORS_SHOP_DOMAIN',
])

/**
 * Sleeps (real timers) until the wall clock reaches `at` (ms since the epoch). For child
 * processes, which do not see a test's virtual clock (helpers/clock.js); a test in this process
 * moves its clock instead.
 */
async function sleepUntil(at) {
  const wait = at - Date.now()
  if (wait > 0) await sleep(wait)
}

/**
 * Polls `predicate` until it is truthy; fails the test after `timeoutMs` of real time (measured
 * on the monotonic clock: a mocked `Date` stands still).
 */
async function waitFor(predicate, { timeoutMs = 5000, intervalMs = 10, what = 'condition' } = {}) {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const value = await predicate()
    if (value) return value
    if (performance.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(intervalMs)
  }
}

/** A JWT's payload, decoded without verification. */
function decodeJwt(token) {
  const parts = token.split('.')
  assert.equal(parts.length, 3, 'a JWT has three dot-separated parts')
  return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'))
}

/** A TCP port on 127.0.0.1 that nothing listens on (bound to port 0, then closed). */
async function closedPort() {
  const server = net.createServer()
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const { port } = server.address()
  await new Promise((resolve) => server.close(resolve))
  return port
}

/**
 * A plain TCP server on 127.0.0.1 that counts connections. With `target` (a port), it forwards
 * every connection there (a transparent proxy, so TLS still ends at the target); without, it
 * accepts and immediately closes them.
 */
async function connectionCounter(target) {
  const sockets = new Set()
  let connections = 0
  const server = net.createServer((socket) => {
    connections += 1
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    if (target === undefined) return socket.destroy()
    const upstream = net.connect(target, '127.0.0.1')
    sockets.add(upstream)
    upstream.on('close', () => sockets.delete(upstream))
    upstream.on('error', () => socket.destroy())
    socket.pipe(upstream).pipe(socket)
  })
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  return {
    port: server.address().port,
    get connections() {
      return connections
    },
    close() {
      for (const socket of sockets) socket.destroy()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}

/**
 * Runs `fn` with environment variables set (a value of `undefined` deletes the variable), and
 * restores the previous values afterwards, whatever happens.
 */
async function withEnv(vars, fn) {
  const saved = new Map(Object.keys(vars).map((name) => [name, process.env[name]]))
  try {
    for (const [name, value] of Object.entries(vars)) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
    return await fn()
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
  }
}

/** `withEnv` with every credential variable removed (and any extra `vars` set). */
function withoutCredentialEnv(fn, vars = {}) {
  return withEnv({ ...Object.fromEntries(CREDENTIAL_ENV.map((n) => [n, undefined])), ...vars }, fn)
}

/**
 * Spawns `node ...args` and collects its output. It is killed (SIGKILL) if it has not exited
 * after `timeoutMs`; `killed` says whether that was needed. `onSpawn(child)` may talk to it.
 */
function runNode(args, { cwd = ROOT, env = {}, timeoutMs = 10_000, onSpawn } = {}) {
  const started = performance.now()
  const child = spawn(process.execPath, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  let killed = false
  child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk))
  const timer = setTimeout(() => {
    killed = true
    child.kill('SIGKILL')
  }, timeoutMs)
  const done = new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr, killed, elapsedMs: Math.round(performance.now() - started) })
    })
  })
  if (onSpawn) onSpawn(child)
  return done
}

/** The last line of `stdout` parsed as JSON (fixtures report their result that way). */
function lastJsonLine(stdout) {
  const lines = stdout.trim().split('\n').filter(Boolean)
  assert.ok(lines.length > 0, 'the child printed a JSON result line')
  return JSON.parse(lines[lines.length - 1])
}

/**
 * Where the core puts a client's deadlines for a session with `expiresAt` installed at some time
 * in [`from`, `to`] (src/lifecycle.rs `Times::new`, `refreshable`): safety margin = min(10 s, 10%
 * of the remaining lifetime), refresh window = max(margin, min(refreshWindowMs, half the remaining
 * lifetime)), and the refresh endpoint is offered the token only while it has more than
 * min(5 s, half the margin) left. The deadlines grow with the install time, so `from` gives the
 * earliest and `to` the latest. From a lifetime of 100 s the margin is 10 s and the endpoint
 * needs 5 s; from 2 × refreshWindowMs the window is refreshWindowMs: they no longer depend on the
 * install time.
 */
function clientDeadlines(expiresAt, from, to, refreshWindowMs = 300_000) {
  const at = (installedAt) => {
    const lifetime = Math.max(0, expiresAt - installedAt)
    const margin = Math.min(10_000, Math.floor(lifetime / 10))
    const window = Math.max(margin, Math.min(refreshWindowMs, Math.floor(lifetime / 2)))
    return {
      refreshAt: expiresAt - window,
      usableUntil: expiresAt - margin,
      refreshableUntil: expiresAt - Math.min(5_000, Math.floor(margin / 2)),
    }
  }
  return {
    refreshAtEarliest: at(from).refreshAt,
    refreshAtLatest: at(to).refreshAt,
    usableUntilEarliest: at(from).usableUntil,
    usableUntilLatest: at(to).usableUntil,
    refreshableUntilEarliest: at(from).refreshableUntil,
    refreshableUntilLatest: at(to).refreshableUntil,
  }
}

/**
 * First `authHeader()` of `client`, with the client's deadlines for that token.
 * Resolves `{ header, session, ...clientDeadlines }`. The core installs a token at the exchange's
 * start plus its real (monotonic) duration: under a virtual clock (helpers/clock.js), which stands
 * still meanwhile, `to` is the start plus the real time the call took.
 */
async function firstToken(client, refreshWindowMs) {
  const from = Date.now()
  const started = performance.now()
  const header = await client.authHeader()
  const to = Math.max(Date.now(), from + Math.ceil(performance.now() - started))
  const session = await client.getSession()
  return { header, session, ...clientDeadlines(session.expiresAt, from, to, refreshWindowMs) }
}

/** Fails if any of the known fake credentials appears in `text`. */
function assertNoSecrets(text, where = 'text') {
  for (const [name, secret] of Object.entries(SECRETS)) {
    assert.ok(!String(text).includes(secret), `${where} must not contain ${name}`)
  }
}

/**
 * Awaits `promise`, which must reject with a VendorAuthError whose fields include `expected`
 * (compared with deepStrictEqual per key; a RegExp value is matched against the field). Also
 * checks that no known credential is in its message, stack, fields or inspect output.
 * Resolves to the error for further checks.
 */
async function expectVendorError(promise, expected) {
  const { VendorAuthError } = require(ROOT)
  let error
  try {
    await promise
  } catch (e) {
    error = e
  }
  assert.ok(error !== undefined, `expected a rejection with code ${expected.code}, but it resolved`)
  assert.ok(error instanceof VendorAuthError, `expected a VendorAuthError, got ${inspect(error)}`)
  for (const [key, value] of Object.entries(expected)) {
    if (value instanceof RegExp) assert.match(String(error[key]), value, `error.${key}`)
    else assert.deepEqual(error[key], value, `error.${key} (error: ${error.code}: ${error.message})`)
  }
  assertNoSecrets(error.message, 'error.message')
  assertNoSecrets(error.stack, 'error.stack')
  assertNoSecrets(JSON.stringify({ ...error }), 'error fields')
  assertNoSecrets(inspect(error, { depth: 5 }), 'inspect(error)')
  return error
}

/** Same, for a function expected to throw synchronously. */
function expectVendorErrorSync(fn, expected) {
  let thrown
  try {
    fn()
  } catch (e) {
    thrown = e
  }
  return expectVendorError(thrown === undefined ? Promise.resolve() : Promise.reject(thrown), expected)
}

module.exports = {
  ROOT,
  CREDENTIAL_ENV,
  sleep,
  sleepUntil,
  waitFor,
  decodeJwt,
  closedPort,
  connectionCounter,
  withEnv,
  withoutCredentialEnv,
  runNode,
  lastJsonLine,
  clientDeadlines,
  firstToken,
  assertNoSecrets,
  expectVendorError,
  expectVendorErrorSync,
}
