'use strict'
// `npm run test:next`: vendor-auth in real Next.js and Vercel runtimes (__test__/next/): the
// edge-light entry in a middleware.js and an edge route handler under `next build && next start`
// with Turbopack and with webpack, and the first-header figure against a bare fetch
// (next-turbopack.test.js, next-webpack.test.js); proxy.js on Node (proxy.test.js); an edge
// function in Vercel's edge-runtime (edge-runtime.test.js). Not part of `npm test`: its four Next
// builds take 1.5-3 min on 2 cores.
//
// First the npm cache of next, react, react-dom and edge-runtime (__test__/next/harness.js:
// installed once, about 30 s, then reused), then the files one at a time (each Next build uses
// both cores) through scripts/test.js, with its debug log and leak scan.

const { execFileSync } = require('node:child_process')
const path = require('node:path')

const { ensureNextModules } = require('../__test__/next/harness')

const root = path.join(__dirname, '..')
const FILES = ['next-turbopack.test.js', 'next-webpack.test.js', 'proxy.test.js', 'edge-runtime.test.js'].map((f) =>
  path.join('__test__', 'next', f),
)

const started = Date.now()
const { dir, installed } = ensureNextModules()
console.error(
  `# test:next: ${installed ? `installed into ${dir} in ${((Date.now() - started) / 1000).toFixed(1)} s` : `cache ${dir}`}`,
)
try {
  execFileSync(process.execPath, [path.join(__dirname, 'test.js'), '--js', ...process.argv.slice(2), ...FILES], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, TEST_CONCURRENCY: '1' },
  })
} catch {
  process.exitCode = 1
}
console.error(`# test:next: ${((Date.now() - started) / 1000).toFixed(1)} s in all`)
