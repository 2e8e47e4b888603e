'use strict'
// `node scripts/publish-dry-run.js [--artifacts DIR] [--require-all]`: what a release would
// publish, without publishing. In a temporary copy of the package (the repository is not touched):
//   1. the binaries: <binaryName>.<platform>.node for each `napi.targets` entry, from DIR (searched
//      recursively: the release workflow's downloaded artifacts), or else from the repository root
//      (`npm run build`) and dist/*/ (`npm run build:cross`);
//   2. `napi artifacts` must refuse while any binary is missing (naming each), and place every
//      binary in npm/<platform>/ once all are there; when some are missing (as on a Linux x64 host),
//      it then places the ones that exist;
//   3. the root's prepublishOnly (`napi prepublish -t npm ...`) with --dry-run: it must accept
//      every platform package when all binaries are there, and refuse while one is missing; the
//      root's optionalDependencies are then written as it writes them;
//   4. `npm publish --dry-run --ignore-scripts` in the root and in every npm/<platform>: each
//      tarball's files and sizes. A platform package whose binary could not be built here is
//      reported with the binary it would lack; its tarball must hold only package.json and
//      README.md, so that the binary is the one thing the release workflow adds. The root's
//      tarball must hold the WebAssembly build (wasm/: the edge entries and the Node fallback).
// --require-all: fail when any binary is missing (the release workflow's pre-flight).
// Exits non-zero on any failure. KEEP_PUBLISH_DRY_RUN_TMP=1 keeps the temporary copy.
// scripts/release-rehearse.js runs this in a copy laid out as release.yml's publish job lays it out.

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const root = path.resolve(__dirname, '..')
const napiCli = path.join(path.dirname(require.resolve('@napi-rs/cli/package.json')), 'dist', 'cli.js')
const args = process.argv.slice(2)
const artifactsArg = args.includes('--artifacts') ? path.resolve(args[args.indexOf('--artifacts') + 1]) : null
const requireAll = args.includes('--require-all')

const results = []
const log = (message) => console.log(`[publish-dry-run] ${message}`)
function check(name, ok, detail) {
  results.push({ name, ok })
  log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? `: ${detail}` : ''}`)
  return ok
}

function run(command, commandArgs, cwd) {
  const r = spawnSync(command, commandArgs, {
    cwd,
    encoding: 'utf8',
    timeout: 180_000,
    maxBuffer: 64 * 1024 * 1024,
    // npm and napi would otherwise take this run's npm settings (e.g. from `npm run`) and colours.
    env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k))), NO_COLOR: '1' },
    shell: process.platform === 'win32' && command === 'npm',
  })
  return { ok: !r.error && r.status === 0, out: `${r.stdout || ''}${r.stderr || ''}${r.error ? r.error.message : ''}` }
}
const napi = (napiArgs, cwd) => run(process.execPath, [napiCli, ...napiArgs], cwd)

function findFile(dir, name) {
  if (!fs.existsSync(dir)) return null
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    if (entry.isFile() && entry.name === name) return full
    if (entry.isDirectory() && entry.name !== 'node_modules') {
      const found = findFile(full, name)
      if (found) return found
    }
  }
  return null
}

function binaryFor(file) {
  if (artifactsArg) return findFile(artifactsArg, file)
  for (const candidate of [
    path.join(root, file),
    path.join(root, 'dist', 'cross', file),
    path.join(root, 'dist', 'native', file),
  ]) {
    if (fs.existsSync(candidate)) return candidate
  }
  return null
}

const size = (bytes) =>
  bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(2)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`

function writeJson(file, value) {
  fs.writeFileSync(file, JSON.stringify(value, null, 2) + '\n')
}

async function main() {
  const { readNapiConfig } = require('@napi-rs/cli')
  const napiConfig = await readNapiConfig(path.join(root, 'package.json'))
  const { binaryName, packageName } = napiConfig
  const targets = napiConfig.targets.map((t) => ({
    triple: t.triple,
    platform: t.platformArchABI,
    file: `${binaryName}.${t.platformArchABI}.node`,
  }))
  for (const t of targets) t.binary = binaryFor(t.file)
  const present = targets.filter((t) => t.binary)
  const missing = targets.filter((t) => !t.binary)
  log(`binaries: ${present.length} of ${targets.length} (${artifactsArg ? `from ${artifactsArg}` : 'built here'})`)
  for (const t of targets) log(`  ${t.triple.padEnd(28)} ${t.binary ? path.relative(root, t.binary) : 'missing'}`)
  if (requireAll)
    check('every target has its binary (--require-all)', missing.length === 0, missing.map((t) => t.file).join(', '))

  // The package as it is checked out, without any binary or build output.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vendor-auth-publish-'))
  try {
    const pkg = path.join(tmp, 'package')
    const artifacts = path.join(tmp, 'artifacts')
    fs.mkdirSync(artifacts, { recursive: true })
    const rootJson = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'))
    const rootFiles = [
      'package.json',
      ...rootJson.files,
      ...fs.readdirSync(root).filter((f) => /^(readme|license)/i.test(f)),
    ]
    // (A missing entry, wasm/ unbuilt, is left out here and named by the tarball check below.)
    for (const f of rootFiles) {
      if (fs.existsSync(path.join(root, f))) fs.cpSync(path.join(root, f), path.join(pkg, f), { recursive: true })
    }
    for (const t of targets) {
      for (const f of ['package.json', 'README.md']) {
        const src = path.join(root, 'npm', t.platform, f)
        if (fs.existsSync(src)) fs.cpSync(src, path.join(pkg, 'npm', t.platform, f))
      }
    }
    for (const t of present) fs.copyFileSync(t.binary, path.join(artifacts, t.file))
    const stagedJson = path.join(pkg, 'package.json')

    // 2. napi artifacts.
    const all = napi(['artifacts', '--output-dir', '../artifacts'], pkg)
    if (missing.length === 0) {
      check('napi artifacts placed every binary in npm/<platform>/', all.ok, all.ok ? '' : all.out)
    } else {
      const named = missing.filter((t) => all.out.includes(t.file))
      check(
        `napi artifacts refuses while ${missing.length} binaries are missing, naming each`,
        !all.ok && named.length === missing.length,
        all.ok ? 'it succeeded' : (all.out.match(/Missing artifacts[^\n]*/) || [all.out])[0].slice(0, 160) + '…',
      )
      if (present.length) {
        writeJson(stagedJson, { ...rootJson, napi: { ...rootJson.napi, targets: present.map((t) => t.triple) } })
        const some = napi(['artifacts', '--output-dir', '../artifacts'], pkg)
        writeJson(stagedJson, rootJson)
        check(`napi artifacts placed the ${present.length} binaries built here`, some.ok, some.ok ? '' : some.out)
      }
    }
    for (const t of present) {
      const placed = path.join(pkg, 'npm', t.platform, t.file)
      check(
        `npm/${t.platform}/${t.file} is the built binary`,
        fs.existsSync(placed) && fs.readFileSync(placed).equals(fs.readFileSync(t.binary)),
      )
    }

    // 3. The root's prepublishOnly (`napi prepublish ...`) with --dry-run: it validates every
    // platform package (name, files, the binary present) and publishes nothing.
    const prepublish = (rootJson.scripts.prepublishOnly || '').trim().split(/\s+/)
    if (prepublish[0] !== 'napi' || prepublish[1] !== 'prepublish') {
      check('prepublishOnly is `napi prepublish ...`', false, rootJson.scripts.prepublishOnly)
    } else {
      const pre = napi([...prepublish.slice(1), '--dry-run'], pkg)
      const shown = `${prepublish.join(' ')} --dry-run`
      if (missing.length === 0) {
        check(`${shown} accepts every platform package`, pre.ok, pre.ok ? '' : pre.out)
      } else {
        const firstMissing = missing[0]
        check(
          `${shown} refuses an incomplete platform package`,
          !pre.ok && pre.out.includes(`missing ${firstMissing.file}`),
          pre.ok ? 'it succeeded' : (pre.out.match(/[^\n]*is incomplete[^\n]*/) || [pre.out])[0].trim(),
        )
      }
    }
    // The root manifest as napi prepublish leaves it for `npm publish`: an optional dependency on
    // every platform package, at the root version.
    const withOptional = JSON.parse(fs.readFileSync(stagedJson, 'utf8'))
    withOptional.optionalDependencies = { ...withOptional.optionalDependencies }
    for (const t of targets) withOptional.optionalDependencies[`${packageName}-${t.platform}`] = withOptional.version
    writeJson(stagedJson, withOptional)
    const staged = JSON.parse(fs.readFileSync(stagedJson, 'utf8'))
    const optional = Object.keys(staged.optionalDependencies || {})
    check(
      `the root package depends on all ${targets.length} platform packages at ${staged.version}`,
      targets.every((t) => staged.optionalDependencies?.[`${packageName}-${t.platform}`] === staged.version),
      optional.length + ' optionalDependencies',
    )

    // 4. npm publish --dry-run in every package directory.
    const rows = []
    const dirs = [
      { dir: pkg, label: packageName },
      ...targets.map((t) => ({ dir: path.join(pkg, 'npm', t.platform), label: `${packageName}-${t.platform}`, t })),
    ]
    for (const { dir, label, t } of dirs) {
      const r = run('npm', ['publish', '--dry-run', '--ignore-scripts', '--json'], dir)
      let report
      try {
        const parsed = JSON.parse(r.out.slice(r.out.indexOf('{'), r.out.lastIndexOf('}') + 1))
        report = parsed.files ? parsed : Object.values(parsed)[0]
      } catch {
        report = null
      }
      if (!check(`npm publish --dry-run ${label}`, r.ok && report !== null, r.ok ? '' : r.out.slice(-2000))) continue
      const files = report.files.map((f) => f.path).sort()
      let status
      if (!t) {
        const strays = files.filter((f) => f.endsWith('.node') || /^(src|target|npm|__test__)\//.test(f))
        check(`${label}: no binary and no sources in the tarball`, strays.length === 0, strays.join(', '))
        const wasm = ['wasm/vendor_auth_bg.wasm', 'wasm/vendor_auth.cjs', 'wasm/vendor_auth.mjs']
        const lacking = wasm.filter((f) => !files.includes(f))
        check(
          `${label}: the WebAssembly build in the tarball (${wasm.join(', ')})`,
          lacking.length === 0,
          lacking.length ? `it lacks ${lacking.join(', ')}` : '',
        )
        status = 'ok'
      } else {
        const expected = ['README.md', 'package.json', ...(t.binary ? [t.file] : [])].sort()
        const same = JSON.stringify(files) === JSON.stringify(expected)
        check(
          `${label}: the tarball holds ${expected.join(', ')} at ${staged.version}`,
          same && report.version === staged.version,
          same && report.version === staged.version ? '' : `it holds ${files.join(', ')} at ${report.version}`,
        )
        status = t.binary ? 'ok' : `would lack ${t.file} (built by release.yml)`
      }
      rows.push([label, report.version, String(files.length), size(report.size), size(report.unpackedSize), status])
    }

    console.log('')
    const head = ['package', 'version', 'files', 'packed', 'unpacked', '']
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)))
    for (const row of [head, ...rows]) console.log(`  ${row.map((c, i) => c.padEnd(widths[i])).join('  ')}`.trimEnd())
    console.log('')
  } finally {
    if (process.env.KEEP_PUBLISH_DRY_RUN_TMP === '1') log(`kept ${tmp}`)
    else fs.rmSync(tmp, { recursive: true, force: true })
  }
}

main()
  .catch((error) => check('setup', false, error.stack))
  .finally(() => {
    const failed = results.filter((r) => !r.ok)
    console.log(`publish-dry-run: ${results.length - failed.length} passed, ${failed.length} failed`)
    if (failed.length) process.exitCode = 1
  })
