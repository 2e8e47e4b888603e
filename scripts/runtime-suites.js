'use strict'
// The behaviour suites that run on the other runtimes the README names (Bun: test-bun.js, Deno:
// test-deno.js), on the native addon and on the wasm build. Not among them: mock-vendor (tests
// the mock, and forks it over IPC, which Bun does not fully support), server-only/leak/soak
// (Node's probes and runners; Deno has a guard suite of its own), and the
// wasm/fallback/workerd/edge-entry files (their own runners or runtimes).

const SUITES = ['authenticate', 'client', 'faults', 'lifecycle', 'redaction', 'traffic'].map(
  (name) => `./__test__/${name}.test.js`,
)

/** The two builds: each suite runs once on each, side by side. */
const BUILDS = [
  ['native', {}],
  ['wasm', { VENDOR_AUTH_FORCE_WASM: '1' }],
]

module.exports = { SUITES, BUILDS }
