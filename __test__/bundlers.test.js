'use strict'
// The esbuild routes of README "Bundlers and frameworks", each built with esbuild's API exactly as
// the README's command line would, then run from a folder that holds only the build output (as
// a Lambda zip or a Docker layer would) and used for a real exchange against the mock:
//   node CJS + --loader:.node=copy, CJS + --loader:.node=file, ESM + copy + createRequire banner,
//   --external:vendor-auth (CJS and ESM); and the routes that cannot work fail with a message
//   naming the cause and the fix: no loader at all (esbuild's build error), an ESM bundle without
//   `require` (UNSUPPORTED_PLATFORM naming the "Dynamic require"), and a browser bundle (a
//   'use client' import: builds, and evaluating it throws SERVER_ONLY).
// The edge recipe: esbuild under wrangler's conditions (workerd, worker, browser) stops at the
// .wasm without a plugin; with `vendor-auth/esbuild`'s, the output folder (the bundle and the
// .wasm beside it) runs in a real workerd against the mock.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const { spawn } = require('node:child_process')

const esbuild = require('esbuild')
const { startMockVendor, MOCK_CREDENTIALS } = require('../testing')
const { ROOT, runNode, lastJsonLine, closedPort, waitFor } = require('./helpers/util')

const CJS_APP = `'use strict'
const { authenticate, createClient } = require('vendor-auth')
async function main() {
  const options = { provider: 'puppetvendors', apiKey: 'vk_test_mockkey', baseUrl: process.env.MOCK_BASE_URL, caCert: process.env.MOCK_CA }
  const session = await authenticate(options)
  const client = createClient(options)
  const header = await client.authHeader()
  client.close()
  console.log(JSON.stringify({ provider: session.provider, header: Object.keys(header) }))
}
main().catch((error) => { console.log(JSON.stringify({ code: error.code, message: error.message })); process.exitCode = 1 })
`

// A dynamic import, so that a failure to load is caught and reported like the CommonJS app's.
const ESM_APP = `const options = { provider: 'vendy', accessKey: 'vendy-test-access-key', secretKey: 'vendy-test-secret-key', baseUrl: process.env.MOCK_BASE_URL, caCert: process.env.MOCK_CA }
try {
  const { authenticate } = await import('vendor-auth')
  const session = await authenticate(options)
  console.log(JSON.stringify({ provider: session.provider, header: [session.headerName] }))
} catch (error) {
  console.log(JSON.stringify({ code: error.code, message: error.message }))
  process.exitCode = 1
}
`

/** The README's esbuild recipe for edge runtimes: a Worker and its build script. */
const EDGE_RECIPE = path.join(__dirname, 'fixtures', 'esbuild-edge')

const CREATE_REQUIRE = "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);"

let mock
let project

test.before(async () => {
  mock = await startMockVendor()
  // A user's project: its source and node_modules/vendor-auth (this package).
  project = fs.mkdtempSync(path.join(os.tmpdir(), 'vendor-auth-bundlers-'))
  fs.mkdirSync(path.join(project, 'node_modules'))
  fs.symlinkSync(ROOT, path.join(project, 'node_modules', 'vendor-auth'), 'dir')
  fs.writeFileSync(path.join(project, 'app.cjs'), CJS_APP)
  fs.writeFileSync(path.join(project, 'sloppy.cjs'), CJS_APP.replace("'use strict'\n", ''))
  fs.writeFileSync(path.join(project, 'app.mjs'), ESM_APP)
  for (const file of ['worker.js', 'build.mjs']) fs.copyFileSync(path.join(EDGE_RECIPE, file), path.join(project, file))
  fs.symlinkSync(path.join(ROOT, 'node_modules', 'esbuild'), path.join(project, 'node_modules', 'esbuild'), 'dir')
  fs.writeFileSync(
    path.join(project, 'client.mjs'),
    "import { createClient } from 'vendor-auth'\nexport default createClient\n",
  )
})

test.after(async () => {
  await mock.close()
  if (project) fs.rmSync(project, { recursive: true, force: true })
})

/** esbuild `entry` with `options`; returns `{ outdir, warnings }`, or `{ errors }` when the build fails. */
async function bundle(entry, options) {
  const outdir = fs.mkdtempSync(path.join(project, 'out-'))
  try {
    const result = await esbuild.build({
      entryPoints: [path.join(project, entry)],
      bundle: true,
      outdir,
      absWorkingDir: project,
      logLevel: 'silent',
      ...options,
    })
    return { outdir, warnings: result.warnings }
  } catch (error) {
    return { errors: error.errors }
  }
}

/** Copy the build output alone to a fresh folder (no node_modules) and run `file` there. */
async function deployAndRun(outdir, file, { keepModules = false } = {}) {
  const deployed = keepModules ? outdir : fs.mkdtempSync(path.join(os.tmpdir(), 'vendor-auth-deployed-'))
  if (!keepModules) fs.cpSync(outdir, deployed, { recursive: true })
  try {
    const result = await runNode([path.join(deployed, file)], {
      cwd: deployed,
      env: { MOCK_BASE_URL: mock.baseUrl, MOCK_CA: mock.caCert, NODE_OPTIONS: '' },
    })
    return { ...result, files: fs.readdirSync(deployed).sort() }
  } finally {
    if (!keepModules) fs.rmSync(deployed, { recursive: true, force: true })
  }
}

test('esbuild --bundle --platform=node without a .node loader fails at build time, naming the .node file', async () => {
  const { errors } = await bundle('app.cjs', { platform: 'node' })
  assert.ok(errors && errors.length > 0, 'the build should fail')
  const text = errors.map((e) => e.text).join('\n')
  assert.match(text, /No loader is configured for "\.node" files/)
  assert.match(errors.map((e) => e.location && e.location.file).join(' '), /binding\.js/)
})

test('node CJS + --loader:.node=copy: the bundle and the copied addon run alone', async () => {
  const { outdir, warnings } = await bundle('app.cjs', { platform: 'node', loader: { '.node': 'copy' } })
  assert.deepEqual(warnings, [])
  const before = mock.count('pv.authenticate')
  const run = await deployAndRun(outdir, 'app.js')
  assert.equal(run.code, 0, run.stdout + run.stderr)
  assert.deepEqual(lastJsonLine(run.stdout), { provider: 'puppetvendors', header: ['x-access-token'] })
  assert.ok(
    run.files.some((f) => /^vendor-auth\..+\.node$/.test(f)),
    run.files.join(', '),
  )
  assert.equal(mock.count('pv.authenticate') - before, 2, 'authenticate() and the client: one exchange each')
})

test('node CJS + --loader:.node=file: the emitted addon is loaded from its path (was: TypeError knownOptions)', async () => {
  // A 'use strict' entry makes the whole bundle strict, and binding.js then throws on the path
  // string instead of returning it: both are handled.
  for (const entry of ['app.cjs', 'sloppy.cjs']) {
    const { outdir } = await bundle(entry, { platform: 'node', loader: { '.node': 'file' } })
    const file = entry.replace('.cjs', '.js')
    const run = await deployAndRun(outdir, file)
    assert.equal(run.code, 0, `${entry}: ${run.stdout}${run.stderr}`)
    assert.deepEqual(lastJsonLine(run.stdout), { provider: 'puppetvendors', header: ['x-access-token'] })
  }
})

test('ESM + copy without a require: UNSUPPORTED_PLATFORM names the dynamic require and both fixes', async () => {
  const { outdir } = await bundle('app.mjs', {
    platform: 'node',
    format: 'esm',
    outExtension: { '.js': '.mjs' },
    loader: { '.node': 'copy' },
  })
  const run = await deployAndRun(outdir, 'app.mjs')
  assert.equal(run.code, 1, run.stdout + run.stderr)
  const { code, message } = lastJsonLine(run.stdout)
  assert.equal(code, 'UNSUPPORTED_PLATFORM')
  assert.match(message, /bundled into an ES module that has no `require`/)
  assert.match(message, /Dynamic require of "fs" is not supported/)
  assert.match(message, /--external:vendor-auth/)
  assert.match(message, /createRequire\(import\.meta\.url\)/)
  assert.doesNotMatch(message, /reinstall|--omit=optional/, 'not the missing-package advice')
})

test('ESM + copy + the createRequire banner: runs alone', async () => {
  const { outdir } = await bundle('app.mjs', {
    platform: 'node',
    format: 'esm',
    outExtension: { '.js': '.mjs' },
    loader: { '.node': 'copy' },
    banner: { js: CREATE_REQUIRE },
  })
  const run = await deployAndRun(outdir, 'app.mjs')
  assert.equal(run.code, 0, run.stdout + run.stderr)
  assert.deepEqual(lastJsonLine(run.stdout), { provider: 'vendy', header: ['Authorization'] })
})

test('--external:vendor-auth (CJS and ESM): the bundle loads vendor-auth from node_modules', async () => {
  for (const [entry, format, file] of [
    ['app.cjs', 'cjs', 'app.js'],
    ['app.mjs', 'esm', 'app.mjs'],
  ]) {
    const { outdir } = await bundle(entry, {
      platform: 'node',
      format,
      outExtension: format === 'esm' ? { '.js': '.mjs' } : undefined,
      external: ['vendor-auth'],
    })
    const bundled = fs.readFileSync(path.join(outdir, file), 'utf8')
    assert.ok(!bundled.includes('knownOptions'), 'nothing of vendor-auth is in the bundle')
    // Run where the project's node_modules is reachable (the output folder is inside it).
    const run = await deployAndRun(outdir, file, { keepModules: true })
    assert.equal(run.code, 0, `${format}: ${run.stdout}${run.stderr}`)
    assert.ok(lastJsonLine(run.stdout).provider, run.stdout)
  }
})

test("a browser bundle ('use client' import) builds, and evaluating it throws SERVER_ONLY", async () => {
  const { outdir, warnings, errors } = await bundle('client.mjs', { platform: 'browser', format: 'esm' })
  assert.equal(errors, undefined)
  assert.deepEqual(
    warnings.map((w) => w.text),
    [],
    'no "export not found" / "will always be undefined" warning',
  )
  const code = fs.readFileSync(path.join(outdir, 'client.js'), 'utf8')
  assert.ok(!code.includes('knownOptions') && !code.includes('binding.js'), 'nothing native is bundled')
  const run = await deployAndRun(outdir, 'client.js')
  assert.notEqual(run.code, 0)
  assert.match(run.stderr, /VendorAuthError: vendor-auth is server-only/)
})

// README "Edge runtimes", esbuild: wrangler's conditions, platform neutral, ESM.
const WORKERD_BUILD = { platform: 'neutral', format: 'esm', conditions: ['workerd', 'worker', 'browser'] }

test("esbuild for workerd or Vercel's conditions without a plugin stops at the .wasm", async () => {
  for (const conditions of [WORKERD_BUILD.conditions, ['edge-light', 'worker', 'browser']]) {
    const { errors } = await bundle('worker.js', { ...WORKERD_BUILD, conditions })
    assert.ok(errors && errors.length > 0, `${conditions}: the build should fail`)
    assert.match(errors.map((e) => e.text).join('\n'), /No loader is configured for "\.wasm" files/)
  }
})

test("vendor-auth/esbuild: the .wasm stays a module beside the bundle (?module kept for Vercel's entry)", async () => {
  const { vendorAuthWasm } = await import('vendor-auth/esbuild')
  const edgeLight = await bundle('worker.js', {
    ...WORKERD_BUILD,
    conditions: ['edge-light', 'worker', 'browser'],
    plugins: [vendorAuthWasm()],
  })
  assert.match(
    fs.readFileSync(path.join(edgeLight.outdir, 'worker.js'), 'utf8'),
    /from "\.\/vendor_auth_bg\.wasm\?module"/,
  )
  assert.deepEqual(fs.readdirSync(edgeLight.outdir).sort(), ['vendor_auth_bg.wasm', 'worker.js'])
  const notCopied = await bundle('worker.js', { ...WORKERD_BUILD, plugins: [vendorAuthWasm({ copy: false })] })
  assert.deepEqual(fs.readdirSync(notCopied.outdir), ['worker.js'])
  assert.ok(fs.existsSync(require('vendor-auth/esbuild').wasmPath))
})

test("the README's esbuild recipe (fixtures/esbuild-edge/build.mjs) run as written: dist/ alone runs in workerd, one exchange", async () => {
  const dist = path.join(project, 'dist')
  fs.rmSync(dist, { recursive: true, force: true })
  const built = await runNode([path.join(project, 'build.mjs')], { cwd: project, env: { NODE_OPTIONS: '' } })
  assert.equal(built.code, 0, built.stdout + built.stderr)
  assert.deepEqual(fs.readdirSync(dist).sort(), ['vendor_auth_bg.wasm', 'worker.js'])
  assert.match(fs.readFileSync(path.join(dist, 'worker.js'), 'utf8'), /from "\.\/vendor_auth_bg\.wasm"/)
  // dist/ alone, as deployed: workerd embeds the .wasm as a compiled module (`wasm = embed`).
  const deployed = fs.mkdtempSync(path.join(os.tmpdir(), 'vendor-auth-workerd-'))
  fs.cpSync(dist, deployed, { recursive: true })
  fs.writeFileSync(path.join(deployed, 'mock-ca.pem'), mock.caCert)
  const port = await closedPort()
  fs.writeFileSync(
    path.join(deployed, 'config.capnp'),
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "internet", network = (allow = ["local"], tlsOptions = (trustedCertificates = [embed "mock-ca.pem"]))),
  ],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);
const worker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "vendor_auth_bg.wasm", wasm = embed "vendor_auth_bg.wasm"),
  ],
  compatibilityDate = "2025-06-01",
  bindings = [
    (name = "MOCK_BASE_URL", fromEnvironment = "MOCK_BASE_URL"),
    (name = "PUPPETVENDORS_API_KEY", fromEnvironment = "PUPPETVENDORS_API_KEY"),
  ],
);
`,
  )
  const workerd = spawn(require('workerd').default, ['serve', path.join(deployed, 'config.capnp')], {
    cwd: deployed,
    env: { ...process.env, MOCK_BASE_URL: mock.baseUrl, PUPPETVENDORS_API_KEY: MOCK_CREDENTIALS.puppetvendors.apiKey },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let log = ''
  workerd.stdout.setEncoding('utf8').on('data', (c) => (log += c))
  workerd.stderr.setEncoding('utf8').on('data', (c) => (log += c))
  try {
    const before = mock.count('pv.authenticate')
    const answers = []
    await waitFor(
      async () => {
        if (workerd.exitCode !== null) assert.fail(`workerd exited (${workerd.exitCode}): ${log}`)
        const res = await fetch(`http://127.0.0.1:${port}/`).catch(() => null)
        if (res) answers.push({ status: res.status, body: await res.text() })
        return res
      },
      { timeoutMs: 30_000, intervalMs: 100, what: 'workerd to answer' },
    )
    const again = await fetch(`http://127.0.0.1:${port}/`)
    answers.push({ status: again.status, body: await again.text() })
    for (const { status, body } of answers) {
      assert.equal(status, 200, `${body}\n${log}`)
      assert.deepEqual(JSON.parse(body), { header: ['x-access-token'], token: true })
    }
    assert.equal(mock.count('pv.authenticate') - before, 1, 'the module-scope client exchanged once')
  } finally {
    const closed = new Promise((resolve) => workerd.once('close', resolve))
    workerd.kill('SIGTERM')
    await closed
    fs.rmSync(deployed, { recursive: true, force: true })
  }
})

// A bundle deployed without the .node its bundler copied beside it (a zip that took app.js
// only): the Node fallback loads the WebAssembly build from the bundle's folder (was: from
// `<bundle folder>/../../wasm/`, where nothing is), or the error names each file to ship there.

/** The build output's `files` (names in `outdir`) and `extra` absolute paths, in `<fresh>/dist/`. */
async function runShipped(outdir, file, files, extra = []) {
  const deployed = fs.mkdtempSync(path.join(os.tmpdir(), 'vendor-auth-shipped-'))
  const dist = path.join(deployed, 'dist')
  fs.mkdirSync(dist)
  for (const name of files) fs.copyFileSync(path.join(outdir, name), path.join(dist, name))
  for (const source of extra) fs.copyFileSync(source, path.join(dist, path.basename(source)))
  try {
    const run = await runNode([path.join(dist, file)], {
      cwd: deployed,
      env: { MOCK_BASE_URL: mock.baseUrl, MOCK_CA: mock.caCert, NODE_OPTIONS: '', DEBUG: 'vendor-auth' },
    })
    return { ...run, dist }
  } finally {
    fs.rmSync(deployed, { recursive: true, force: true })
  }
}

const WASM_BUILD = ['vendor_auth.cjs', 'vendor_auth_bg.wasm'].map((file) => path.join(ROOT, 'wasm', file))

test('a bundle whose .node was left behind: UNSUPPORTED_PLATFORM names the addon and the WebAssembly files to ship beside it', async () => {
  const { outdir } = await bundle('app.cjs', { platform: 'node', loader: { '.node': 'copy' } })
  const addon = fs.readdirSync(outdir).find((f) => f.endsWith('.node'))
  assert.ok(addon, 'esbuild copied the addon beside the bundle')
  for (const [shipped, missing] of [
    [[], ['vendor_auth.cjs', 'vendor_auth_bg.wasm']],
    [[WASM_BUILD[1]], ['vendor_auth.cjs']],
  ]) {
    const run = await runShipped(outdir, 'app.js', ['app.js'], shipped)
    assert.equal(run.code, 1, run.stdout + run.stderr)
    // require('vendor-auth') throws (the app's first line): Node prints it.
    assert.match(run.stderr, /code: 'UNSUPPORTED_PLATFORM'/)
    const message = /^VendorAuthError: (.*)$/m.exec(run.stderr)?.[1] ?? run.stderr
    assert.ok(message.includes(`ship ${path.join(run.dist, addon)} with the bundle`), message)
    for (const file of missing) assert.ok(message.includes(path.join(run.dist, file)), `${file}: ${message}`)
    assert.match(
      message,
      /ship vendor_auth\.cjs and vendor_auth_bg\.wasm from node_modules\/vendor-auth\/wasm\/ beside the bundle/,
    )
    assert.doesNotMatch(message, /\/wasm\/vendor_auth\.cjs'|reinstall|--omit=optional|no prebuilt binary/, message)
  }
})

test('a bundle whose .node was left behind runs on the WebAssembly build shipped beside it (CJS and ESM)', async () => {
  for (const [entry, options, file, endpoint, exchanges] of [
    ['app.cjs', {}, 'app.js', 'pv.authenticate', 2],
    [
      'app.mjs',
      { format: 'esm', outExtension: { '.js': '.mjs' }, banner: { js: CREATE_REQUIRE } },
      'app.mjs',
      'vendy.auth',
      1,
    ],
  ]) {
    const { outdir } = await bundle(entry, { platform: 'node', loader: { '.node': 'copy' }, ...options })
    assert.ok(fs.readdirSync(outdir).some((f) => f.endsWith('.node')))
    const before = mock.count(endpoint)
    const run = await runShipped(outdir, file, [file], WASM_BUILD)
    assert.equal(run.code, 0, `${entry}: ${run.stdout}${run.stderr}`)
    assert.ok(lastJsonLine(run.stdout).provider, run.stdout)
    assert.ok(run.stderr.includes(`using the WebAssembly build in ${run.dist}`), run.stderr)
    assert.equal(mock.count(endpoint) - before, exchanges, entry)
  }
})
