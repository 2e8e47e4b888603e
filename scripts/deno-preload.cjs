'use strict'
// Preloaded by scripts/test-deno.js into `deno test` (--require): the suites run on Deno
// unchanged, with two gaps of Deno 2.9's Node compatibility closed the way Node behaves, and the
// tests that meet a Deno difference they cannot pass skipped by name, each with its reason
// (VENDOR_AUTH_DENO_SKIP, a JSON object of test name -> reason, set by test-deno.js).
//
// 1. Deno's test context has no mock tracker of its own: `t.mock` is the module's `mock`, and
//    nothing restores it when a test ends. A test that mocks `Date` (__test__/helpers/clock.js)
//    left it mocked for every later test, and the next one to mock it failed with "MockTimers is
//    already enabled". Node restores `t.mock` at the end of each test; each test function given
//    to `test`/`it` is wrapped here to do the same (mocks restored, timers reset), whatever its
//    outcome.
// 2. After a client cancels a response body (client.fetch discards the 401 it retries), Deno
//    keeps that connection open at a node:http server for about 90 s, and the server's close()
//    waits for it: a test's teardown took 90 s where Node's takes none. A server's close() here
//    ends the connections still open a second after it.

const http = require('node:http')
const https = require('node:https')
const Module = require('node:module')
const nodeTest = require('node:test')

const SKIP = JSON.parse(process.env.VENDOR_AUTH_DENO_SKIP || '{}')

function restoreMocks() {
  nodeTest.mock.timers.reset()
  nodeTest.mock.reset()
}

/** `fn` with the restore after it (a callback-style test, `(t, done)`, is left as it is). */
function restoring(fn) {
  if (typeof fn !== 'function' || fn.length >= 2) return fn
  return async function (...args) {
    try {
      return await fn.apply(this, args)
    } finally {
      restoreMocks()
    }
  }
}

/** `test`/`it` (or one of its variants) wrapped: the restore, and the skips by name. */
function wrapTest(original, skip) {
  const wrapped = function (...args) {
    const reason = typeof args[0] === 'string' && Object.hasOwn(SKIP, args[0]) ? SKIP[args[0]] : undefined
    if (reason !== undefined && skip !== undefined) {
      const fn = args.find((arg) => typeof arg === 'function')
      return skip.call(this, args[0], { skip: `on Deno: ${reason}` }, fn)
    }
    const at = args.findIndex((arg) => typeof arg === 'function')
    if (at !== -1) args[at] = restoring(args[at])
    return original.apply(this, args)
  }
  for (const key of Object.keys(original)) wrapped[key] = original[key]
  // test.only, test.todo, test.expectFailure: the same wrapping; test.skip is left as it is.
  for (const key of ['only', 'todo', 'expectFailure'])
    if (typeof original[key] === 'function') wrapped[key] = wrapTest(original[key], original)
  return wrapped
}

// The module is itself `test` (`const test = require('node:test')`), with `test`, `it`,
// `describe`, hooks and `mock` as its properties: every way in gets the wrapped one.
const test = wrapTest(nodeTest, nodeTest)
test.test = test
test.it = test
const load = Module._load
Module._load = function (request, ...rest) {
  if (request === 'node:test' || request === 'test') return test
  return load.call(this, request, ...rest)
}

// https.Server may inherit http.Server's close: each close is wrapped once.
for (const proto of new Set([http.Server.prototype, https.Server.prototype])) {
  if (!Object.hasOwn(proto, 'close')) continue
  const close = proto.close
  proto.close = function (...args) {
    const result = close.apply(this, args)
    if (typeof this.closeAllConnections === 'function') setTimeout(() => this.closeAllConnections(), 1000).unref()
    return result
  }
}
