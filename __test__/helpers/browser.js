'use strict'
// The Chromium that the browser tests drive, chosen in one place, first match wins:
//   1. CHROMIUM_PATH, when set (a path that does not exist fails; it never falls back);
//   2. a system Chromium: /usr/bin/chromium, `chromium` or `chromium-browser` on PATH; on macOS
//      an installed Chromium or Google Chrome; on Windows Google Chrome, else Microsoft Edge
//      (Chromium-based, part of Windows);
//   3. on Linux x64, the headless Chromium that the @sparticuz/chromium npm package carries in
//      its tarball (a devDependency), unpacked once into .cache/chromium/<version>/.
// Nothing is skipped: where none of these exists, finding it throws and says what to set.
//
// As a script it prints the executable's path (for runs that cannot unpack it themselves):
//   node __test__/helpers/browser.js

const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const ROOT = path.join(__dirname, '..', '..')
const CACHE = path.join(ROOT, '.cache', 'chromium')

/**
 * Flags for a root user in a container with no GPU and no network beyond 127.0.0.1. Playwright
 * adds `--headless` (headless: true) and starts each launch with a new, empty user-data-dir
 * (a temporary profile it removes on close).
 */
const LAUNCH_ARGS = Object.freeze([
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
])

const SYSTEM_PATHS = {
  linux: ['/usr/bin/chromium'],
  darwin: [
    '/Applications/Chromium.app/Contents/MacOS/Chromium',
    '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  ],
  win32: [
    ['Google', 'Chrome', 'Application', 'chrome.exe'],
    ['Microsoft', 'Edge', 'Application', 'msedge.exe'],
  ].flatMap((exe) =>
    [process.env.PROGRAMFILES, process.env['PROGRAMFILES(X86)'], process.env.LOCALAPPDATA]
      .filter(Boolean)
      .map((dir) => path.join(dir, ...exe)),
  ),
}

function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK)
    return fs.statSync(file).isFile()
  } catch {
    return false
  }
}

function onPath(name) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, name))) return path.join(dir, name)
  }
  return null
}

function systemChromium() {
  for (const file of SYSTEM_PATHS[process.platform] || []) if (isExecutable(file)) return file
  if (process.platform === 'linux') return onPath('chromium') || onPath('chromium-browser')
  return null
}

/**
 * Unpacks @sparticuz/chromium into .cache/chromium/<version>/ unless already there. The package
 * unpacks into os.tmpdir() and trusts any file already at <tmpdir>/chromium, so it runs in a
 * child whose TMPDIR is a fresh staging folder, which is then renamed into place: concurrent
 * runs (the leak test re-runs the suite, other checkouts share nothing) never see half a file.
 */
function npmChromium() {
  if (process.platform !== 'linux' || process.arch !== 'x64') return null
  let entry
  try {
    entry = require.resolve('@sparticuz/chromium')
  } catch {
    return null
  }
  const pkg = JSON.parse(fs.readFileSync(path.join(path.dirname(entry), '..', 'package.json'), 'utf8'))
  const dir = path.join(CACHE, pkg.version)
  const executable = path.join(dir, 'chromium')
  const source = `${pkg.name} ${pkg.version}`
  if (isExecutable(executable)) return { path: executable, source, unpackMs: 0 }

  fs.mkdirSync(CACHE, { recursive: true })
  const staging = fs.mkdtempSync(path.join(CACHE, '.unpack-'))
  const start = process.hrtime.bigint()
  try {
    const script = `const { default: c } = await import(${JSON.stringify(require('node:url').pathToFileURL(entry).href)})
process.stdout.write(await c.executablePath())`
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, TMPDIR: staging },
      encoding: 'utf8',
      timeout: 120_000,
    })
    if (path.resolve(out.trim()) !== path.join(staging, 'chromium'))
      throw new Error(`${source} unpacked to ${out.trim()}, not into ${staging}`)
    fs.chmodSync(staging, 0o755) // mkdtemp made it 0700
    try {
      fs.renameSync(staging, dir)
    } catch (error) {
      if (!['EEXIST', 'ENOTEMPTY'].includes(error.code) || !isExecutable(executable)) throw error
      // Another run finished first: use its copy.
    }
  } finally {
    fs.rmSync(staging, { recursive: true, force: true })
  }
  return { path: executable, source, unpackMs: Number(process.hrtime.bigint() - start) / 1e6 }
}

/** The Chromium to launch: `{ path, source, unpackMs }`; throws when there is none. */
function findChromium() {
  const fromEnv = process.env.CHROMIUM_PATH
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new Error(`CHROMIUM_PATH=${fromEnv} is not an executable file`)
    return { path: fromEnv, source: 'CHROMIUM_PATH', unpackMs: 0 }
  }
  const system = systemChromium()
  if (system) return { path: system, source: 'system', unpackMs: 0 }
  const fromNpm = npmChromium()
  if (fromNpm) return fromNpm
  throw new Error(
    `no Chromium for the browser tests on ${process.platform}-${process.arch}: install Chromium or Google ` +
      'Chrome, or set CHROMIUM_PATH to its executable (the @sparticuz/chromium fallback is Linux x64 only)',
  )
}

/** Launches headless Chromium with playwright-core: `{ browser, path, source, unpackMs, launchMs }`. */
async function launchChromium({ timeout = 30_000 } = {}) {
  const { chromium } = require('playwright-core')
  const found = findChromium()
  const start = process.hrtime.bigint()
  let browser
  try {
    browser = await chromium.launch({ executablePath: found.path, headless: true, args: [...LAUNCH_ARGS], timeout })
  } catch (error) {
    error.message = `launching Chromium from ${found.source} (${found.path}) failed: ${error.message}`
    throw error
  }
  return { browser, ...found, launchMs: Number(process.hrtime.bigint() - start) / 1e6 }
}

module.exports = { findChromium, launchChromium, LAUNCH_ARGS }

if (require.main === module) console.log(findChromium().path)
