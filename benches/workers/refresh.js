'use strict'
// Figure 4. Refresh under load: steady `authHeader()` traffic across a background refresh.
// The mock issues 12 s tokens and answers the refresh (and any re-authentication) after a
// 200 ms delay; with refreshWindowMs 6000 the client refreshes ~6 s after getting a token, while
// it still has > 5 s left, so the refresh goes through /refresh-token. Traffic: every event-loop
// turn (setImmediate) fires a batch of concurrent authHeader() calls and records each caller's
// wait (call to resolution). Reported: the slowest caller's wait and the p99, against the median
// wait in the same harness before the refresh window, and the number of refresh requests.

const { createClient } = require('vendor-auth')
const { optionsFor } = require('../lib/bench-mock')
const { main, mock, now, sleep } = require('../lib/worker')
const { quantileSorted, sorted } = require('../lib/stats')

const LIFETIME_SEC = 12
const WINDOW_MS = 6000
const DELAY_MS = 200
const BATCH = 32
const LEAD_MS = 400 // traffic starts this long before the refresh is due
const TAIL_MS = 300 // and goes on this long after the new token is served
const CAP = 4_000_000

/**
 * Fire a batch of concurrent calls every event-loop turn until the new header has been served for
 * TAIL_MS (or `deadline`); resolves once every call has settled.
 *
 * "Waited" detection: after each batch a sentinel promise chain, deeper than any immediate
 * resolution path of authHeader(), marks the turn as drained. A call that settles after its
 * turn was drained did not get an already-available header: it waited for an exchange.
 */
function traffic(client, oldHeader, deadline) {
  const issue = new Float64Array(CAP)
  const wait = new Float64Array(CAP)
  const turnOf = new Int32Array(CAP)
  let n = 0
  let settled = 0
  let waited = 0
  let turn = 0
  let drained = -1
  let swapAt = null
  let maxTickGap = 0
  let last = now()
  return new Promise((resolve, reject) => {
    const onHeader = (i) => (h) => {
      const t = now()
      wait[i] = t - issue[i]
      if (turnOf[i] <= drained) waited++
      settled++
      if (h !== oldHeader && swapAt === null) swapAt = t
    }
    const fail = (error) => reject(error)
    function tick() {
      const t = now()
      if (t - last > maxTickGap) maxTickGap = t - last
      last = t
      turn++
      for (let b = 0; b < BATCH && n < CAP; b++) {
        const i = n++
        turnOf[i] = turn
        issue[i] = now()
        client.authHeader().then(onHeader(i), fail)
      }
      const k = turn
      Promise.resolve()
        .then(noop)
        .then(noop)
        .then(noop)
        .then(noop)
        .then(() => {
          drained = k
        })
      const stop = (swapAt !== null && t > swapAt + TAIL_MS) || t > deadline || n >= CAP
      if (!stop) return setImmediate(tick)
      const drain = () =>
        settled === n
          ? resolve({ issue: issue.subarray(0, n), wait: wait.subarray(0, n), n, swapAt, waited, maxTickGap })
          : setImmediate(drain)
      drain()
    }
    setImmediate(tick)
  })
}

function noop() {}

main(async ({ quick }) => {
  const CYCLES = quick ? 1 : 3
  const epoch = (t) => performance.timeOrigin + t
  await mock.reset()
  await mock.setDefault('pv.authenticate', { lifetimeSec: LIFETIME_SEC })
  const client = createClient(optionsFor(mock, { refreshWindowMs: WINDOW_MS }))
  let header = await client.authHeader()
  let installedAt = Date.now()
  await mock.setDefault('pv.authenticate', { lifetimeSec: LIFETIME_SEC, delayMs: DELAY_MS })
  await mock.setDefault('pv.refresh', { lifetimeSec: LIFETIME_SEC, delayMs: DELAY_MS })

  // Warm the harness up on the fresh token (not recorded).
  await traffic(client, header, now() + 300)

  const cycles = []
  for (let c = 0; c < CYCLES; c++) {
    const session = await client.getSession()
    const lifetime = session.expiresAt - installedAt
    const refreshAt = session.expiresAt - Math.min(WINDOW_MS, lifetime * 0.5) // as lib/client.js computes it
    await sleep(Math.max(0, refreshAt - LEAD_MS - Date.now()))
    const before = { authenticate: await mock.count('pv.authenticate'), refresh: await mock.count('pv.refresh') }
    const startedAt = Date.now()
    const run = await traffic(client, header, now() + LEAD_MS + 4000)
    if (run.swapAt === null) throw new Error('no new token was served during the traffic window')
    const after = { authenticate: await mock.count('pv.authenticate'), refresh: await mock.count('pv.refresh') }
    const requests = (await mock.requests()).filter(
      (r) => r.at >= startedAt && (r.endpoint === 'pv.refresh' || r.endpoint === 'pv.authenticate'),
    )
    const refreshArrival = requests.length ? requests[0].at : NaN

    // Callers before the refresh window (fresh token), and callers issued while the refresh was in flight.
    const fresh = []
    const inFlight = []
    for (let i = 0; i < run.n; i++) {
      const at = epoch(run.issue[i])
      if (at < refreshAt - 20) fresh.push(run.wait[i])
      else if (at >= refreshArrival && run.issue[i] < run.swapAt) inFlight.push(run.wait[i])
    }
    let worst = 0
    for (let i = 1; i < run.n; i++) if (run.wait[i] > run.wait[worst]) worst = i
    const freshSorted = sorted(fresh)
    const all = sorted(run.wait)
    const inFlightSorted = sorted(inFlight)
    cycles.push({
      calls: run.n,
      waited: run.waited,
      callsDuringRefresh: inFlight.length,
      refreshRequests: after.authenticate - before.authenticate + (after.refresh - before.refresh),
      endpoints: requests.map((r) => r.endpoint),
      refreshMs: epoch(run.swapAt) - refreshArrival, // request arrival at the mock → new header served
      hotMedianMs: quantileSorted(freshSorted, 0.5),
      maxBeforeRefreshMs: freshSorted[freshSorted.length - 1],
      slowestIssuedMsFromSwap: run.issue[worst] - run.swapAt, // where the slowest caller sits (negative: before the swap)
      p50Ms: quantileSorted(all, 0.5),
      p99Ms: quantileSorted(all, 0.99),
      p999Ms: quantileSorted(all, 0.999),
      maxMs: all[all.length - 1],
      maxDuringRefreshMs: inFlightSorted.length ? inFlightSorted[inFlightSorted.length - 1] : NaN,
      maxEventLoopTurnMs: run.maxTickGap,
    })
    header = await client.authHeader()
    installedAt = epoch(run.swapAt)
  }
  // Control: the same traffic across a forced foreground exchange (invalidate()), where callers
  // must wait; checks that the "waited" detection above does see waiting callers.
  const control = await (async () => {
    setTimeout(() => client.invalidate(), 50)
    const run = await traffic(client, header, now() + 4000)
    return { calls: run.n, waited: run.waited, swapSeen: run.swapAt !== null }
  })()
  client.close()
  await mock.reset()
  return { control, delayMs: DELAY_MS, lifetimeSec: LIFETIME_SEC, refreshWindowMs: WINDOW_MS, batch: BATCH, cycles }
})
