'use strict'
// `npm run test:bun`: the Node behaviour suites under Bun (the `bun` dev dependency), which loads
// the napi addon, and against the wasm build (VENDOR_AUTH_FORCE_WASM=1): the two builds run side
// by side, each in its own `bun test`, their lines prefixed with the build's name. `bun test` runs
// node:test files; its 5 s default per-test timeout is raised (node:test has none, and the
// refresh tests wait for real token windows). Children the suites spawn run under Bun too
// (process.execPath). The suites, and those left out, are scripts/runtime-suites.js's (Deno runs
// the same: test-deno.js).

const { spawn } = require('node:child_process')
const path = require('node:path')
const readline = require('node:readline')

const root = path.join(__dirname, '..')
const bun = path.join(path.dirname(require.resolve('bun/package.json')), require('bun/package.json').bin.bun)
const { SUITES, BUILDS } = require('./runtime-suites')

function runBuild([label, env]) {
  const started = Date.now()
  console.log(`[${label}] bun test ${SUITES.join(' ')}`)
  const child = spawn(bun, ['test', '--timeout', '120000', ...SUITES], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  })
  for (const stream of [child.stdout, child.stderr])
    readline.createInterface({ input: stream }).on('line', (line) => console.log(`[${label}] ${line}`))
  const seconds = () => Math.round((Date.now() - started) / 1000)
  return new Promise((resolve) => {
    child.on('error', (error) => resolve({ label, ok: false, why: error.message, seconds: seconds() }))
    child.on('close', (code, signal) =>
      resolve({ label, ok: code === 0, why: signal || `exit ${code}`, seconds: seconds() }),
    )
  })
}

Promise.all(BUILDS.map(runBuild)).then((results) => {
  console.log('\n==> bun test')
  for (const { label, ok, why, seconds } of results)
    console.log(`${label}: ${ok ? 'pass' : `FAIL (${why})`} (${seconds} s)`)
  process.exitCode = results.every((r) => r.ok) ? 0 : 1
})
