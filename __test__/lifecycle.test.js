'use strict'
// Lifecycle: nothing keeps a process alive (scripts using clients exit on their own, close()
// ends a stalled exchange), worker_threads, and the addon shared by several threads.
// Child scripts live in __test__/fixtures/ and talk to this process's mock vendor (its base URL
// and CA come through the environment / workerData).
// Run: node --test __test__/lifecycle.test.js

const { describe, it, before, after, beforeEach } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { once } = require('node:events')
const { Worker } = require('node:worker_threads')

const { authenticate } = require('..')
const { SECRETS, startMock, optionsFor } = require('./helpers')
const { runNode, lastJsonLine, waitFor, assertNoSecrets } = require('./helpers/util')

const FIXTURES = path.join(__dirname, 'fixtures')

let mock
before(async () => {
  // One multi-shop key, so that the 'several' fixture can ask for two shops.
  mock = await startMock({
    puppetvendors: { keys: [{ apiKey: SECRETS.pvApiKey, shopDomain: 'mock-store.myshopify.com', multiShop: true }] },
  })
})
after(() => mock.close())
beforeEach(() => mock.reset())

const mockEnv = (extra = {}) => ({ MOCK_BASE_URL: mock.baseUrl, MOCK_CA_CERT: mock.caCert, ...extra })

/** Runs fixtures/use-client.js in `mode`; it is killed if still running after `timeoutMs`. */
function runUseClient(mode, { provider = 'vendy', timeoutMs = 10_000 } = {}) {
  return runNode([path.join(FIXTURES, 'use-client.js')], {
    env: mockEnv({ FIXTURE_MODE: mode, FIXTURE_PROVIDER: provider }),
    timeoutMs,
  })
}

/** Asserts the child exited by itself with code 0 within `withinMs` of finishing its work. */
function assertExitedOnItsOwn(result, withinMs) {
  assert.equal(
    result.killed,
    false,
    `the child had to be killed after ${result.elapsedMs} ms (stderr: ${result.stderr})`,
  )
  assert.equal(result.code, 0, `exit code (stderr: ${result.stderr})`)
  assertNoSecrets(result.stdout + result.stderr, 'child output')
  const out = lastJsonLine(result.stdout)
  const exitedAt = Date.now()
  // Measured from the child's own "done" timestamp to when the parent saw the exit.
  assert.ok(exitedAt - out.doneAt < withinMs, `exited ${exitedAt - out.doneAt} ms after it was done`)
  return out
}

// --------------------------------------------------------------------------- process exit

describe('process exit: nothing keeps a script alive', () => {
  for (const provider of ['vendy', 'puppetvendors']) {
    it(`${provider}: a script that creates a client, awaits authHeader() and does nothing else exits by itself`, async () => {
      const result = await runUseClient('client', { provider })
      const out = assertExitedOnItsOwn(result, 3000)
      assert.deepEqual(out.headerNames, [provider === 'vendy' ? 'Authorization' : 'x-access-token'])
      assert.equal(mock.count(), 1)
    })
  }

  it('a script that only calls authenticate() exits by itself', async () => {
    const result = await runUseClient('authenticate', { provider: 'puppetvendors' })
    const out = assertExitedOnItsOwn(result, 3000)
    assert.equal(out.provider, 'puppetvendors')
    assert.equal(mock.count('pv.authenticate'), 1)
  })

  it('a script with three open clients (Vendy and two PuppetVendors shops) exits by itself', async () => {
    const result = await runUseClient('several')
    const out = assertExitedOnItsOwn(result, 3000)
    assert.deepEqual(out.headerNames, ['Authorization', 'x-access-token', 'x-access-token'])
    assert.equal(mock.count('vendy.auth'), 1)
    assert.equal(mock.count('pv.authenticate'), 2)
  })

  it('close() on a client whose request is stalled ends it with CLOSED and the script exits promptly', async () => {
    mock.setDefault('vendy.auth', { stall: true })
    const result = await runNode([path.join(FIXTURES, 'close-stalled.js')], {
      env: mockEnv(),
      timeoutMs: 15_000,
      onSpawn: (child) => {
        // Tell the child to close() once its request is in flight (stalled) at the mock.
        waitFor(() => mock.count('vendy.auth') === 1, { what: 'the stalled request', timeoutMs: 10_000 }).then(
          () => child.stdin.end('close\n'),
          () => child.stdin.end(),
        )
      },
    })
    const out = assertExitedOnItsOwn(result, 3000)
    assert.equal(out.outcome, 'rejected')
    assert.equal(out.code, 'CLOSED')
    assert.ok(out.settledMs < 2000, `the pending call settled ${out.settledMs} ms after close()`)
    assert.equal(mock.count('vendy.auth'), 1)
  })

  it('a background refresh stalled at the vendor does not keep the script alive until timeoutMs', async () => {
    // A child does not see a virtual clock, so its token really ages: it lives ~6 s (5-6 s: the
    // JWT's exp has whole seconds), its window opens at half that and its safety margin is 10%,
    // ~2 s of slack for a busy machine between the two. The refresh the child triggers inside the
    // window is stalled. The child's timeoutMs is 40 s: if that in-flight background exchange
    // holds the event loop, the child outlives the 15 s budget below and is killed.
    mock.script('vendy.auth', { lifetimeSec: 6 })
    mock.setDefault('vendy.auth', { stall: true })
    const result = await runUseClient('background-stalled', { timeoutMs: 15_000 })
    assert.ok(result.stdout.includes('servedCurrentToken'), `the child got that far (stderr: ${result.stderr})`)
    assert.equal(lastJsonLine(result.stdout).servedCurrentToken, true)
    assert.equal(mock.count('vendy.auth'), 2, 'the background refresh reached the vendor')
    assertExitedOnItsOwn(result, 3000)
  })
})

// ------------------------------------------------------------------------- worker_threads

/** Runs fixtures/worker-auth.js; resolves `{ messages, exitCode }` when the worker exits. */
function runWorker(workerData, { timeoutMs = 10_000 } = {}) {
  const worker = new Worker(path.join(FIXTURES, 'worker-auth.js'), { workerData })
  const messages = []
  worker.on('message', (message) => messages.push(message))
  const timer = setTimeout(() => worker.terminate(), timeoutMs)
  const exited = new Promise((resolve, reject) => {
    worker.once('error', reject)
    worker.once('exit', (exitCode) => {
      clearTimeout(timer)
      resolve({ messages, exitCode })
    })
  })
  return { worker, exited }
}

function assertWorkerResult(result, provider) {
  assert.equal(result.exitCode, 0, `the worker exited by itself (messages: ${JSON.stringify(result.messages)})`)
  assert.equal(result.messages.length, 1)
  const [message] = result.messages
  assert.equal(message.error, undefined, JSON.stringify(message.error))
  assert.equal(message.session.provider, provider)
  if (provider === 'vendy') {
    assert.equal(message.session.headerName, 'Authorization')
    assert.equal(message.session.headerValue, `Bearer ${message.session.token}`)
    assert.match(message.header.Authorization, /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/)
  } else {
    assert.equal(message.session.headerName, 'x-access-token')
    assert.equal(message.session.headerValue, message.session.token)
    assert.match(message.header['x-access-token'], /^[\w-]+\.[\w-]+\.[\w-]+$/)
  }
  assert.equal(message.cached, true, 'the second authHeader() in the worker came from the cache')
  return message
}

describe('worker_threads', () => {
  const data = (provider, mode = 'use') => ({ baseUrl: mock.baseUrl, caCert: mock.caCert, provider, mode })

  it('authenticate() and a client work inside a Worker, which then exits by itself', async () => {
    const result = await runWorker(data('vendy')).exited
    assertWorkerResult(result, 'vendy')
    assert.equal(mock.count('vendy.auth'), 2, 'one authenticate() and one client exchange')
  })

  it('two workers at once (Vendy and PuppetVendors) and the main thread each get their own tokens', async () => {
    const [vendy, pv, mainSession] = await Promise.all([
      runWorker(data('vendy')).exited,
      runWorker(data('puppetvendors')).exited,
      authenticate(optionsFor(mock, 'puppetvendors')),
    ])
    const v = assertWorkerResult(vendy, 'vendy')
    const p = assertWorkerResult(pv, 'puppetvendors')
    assert.equal(mainSession.provider, 'puppetvendors')
    const tokens = [
      v.session.token,
      v.header.Authorization.slice(7),
      p.session.token,
      p.header['x-access-token'],
      mainSession.token,
    ]
    assert.equal(new Set(tokens).size, 5, 'five exchanges, five different tokens')
    assert.equal(mock.count('vendy.auth'), 2)
    assert.equal(mock.count('pv.authenticate'), 3)
  })

  it('terminating a Worker whose exchange is stalled leaves the main thread and new workers working', async () => {
    mock.script('vendy.auth', { stall: true })
    const { worker, exited } = runWorker(data('vendy', 'stall'))
    await once(worker, 'message')
    await waitFor(() => mock.count('vendy.auth') === 1, { what: 'the worker request at the mock' })
    await worker.terminate()
    const { exitCode, messages } = await exited
    assert.equal(exitCode, 1, 'terminated')
    assert.deepEqual(messages, [{ started: true }])

    const session = await authenticate(optionsFor(mock, 'vendy'))
    assert.equal(session.provider, 'vendy')
    assertWorkerResult(await runWorker(data('puppetvendors')).exited, 'puppetvendors')
  })
})
