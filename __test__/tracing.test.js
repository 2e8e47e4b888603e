'use strict'
// Tracing for APM agents: every exchange is published on Node's tracing channel
// `vendor-auth:exchange` (start, end, asyncStart, asyncEnd, error) with the provider, whether it
// was a background refresh, the endpoint, the attempts and the HTTP status, and never a secret
// (every published context is scanned). The edge entries publish nothing: they never load
// node:diagnostics_channel. Both builds (wasm.test.js). Counts at the mock vendor.
// Run: node --test __test__/tracing.test.js

const { test } = require('node:test')
const assert = require('node:assert/strict')
const diagnostics = require('node:diagnostics_channel')
const path = require('node:path')
const { inspect } = require('node:util')

const { authenticate } = require('..')
const { SECRETS, optionsFor, mockFor, clientFor } = require('./helpers')
const { virtualClock, nextEvent, settled } = require('./helpers/clock')
const { JWT_PATTERN } = require('./helpers/faults')

const EVENTS = ['start', 'end', 'asyncStart', 'asyncEnd', 'error']

/** Subscribe to the channel for the test: every event with a copy of its context. */
function record(t) {
  const seen = []
  const handlers = Object.fromEntries(
    EVENTS.map((event) => [event, (context) => seen.push({ event, context: { ...context }, raw: context })]),
  )
  const channel = diagnostics.tracingChannel('vendor-auth:exchange')
  channel.subscribe(handlers)
  t.after(() => channel.unsubscribe(handlers))
  return seen
}

/** Every text a subscriber could make of what was published: no key, no token. */
function assertNoSecrets(seen, tokens) {
  const texts = seen.flatMap(({ raw }) => [inspect(raw, { depth: 6, showHidden: true }), JSON.stringify(raw)])
  for (const text of texts) {
    for (const secret of [...Object.values(SECRETS), ...tokens]) {
      assert.ok(!text.includes(secret), `a secret was published: ${text.slice(0, 300)}`)
    }
    assert.doesNotMatch(text, JWT_PATTERN)
  }
}

test('an exchange is published: start, end, then asyncStart/asyncEnd with endpoint, attempts and status', async (t) => {
  const mock = await mockFor(t)
  mock.script('pv.authenticate', [{ status: 503 }]) // one retry
  const seen = record(t)
  const client = clientFor(t, optionsFor(mock, 'puppetvendors'))
  const header = await client.authHeader()
  for (let i = 0; i < 100; i++) await client.authHeader() // the hot path publishes nothing
  assert.deepEqual(
    seen.map((s) => s.event),
    ['start', 'end', 'asyncStart', 'asyncEnd'],
  )
  assert.deepEqual(seen[0].context, { provider: 'puppetvendors', background: false })
  assert.equal(seen[3].context.result, undefined, 'no result (it would hold the token)')
  assert.deepEqual(
    { ...seen[3].context, result: undefined },
    {
      result: undefined,
      provider: 'puppetvendors',
      background: false,
      endpoint: 'authenticate',
      attempts: 2,
      status: 200,
    },
  )
  assert.equal(mock.count('pv.authenticate'), 2)
  assertNoSecrets(seen, [header['x-access-token']])
})

test('a refused exchange is published as error, with the VendorAuthError and its status', async (t) => {
  const mock = await mockFor(t)
  const seen = record(t)
  await assert.rejects(
    authenticate(optionsFor(mock, 'vendy', { secretKey: 'sk_wrong_0000000000000000' })),
    (e) => e.code === 'UNAUTHORIZED',
  )
  assert.deepEqual(
    seen.map((s) => s.event),
    ['start', 'end', 'error', 'asyncStart', 'asyncEnd'],
  )
  const { context } = seen[2]
  assert.equal(context.error.code, 'UNAUTHORIZED')
  assert.deepEqual(
    { ...context, error: undefined },
    {
      provider: 'vendy',
      background: false,
      endpoint: 'authenticate',
      attempts: 1,
      status: 401,
      error: undefined,
    },
  )
  assertNoSecrets(seen, ['sk_wrong_0000000000000000'])
})

test("a background refresh through PuppetVendors' refresh endpoint is published as such", async (t) => {
  const mock = await mockFor(t)
  const clock = virtualClock(t)
  const client = clientFor(t, optionsFor(mock, 'puppetvendors'))
  const first = await client.authHeader()
  const seen = record(t)
  // Into the refresh window (5 minutes before a 24 h token's expiry).
  clock.tick(24 * 3_600_000 - 4 * 60_000)
  const refreshed = nextEvent(client, 'refresh')
  await client.authHeader()
  await refreshed
  const end = await settled(() => seen.find((s) => s.event === 'asyncEnd'), { what: 'the asyncEnd event' })
  assert.ok(end, JSON.stringify(seen.map((s) => s.event)))
  assert.equal(end.context.background, true)
  assert.equal(end.context.endpoint, 'refresh')
  assert.equal(end.context.attempts, 1)
  assert.equal(end.context.status, 200)
  assert.equal(mock.count('pv.refresh'), 1)
  assertNoSecrets(seen, [first['x-access-token'], (await client.authHeader())['x-access-token']])
})

test('no subscriber, no work: the channel is only used when someone listens', async (t) => {
  const mock = await mockFor(t)
  const channel = diagnostics.tracingChannel('vendor-auth:exchange')
  assert.equal(channel.hasSubscribers, false)
  const client = clientFor(t, optionsFor(mock, 'vendy'))
  assert.ok((await client.authHeader()).Authorization)
})

test('the edge entries never load node:diagnostics_channel', async () => {
  const esbuild = require('esbuild')
  for (const entry of ['lib/workerd.mjs', 'lib/edge-light.mjs']) {
    const result = await esbuild.build({
      absWorkingDir: path.join(__dirname, '..'),
      entryPoints: [entry],
      bundle: true,
      format: 'esm',
      platform: 'neutral',
      external: ['*.wasm', '*.wasm?module'],
      write: false,
      metafile: true,
      logLevel: 'silent',
    })
    const inputs = Object.keys(result.metafile.inputs)
    assert.ok(!inputs.some((input) => input.endsWith('lib/tracing.js')), `${entry}: ${inputs.join(', ')}`)
    assert.doesNotMatch(result.outputFiles[0].text, /diagnostics_channel/, entry)
  }
})

// Last: the hookup stays subscribed for the rest of the process.
test("the README's OpenTelemetry hookup (examples/tracing/otel.js) gives one span per exchange", async (t) => {
  const { trace } = require('@opentelemetry/api')
  const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base')
  const exporter = new InMemorySpanExporter()
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }))
  t.after(() => trace.disable())
  require('../examples/tracing/otel.js')
  const mock = await mockFor(t)
  const client = clientFor(t, optionsFor(mock, 'vendy'))
  const header = await client.authHeader()
  await assert.rejects(authenticate(optionsFor(mock, 'vendy', { secretKey: 'sk_wrong_0000000000000000' })))
  const spans = exporter.getFinishedSpans()
  assert.equal(spans.length, 2)
  assert.deepEqual(spans[0].attributes, {
    'vendor_auth.provider': 'vendy',
    'vendor_auth.background': false,
    'vendor_auth.endpoint': 'authenticate',
    'vendor_auth.attempts': 1,
    'http.response.status_code': 200,
  })
  assert.equal(spans[1].status.message, 'UNAUTHORIZED')
  assert.equal(spans[1].attributes['http.response.status_code'], 401)
  assert.ok(
    !JSON.stringify(spans.map((s) => [s.attributes, s.status, s.events])).includes(header.Authorization.slice(7)),
  )
})
