'use strict'
// A real Redis for the shared-store tests: `redis-server` (the Debian package; .ci/run installs
// it) started on a free loopback port with no persistence, stopped and restarted on demand.

const { spawn, spawnSync } = require('node:child_process')
const { closedPort } = require('./util')

/** Whether `redis-server` is on PATH. */
function haveRedis() {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0
}

/**
 * Start `redis-server` on 127.0.0.1 (a free port unless `port`); resolves once it accepts
 * connections. `stop()` ends it (SIGTERM, then waits for the exit); `start()` brings it back on
 * the same port (empty: nothing is saved).
 */
async function startRedis({ port } = {}) {
  if (!haveRedis()) throw new Error('redis-server is not installed (Debian package redis-server; .ci/run installs it)')
  port = port ?? (await closedPort())
  let child = null
  const start = () =>
    new Promise((resolve, reject) => {
      const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']
      child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] })
      let out = ''
      const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${out}`)), 10_000)
      child.stdout.setEncoding('utf8').on('data', (chunk) => {
        out += chunk
        if (out.includes('Ready to accept connections')) {
          clearTimeout(timer)
          resolve()
        }
      })
      child.stderr.setEncoding('utf8').on('data', (chunk) => (out += chunk))
      child.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`redis-server exited (${code}):\n${out}`))
      })
    })
  const stop = async () => {
    if (child === null || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    await exited
  }
  await start()
  return { port, url: `redis://127.0.0.1:${port}`, start, stop }
}

/**
 * A Redis of the test's own (for stopping and restarting it without touching the shared one),
 * and tokenStores over node-redis connections to it that reconnect fast. `close()` quits them
 * and stops the server.
 */
async function ownRedis() {
  const server = await startRedis()
  const connections = []
  return {
    server,
    connections,
    async tokenStore() {
      const r = require('redis').createClient({ url: server.url, socket: { reconnectStrategy: () => 50 } })
      r.on('error', () => {})
      await r.connect()
      connections.push(r)
      return require('../..').redisTokenStore(r)
    },
    async close() {
      await Promise.allSettled(connections.map((r) => r.quit()))
      await server.stop()
    },
  }
}

module.exports = { startRedis, ownRedis, haveRedis }
