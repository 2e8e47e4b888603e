'use strict'
// A transparent TCP relay in front of the mock vendor, for fault tests that need to observe the
// wire: how many bytes the server managed to push towards the client, and whether the client
// hung up before the server finished. TLS passes through untouched (the mock's certificate
// covers 127.0.0.1, so the client can point at the relay's port instead of the mock's).

const net = require('node:net')

/**
 * Start a relay from 127.0.0.1:<ephemeral> to `target` (`{ port, host? }`).
 * @returns {Promise<{ baseUrl: string, port: number, stats: { connections: number,
 *   downstreamBytes: number, upstreamBytes: number, clientClosedFirst: number },
 *   close(): Promise<void> }>}
 */
async function startTcpProxy(target) {
  const host = target.host ?? '127.0.0.1'
  const stats = { connections: 0, downstreamBytes: 0, upstreamBytes: 0, clientClosedFirst: 0 }
  const sockets = new Set()
  const server = net.createServer((client) => {
    stats.connections += 1
    const upstream = net.connect({ port: target.port, host })
    sockets.add(client)
    sockets.add(upstream)
    let serverEnded = false
    upstream.on('end', () => {
      serverEnded = true
    })
    client.on('data', (chunk) => {
      stats.upstreamBytes += chunk.length
    })
    upstream.on('data', (chunk) => {
      stats.downstreamBytes += chunk.length
    })
    // pipe() honours backpressure both ways: a client that stops reading stops the relay reading.
    client.pipe(upstream)
    upstream.pipe(client)
    const done = (who) => () => {
      if (who === 'client' && !serverEnded) stats.clientClosedFirst += 1
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on('close', done('client'))
    upstream.on('close', done('upstream'))
    client.on('error', () => {})
    upstream.on('error', () => {})
  })
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const { port } = server.address()
  return {
    baseUrl: `https://127.0.0.1:${port}`,
    port,
    stats,
    close() {
      for (const socket of sockets) socket.destroy()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}

module.exports = { startTcpProxy }
