'use strict'
// Parent side of the worker protocol. Each figure runs in its own Node process (fresh heap and
// JIT state, no cross-talk between figures); the shared mock vendor lives in yet another process
// started by run.js. Workers reach the mock's control API (count, setDefault…) through the
// parent over IPC, and send their result back the same way.

const { fork, execFile } = require('node:child_process')
const path = require('node:path')

const WORKERS = path.join(__dirname, '..', 'workers')
const ROOT = path.join(__dirname, '..', '..')

/**
 * The environment of every child: this process's, without NODE_EXTRA_CA_CERTS (read at start-up,
 * it loads a CA file eagerly and costs memory and time that have nothing to do with what is
 * measured; the cold-exchange worker sets its own), plus `extra`.
 */
function childEnv(extra) {
  const env = { ...process.env }
  delete env.NODE_EXTRA_CA_CERTS
  return { ...env, ...extra }
}

/** Mock methods a worker may call through the parent. */
const MOCK_METHODS = new Set(['count', 'pending', 'requests', 'script', 'setDefault', 'reset'])

/**
 * Run `workers/<name>.js` and resolve to the value it reports.
 * @param {string} name
 * @param {{ config: object, mock: object, execArgv?: string[], env?: object, args?: string[], timeoutMs?: number }} o
 */
function runWorker(name, { config, mock, execArgv = [], env = {}, args = [], timeoutMs = 120_000 }) {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(WORKERS, `${name}.js`), args, {
      cwd: ROOT,
      execArgv,
      env: childEnv({ ...env, BENCH_CONFIG: JSON.stringify(config) }),
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    })
    let result
    let settled = false
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      finish(new Error(`worker ${name} timed out after ${timeoutMs} ms`))
    }, timeoutMs)
    function finish(error, value) {
      if (settled) return
      settled = true
      clearTimeout(timer)
      if (error) reject(error)
      else resolve(value)
    }
    child.on('message', async (msg) => {
      if (!msg || typeof msg !== 'object') return
      if (msg.type === 'result') {
        result = { value: msg.value }
      } else if (msg.type === 'mock') {
        let reply
        try {
          if (!MOCK_METHODS.has(msg.method)) throw new Error(`mock method ${msg.method} not allowed`)
          reply = { type: 'mock-reply', id: msg.id, ok: true, value: await mock[msg.method](...msg.args) }
        } catch (error) {
          reply = { type: 'mock-reply', id: msg.id, ok: false, error: String(error && error.message) }
        }
        if (child.connected) child.send(reply)
      }
    })
    child.on('error', (error) => finish(error))
    child.on('exit', (code, signal) => {
      if (result && code === 0) finish(null, result.value)
      else finish(new Error(`worker ${name} failed (${signal ?? `exit code ${code}`})`))
    })
  })
}

/** Run `node <args>` and resolve to its stdout (trimmed). */
function runNode(args, { env = {}, cwd = ROOT, timeoutMs = 60_000 } = {}) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd, env: childEnv(env), timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error) reject(new Error(`node ${args.join(' ').slice(0, 80)} failed: ${error.message}\n${stderr}`))
      else resolve(stdout.trim())
    })
  })
}

module.exports = { runWorker, runNode, ROOT }
