'use strict'
// The leak scan checked itself. The scan runs on every `npm test`: scripts/test.js runs the suite
// once with the debug log on (DEBUG=vendor-auth) and checks each file's own output with
// helpers/faults.js findLeaks (no known credential, no piece of one, no JWT-shaped string); there
// is no second pass. Here: findLeaks finds and masks a planted leak, and the runner, given a file
// that leaks and one that does not, fails naming the leaky file and only that one, without
// printing what leaked.
// Run: node --test __test__/leak.test.js

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const { SECRETS } = require('./helpers')
const { FAKE_TOKEN, findLeaks } = require('./helpers/faults')
const { runNode } = require('./helpers/util')

const RUNNER = path.join(__dirname, '..', 'scripts', 'test.js')

test('findLeaks finds a piece of a credential and a JWT, names the test, and masks them', () => {
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
  // A file's raw output (no TAP around it): the line number alone.
  assert.deepEqual(
    findLeaks(`first\nvendor-auth puppetvendors key ${SECRETS.pvApiKey}`).map((f) => f.split(':')[0]),
    ['line 2'],
  )
})

test('the npm test runner fails a file whose output leaks, naming it, and masks what leaked', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vendor-auth-leak-check-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  const helpers = JSON.stringify(path.join(__dirname, 'helpers'))
  fs.writeFileSync(
    path.join(dir, 'clean.test.js'),
    `require('node:test')('clean', () => console.error('vendor-auth vendy POST https://127.0.0.1:1/auth'))\n`,
  )
  fs.writeFileSync(
    path.join(dir, 'leaky.test.js'),
    `const { SECRETS } = require(${helpers})\n` +
      `require('node:test')('leaky', () => { console.error('vendor-auth sent ' + SECRETS.vendySecretKey) })\n`,
  )
  const result = await runNode([RUNNER, '--js', '--test-reporter=tap', 'clean.test.js', 'leaky.test.js'], {
    cwd: dir,
    env: { NODE_TEST_CONTEXT: undefined }, // a runner of its own, not a file of this run
    timeoutMs: 60_000,
  })
  const output = result.stdout + result.stderr
  assert.notEqual(result.code, 0, output)
  assert.match(output, /^not ok \d+ - leak scan: .*leaky\.test\.js$/m)
  assert.match(output, /^ok \d+ - leak scan: .*clean\.test\.js$/m)
  assert.match(output, /SECRETS\.vendySecretKey/)
  assert.ok(!output.includes(SECRETS.vendySecretKey.slice(0, 16)), 'the report quotes the credential')
  // Both files' own tests passed: the closing lines count the leak scan's failure.
  assert.match(output, /^# fail 1$/m)
  assert.match(output, /^# pass 3$/m)
})
