'use strict'
// Small shared helpers for the fault, redaction, leak and soak tests and for the `npm test` runner
// (no new mock behaviour: everything goes through the mock's documented knobs).

const assert = require('node:assert/strict')
const { performance } = require('node:perf_hooks')

const { SECRETS } = require('./index')

/** A JWT-shaped string anywhere in a text (header.payload.signature, base64url parts). */
const JWT_PATTERN = /eyJ[\w-]+\.[\w-]+\.[\w-]+/

/**
 * A token we script into answers ourselves, JWT-shaped, with a recognisable signature part so a
 * leak of it (or of its tail) is easy to find. Its payload has no `exp`.
 */
const FAKE_TOKEN = 'eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJmYXVsdC10ZXN0In0.FAKESIG-LEAKCHECK-9b7d5f3e1a'

/** Milliseconds since an arbitrary origin (monotonic). */
const now = () => performance.now()

/** Await `promise`, which must reject; returns the rejection reason. */
async function rejection(promise) {
  try {
    await promise
  } catch (error) {
    return error
  }
  assert.fail('expected a rejection, but the promise resolved')
}

/** Run `fn` and return `{ value | error, ms }`. */
async function timed(fn) {
  const started = now()
  try {
    const value = await fn()
    return { value, ms: now() - started }
  } catch (error) {
    return { error, ms: now() - started }
  }
}

/** Every known credential value. */
const SECRET_VALUES = Object.freeze(Object.values(SECRETS))

/**
 * `text` with every credential, credential piece and JWT-shaped string masked, for assertion
 * messages: a failing leak check must not itself print what leaked.
 */
function mask(text, tokens = []) {
  let out = String(text)
  for (const [name, secret] of Object.entries(SECRETS)) {
    out = out.split(secret).join(`<SECRETS.${name}>`)
    for (let i = 0; i + 16 <= secret.length; i++)
      out = out.split(secret.slice(i, i + 16)).join(`<part of SECRETS.${name}>`)
  }
  for (const token of tokens) if (token && token.length > 12) out = out.split(token).join('<token>')
  return out.replace(new RegExp(JWT_PATTERN.source, 'g'), '<JWT>')
}

/**
 * Assert that `text` holds no credential, no full JWT-shaped token and none of `tokens`
 * (each given token may appear as a short prefix only).
 */
function assertClean(text, tokens = [], what = 'text') {
  assert.equal(typeof text, 'string', `${what} should be a string`)
  for (const secret of SECRET_VALUES) {
    assert.ok(!text.includes(secret), `${what} contains the credential ${secret.slice(0, 8)}…:\n${mask(text, tokens)}`)
    // A cut-off credential is a leak too: no 16-character piece of one may appear.
    for (let i = 0; i + 16 <= secret.length; i++) {
      const piece = secret.slice(i, i + 16)
      assert.ok(
        !text.includes(piece),
        `${what} contains part of the credential ${secret.slice(0, 8)}…:\n${mask(text, tokens)}`,
      )
    }
  }
  const jwt = JWT_PATTERN.exec(text)
  assert.ok(jwt === null, `${what} contains a full JWT-shaped token:\n${mask(text, tokens)}`)
  for (const token of tokens) {
    if (!token) continue
    // Any 20-character window of a token is enough to count as a leak (a short prefix is fine).
    const tail = token.slice(12)
    for (let i = 0; i + 20 <= tail.length; i += 10) {
      const piece = tail.slice(i, i + 20)
      assert.ok(
        !text.includes(piece),
        `${what} contains part of a token:\n${mask(text, tokens).split(piece).join('<part of a token>')}`,
      )
    }
  }
}

/** Decode a JWT payload without verifying it (null for anything else). */
function jwtPayload(token) {
  const parts = String(token).split('.')
  if (parts.length !== 3) return null
  try {
    return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'))
  } catch {
    return null
  }
}

/** An environment for child processes without the parent test runner's markers. */
function childEnv(extra = {}) {
  const env = { ...process.env, ...extra }
  delete env.NODE_TEST_CONTEXT
  delete env.NODE_OPTIONS
  for (const [key, value] of Object.entries(extra)) if (value === undefined) delete env[key]
  return env
}

/**
 * Lines of a test file's output that hold a 16-character piece of a known credential or a
 * JWT-shaped string, each with its line number (and, in TAP output, the last test named before
 * it), masked so that the report does not print what leaked. Empty when the output is clean.
 * Used on each file's output by the `npm test` runner (scripts/test.js) and by wasm.test.js.
 */
function findLeaks(output) {
  const found = []
  let where = null
  output.split('\n').forEach((line, i) => {
    const subtest = /^\s*# Subtest: (.*)$/.exec(line)
    if (subtest) where = subtest[1]
    const at = where === null ? `line ${i + 1}` : `line ${i + 1} (last test named before it: "${where}")`
    for (const [name, secret] of Object.entries(SECRETS)) {
      for (let k = 0; k + 16 <= secret.length; k++) {
        if (line.includes(secret.slice(k, k + 16))) {
          found.push(`${at}: SECRETS.${name}: ${mask(line)}`)
          break
        }
      }
    }
    if (JWT_PATTERN.test(line)) found.push(`${at}: a JWT: ${mask(line)}`)
  })
  return found
}

/**
 * Runs `node --test` on `files` in a child (TAP reporter, `extraEnv` over `childEnv()`), killing
 * it after `killAfterMs`; resolves to `{ code, signal, output }` with stdout and stderr together.
 */
function runTestFiles(files, { extraEnv = {}, args = [], killAfterMs }) {
  const { spawn } = require('node:child_process')
  const path = require('node:path')
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--test', '--test-reporter=tap', ...args, ...files], {
      cwd: path.join(__dirname, '..', '..'),
      env: childEnv(extraEnv),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const chunks = []
    child.stdout.on('data', (chunk) => chunks.push(chunk))
    child.stderr.on('data', (chunk) => chunks.push(chunk))
    const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, output: Buffer.concat(chunks).toString('utf8') })
    })
  })
}

module.exports = {
  runTestFiles,
  findLeaks,
  JWT_PATTERN,
  FAKE_TOKEN,
  SECRET_VALUES,
  now,
  rejection,
  timed,
  assertClean,
  mask,
  jwtPayload,
  childEnv,
}
