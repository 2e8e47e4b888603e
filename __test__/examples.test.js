'use strict'
// The examples under examples/, each run against the mock vendor (its CA trusted through
// NODE_EXTRA_CA_CERTS, as a deployed app would trust a corporate CA) and a fake vendor API that
// checks every token with mock.verify(), as the real API would. Examples are written as an
// application writes them (no baseUrl, the vendors' real API URLs): the processes that run them
// preload fixtures/examples/vendor-hosts.js, which points the vendors' hosts at the mock and the
// fake API, as DNS would.
//   quick-start.mjs    the README's first example: the API refuses the first token (revoked at
//                      the vendor), invalidate(headers), then client.fetch: 2 exchanges, 200
//   authenticate.mjs   one exchange; printing the Session shows no token
//   shared-store.mjs   run twice on a real redis-server: the second process makes no exchange
//                      (skipped, naming it, where VENDOR_AUTH_TEST_NO_REDIS says there is none)
//   express/app.js     200 concurrent GET /wallets on a cold start → one exchange; a revoked token
//                      → client.fetch gets a new one and retries; refused keys → 502 with the code
//   nest/              compiled with tsc (decorators + metadata), run as `node dist/main.js`, and
//                      through an application context: injection by class and by token, closed by
//                      app.close()
//   lambda/handler.js  called twice in one process: the second invocation makes no request
//   testing/           a user's own node:test file against vendor-auth/testing: it passes
// Then the docs: every code snippet of README.md, CONTRIBUTING.md and docs/*.md is a region of a
// file that a test runs (here, or the test file SNIPPET_SOURCES names), copied exactly; README's
// first screen is for users, it stays under 450 lines, its Develop section holds the two commands
// of a clone, and the docs' links resolve.
// Run: node --test __test__/examples.test.js

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const http = require('node:http')
const os = require('node:os')
const path = require('node:path')

const { startMockVendor, MOCK_CREDENTIALS } = require('../testing')
const { ROOT, runNode, lastJsonLine, withEnv, assertNoSecrets } = require('./helpers/util')
const { clientFor } = require('./helpers')
const { JWT_PATTERN, runTestFiles } = require('./helpers/faults')
const { startRedis } = require('./helpers/redis')

const EXAMPLES = path.join(ROOT, 'examples')
/** Points the vendors' hosts at this file's mock vendor and fake API (see the header). */
const VENDOR_HOSTS = path.join(__dirname, 'fixtures', 'examples', 'vendor-hosts.js')
/** The files under examples/ that a test of this file has run (the snippet check asks). */
const ran = new Set()
/** The files under examples/ whose test skipped here, saying why (the snippet check accepts them). */
const skippedHere = new Set()

let mock
let api
let caFile

/**
 * A fake vendor API on loopback: every path answers 200 with what mock.verify() said, or 401.
 * `revokeNext = true`: the vendor revokes its tokens just before the next request arrives.
 */
async function startFakeApi(vendor) {
  const seen = []
  const api = { revokeNext: false }
  const server = http.createServer((req, res) => {
    if (api.revokeNext) {
      api.revokeNext = false
      vendor.revokeTokens()
    }
    const token = vendor.verify(req.headers)
    seen.push({ url: req.url, provider: token && token.provider })
    res.writeHead(token ? 200 : 401, { 'content-type': 'application/json' })
    res.end(JSON.stringify(token ? { url: req.url, items: [{ id: 1 }] } : { error: 'UNAUTHORIZED' }))
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return Object.assign(api, {
    url: `http://127.0.0.1:${server.address().port}`,
    seen,
    close: () => new Promise((resolve) => server.close(resolve)),
  })
}

test.before(async () => {
  mock = await startMockVendor()
  api = await startFakeApi(mock)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vendor-auth-examples-'))
  caFile = path.join(dir, 'mock-ca.pem')
  fs.writeFileSync(caFile, mock.caCert)
})

test.after(async () => {
  await api.close()
  await mock.close()
  fs.rmSync(path.dirname(caFile), { recursive: true, force: true })
})

/** The environment a deployed example gets: keys, the mock's CA, and where vendor-hosts.js points. */
function exampleEnv(extra = {}) {
  return {
    NODE_EXTRA_CA_CERTS: caFile,
    VENDY_ACCESS_KEY: MOCK_CREDENTIALS.vendy.accessKey,
    VENDY_SECRET_KEY: MOCK_CREDENTIALS.vendy.secretKey,
    PUPPETVENDORS_API_KEY: MOCK_CREDENTIALS.puppetvendors.apiKey,
    PUPPETVENDORS_SHOP_DOMAIN: undefined,
    VENDOR_AUTH_EXAMPLE_BASE_URL: mock.baseUrl,
    VENDOR_AUTH_EXAMPLE_API_URL: api.url,
    ...extra,
  }
}

/** `node -r vendor-hosts.js <args>` in the repository, as a deployed app (`file`: the example run). */
function runExample(file, args, { env = {}, timeoutMs = 30_000 } = {}) {
  ran.add(file)
  return runNode(['-r', VENDOR_HOSTS, ...args], { env: exampleEnv(env), timeoutMs })
}

/** Request counts at the mock since `before` (`mock.count()` by endpoint, and in all). */
function countsSince(before) {
  return {
    vendy: mock.count('vendy.auth') - before.vendy,
    pv: mock.count('pv.authenticate') - before.pv,
    all: mock.count() - before.all,
  }
}
const counts = () => ({ vendy: mock.count('vendy.auth'), pv: mock.count('pv.authenticate'), all: mock.count() })

test('quick start: the API refuses the revoked token, invalidate(headers), then client.fetch exchanges once more', async () => {
  const before = counts()
  const seen = api.seen.length
  api.revokeNext = true
  const run = await runExample('examples/quick-start.mjs', [path.join(EXAMPLES, 'quick-start.mjs')])
  assert.equal(run.code, 0, run.stdout + run.stderr)
  assert.deepEqual(lastJsonLine(run.stdout), {
    first: 401,
    then: 200,
    body: { url: '/wallets', items: [{ id: 1 }] },
  })
  assert.deepEqual(countsSince(before), { vendy: 2, pv: 0, all: 2 }, 'the first token, and one after the 401')
  // invalidate(headers) dropped the refused token, so client.fetch sent the new one at once.
  assert.deepEqual(
    api.seen.slice(seen).map((s) => s.provider),
    [null, 'vendy'],
  )
})

test('authenticate: one exchange; printing the Session shows its fields, never the token', async () => {
  const before = counts()
  const run = await runExample('examples/authenticate.mjs', [path.join(EXAMPLES, 'authenticate.mjs')])
  assert.equal(run.code, 0, run.stdout + run.stderr)
  assert.match(run.stdout, /^Session \{\n {2}provider: 'puppetvendors',\n {2}token: 'eyJhbG…',/)
  assert.match(run.stdout, /permissions: \[ 'orders:read', 'products:read' \]/)
  assert.doesNotMatch(run.stdout, JWT_PATTERN)
  assertNoSecrets(run.stdout, 'the printed session')
  assert.deepEqual(countsSince(before), { vendy: 0, pv: 1, all: 1 })
})

const NO_REDIS = process.env.VENDOR_AUTH_TEST_NO_REDIS
const noRedis = NO_REDIS && `no redis-server on this runner (VENDOR_AUTH_TEST_NO_REDIS=${NO_REDIS})`

test('shared store: the example run in two processes on one redis-server makes one exchange', async (t) => {
  if (noRedis) {
    skippedHere.add('examples/shared-store.mjs')
    return t.skip(noRedis)
  }
  const redis = await startRedis()
  t.after(() => redis.stop())
  const before = counts()
  const first = await runExample('examples/shared-store.mjs', [path.join(EXAMPLES, 'shared-store.mjs')], {
    env: { REDIS_URL: redis.url },
  })
  assert.equal(first.code, 0, first.stdout + first.stderr)
  assert.deepEqual(countsSince(before), { vendy: 0, pv: 1, all: 1 })
  const second = await runExample('examples/shared-store.mjs', [path.join(EXAMPLES, 'shared-store.mjs')], {
    env: { REDIS_URL: redis.url },
  })
  assert.equal(second.code, 0, second.stdout + second.stderr)
  for (const run of [first, second]) assert.deepEqual(lastJsonLine(run.stdout), { header: ['x-access-token'] })
  assert.deepEqual(countsSince(before), { vendy: 0, pv: 1, all: 1 }, 'the second process adopted the shared token')
})

async function listen(app) {
  const server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s))
  })
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) }
}

test('express: 200 concurrent requests on a cold start cause one exchange; a revoked token is replaced', async (t) => {
  ran.add('examples/express/app.js')
  const { createApp } = require(path.join(EXAMPLES, 'express', 'app.js'))
  mock.reset()
  const vendy = await withEnv({ NODE_EXTRA_CA_CERTS: caFile }, () =>
    clientFor(t, { provider: 'vendy', ...MOCK_CREDENTIALS.vendy, baseUrl: mock.baseUrl }),
  )
  const server = await listen(createApp(vendy, api.url))
  t.after(() => server.close())

  const responses = await Promise.all(Array.from({ length: 200 }, () => fetch(`${server.url}/wallets`)))
  assert.deepEqual([...new Set(responses.map((r) => r.status))], [200])
  assert.deepEqual(await responses[0].json(), { url: '/wallets', items: [{ id: 1 }] })
  assert.equal(mock.count('vendy.auth'), 1, 'one exchange for 200 requests')

  mock.revokeTokens() // the vendor's API now refuses the cached token
  const after = await fetch(`${server.url}/wallets`)
  assert.equal(after.status, 200)
  assert.equal(mock.count('vendy.auth'), 2, 'one new exchange after the 401')
  assert.deepEqual(
    api.seen.slice(-2).map((s) => s.provider),
    [null, 'vendy'],
  )
})

test('express: keys the vendor refuses → 502 with the error code, no secret in the answer', async (t) => {
  const { createApp } = require(path.join(EXAMPLES, 'express', 'app.js'))
  const wrong = 'vendy-sk-WRONG-0123456789'
  const vendy = clientFor(t, {
    provider: 'vendy',
    accessKey: MOCK_CREDENTIALS.vendy.accessKey,
    secretKey: wrong,
    baseUrl: mock.baseUrl,
    caCert: mock.caCert,
  })
  const server = await listen(createApp(vendy, api.url))
  t.after(() => server.close())
  const response = await fetch(`${server.url}/wallets`)
  assert.equal(response.status, 502)
  const text = await response.text()
  assert.equal(JSON.parse(text).error, 'UNAUTHORIZED')
  assert.ok(!text.includes(wrong))
})

test('nest: compiled with tsc, `node dist/main.js` prints the orders, through the module and the injected client', async () => {
  const tsc = await runNode([path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'examples/nest'], {
    timeoutMs: 120_000,
  })
  assert.equal(tsc.code, 0, tsc.stdout + tsc.stderr)
  const exchanges = mock.count('pv.authenticate')
  ran.add('examples/nest/app.module.ts')
  ran.add('examples/nest/orders.service.ts')
  const run = await runExample('examples/nest/main.ts', [path.join(EXAMPLES, 'nest', 'dist', 'main.js')])
  assert.equal(run.code, 0, run.stdout + run.stderr)
  assert.deepEqual(lastJsonLine(run.stdout), { url: '/orders?status=open', items: [{ id: 1 }] })
  assert.equal(mock.count('pv.authenticate') - exchanges, 1)
})

test('nest: the client is injectable by class and by token, one instance, closed by app.close()', async () => {
  // Needs the compiled example (the test above builds it; the files are run in order).
  const script = `
    require('reflect-metadata')
    const { NestFactory } = require('@nestjs/core')
    const { AuthClient } = require('vendor-auth')
    const { VENDOR_AUTH_CLIENT } = require('vendor-auth/nest')
    const { AppModule } = require('./examples/nest/dist/app.module.js')
    const { OrdersService } = require('./examples/nest/dist/orders.service.js')
    ;(async () => {
      const app = await NestFactory.createApplicationContext(AppModule, { logger: false })
      const client = app.get(AuthClient)
      const orders = await app.get(OrdersService).list('shipped')
      const header = Object.keys(await client.authHeader())
      await app.close()
      const closed = await client.authHeader().then(() => 'open', (error) => error.code)
      console.log(JSON.stringify({ same: client === app.get(VENDOR_AUTH_CLIENT), provider: client.provider, header, orders, closed }))
    })().catch((error) => { console.error(error); process.exitCode = 1 })
  `
  const run = await runExample('examples/nest/app.module.ts', ['-e', script])
  assert.equal(run.code, 0, run.stdout + run.stderr)
  assert.deepEqual(lastJsonLine(run.stdout), {
    same: true,
    provider: 'puppetvendors',
    header: ['x-access-token'],
    orders: { url: '/orders?status=shipped', items: [{ id: 1 }] },
    closed: 'CLOSED',
  })
})

test('lambda: two invocations in one process, the second makes no request to the vendor', async () => {
  // The runtime loads the module once (cold start), with the function's environment, then invokes it.
  const script = `
    const { handler } = require('./examples/lambda/handler.js')
    ;(async () => {
      const first = await handler({ status: 'open' })
      const second = await handler({ status: 'shipped' })
      console.log(JSON.stringify([first, second]))
    })().catch((error) => { console.error(error); process.exitCode = 1 })
  `
  const before = counts()
  const run = await runExample('examples/lambda/handler.js', ['-e', script])
  assert.equal(run.code, 0, run.stdout + run.stderr)
  const [first, second] = lastJsonLine(run.stdout)
  assert.equal(first.statusCode, 200, first.body)
  assert.deepEqual(JSON.parse(first.body), { url: '/orders?status=open', items: [{ id: 1 }] })
  assert.equal(second.statusCode, 200, second.body)
  assert.equal(JSON.parse(second.body).url, '/orders?status=shipped')
  assert.deepEqual(countsSince(before), { vendy: 0, pv: 1, all: 1 }, 'one exchange (cold), no request when warm')
  assert.deepEqual(
    api.seen.slice(-2).map((s) => s.provider),
    ['puppetvendors', 'puppetvendors'],
  )
})

test("testing: a user's own node:test file against vendor-auth/testing passes", async () => {
  ran.add('examples/testing/orders.test.js')
  const { code, output } = await runTestFiles([path.join(EXAMPLES, 'testing', 'orders.test.js')], {
    killAfterMs: 60_000,
  })
  assert.equal(code, 0, output)
  assert.match(output, /^# pass 2$/m)
  assert.match(output, /^# fail 0$/m)
})

// ------------------------------------------------------------------ the docs

/**
 * The files a snippet in the docs may be copied from, each with the test file that runs it. A
 * file run here must have been run by a test above, in this process; another test file must name
 * it. A new snippet source gets a row here, and a row no snippet uses goes (CONTRIBUTING.md,
 * "Snippets in the docs").
 */
const SNIPPET_SOURCES = {
  'examples/quick-start.mjs': 'examples.test.js',
  'examples/authenticate.mjs': 'examples.test.js',
  'examples/shared-store.mjs': 'examples.test.js',
  'examples/express/app.js': 'examples.test.js',
  'examples/lambda/handler.js': 'examples.test.js',
  'examples/nest/app.module.ts': 'examples.test.js',
  'examples/testing/orders.test.js': 'examples.test.js',
  'examples/secret-manager.mjs': 'rotation.test.js',
  'examples/tracing/otel.js': 'tracing.test.js',
  '__test__/fixtures/edge-stores/wrangler.toml': 'edge-stores.test.js',
  '__test__/fixtures/edge-stores/worker.js': 'edge-stores.test.js',
  '__test__/fixtures/edge-stores/upstash-worker.js': 'edge-stores.test.js',
  '__test__/fixtures/next-app/middleware.js': 'next/next-turbopack.test.js',
  '__test__/fixtures/esbuild-edge/build.mjs': 'bundlers.test.js',
}
/** Fences that need no source: shell lines and what a program prints (checked elsewhere if at all). */
const FREE_LANGUAGES = new Set(['sh', 'console', 'text'])
const MARKER = /^<!-- snippet: ([\w./-]+)#([\w-]+) -->$/

const read = (file) => fs.readFileSync(path.join(ROOT, file), 'utf8')

/** README.md, CONTRIBUTING.md and every docs/*.md. */
function docs() {
  const dir = path.join(ROOT, 'docs')
  const inDocs = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.md')) : []
  return ['README.md', 'CONTRIBUTING.md', ...inDocs.sort().map((f) => `docs/${f}`)]
}

/** The fenced code blocks of `markdown`: language, body, line (1-based) and the marker above it. */
function fences(markdown) {
  const lines = markdown.split('\n')
  const found = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^ {0,3}(`{3,}|~{3,})\s*([^\s`]*)/.exec(lines[i])
    if (!open) continue
    const [, fence, lang] = open
    let end = i + 1
    while (end < lines.length && !new RegExp(`^ {0,3}${fence[0]}{${fence.length},}\\s*$`).test(lines[end])) end++
    let above = i - 1
    while (above >= 0 && lines[above].trim() === '') above--
    const marker = above >= 0 ? MARKER.exec(lines[above].trim()) : null
    found.push({
      lang,
      line: i + 1,
      end: end + 1,
      body: lines.slice(i + 1, end).join('\n'),
      source: marker && { file: marker[1], region: marker[2] },
    })
    i = end
  }
  return found
}

/** The lines between `#region name` and its `#endregion` (nested markers left out), dedented; null if none. */
function region(text, name) {
  const lines = text.split('\n')
  const start = lines.findIndex((line) => new RegExp(`#region ${name}\\s*$`).test(line))
  if (start < 0) return null
  const body = []
  let depth = 1
  for (const line of lines.slice(start + 1)) {
    if (/#region \S+\s*$/.test(line)) depth++
    else if (/#endregion\s*$/.test(line) && --depth === 0) break
    else body.push(line)
  }
  if (depth !== 0) return null
  const indent = Math.min(...body.filter((l) => l.trim()).map((l) => /^ */.exec(l)[0].length))
  return body.map((l) => l.slice(indent)).join('\n')
}

test('every code snippet in README.md, CONTRIBUTING.md and docs/ is copied from a file that a test runs', () => {
  const problems = []
  const copied = new Set()
  for (const doc of docs()) {
    for (const block of fences(read(doc))) {
      const where = `${doc}:${block.line}`
      if (!block.lang) {
        problems.push(`${where}: a fence without a language`)
        continue
      }
      if (!block.source) {
        if (!FREE_LANGUAGES.has(block.lang)) {
          problems.push(`${where}: a ${block.lang} snippet without a <!-- snippet: file#region --> line above it`)
        }
        continue
      }
      const { file, region: name } = block.source
      const runner = SNIPPET_SOURCES[file]
      if (!runner) {
        problems.push(`${where}: ${file} is not a file a test runs (SNIPPET_SOURCES in __test__/examples.test.js)`)
        continue
      }
      const isRun =
        runner === 'examples.test.js'
          ? ran.has(file) || skippedHere.has(file)
          : read(`__test__/${runner}`).includes(path.basename(file))
      if (!isRun) problems.push(`${where}: ${file} was not run by ${runner} (run the whole file)`)
      const expected = region(read(file), name)
      if (expected === null) {
        problems.push(`${where}: ${file} has no region ${name} (// #region ${name} … // #endregion)`)
        continue
      }
      if (expected !== block.body) {
        const got = block.body.split('\n')
        const want = expected.split('\n')
        const at = want.findIndex((line, i) => line !== got[i])
        const line = at < 0 ? want.length : at
        problems.push(
          `${where}: differs from ${file}#${name} at its line ${line + 1}:\n` +
            `  docs: ${JSON.stringify(got[line])}\n  file: ${JSON.stringify(want[line])}`,
        )
      }
      copied.add(file)
    }
  }
  assert.deepEqual(problems, [])
  const unused = Object.keys(SNIPPET_SOURCES).filter((file) => !copied.has(file))
  assert.deepEqual(unused, [], 'SNIPPET_SOURCES rows that no snippet copies from')
})

test('README: the first screen (60 lines) is for users: what it is, the install, the quick start, what each framework needs', () => {
  const readme = read('README.md')
  const firstScreen = readme.split('\n').slice(0, 60).join('\n')
  assert.match(firstScreen, /^npm install vendor-auth$/m)
  const quickStart = fences(readme).find((b) => b.source && b.source.file === 'examples/quick-start.mjs')
  assert.ok(quickStart && quickStart.end <= 60, 'the quick start ends within the first 60 lines')
  assert.ok(quickStart.body.split('\n').length <= 14, 'the quick start is about ten lines')
  for (const where of ['Express', 'Nest', 'Next.js', 'esbuild', 'Workers', 'Lambda']) {
    assert.ok(
      firstScreen.split('\n').some((line) => line.startsWith('| ') && line.split('|')[1].includes(where)),
      `a row for ${where} in the first screen's table`,
    )
  }
  assert.doesNotMatch(firstScreen, /cargo|rustup|wasm-bindgen|Chromium/, 'no contributor tooling on the first screen')
})

test('README: under 450 lines; its Develop section has the two commands that set up and test a clone', () => {
  const readme = read('README.md')
  assert.ok(readme.split('\n').length < 450, `${readme.split('\n').length} lines`)
  const develop = readme.slice(readme.indexOf('\n## Develop\n'))
  assert.ok(develop.length < readme.length, 'a ## Develop section')
  const [block] = fences(develop)
  assert.equal(block.lang, 'sh')
  const commands = block.body.split('\n').map((line) => line.replace(/\s+#.*$/, ''))
  assert.deepEqual(commands, ['npm install && npm run demo', 'npm test'])
  // The README's test command is what CI runs, and both are scripts of the package.
  assert.match(read('.ci/run'), /^npm test$/m)
  const { scripts } = JSON.parse(read('package.json'))
  assert.ok(scripts.demo && scripts.test)
})

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function anchor(heading) {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/ /g, '-')
}

test("the docs' relative links point at files that exist, and at headings that exist", () => {
  const problems = []
  for (const doc of docs()) {
    const text = read(doc).replace(/^( {0,3})(`{3,}|~{3,})[\s\S]*?^\1\2\s*$/gm, '')
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target)) continue
      const [file, hash] = target.split('#')
      const resolved = file ? path.join(path.dirname(doc), file) : doc
      if (!fs.existsSync(path.join(ROOT, resolved))) {
        problems.push(`${doc}: ${target}: no such file`)
        continue
      }
      if (hash && resolved.endsWith('.md')) {
        const headings = [...read(resolved).matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchor(m[1]))
        if (!headings.includes(hash)) problems.push(`${doc}: ${target}: no such heading`)
      }
    }
  }
  assert.deepEqual(problems, [])
})
