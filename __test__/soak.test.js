'use strict'
// Soak: 20 clients against one mock, 50k+ authHeader() calls over ~8 s of real time (real time
// is the point here: tokens really age, refreshes race real callers) while the mock injects
// faults (500/503/429, resets, delays, stalls, garbage answers) on every token endpoint, tokens
// live 3 s (Vendy) or 6 s (PuppetVendors) so refreshes keep happening on both, clients are
// invalidated and tokens revoked at random. Asserts: no unhandled rejection, every call settles
// with a valid header or a VendorAuthError code, RSS flat, and the process exits by itself
// afterwards.
//
// The soak itself runs in a child (`node --expose-gc`) so RSS is measured in a process of its
// own; this file is both the test (parent) and the child (VENDOR_AUTH_SOAK_CHILD=1).
// Run: node --test __test__/soak.test.js   (SOAK_DURATION_MS overrides the 8 s)

const SOAK_CHILD = process.env.VENDOR_AUTH_SOAK_CHILD === '1'
const RESULT_PREFIX = 'SOAK_RESULT '

if (SOAK_CHILD) {
  runSoak().then(
    (result) => {
      process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`)
    },
    (error) => {
      process.stderr.write(`soak crashed: ${error && error.stack}\n`)
      process.exitCode = 1
    },
  )
} else {
  defineTest()
}

// ------------------------------------------------------------------ child: the soak

async function runSoak() {
  const { createClient, VendorAuthError, ErrorCodes } = require('..')
  const { startMock, optionsFor } = require('./helpers')
  const { jwtPayload, mask } = require('./helpers/faults')

  const DURATION_MS = Number(process.env.SOAK_DURATION_MS || 8_000)
  const WARMUP_MS = Math.min(3_000, DURATION_MS / 4)
  const CLIENTS_PER_PROVIDER = 10
  const CALLS_PER_ROUND = 20
  const ROUND_PAUSE_MS = 10

  const tripwire = { unhandledRejections: 0, uncaughtExceptions: 0, samples: [] }
  process.on('unhandledRejection', (reason) => {
    tripwire.unhandledRejections += 1
    if (tripwire.samples.length < 5) tripwire.samples.push(mask(String(reason && reason.stack ? reason.stack : reason)))
  })
  process.on('uncaughtException', (error) => {
    tripwire.uncaughtExceptions += 1
    if (tripwire.samples.length < 5) tripwire.samples.push(mask(String(error && error.stack)))
  })

  // Deterministic fault choice (xorshift32).
  let seed = 0x9e3779b9
  const random = () => {
    seed ^= seed << 13
    seed ^= seed >>> 17
    seed ^= seed << 5
    return (seed >>> 0) / 2 ** 32
  }
  const injected = {}
  const faulty = () => () => {
    const r = random()
    let step = null
    if (r < 0.15) step = ['500', { status: 500 }]
    else if (r < 0.2) step = ['503', { status: 503, body: '<html>unavailable</html>' }]
    else if (r < 0.25) step = ['reset', { reset: true }]
    else if (r < 0.35) step = ['delay', { delayMs: Math.floor(50 + random() * 250) }]
    else if (r < 0.37) step = ['429', { status: 429, headers: { 'Retry-After': '0' } }]
    else if (r < 0.38) step = ['stall', { stall: true }]
    else if (r < 0.39) step = ['garbage', { status: 200, body: 'garbage' }]
    if (!step) return null
    injected[step[0]] = (injected[step[0]] || 0) + 1
    return step[1]
  }

  const mock = await startMock({ vendy: { tokenLifetimeSec: 3 }, puppetvendors: { tokenLifetimeSec: 6 } })
  for (const endpoint of ['vendy.auth', 'pv.authenticate', 'pv.refresh']) mock.setDefault(endpoint, faulty())

  const clients = []
  for (const provider of ['vendy', 'puppetvendors']) {
    for (let i = 0; i < CLIENTS_PER_PROVIDER; i++) {
      clients.push({
        provider,
        headerName: provider === 'vendy' ? 'Authorization' : 'x-access-token',
        client: createClient(optionsFor(mock, provider, { timeoutMs: 1000, maxRetries: 2 })),
      })
    }
  }

  const stats = {
    calls: 0,
    resolved: 0,
    rejected: {},
    foreign: 0,
    invalidHeaders: 0,
    expiredHeaders: 0,
    distinctHeaders: 0,
  }
  const problems = []
  const knownCodes = new Set(Object.keys(ErrorCodes))
  const checked = new WeakMap() // header object -> exp (ms)

  const onHeader = (entry) => (header) => {
    stats.resolved += 1
    let exp = checked.get(header)
    if (exp === undefined) {
      stats.distinctHeaders += 1
      const keys = Object.keys(header)
      const value = header[entry.headerName]
      const token = typeof value === 'string' ? value.replace(/^Bearer /, '') : ''
      const payload = jwtPayload(token)
      const ok =
        Object.isFrozen(header) &&
        keys.length === 1 &&
        typeof value === 'string' &&
        (entry.provider !== 'vendy' || value.startsWith('Bearer ')) &&
        payload !== null &&
        typeof payload.exp === 'number'
      exp = ok ? payload.exp * 1000 : 0
      if (!ok) {
        stats.invalidHeaders += 1
        if (problems.length < 10) problems.push(`invalid header for ${entry.provider}: keys ${keys.join(',')}`)
      }
      checked.set(header, exp)
    }
    if (exp !== 0 && Date.now() >= exp) stats.expiredHeaders += 1
  }
  const onError = (error) => {
    if (!(error instanceof VendorAuthError) || !knownCodes.has(error.code)) {
      stats.foreign += 1
      if (problems.length < 10) problems.push(`not a VendorAuthError: ${mask(String(error && error.stack))}`)
      return
    }
    stats.rejected[error.code] = (stats.rejected[error.code] || 0) + 1
  }

  const memory = () => {
    if (global.gc) {
      global.gc()
      global.gc()
    }
    const { rss, heapUsed } = process.memoryUsage()
    return { rss, heapUsed }
  }

  const started = Date.now()
  let baseline = null
  let chaos = { invalidations: 0, revocations: 0 }
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

  async function load(entry) {
    while (Date.now() - started < DURATION_MS) {
      const round = []
      for (let i = 0; i < CALLS_PER_ROUND; i++) {
        round.push(entry.client.authHeader().then(onHeader(entry), onError))
      }
      stats.calls += CALLS_PER_ROUND
      await Promise.all(round)
      await sleep(ROUND_PAUSE_MS)
    }
  }

  async function chaosMonkey() {
    while (Date.now() - started < DURATION_MS) {
      await sleep(100)
      if (random() < 0.3) {
        clients[Math.floor(random() * clients.length)].client.invalidate() // "the vendor said 401"
        chaos.invalidations += 1
      }
      if (random() < 0.05) {
        mock.revokeTokens() // refreshes now get 401 and fall back to /authenticate
        chaos.revocations += 1
      }
      if (baseline === null && Date.now() - started >= WARMUP_MS) baseline = memory()
    }
  }

  await Promise.all([...clients.map(load), chaosMonkey()])
  const elapsedMs = Date.now() - started
  const end = memory()

  // Closing: every later call rejects with CLOSED.
  for (const { client } of clients) client.close()
  const afterClose = await Promise.allSettled(clients.map(({ client }) => client.authHeader()))
  const closedCodes = [...new Set(afterClose.map((r) => (r.status === 'rejected' ? r.reason.code : 'resolved')))]

  const requests = {
    'vendy.auth': mock.count('vendy.auth'),
    'pv.authenticate': mock.count('pv.authenticate'),
    'pv.refresh': mock.count('pv.refresh'),
  }
  await mock.close()
  await sleep(200) // let any late rejection surface before reporting

  return {
    durationMs: DURATION_MS,
    elapsedMs,
    stats,
    problems,
    tripwire,
    injected,
    chaos,
    requests,
    closedCodes,
    gcExposed: typeof global.gc === 'function',
    memory: { baseline, end },
  }
}

// ------------------------------------------------------------------ parent: the test

function defineTest() {
  const test = require('node:test')
  const assert = require('node:assert/strict')
  const { spawn } = require('node:child_process')
  const { childEnv, mask } = require('./helpers/faults')

  const MB = 1024 * 1024

  test(
    'soak: 20 clients, 50k+ authHeader() calls under injected faults; no unhandled rejection, RSS flat, clean exit',
    { timeout: 120_000 },
    async (t) => {
      const unhandled = []
      const onUnhandled = (reason) => unhandled.push(reason)
      process.on('unhandledRejection', onUnhandled)
      t.after(() => process.off('unhandledRejection', onUnhandled))

      const child = spawn(process.execPath, ['--expose-gc', __filename], {
        env: childEnv({ VENDOR_AUTH_SOAK_CHILD: '1', DEBUG: undefined }),
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let stdout = ''
      let stderr = ''
      let resultAt = 0
      child.stdout.on('data', (chunk) => {
        stdout += chunk
        if (!resultAt && stdout.includes(RESULT_PREFIX)) resultAt = Date.now()
      })
      child.stderr.on('data', (chunk) => {
        stderr += chunk
      })
      // The child must finish its work in time, then exit by itself (no lingering handle).
      const exit = await new Promise((resolve) => {
        const hardLimit = setTimeout(() => child.kill('SIGKILL'), 100_000)
        const poll = setInterval(() => {
          if (resultAt && Date.now() - resultAt > 15_000) child.kill('SIGKILL')
        }, 250)
        child.on('close', (code, signal) => {
          clearTimeout(hardLimit)
          clearInterval(poll)
          resolve({ code, signal })
        })
      })

      const line = stdout.split('\n').find((l) => l.startsWith(RESULT_PREFIX))
      assert.ok(line, `no result from the soak child (exit ${exit.code}/${exit.signal}):\n${mask(stderr.slice(-3000))}`)
      const r = JSON.parse(line.slice(RESULT_PREFIX.length))
      const rejectedTotal = Object.values(r.stats.rejected).reduce((a, b) => a + b, 0)
      const growth = r.memory.end.rss - r.memory.baseline.rss
      t.diagnostic(
        `${r.stats.calls} calls in ${r.elapsedMs} ms: ${r.stats.resolved} resolved (${r.stats.distinctHeaders} distinct headers), ` +
          `rejected ${JSON.stringify(r.stats.rejected)}; requests ${JSON.stringify(r.requests)}; ` +
          `faults ${JSON.stringify(r.injected)}; chaos ${JSON.stringify(r.chaos)}; ` +
          `RSS ${(r.memory.baseline.rss / MB).toFixed(1)} → ${(r.memory.end.rss / MB).toFixed(1)} MB, ` +
          `heap ${(r.memory.baseline.heapUsed / MB).toFixed(1)} → ${(r.memory.end.heapUsed / MB).toFixed(1)} MB (gc exposed: ${r.gcExposed})`,
      )

      assert.equal(r.tripwire.unhandledRejections, 0, `unhandled rejections:\n${r.tripwire.samples.join('\n')}`)
      assert.equal(r.tripwire.uncaughtExceptions, 0, `uncaught exceptions:\n${r.tripwire.samples.join('\n')}`)
      assert.deepEqual(r.problems, [])
      // 50k calls in 8 s (a 2-core machine makes ~35k a second alone): scaled with SOAK_DURATION_MS.
      const minCalls = Math.round((50_000 * r.durationMs) / 8_000)
      assert.ok(r.stats.calls >= minCalls, `only ${r.stats.calls} calls (at least ${minCalls})`)
      assert.equal(r.stats.resolved + rejectedTotal + r.stats.foreign, r.stats.calls, 'every call settled')
      assert.equal(r.stats.foreign, 0)
      assert.equal(r.stats.invalidHeaders, 0)
      assert.equal(r.stats.expiredHeaders, 0, 'no expired token was handed out')
      const allowed = new Set(['SERVER_ERROR', 'NETWORK', 'TIMEOUT', 'RATE_LIMITED', 'INVALID_RESPONSE'])
      for (const code of Object.keys(r.stats.rejected))
        assert.ok(allowed.has(code), `unexpected rejection code ${code}`)
      assert.ok(r.stats.resolved / r.stats.calls > 0.9, 'the cached token serves the vast majority of calls')
      // The faults and the refresh paths were really exercised.
      assert.ok(
        Object.values(r.injected).reduce((a, b) => a + b, 0) >= 20,
        `faults injected: ${JSON.stringify(r.injected)}`,
      )
      assert.ok(r.requests['vendy.auth'] >= 50, `vendy requests: ${r.requests['vendy.auth']}`)
      assert.ok(r.requests['pv.refresh'] >= 1, 'the PuppetVendors refresh endpoint was used')
      assert.ok(r.stats.distinctHeaders >= 30, `only ${r.stats.distinctHeaders} distinct tokens were served`)
      assert.deepEqual(r.closedCodes, ['CLOSED'])
      // RSS flat: compare after warm-up with the end, both after full GCs.
      assert.ok(r.gcExposed, 'the child runs with --expose-gc')
      assert.ok(growth < 30 * MB, `RSS grew by ${(growth / MB).toFixed(1)} MB`)
      // And the child exits on its own once done (nothing left keeping the event loop alive).
      assert.equal(exit.signal, null, 'the soak child did not exit by itself within 15 s of finishing')
      assert.equal(exit.code, 0, mask(stderr.slice(-3000)))
      assert.deepEqual(unhandled, [])
    },
  )
}
