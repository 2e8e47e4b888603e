'use strict'
// Test-only: Upstash's REST protocol in front of a real redis-server, so that the @upstash/redis
// client (and upstashTokenStore over it) runs unchanged against a Redis on this machine, from Node
// and from workerd. What the client speaks (@upstash/redis pkg/http.ts):
//   - POST /          a command as a JSON array (["SET","k","v","PX",1000,"NX"]) →
//                     {"result": …} (200) or {"error": "ERR …"} (400)
//   - POST /pipeline  an array of commands → an array of {"result"} / {"error"}, one each (200)
//   - Authorization: Bearer <token>, else 401 {"error": "Unauthorized"}
//   - Upstash-Encoding: base64 → every string in a result base64-encoded, except the status "OK"
//     (the client's default)
// Every command is recorded (`commands`, upper-cased name first) and every HTTP request counted
// by path (`requests`).

const http = require('node:http')

/**
 * Start the bridge on a free 127.0.0.1 port in front of the Redis at `redisUrl`, accepting
 * `token`. Resolves to `{ url, token, commands, requests, reset(), close() }`.
 */
async function startUpstashBridge({ redisUrl, token }) {
  const redis = require('redis').createClient({ url: redisUrl })
  redis.on('error', () => {})
  await redis.connect()
  const commands = []
  const requests = []

  /** One command's answer as Upstash gives it: { result } or { error }. */
  async function run(command, base64) {
    if (!Array.isArray(command) || command.length === 0) return { error: 'ERR malformed command' }
    const args = command.map(String)
    args[0] = args[0].toUpperCase()
    commands.push(args)
    try {
      return { result: encode(await redis.sendCommand(args), base64) }
    } catch (error) {
      return { error: String(error.message) }
    }
  }

  const server = http.createServer((req, res) => {
    const send = (status, body) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
    const chunks = []
    req.on('data', (chunk) => chunks.push(chunk))
    req.on('end', async () => {
      requests.push(req.url)
      if (req.headers.authorization !== `Bearer ${token}`) return send(401, { error: 'Unauthorized' })
      if (req.method !== 'POST') return send(405, { error: 'ERR POST only' })
      let body
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
      } catch {
        return send(400, { error: 'ERR body is not JSON' })
      }
      const base64 = req.headers['upstash-encoding'] === 'base64'
      if (req.url === '/') {
        const answer = await run(body, base64)
        return send(answer.error === undefined ? 200 : 400, answer)
      }
      if (req.url === '/pipeline' && Array.isArray(body)) {
        const answers = []
        for (const command of body) answers.push(await run(command, base64))
        return send(200, answers)
      }
      send(404, { error: `ERR ${req.url} is not served by this bridge` })
    })
  })
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    token,
    commands,
    requests,
    reset() {
      commands.length = 0
      requests.length = 0
    },
    async close() {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
      await redis.quit()
    },
  }
}

/** Strings base64-encoded (the status "OK" as it is), in arrays too; numbers and null as they are. */
function encode(value, base64) {
  if (!base64) return value
  if (typeof value === 'string') return value === 'OK' ? value : Buffer.from(value, 'utf8').toString('base64')
  if (Array.isArray(value)) return value.map((v) => encode(v, base64))
  return value
}

module.exports = { startUpstashBridge }
