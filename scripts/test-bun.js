'use strict'
// `npm run test:bun`: the Node behaviour suites under Bun (the `bun` dev dependency), which loads
// the napi addon, then again against the wasm build (VENDOR_AUTH_FORCE_WASM=1). `bun test` runs
// node:test files; its 5 s default per-test timeout is raised (node:test has none, and the
// refresh tests wait for real token windows). Children the suites spawn run under Bun too
// (process.execPath). Not run here: mock-vendor (tests the mock, and forks it over IPC, which Bun
// does not fully support), server-only/leak/soak (Node-specific probes and runners), and the
// wasm/fallback/workerd/edge-entry files (their own runners or runtimes).

const { spawnSync } = require('node:child_process')
const path = require('node:path')

const root = path.join(__dirname, '..')
const bun = path.join(path.dirname(require.resolve('bun/package.json')), require('bun/package.json').bin.bun)
const SUITES = ['authenticate', 'client', 'faults', 'lifecycle', 'redaction', 'traffic'].map(
  (name) => `./__test__/${name}.test.js`,
)

let failed = 0
for (const [label, env] of [
  ['native addon', {}],
  ['wasm build', { VENDOR_AUTH_FORCE_WASM: '1' }],
]) {
  console.log(`\n==> bun test (${label})`)
  const result = spawnSync(bun, ['test', '--timeout', '120000', ...SUITES], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ...env },
  })
  if (result.status !== 0) failed += 1
}
process.exitCode = failed === 0 ? 0 : 1
