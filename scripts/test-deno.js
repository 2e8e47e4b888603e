'use strict'
// `npm run test:deno`: the behaviour suites that Bun runs (scripts/runtime-suites.js) under Deno
// (the `deno` dev dependency, 2.9), on the native addon and on the wasm build
// (VENDOR_AUTH_FORCE_WASM=1), plus the server-only guard on a real Deno
// (__test__/deno/server-only.test.js). The two builds run side by side, each in its own
// `deno test`, their lines prefixed with the build's name. `deno test` runs node:test files; the
// children the suites spawn run under Deno too (process.execPath).
//
// scripts/deno-preload.cjs is loaded first: it closes two gaps of Deno's Node compatibility the
// way Node behaves (mocks restored after each test; a server's close() not held 90 s by a
// connection Deno keeps), and skips by name the tests in SKIP below, each for a reason that is
// Deno's, not vendor-auth's. A name in SKIP that no longer shows up as skipped fails the run:
// the list only holds what it has to.

const { execFileSync, spawn } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const readline = require('node:readline')
const { SUITES, BUILDS } = require('./runtime-suites')

const root = path.join(__dirname, '..')
const FILES = [...SUITES, './__test__/deno/server-only.test.js']
const HANG_GUARD_MS = 8 * 60_000 // per build; for a hang, not a speed check

/** Tests that meet a difference of Deno 2.9 they cannot pass, by name: on which builds, and why. */
const SKIP = {
  "ESM: import { authenticate, createClient, VendorAuthError } from 'vendor-auth' works (one instance with CJS)": {
    builds: ['native', 'wasm'],
    why:
      'the test runs `node --input-type=module -e <code>`; Deno drops --input-type when it turns ' +
      'those arguments into its own and evaluates the code as CommonJS (SyntaxError at `import`). ' +
      "ESM on Deno is covered by __test__/deno/server-only.test.js (import('vendor-auth'), both builds)",
  },
  'client.fetch does not retry a stream body: the 401 comes back as it is': {
    builds: ['native', 'wasm'],
    why:
      "the test's body is a stream of strings (Readable.toWeb(Readable.from(['a', 'b']))), which " +
      "Node's fetch sends and Deno's refuses, as the Fetch standard says (TypeError: expected " +
      'typed ArrayBufferView), before vendor-auth sees an answer',
  },
  'the same storm with a bare invalidate() (the old recipe) makes more than one exchange': {
    builds: ['native', 'wasm'],
    why:
      'an interleaving-dependent control (skipped on Bun for the same reason): on Deno all 200 ' +
      'answers may arrive before the new token does, and then even this recipe makes one exchange',
  },
  'a 10 MB body: INVALID_RESPONSE naming the cap, fast, without reading the rest': {
    builds: ['wasm'],
    why:
      "Deno's node:https reads ahead of the reader: about 4 MB had crossed the wire when the " +
      'Node fallback stopped at the 64 KiB cap and hung up (the test allows 2.5 MB; Node reads ' +
      'about 130 KiB). The cap itself holds: INVALID_RESPONSE, not retried',
  },
}

/** The deno binary the npm package installed (its postinstall links it; else its installer). */
function denoBinary() {
  const dir = path.dirname(require.resolve('deno/package.json'))
  const exe = path.join(dir, process.platform === 'win32' ? 'deno.exe' : 'deno')
  return fs.existsSync(exe) ? exe : require(path.join(dir, 'install_api.cjs')).runInstall()
}

function runBuild(deno, [label, env]) {
  const started = Date.now()
  const skip = Object.fromEntries(
    Object.entries(SKIP)
      .filter(([, { builds }]) => builds.includes(label))
      .map(([name, { why }]) => [name, why]),
  )
  const args = ['test', '--allow-all', '--no-lock', '--require', './scripts/deno-preload.cjs', ...FILES]
  console.log(`[${label}] deno ${args.join(' ')}`)
  const childEnv = { ...process.env, ...env, NO_COLOR: '1', VENDOR_AUTH_DENO_SKIP: JSON.stringify(skip) }
  // As npm test does (scripts/test.js): the machine's trust settings are not the suites' (the
  // tests of them set their own), and a system bundle there made every Node-fallback exchange
  // against a fresh mock CA build a context with all of it (150 ms each under load: past the
  // 300 ms timeouts of the fault tests).
  for (const name of ['NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'SSL_CERT_DIR']) delete childEnv[name]
  const child = spawn(deno, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: childEnv })
  const skipped = new Set()
  for (const stream of [child.stdout, child.stderr])
    readline.createInterface({ input: stream }).on('line', (line) => {
      console.log(`[${label}] ${line}`)
      const ignored = /^\s*(.*) \.\.\. ignored \(/.exec(line)
      if (ignored) skipped.add(ignored[1])
    })
  const guard = setTimeout(() => child.kill('SIGKILL'), HANG_GUARD_MS)
  const seconds = () => Math.round((Date.now() - started) / 1000)
  return new Promise((resolve) => {
    child.on('error', (error) => resolve({ label, ok: false, why: error.message, seconds: seconds() }))
    child.on('close', (code, signal) => {
      clearTimeout(guard)
      const stale = Object.keys(skip).filter((name) => !skipped.has(name))
      const ok = code === 0 && stale.length === 0
      const why =
        stale.length > 0 ? `SKIP names no test that was skipped: ${stale.join(' | ')}` : signal || `exit ${code}`
      resolve({ label, ok, why, seconds: seconds() })
    })
  })
}

function main() {
  const deno = denoBinary()
  console.log(execFileSync(deno, ['--version'], { encoding: 'utf8' }).split('\n')[0])
  for (const [name, { builds, why }] of Object.entries(SKIP))
    console.log(`skipped on Deno (${builds.join(', ')}): ${name}\n  because ${why}`)
  Promise.all(BUILDS.map((build) => runBuild(deno, build))).then((results) => {
    console.log('\n==> deno test')
    for (const { label, ok, why, seconds } of results)
      console.log(`${label}: ${ok ? 'pass' : `FAIL (${why})`} (${seconds} s)`)
    process.exitCode = results.every((r) => r.ok) ? 0 : 1
  })
}

main()
