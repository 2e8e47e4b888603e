'use strict'
// `npm run test:pack`: install vendor-auth the way users do and check it works there.
//
// Builds nothing itself (`npm run test:pack` first runs scripts/ensure-built.js and ensure-wasm.js): it needs
// the release addon from `npm run build` (vendor-auth.linux-x64-gnu.node in the repository root),
// wasm/ from `npm run build:wasm`, and a Linux x64 glibc host. Steps:
//   1. copy the addon into npm/linux-x64-gnu (as `napi artifacts` does before publishing);
//   2. `npm pack` the root package, with the `optionalDependencies` that `napi prepublish` adds
//      at publish time (one per `napi.targets` entry, at the root version), and the
//      linux-x64-gnu platform package; check their file lists and print their sizes;
//   3. create a fresh project in a temporary folder and `npm install` both tarballs there, plus
//      the optional peers that `vendor-auth/testing` needs and TypeScript, with PATH stripped of
//      every folder holding cargo, rustc or rustup (checked: neither is found);
//   4. there run __test__/fixtures/consumer: CommonJS require (cjs.cjs), ESM import (esm.mjs),
//      each with real exchanges against the mock of `vendor-auth/testing`; `tsc --noEmit` on
//      types.ts / types-esm.mts; with the platform package moved away, the fallback to the wasm
//      build (fallback.cjs); and the linked `vendor-auth` bin (--version).
//   5. with `--node <path to a node binary>` (repeatable; scripts/node-versions.sh passes Node 22
//      and 24): step 4 again (all but tsc) with each of those, from the same install.
// Exits non-zero on any failure. Temporary folders are removed (KEEP_PACK_TEST_TMP=1 keeps them).

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const root = path.resolve(__dirname, '..')
const fixture = path.join(root, '__test__', 'fixtures', 'consumer')
const rootPkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'))
const PLATFORM = 'linux-x64-gnu'
const STEP_TIMEOUT_MS = 180_000
/** Other node binaries to run the consumer with (`--node <path>`, repeatable). */
const otherNodes = process.argv.flatMap((arg, i, all) => (arg === '--node' && all[i + 1] ? [all[i + 1]] : []))

const results = []

function fail(message) {
  const error = new Error(message)
  error.expected = true
  throw error
}

function log(message) {
  console.log(`[pack-test] ${message}`)
}

/** Runs a command; returns stdout, or throws with the command's whole output. */
function run(command, args, options = {}) {
  const shown = [path.basename(command), ...args].join(' ')
  const result = spawnSync(command, args, {
    encoding: 'utf8',
    timeout: STEP_TIMEOUT_MS,
    maxBuffer: 64 * 1024 * 1024,
    ...options,
  })
  if (result.error || result.status !== 0) {
    const why = result.error
      ? result.error.message
      : `exit code ${result.status}${result.signal ? ` (${result.signal})` : ''}`
    fail(`\`${shown}\` failed: ${why}\n${result.stdout || ''}${result.stderr || ''}`.trimEnd())
  }
  return result.stdout
}

function step(name, fn) {
  try {
    const detail = fn()
    results.push({ name, ok: true })
    log(`ok   ${name}${detail ? `: ${detail}` : ''}`)
  } catch (error) {
    results.push({ name, ok: false })
    log(`FAIL ${name}\n${error.expected ? error.message : error.stack}`)
  }
}

function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK)
    return fs.statSync(file).isFile()
  } catch {
    return false
  }
}

/** The environment of a machine without Rust: no cargo/rustc/rustup on PATH, no Rust or npm variables. */
function rustlessEnv() {
  const dropped = []
  const kept = []
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (!dir) continue
    const rusty =
      /[\\/]\.cargo[\\/]|[\\/]\.rustup[\\/]/.test(`${dir}/`) ||
      ['cargo', 'rustc', 'rustup'].some((exe) => isExecutable(path.join(dir, exe)))
    ;(rusty ? dropped : kept).push(dir)
  }
  const env = {}
  for (const [key, value] of Object.entries(process.env)) {
    // npm_* come from `npm run` and would steer the nested npm; CARGO*/RUST* and the napi-rs
    // override would let a toolchain or another binary in.
    if (/^(npm_|cargo|rust|napi_rs_)/i.test(key) || key === 'NODE_PATH') continue
    env[key] = value
  }
  env.PATH = kept.join(path.delimiter)
  return { env, dropped }
}

function which(name, env) {
  const result = spawnSync('/bin/sh', ['-c', `command -v ${name}`], { env, encoding: 'utf8' })
  return result.status === 0 ? result.stdout.trim() : null
}

function installedVersion(name) {
  return JSON.parse(fs.readFileSync(path.join(root, 'node_modules', name, 'package.json'), 'utf8')).version
}

function formatSize(bytes) {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(2)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`
}

/** `npm pack` of `dir` into `dest`; returns npm's JSON report of the tarball. */
function npmPack(dir, dest, env) {
  const out = run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dest], { cwd: dir, env })
  const [report] = JSON.parse(out)
  report.path = path.join(dest, report.filename)
  report.packedSize = fs.statSync(report.path).size
  return report
}

async function main() {
  if (
    process.platform !== 'linux' ||
    process.arch !== 'x64' ||
    !process.report.getReport().header.glibcVersionRuntime
  ) {
    fail(
      `the pack test installs the ${PLATFORM} package and needs a Linux x64 glibc host, not ${process.platform}-${process.arch}`,
    )
  }
  const { readNapiConfig } = require('@napi-rs/cli')
  const napi = await readNapiConfig(path.join(root, 'package.json'))
  const addonName = `${napi.binaryName}.${PLATFORM}.node`
  const addon = path.join(root, addonName)
  if (!fs.existsSync(addon)) fail(`${addonName} is missing: run \`npm run build\` first (this script builds nothing)`)
  const platformDir = path.join(root, 'npm', PLATFORM)
  if (!fs.existsSync(path.join(platformDir, 'package.json')))
    fail(`npm/${PLATFORM}/package.json is missing: run \`npx napi create-npm-dirs\``)

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vendor-auth-pack-'))
  const { env: bareEnv, dropped } = rustlessEnv()
  try {
    const dist = path.join(tmp, 'dist')
    fs.mkdirSync(dist)
    let rootTgz
    let platformTgz

    step(`pack the root package and ${napi.packageName}-${PLATFORM}`, () => {
      // The root package as `napi prepublish` leaves it for `npm publish`: with an optional
      // dependency on every platform package, at the root version.
      const raw = path.join(tmp, 'raw')
      fs.mkdirSync(raw)
      const first = npmPack(root, raw, bareEnv)
      run('tar', ['-xzf', first.path, '-C', raw])
      const stagedPkgJson = path.join(raw, 'package', 'package.json')
      const staged = JSON.parse(fs.readFileSync(stagedPkgJson, 'utf8'))
      staged.optionalDependencies = { ...staged.optionalDependencies }
      for (const target of napi.targets) {
        staged.optionalDependencies[`${napi.packageName}-${target.platformArchABI}`] = staged.version
      }
      fs.writeFileSync(stagedPkgJson, JSON.stringify(staged, null, 2) + '\n')
      rootTgz = npmPack(path.join(raw, 'package'), dist, bareEnv)

      fs.copyFileSync(addon, path.join(platformDir, addonName))
      platformTgz = npmPack(platformDir, dist, bareEnv)

      const rootFiles = rootTgz.files.map((f) => f.path)
      const strays = rootFiles.filter(
        (f) => f.endsWith('.node') || f.endsWith('.tgz') || /^(src|target|npm|__test__)\//.test(f),
      )
      if (strays.length) fail(`the root tarball holds files it should not: ${strays.join(', ')}`)
      for (const needed of [
        'package.json',
        'binding.js',
        'binding.d.ts',
        'lib/index.js',
        'lib/index.mjs',
        'lib/index.d.ts',
        'testing/index.js',
        'testing/index.mjs',
        'testing/index.d.ts',
        'lib/workerd.mjs',
        'wasm/vendor_auth_bg.wasm',
        'wasm/vendor_auth.mjs',
        'wasm/vendor_auth.cjs',
        'lib/nest.js',
        'lib/nest.mjs',
        'lib/nest.d.ts',
        'bin/vendor-auth.js',
      ]) {
        if (!rootFiles.includes(needed)) fail(`the root tarball lacks ${needed}`)
      }
      const platformFiles = platformTgz.files.map((f) => f.path).sort()
      const expected = ['README.md', addonName, 'package.json'].sort()
      if (JSON.stringify(platformFiles) !== JSON.stringify(expected)) {
        fail(`the platform tarball holds ${platformFiles.join(', ')}; expected ${expected.join(', ')}`)
      }
      if (platformTgz.version !== rootTgz.version)
        fail(`version mismatch: root ${rootTgz.version}, platform ${platformTgz.version}`)
      return `${Object.keys(staged.optionalDependencies).length} optionalDependencies at ${staged.version}`
    })
    if (!rootTgz || !platformTgz) throw Object.assign(new Error('packing failed'), { expected: true })

    console.log('')
    console.log('  tarball                                   packed        unpacked      files')
    for (const t of [rootTgz, platformTgz]) {
      console.log(
        `  ${t.filename.padEnd(40)}  ${formatSize(t.packedSize).padEnd(12)}  ${formatSize(t.unpackedSize).padEnd(12)}  ${t.entryCount}`,
      )
    }
    console.log('')

    const consumer = path.join(tmp, 'consumer')
    fs.cpSync(fixture, consumer, { recursive: true })

    step('no Rust toolchain in the consumer environment', () => {
      for (const exe of ['cargo', 'rustc', 'rustup']) {
        const found = which(exe, bareEnv)
        if (found) fail(`${exe} is still reachable: ${found}`)
      }
      for (const exe of ['node', 'npm']) if (!which(exe, bareEnv)) fail(`${exe} is not on the stripped PATH`)
      return dropped.length ? `dropped from PATH: ${dropped.join(', ')}` : 'no cargo/rustc on PATH to begin with'
    })

    let installed = false
    step('npm install the tarballs into a fresh project', () => {
      const extras = ['@peculiar/x509', 'reflect-metadata', 'typescript', '@types/node'].map(
        (name) => `${name}@${installedVersion(name)}`,
      )
      run(
        'npm',
        [
          'install',
          '--no-audit',
          '--no-fund',
          '--prefer-offline',
          '--loglevel=error',
          rootTgz.path,
          platformTgz.path,
          ...extras,
        ],
        {
          cwd: consumer,
          env: bareEnv,
        },
      )
      const modules = path.join(consumer, 'node_modules')
      const platformPkg = JSON.parse(
        fs.readFileSync(path.join(modules, `${napi.packageName}-${PLATFORM}`, 'package.json'), 'utf8'),
      )
      if (platformPkg.version !== rootPkg.version) fail(`installed ${platformPkg.name}@${platformPkg.version}`)
      const others = fs
        .readdirSync(modules)
        .filter((d) => d.startsWith(`${napi.packageName}-`) && d !== `${napi.packageName}-${PLATFORM}`)
      if (others.length) fail(`npm installed platform packages for other platforms: ${others.join(', ')}`)
      installed = true
      return `${extras.join(', ')}`
    })

    if (installed) {
      // This machine's node first (as `node` on the stripped PATH), then each --node binary, its
      // folder first on PATH so that the bin's `#!/usr/bin/env node` finds it too.
      const nodes = [{ prefix: '', exe: 'node', env: bareEnv }]
      for (const exe of otherNodes) {
        const version = run(exe, ['--version']).trim()
        const env = { ...bareEnv, PATH: `${path.dirname(path.resolve(exe))}${path.delimiter}${bareEnv.PATH}` }
        nodes.push({ prefix: `node ${version}: `, exe: path.resolve(exe), env })
      }
      const withNode = ({ prefix, exe, env }, file, label) =>
        step(`${prefix}${label}`, () => run(exe, [file], { cwd: consumer, env }).trim().split('\n').pop())
      for (const node of nodes) {
        withNode(node, 'cjs.cjs', 'CommonJS require + authenticate() against the mock (vendy, puppetvendors)')
        withNode(node, 'esm.mjs', 'ESM import + authenticate() against the mock')
        if (node.prefix === '') {
          step('tsc --noEmit on types.ts and types-esm.mts', () => {
            run('node', [path.join('node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '-p', 'tsconfig.json'], {
              cwd: consumer,
              env: bareEnv,
            })
            return `TypeScript ${installedVersion('typescript')}`
          })
        }
        step(`${node.prefix}the vendor-auth bin is linked: vendor-auth --version`, () => {
          const out = run(path.join('node_modules', '.bin', 'vendor-auth'), ['--version'], {
            cwd: consumer,
            env: node.env,
          })
          if (out.trim() !== rootPkg.version) fail(`vendor-auth --version printed ${JSON.stringify(out)}`)
          return out.trim()
        })
      }
      const platformModule = path.join(consumer, 'node_modules', `${napi.packageName}-${PLATFORM}`)
      const hidden = path.join(tmp, 'hidden-platform-package')
      fs.renameSync(platformModule, hidden)
      try {
        for (const node of nodes)
          withNode(node, 'fallback.cjs', 'without the platform package: the wasm build, and exchanges')
      } finally {
        fs.renameSync(hidden, platformModule)
      }
    }
  } finally {
    if (process.env.KEEP_PACK_TEST_TMP === '1') log(`kept ${tmp}`)
    else fs.rmSync(tmp, { recursive: true, force: true })
  }
}

main()
  .catch((error) => {
    results.push({ name: 'setup', ok: false })
    log(`FAIL ${error.expected ? error.message : error.stack}`)
  })
  .finally(() => {
    const failed = results.filter((r) => !r.ok)
    console.log(`pack-test: ${results.length - failed.length} passed, ${failed.length} failed`)
    if (failed.length) {
      for (const r of failed) console.log(`  failed: ${r.name}`)
      process.exitCode = 1
    }
  })
