'use strict'
// `npm test`: build the addon if needed, then the Rust core's unit tests, then the Node tests
// (which talk HTTPS to the real local mock vendor server).

const { execFileSync } = require('node:child_process')
const path = require('node:path')

const root = path.join(__dirname, '..')
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' })

run(process.execPath, [path.join(__dirname, 'ensure-built.js')])
run('cargo', ['test', '--quiet'])
run(process.execPath, ['--test', '__test__/'])
