'use strict'
// `npm test`: build the addon if needed, then the Rust core's unit and property tests, then the
// Node tests (which talk HTTPS to the real local mock vendor server). The test files are listed
// explicitly: `node --test <folder>` works on Node 20 but not on 22+, where arguments are globs.
// `npm run test:js` (--js): the Node tests alone, against the addon already in the repository root,
// with no build and no cargo (the release workflow tests each downloaded binary this way).

const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..')
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' })
const testFiles = fs
  .readdirSync(path.join(root, '__test__'))
  .filter((f) => /\.test\.[cm]?js$/.test(f))
  .map((f) => path.join('__test__', f))

if (!process.argv.includes('--js')) {
  run(process.execPath, [path.join(__dirname, 'ensure-built.js')])
  run('cargo', ['test', '--quiet'])
}
run(process.execPath, ['--test', ...testFiles])
