'use strict'
// What the Next.js and edge-runtime tests share (__test__/next/*.test.js, run by `npm run
// test:next`, not by `npm test`: each Next build takes 15-40 s on 2 cores):
//   - next, react, react-dom (the versions of __test__/fixtures/next-app/package.json) and
//     edge-runtime installed from npm once into a cache folder outside the repository, reused by
//     later runs: $VENDOR_AUTH_TEST_CACHE, else $XDG_CACHE_HOME/vendor-auth-tests, else
//     ~/.cache/vendor-auth-tests, one folder per set of versions;
//   - vendor-auth as users receive it: `npm pack` of this repository, unpacked into the app's
//     node_modules (what npm does with a package that has no dependencies), with the
//     linux-x64-gnu platform package beside it where this is such a host;
//   - an app: a fixture folder copied next to the cache, its node_modules hard links to the
//     cache's (Turbopack compiles nothing outside the app's root, so a symlink will not do);
//   - `next build` and `next start` in child processes, the mock vendor's CA trusted through
//     NODE_EXTRA_CA_CERTS, and the keys in the environment of `next start` only (the build has no
//     secret, as in CI);
//   - a stand-in for the vendors' APIs on 127.0.0.1 that accepts a request only with a token the
//     mock vendor issued (mock.verify) and says what it saw.
// `node __test__/next/harness.js` installs the cache and prints where it is.

const assert = require('node:assert/strict')
const fs = require('node:fs')
const http = require('node:http')
const os = require('node:os')
const path = require('node:path')
const { execFileSync, spawn } = require('node:child_process')

const { ROOT, closedPort, waitFor } = require('../helpers/util')

const FIXTURES = path.join(ROOT, '__test__', 'fixtures')
const APP_PACKAGE = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'next-app', 'package.json'), 'utf8'))
/** What the cache holds: the fixture app's Next.js and React, and Vercel's edge-runtime. */
const VERSIONS = Object.freeze({
  next: APP_PACKAGE.dependencies.next,
  react: APP_PACKAGE.dependencies.react,
  'react-dom': APP_PACKAGE.dependencies['react-dom'],
  'edge-runtime': '4.0.1',
})
const PLATFORM_PACKAGE = 'vendor-auth-linux-x64-gnu'
const KEEP = process.env.KEEP_NEXT_TEST_TMP === '1'

/** The environment for npm and Next.js: no npm_* of an enclosing `npm run`, no telemetry. */
function childEnv(extra = {}) {
  const env = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(key) || key === 'NODE_OPTIONS') continue
    env[key] = value
  }
  return { ...env, NEXT_TELEMETRY_DISABLED: '1', ...extra }
}

function cacheRoot() {
  if (process.env.VENDOR_AUTH_TEST_CACHE) return path.resolve(process.env.VENDOR_AUTH_TEST_CACHE)
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache')
  return path.join(base, 'vendor-auth-tests')
}

/**
 * The cache's node_modules, installed from npm on first use (about 20 s): into a staging folder,
 * renamed into place once complete, so that an interrupted install is never taken for a cache.
 */
function ensureNextModules() {
  const root = cacheRoot()
  const key = Object.entries(VERSIONS)
    .map(([name, version]) => `${name}-${version}`)
    .join('_')
  const dir = path.join(root, key)
  const modules = path.join(dir, 'node_modules')
  if (fs.existsSync(path.join(dir, '.complete'))) return { modules, installed: false, dir }
  fs.mkdirSync(root, { recursive: true })
  const staging = fs.mkdtempSync(path.join(root, `${key}.staging-`))
  try {
    const pkg = { name: 'vendor-auth-test-cache', private: true, dependencies: VERSIONS }
    fs.writeFileSync(path.join(staging, 'package.json'), JSON.stringify(pkg, null, 2) + '\n')
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: staging,
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 300_000,
    })
    fs.writeFileSync(path.join(staging, '.complete'), `${new Date().toISOString()}\n`)
    fs.rmSync(dir, { recursive: true, force: true })
    fs.renameSync(staging, dir)
  } catch (error) {
    fs.rmSync(staging, { recursive: true, force: true })
    if (fs.existsSync(path.join(dir, '.complete'))) return { modules, installed: false, dir } // a concurrent run won
    throw new Error(`npm install of ${JSON.stringify(VERSIONS)} failed: ${error.stderr || error.message}`)
  }
  return { modules, installed: true, dir }
}

/** `npm pack` of this repository into `dest`: the tarball's path. */
function packVendorAuth(dest) {
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', dest], {
    cwd: ROOT,
    env: childEnv(),
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const [report] = JSON.parse(out)
  return path.join(dest, report.filename)
}

/** The platform package's files (package.json and the addon), where this host is linux-x64-gnu. */
function platformPackageFiles() {
  const addon = path.join(ROOT, 'vendor-auth.linux-x64-gnu.node')
  const glibc = process.platform === 'linux' && process.report?.getReport().header.glibcVersionRuntime
  if (process.arch !== 'x64' || !glibc || !fs.existsSync(addon)) return null
  return [path.join(ROOT, 'npm', 'linux-x64-gnu', 'package.json'), addon]
}

/**
 * A run's workspace: the cache, the packed tarball and a folder for its apps (beside the cache,
 * on its file system, for the hard links). `dispose()` removes the apps (KEEP_NEXT_TEST_TMP=1
 * keeps them).
 */
function workspace() {
  const cache = ensureNextModules()
  removeStaleRuns()
  const apps = fs.mkdtempSync(path.join(cacheRoot(), 'run-'))
  const tarball = packVendorAuth(apps)
  return {
    cache,
    tarball,
    /** A copy of fixture folders (later ones over earlier ones) with node_modules and vendor-auth. */
    app(name, fixtures, { platformPackage = false } = {}) {
      const dir = path.join(apps, name)
      for (const fixture of fixtures) fs.cpSync(path.join(FIXTURES, fixture), dir, { recursive: true })
      try {
        execFileSync('cp', ['-al', cache.modules, path.join(dir, 'node_modules')], { stdio: 'pipe' })
      } catch {
        fs.cpSync(cache.modules, path.join(dir, 'node_modules'), { recursive: true, verbatimSymlinks: true })
      }
      const own = path.join(dir, 'node_modules', 'vendor-auth')
      fs.mkdirSync(own)
      execFileSync('tar', ['-xzf', tarball, '-C', own, '--strip-components=1'], { stdio: 'pipe' })
      const platform = platformPackage && platformPackageFiles()
      if (platform) {
        const target = path.join(dir, 'node_modules', PLATFORM_PACKAGE)
        fs.mkdirSync(target)
        for (const file of platform) fs.copyFileSync(file, path.join(target, path.basename(file)))
      }
      return { dir, platformPackage: Boolean(platform) }
    },
    dispose() {
      if (!KEEP) fs.rmSync(apps, { recursive: true, force: true })
    },
  }
}

/** The apps of runs that ended without disposing of them (killed), once a day old. */
function removeStaleRuns() {
  const root = cacheRoot()
  for (const name of fs.readdirSync(root)) {
    const dir = path.join(root, name)
    if (!/^run-|\.staging-/.test(name)) continue
    if (Date.now() - fs.statSync(dir).mtimeMs > 24 * 3600_000) fs.rmSync(dir, { recursive: true, force: true })
  }
}

/** `next build` (Turbopack, Next 16's default) or `next build --webpack` in `dir`; its output. */
async function nextBuild(dir, builder) {
  const args = [path.join(dir, 'node_modules', 'next', 'dist', 'bin', 'next'), 'build']
  if (builder === 'webpack') args.push('--webpack')
  const started = Date.now()
  const { code, output } = await new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: dir, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
    let text = ''
    child.stdout.setEncoding('utf8').on('data', (c) => (text += c))
    child.stderr.setEncoding('utf8').on('data', (c) => (text += c))
    child.on('close', (exitCode) => resolve({ code: exitCode, output: text }))
  })
  assert.equal(code, 0, `next build (${builder}) failed in ${dir}:\n${output}`)
  return { output, seconds: (Date.now() - started) / 1000 }
}

/**
 * `next start` on a free port of 127.0.0.1 with `env`, trusting `caFile`; resolves once it
 * answers a path that no middleware matches. `stop()` ends it (its process group).
 */
async function nextStart(dir, { env, caFile }) {
  const port = await closedPort()
  const bin = path.join(dir, 'node_modules', 'next', 'dist', 'bin', 'next')
  const child = spawn(process.execPath, [bin, 'start', '-p', String(port), '-H', '127.0.0.1'], {
    cwd: dir,
    env: childEnv({ ...env, NODE_EXTRA_CA_CERTS: caFile }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  let log = ''
  child.stdout.setEncoding('utf8').on('data', (c) => (log += c))
  child.stderr.setEncoding('utf8').on('data', (c) => (log += c))
  const server = {
    base: `http://127.0.0.1:${port}`,
    log: () => log,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      const closed = new Promise((resolve) => child.once('close', resolve))
      try {
        process.kill(-child.pid, 'SIGTERM')
      } catch {
        child.kill('SIGTERM')
      }
      await closed
    },
  }
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) assert.fail(`next start exited (${child.exitCode}): ${log}`)
        return fetch(`${server.base}/__not-matched`).then(
          () => true,
          () => false,
        )
      },
      { timeoutMs: 30_000, intervalMs: 50, what: 'next start to listen' },
    )
  } catch (error) {
    await server.stop()
    throw error
  }
  return server
}

/**
 * The vendors' APIs, stood in for on 127.0.0.1: 200 with `{ verified, provider, path, cookie }`
 * when the request carries a token the mock issued (in the vendor's header), 401 otherwise.
 * Never echoes the token. `seen`: what each request carried.
 */
async function vendorApi(mock) {
  const seen = []
  const server = http.createServer((req, res) => {
    const claims = mock.verify(req.headers)
    seen.push({ url: req.url, verified: claims !== null, cookie: req.headers.cookie ?? null })
    const body = { verified: claims !== null, provider: claims?.provider ?? null, path: req.url }
    res.writeHead(claims ? 200 : 401, { 'content-type': 'application/json' }).end(JSON.stringify(body))
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    seen,
    close: () => {
      server.closeAllConnections()
      return new Promise((resolve) => server.close(resolve))
    },
  }
}

module.exports = {
  VERSIONS,
  FIXTURES,
  cacheRoot,
  ensureNextModules,
  workspace,
  nextBuild,
  nextStart,
  vendorApi,
  childEnv,
}

if (require.main === module) {
  const started = Date.now()
  const { dir, installed } = ensureNextModules()
  const took = ((Date.now() - started) / 1000).toFixed(1)
  console.log(`${installed ? `installed in ${took} s` : 'cached'}: ${dir}`)
}
