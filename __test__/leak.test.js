'use strict'
// The leak test: run every other test file of the Node suite in a child with the debug log on
// (DEBUG=vendor-auth), capture everything it prints, and check that no known credential
// (helpers' SECRETS), no piece of one, and no JWT-shaped string appears anywhere in it.
// One test per file, so a finding names its file, and each child has its own hang guard (the
// slowest file takes about 30 s here; the guard is for a hang, not a speed check).
// Run: node --test __test__/leak.test.js

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const { SECRETS } = require('./helpers')
const { FAKE_TOKEN, findLeaks, mask, runTestFiles } = require('./helpers/faults')

// wasm.test.js re-runs suites against the wasm build with the same checks on their output.
const SELF = new Set(['leak.test.js', 'soak.test.js', 'wasm.test.js'])
const TIMEOUT_MS = 240_000

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

const files = suiteFiles()
// The debug log was really on in at least one file (otherwise this test proves little).
const debugLines = []

test('there are test files to run', () => assert.ok(files.length > 0, 'no test files found'))

test('the scan finds a piece of a credential and a JWT, names the test, and masks them', () => {
  const secret = Object.values(SECRETS)[0]
  const output = [
    '# Subtest: clean one',
    'ok 1 - clean one',
    '# Subtest: leaky one',
    `vendor-auth debug: key=${secret.slice(3, 20)}`,
    `token ${FAKE_TOKEN}`,
  ].join('\n')
  const found = findLeaks(output)
  assert.equal(found.length, 2, found.join('\n'))
  assert.ok(found.every((f) => f.includes('"leaky one"')))
  assert.ok(!found.join('\n').includes(secret.slice(3, 20)), 'the report itself quotes the credential')
  assert.ok(!found.join('\n').includes(FAKE_TOKEN))
  assert.deepEqual(findLeaks('ok 1 - vendor-auth vendy POST https://127.0.0.1/ 200'), [])
})

for (const file of files) {
  const name = path.basename(file)
  test(`${name}: no credential and no token in its output (DEBUG on)`, { timeout: TIMEOUT_MS }, async () => {
    const { code, signal, output } = await runTestFiles([file], {
      extraEnv: { DEBUG: 'vendor-auth', FORCE_COLOR: undefined, NO_COLOR: '1' },
      killAfterMs: TIMEOUT_MS - 10_000,
    })
    if (/vendor-auth (vendy|puppetvendors) POST https:\/\//.test(output)) debugLines.push(name)

    const problems = []
    const findings = findLeaks(output)
    if (findings.length > 0) {
      // Kept for a person to look at (the values are the suite's fake credentials).
      const kept = path.join(os.tmpdir(), `vendor-auth-leak-${name}.txt`)
      fs.writeFileSync(kept, output)
      problems.push(`secrets or tokens in the output (full output kept in ${kept}):\n${findings.join('\n')}`)
    }
    if (signal !== null) problems.push(`killed (${signal}) after ${TIMEOUT_MS - 10_000} ms`)
    const summary = /^# fail (\d+)$/m.exec(output)
    if (code !== 0 || !summary || summary[1] !== '0') {
      const failed = output
        .split('\n')
        .filter((l) => /^\s*not ok \d+/.test(l))
        .map((l) => mask(l.trim()))
      problems.push(`the file failed (exit ${code}, ${summary ? summary[1] : '?'} failed):\n${failed.join('\n')}`)
    }
    assert.ok(problems.length === 0, `running ${name}:\n${problems.join('\n\n')}`)
  })
}

test('the debug log was on: some file logged a vendor request', () => {
  assert.ok(debugLines.length > 0, 'no debug line was captured from any file')
})
