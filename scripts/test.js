'use strict'
// `npm test`: build what the tests use if needed (the addon and the wasm build), the Rust core's
// unit and property tests (`cargo test`), then ONE run of the Node tests (__test__/*.test.js)
// with the debug log on (DEBUG=vendor-auth), scanned for leaks as it runs.
// `npm run test:js` (--js): the Node tests alone, against the addon already in the repository
// root, with no build and no cargo (the release workflow tests each downloaded binary this way).
// `npm run test:js -- __test__/client.test.js …`: only those files, the same way.
//
// The run: node:test's run() API, two files at a time (TEST_CONCURRENCY overrides), each file in
// a process of its own; then the files in EXCLUSIVE, one at a time with nothing beside them. Both
// go through one reporter (spec on a terminal, else TAP; --test-reporter=<name> picks), which ends
// with node's closing lines (`# tests`, `# pass`, `# fail` …) counting the whole run.
//
// The leak scan: every file's own output (its stdout, stderr and diagnostics, as run() reports
// them per file) must hold no known credential of helpers/index.js (SECRETS), no 16-character
// piece of one and no JWT-shaped string (helpers/faults.js findLeaks). Each file gets a test
// `leak scan: <file>` in the report, failed with the masked lines when something shows (the full
// output is kept in the temporary folder for a person to look at). On a whole run, some file must
// have logged a vendor request (proof that the debug log was on). The debug lines themselves are
// not echoed (DEBUG was set here, not by you); run with DEBUG=vendor-auth to see them.
// TEST_TIMES=1: the time each file spent in its top-level tests, before the closing lines.

const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { Readable, Transform } = require('node:stream')

const root = path.join(__dirname, '..')
const testDir = path.join(root, '__test__')

/**
 * Files that must not share the machine with another test file, and why. They run after the
 * concurrent batch, one at a time.
 */
const EXCLUSIVE = new Map([
  ['soak.test.js', 'a tight loop of authHeader() calls for seconds (a core to itself), call floor and RSS bound'],
  ['wasm.test.js', 'runs 10 suites itself, two at a time in child processes: both cores'],
])
const HANG_GUARD_MS = 240_000 // per file; for a hang, not a speed check

const args = process.argv.slice(2)
const jsOnly = args.includes('--js')
const reporterArg = args.find((a) => a.startsWith('--test-reporter='))
const chosen = args.filter((a) => !a.startsWith('--')).map((f) => path.resolve(f))
const concurrency = Number(process.env.TEST_CONCURRENCY) || 2

// `node --test <folder>` works on Node 20 but not on 22+ (arguments are globs there): listed here.
const files =
  chosen.length > 0
    ? chosen
    : fs
        .readdirSync(testDir)
        .filter((f) => /\.test\.[cm]?js$/.test(f))
        .sort()
        .map((f) => path.join(testDir, f))

if (!jsOnly) {
  const sh = (cmd, argv) => execFileSync(cmd, argv, { cwd: root, stdio: 'inherit' })
  sh(process.execPath, [path.join(__dirname, 'ensure-built.js')])
  sh(process.execPath, [path.join(__dirname, 'ensure-wasm.js')])
  sh('cargo', ['test', '--quiet'])
}

const { run } = require('node:test')
const reporters = require('node:test/reporters')
const { findLeaks, mask } = require('../__test__/helpers/faults')

const userDebug = /(^|[\s,])(vendor-auth|\*)($|[\s,])/.test(process.env.DEBUG || '')
if (!userDebug) process.env.DEBUG = process.env.DEBUG ? `${process.env.DEBUG},vendor-auth` : 'vendor-auth'
delete process.env.FORCE_COLOR // children write to pipes: no colour codes inside the scanned text
// The machine's trust settings are not the suite's: the tests of them set their own (cli,
// examples, fallback, node-conventions). Left on, a bundle in SSL_CERT_FILE or
// NODE_EXTRA_CA_CERTS is added to every TLS context the Node fallback makes (each test's mock has
// a CA of its own, so each exchange makes one): with the 144-root system bundle there, the wasm
// suites took twice the CPU.
for (const name of ['NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'SSL_CERT_DIR']) delete process.env[name]

/** Each file's output, in arrival order (the leak scan's input). */
const outputs = new Map(files.map((f) => [f, []]))
/** Each file's time in its top-level tests, in ms (TEST_TIMES=1 prints them). */
const busy = new Map(files.map((f) => [f, 0]))
const SUMMARY = /^(tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) ([\d.]+)$/
const totals = { tests: 0, suites: 0, pass: 0, fail: 0, cancelled: 0, skipped: 0, todo: 0 }
const started = Date.now()
let failed = false

/** The events of one run() over `batch`, as the reporter should see them. */
async function* batchEvents(batch, batchConcurrency, numberOffset) {
  let planned = 0
  for await (const event of run({ files: batch, concurrency: batchConcurrency, timeout: HANG_GUARD_MS })) {
    const { type, data } = event
    if ((type === 'test:pass' || type === 'test:fail') && data.nesting === 0 && busy.has(data.file))
      busy.set(data.file, busy.get(data.file) + (data.details?.duration_ms ?? 0))
    if ((type === 'test:stdout' || type === 'test:stderr') && data.file) {
      outputs.get(data.file)?.push(data.message)
      // The debug lines are for the scan, unless the caller asked for them.
      const shown = userDebug
        ? data.message
        : data.message
            .split('\n')
            .filter((line) => !line.startsWith('vendor-auth '))
            .join('\n')
      if (shown.trim() === '') continue
      yield { type, data: { ...data, message: mask(shown) } }
      continue
    }
    if (type === 'test:diagnostic' && data.nesting === 0 && !data.file && SUMMARY.test(data.message)) {
      const [, name, value] = SUMMARY.exec(data.message)
      if (name in totals) totals[name] += Number(value)
      continue // one summary for the whole run, at the end
    }
    if (type === 'test:diagnostic' && data.file) outputs.get(data.file)?.push(`# ${data.message}\n`)
    if (type === 'test:plan' && data.nesting === 0) {
      planned = data.count
      continue
    }
    if (type === 'test:fail' && !data.todo) failed = true // exit 1 even if no summary came
    if ((type === 'test:pass' || type === 'test:fail') && data.nesting === 0 && data.testNumber !== undefined) {
      yield { type, data: { ...data, testNumber: data.testNumber + numberOffset } }
      continue
    }
    yield event
  }
  return planned
}

/** A top-level test of our own in the report (the leak scan's), counted in the summary. */
function* ownTest(name, testNumber, failure) {
  const file = undefined // no location: the line of this script would say nothing
  yield { type: 'test:start', data: { name, nesting: 0, file } }
  totals.tests += 1
  if (!failure) {
    totals.pass += 1
    yield { type: 'test:pass', data: { name, nesting: 0, testNumber, file, details: { duration_ms: 0 } } }
    return
  }
  totals.fail += 1
  const cause = new Error(failure)
  const error = Object.assign(new Error(failure), { code: 'ERR_TEST_FAILURE', failureType: 'testCodeFailure', cause })
  cause.stack = `Error: ${failure}\n    at the leak scan (scripts/test.js)`
  yield { type: 'test:fail', data: { name, nesting: 0, testNumber, file, details: { duration_ms: 0, error } } }
}

/** Leak findings of one file's output, or null when it is clean. */
function scan(file) {
  const output = outputs.get(file).join('')
  const findings = findLeaks(output)
  if (findings.length === 0) return null
  const kept = path.join(os.tmpdir(), `vendor-auth-leak-${path.basename(file)}.txt`)
  fs.writeFileSync(kept, output) // for a person to look at (the values are the suite's fake credentials)
  return `secrets or tokens in the output of ${path.relative(root, file)} (DEBUG=vendor-auth; full output kept in ${kept}):\n${findings.join('\n')}`
}

// The batch starts with the files that took longest in the last whole run (their times are kept
// in node_modules/.cache), so that both slots finish together rather than one long file running
// alone at the end. A file without a time (new) counts as long.
const TIMES = path.join(root, 'node_modules', '.cache', 'vendor-auth-test-times.json')
const lastTimes = (() => {
  try {
    return JSON.parse(fs.readFileSync(TIMES, 'utf8'))
  } catch {
    return {}
  }
})()
const lastTime = (file) => lastTimes[path.relative(root, file)] ?? Number.MAX_SAFE_INTEGER
const longestFirst = (a, b) => lastTime(b) - lastTime(a)

function keepTimes() {
  const times = {}
  for (const [file, ms] of busy) times[path.relative(root, file)] = Math.round(ms)
  try {
    fs.mkdirSync(path.dirname(TIMES), { recursive: true })
    fs.writeFileSync(TIMES, JSON.stringify(times, null, 2) + '\n')
  } catch {
    // no cache folder (a read-only checkout): the next run keeps the alphabetical order
  }
}

async function* events() {
  const exclusive = files.filter((f) => EXCLUSIVE.has(path.basename(f)))
  const shared = files.filter((f) => !EXCLUSIVE.has(path.basename(f))).sort(longestFirst)
  const note = (message) => ({ type: 'test:diagnostic', data: { nesting: 0, message } })
  const since = (t) => `${((Date.now() - t) / 1000).toFixed(1)} s`
  let number = 0
  if (shared.length > 0) {
    const t = Date.now()
    number += yield* batchEvents(shared, concurrency, number)
    yield note(`${shared.length} files, ${concurrency} at a time: ${since(t)}`)
  }
  for (const file of exclusive) {
    const t = Date.now()
    yield note(`${path.basename(file)} runs alone: ${EXCLUSIVE.get(path.basename(file))}`)
    number += yield* batchEvents([file], 1, number)
    yield note(`${path.basename(file)}, alone: ${since(t)}`)
  }
  if (chosen.length === 0) keepTimes()
  if (process.env.TEST_TIMES === '1') {
    for (const [file, ms] of busy) yield note(`${path.relative(root, file)}: ${(ms / 1000).toFixed(1)} s in its tests`)
  }

  for (const file of files) yield* ownTest(`leak scan: ${path.relative(root, file)}`, ++number, scan(file))
  if (chosen.length === 0) {
    const logged = files.some((f) => /vendor-auth (vendy|puppetvendors) POST https:\/\//.test(outputs.get(f).join('')))
    yield* ownTest(
      'leak scan: the debug log was on (some file logged a vendor request)',
      ++number,
      logged ? null : 'no debug line of a vendor request was captured from any file',
    )
  }

  yield { type: 'test:plan', data: { nesting: 0, count: number } }
  totals.duration_ms = Date.now() - started
  for (const [name, value] of Object.entries(totals))
    yield { type: 'test:diagnostic', data: { nesting: 0, message: `${name} ${value}` } }
  if (failed || totals.fail > 0 || totals.cancelled > 0) process.exitCode = 1
}

const reporterName = reporterArg ? reporterArg.split('=')[1] : process.stdout.isTTY ? 'spec' : 'tap'
const reporter = reporters[reporterName]
if (!reporter) throw new Error(`unknown reporter ${reporterName}: one of ${Object.keys(reporters).join(', ')}`)
// tap is a generator function, spec a Transform class.
Readable.from(events())
  .compose(reporter.prototype instanceof Transform ? new reporter() : reporter)
  .pipe(process.stdout)
