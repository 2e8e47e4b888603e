'use strict'
// The leak test: run the rest of the Node suite in a child with the debug log on
// (DEBUG=vendor-auth), capture everything it prints, and check that no known credential
// (helpers' SECRETS), no piece of one, and no JWT-shaped string appears anywhere in it.
// Run: node --test __test__/leak.test.js

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const { SECRETS } = require('./helpers')
const { JWT_PATTERN, mask, runTestFiles } = require('./helpers/faults')

// wasm.test.js re-runs suites against the wasm build with the same checks on their output.
const SELF = new Set(['leak.test.js', 'soak.test.js', 'wasm.test.js'])
const TIMEOUT_MS = 180_000

/** The other test files present in __test__/ now (whoever wrote them). */
function suiteFiles() {
  // For checking this test itself: VENDOR_AUTH_LEAK_FILES=a.test.js,b.test.js (paths) overrides.
  if (process.env.VENDOR_AUTH_LEAK_FILES)
    return process.env.VENDOR_AUTH_LEAK_FILES.split(',').map((f) => path.resolve(f))
  return fs
    .readdirSync(__dirname)
    .filter((name) => /\.test\.(c|m)?js$/.test(name) && !SELF.has(name))
    .sort()
    .map((name) => path.join(__dirname, name))
}

function runSuite(files) {
  return runTestFiles(files, {
    args: ['--test-concurrency=1'],
    extraEnv: { DEBUG: 'vendor-auth', FORCE_COLOR: undefined, NO_COLOR: '1' },
    killAfterMs: TIMEOUT_MS - 10_000,
  })
}

test(
  'no credential and no token appears anywhere in the output of the whole suite (DEBUG on)',
  { timeout: TIMEOUT_MS },
  async () => {
    const files = suiteFiles()
    assert.ok(files.length > 0, 'no test files found')
    const { code, signal, output } = await runSuite(files)

    // Which credentials, pieces of credentials and tokens appear, and on which lines.
    const findings = []
    const lines = output.split('\n')
    let where = '(before any test)'
    lines.forEach((line, i) => {
      const subtest = /^\s*# Subtest: (.*)$/.exec(line)
      if (subtest) where = subtest[1]
      const at = `line ${i + 1} (last test named before it: "${where}")`
      for (const [name, secret] of Object.entries(SECRETS)) {
        for (let k = 0; k + 16 <= secret.length; k++) {
          if (line.includes(secret.slice(k, k + 16))) {
            findings.push(`${at}: SECRETS.${name}: ${mask(line)}`)
            break
          }
        }
      }
      if (JWT_PATTERN.test(line)) findings.push(`${at}: a JWT: ${mask(line)}`)
    })
    if (findings.length > 0) {
      // Kept for a person to look at (the values are the suite's fake credentials).
      fs.writeFileSync(path.join(os.tmpdir(), 'vendor-auth-leak-output.txt'), output)
    }
    const failed = lines.filter((l) => /^\s*not ok \d+/.test(l)).map((l) => mask(l.trim()))
    const summary = /^# fail (\d+)$/m.exec(output)
    const problems = []
    if (findings.length > 0)
      problems.push(
        `secrets or tokens in the output (full output kept in ${path.join(os.tmpdir(), 'vendor-auth-leak-output.txt')}):\n${findings.join('\n')}`,
      )
    // The debug log was really on (otherwise this test proves little).
    if (!/vendor-auth (vendy|puppetvendors) POST https:\/\//.test(output)) problems.push('no debug lines were captured')
    if (signal !== null) problems.push(`the suite was killed (${signal}) after ${TIMEOUT_MS - 10_000} ms`)
    if (code !== 0 || !summary || summary[1] !== '0') {
      problems.push(`the suite failed (exit ${code}, ${summary ? summary[1] : '?'} failed):\n${failed.join('\n')}`)
    }
    const names = files.map((f) => path.basename(f)).join(', ')
    assert.ok(problems.length === 0, `running ${names}:\n${problems.join('\n\n')}`)
  },
)
