'use strict'
// A virtual clock for the tests that wait for a token to age or for a remembered failure (a
// cool-down, a backoff, a Retry-After) to end: they move the clock instead of sleeping.
//
// Time is an input: the client reads `Date.now()` and passes it to the core on every call that
// depends on time, and the in-process mock vendor signs `exp` and sets its `Date` header from the
// same `Date`, so mocking `Date` (node:test mock timers) ages the whole world together. Only
// `Date` is mocked: sockets, the runtime and the waits inside one exchange (retry backoffs on a
// monotonic clock) keep real timers. A mocked `Date` stands still until moved; child processes
// do not see it.

const assert = require('node:assert/strict')
const { performance } = require('node:perf_hooks')
const { setTimeout: sleep } = require('node:timers/promises')

/**
 * Mocks `Date` for the test `t` (restored when it ends), starting at `now`. Returns
 * `{ now(), tick(ms), to(at) }`: `tick` moves the clock forward by `ms`, `to` to the time `at`
 * (ms since the epoch; never backwards).
 */
function virtualClock(t, { now = Date.now() } = {}) {
  t.mock.timers.enable({ apis: ['Date'], now })
  return {
    now: () => Date.now(),
    tick(ms) {
      assert.ok(Number.isFinite(ms) && ms >= 0, `tick(${ms}): the clock only moves forward`)
      t.mock.timers.tick(ms)
    },
    to(at) {
      const ms = at - Date.now()
      assert.ok(ms >= 0, `to(${at}) is ${-ms} ms in the past`)
      t.mock.timers.tick(ms)
    },
  }
}

/**
 * Resolves with the next `event` ('refresh' or 'error') of `client`; fails after `timeoutMs` of
 * real time. Listen before the call that causes it. It resolves a macrotask after the event, once
 * the client has finished with that exchange (the event comes first: a call made at once could
 * still see the exchange in flight).
 */
function nextEvent(client, event, { timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off(event, listener)
      reject(new Error(`no '${event}' event within ${timeoutMs} ms`))
    }, timeoutMs)
    const listener = (value) => {
      clearTimeout(timer)
      setImmediate(() => resolve(value))
    }
    client.once(event, listener)
  })
}

/**
 * Polls (real time) until `predicate()` is truthy, for at most `timeoutMs`; then waits `settleMs`
 * more and checks it still holds, so that a count "is exactly n" is not read while a request that
 * should not happen is on its way. Resolves to the value.
 */
async function settled(predicate, { what = 'condition', timeoutMs = 5000, settleMs = 0 } = {}) {
  const deadline = performance.now() + timeoutMs
  let value
  while (!(value = await predicate())) {
    if (performance.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(5)
  }
  if (settleMs > 0) {
    await sleep(settleMs)
    value = await predicate()
    assert.ok(value, `${what} held, then stopped holding within ${settleMs} ms`)
  }
  return value
}

module.exports = { virtualClock, nextEvent, settled }
