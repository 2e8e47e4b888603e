'use strict'
// `npm run release:rehearse [-- --full] [-- --npm-ci] [-- --keep]`: .github/workflows/release.yml
// rehearsed on this Linux x64 machine, as closely as one machine can (docs/releasing.md). Read
// from the workflow file itself, so that what is rehearsed is what GitHub would run:
//   1. the wiring, for every matrix entry: where each build job's binary lands in its artifact
//      (upload-artifact's root rule), where each test job's downloads put it and the wasm build,
//      that the jobs need the jobs whose artifacts they download, and that the skip variables
//      (VENDOR_AUTH_TEST_NO_REDIS/NO_WORKERD/NO_CARGO) are set exactly where the runner lacks
//      the thing they name, and reach the container in the docker jobs;
//   2. the build job of x86_64-unknown-linux-gnu: the binary in the folder that job builds into
//      (the one `npm run build` made when it is newer than the Rust sources, else napi build with
//      cargo's target dir; the host toolchain, not zig, see docs/releasing.md), its static checks
//      (check-artifacts.sh), then the job's own upload step; the wasm job: wasm/
//      (scripts/ensure-wasm.js) and its upload step;
//   3. the test job of x86_64-unknown-linux-gnu, its steps one by one, in a clean copy of the
//      repository (its files as git lists them, no build output) with no Rust on PATH: checkout,
//      setup-node (this machine's Node), npm ci (see --npm-ci), both downloads, redis-server, the
//      smoke step (it must name the downloaded binary in the copy's root), the suite (see --full);
//      every skip in it must name a VENDOR_AUTH_TEST_NO_* variable the job sets;
//   4. the publish job: a second clean copy, its downloads (every bindings-* artifact merged into
//      artifacts/, the wasm one into wasm/), and its dry-run step: scripts/publish-dry-run.js runs
//      napi artifacts, napi prepublish --dry-run and npm publish --dry-run on those artifacts
//      (without --require-all: one of the eight binaries can be built here).
// The suite step: by default `npm run test:js -- <REHEARSED files>`, the files whose outcome
// depends on what the job lays out or installs (the CI budget has no room for the whole suite
// twice; npm test ran it on this same binary already); --full runs `npm run test:js` whole.
// npm ci: by default the copies link the repository's node_modules (hard links, installed by
// npm ci from the same package-lock.json, as .ci/run does just before; refused when npm's record
// of it, node_modules/.package-lock.json, differs from the lockfile); --npm-ci runs npm ci.
// --wiring: step 1 alone (a fraction of a second: for editing release.yml). --workflow FILE
// rehearses another workflow file (a deliberately broken copy, to see the rehearsal fail).
// --keep keeps the stage folder. Exits 1 on any failure.

const { spawn, spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const model = require('./workflow-model')
const { sourcesChanged } = require('./ensure-built')

const root = path.resolve(__dirname, '..')
const TARGET = 'x86_64-unknown-linux-gnu'
const args = process.argv.slice(2)
const full = args.includes('--full')
const npmCi = args.includes('--npm-ci')
const keep = args.includes('--keep')
const wiringOnly = args.includes('--wiring')
const WORKFLOW = args.includes('--workflow')
  ? path.resolve(args[args.indexOf('--workflow') + 1])
  : path.join(root, '.github', 'workflows', 'release.yml')

/** The suite's files in the default rehearsal, and what each shows about the job's layout. */
const REHEARSED = new Map([
  ['smoke.test.js', 'the downloaded binary, through the package entry'],
  ['fallback.test.js', 'the wasm artifact, through the Node fallback'],
  ['workerd.test.js', 'the wasm artifact in workerd (its npm binary)'],
  ['edge-entry.test.js', 'the wasm artifact through the edge entries, bundled'],
  ['store-builds.test.js', "the job's redis-server, with the binary and the wasm artifact side by side"],
  ['panic.test.js', 'no cargo: its debug-addon cases skip naming VENDOR_AUTH_TEST_NO_CARGO, the release case runs'],
])

const results = []
const log = (message) => console.log(`[release-rehearse] ${message}`)
function check(name, ok, detail) {
  results.push({ name, ok })
  log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? `: ${detail}` : ''}`)
  return ok
}
class Stop extends Error {}
const must = (name, ok, detail) => {
  if (!check(name, ok, detail)) throw new Stop(name)
}
const timings = []
async function phase(name, fn) {
  const t = Date.now()
  console.log(`\n[release-rehearse] === ${name}`)
  try {
    return await fn()
  } finally {
    timings.push([name, (Date.now() - t) / 1000])
  }
}

// --- the workflow --------------------------------------------------------------------------------

const workflow = model.loadWorkflow(WORKFLOW)
const { parseTriple } = require('@napi-rs/cli')
const binaryName = require(path.join(root, 'package.json')).napi.binaryName
const napiCli = path.join(path.dirname(require.resolve('@napi-rs/cli/package.json')), 'dist', 'cli.js')
const platformOf = (triple) => parseTriple(triple).platformArchABI
const nodeFile = (triple) => `${binaryName}.${platformOf(triple)}.node`

function job(id) {
  const j = workflow.jobs[id]
  if (!j) throw new Error(`release.yml has no job "${id}"`)
  return j
}
const usesOf = (step) => (step.uses || '').replace(/@.*$/, '')
const isUpload = (step) => usesOf(step) === 'actions/upload-artifact'
const isDownload = (step) => usesOf(step) === 'actions/download-artifact'
const isSuite = (step) => typeof step.run === 'string' && /\bnpm run test:js\b/.test(step.run)
const isSmoke = (step) => typeof step.run === 'string' && step.run.includes("require('./binding.js')")
const needsOf = (j) => [].concat(j.needs || [])

/** The expression context of a job's matrix entry. */
function contextFor(j, matrix) {
  const base = { matrix, github: { ref: 'refs/heads/main', ref_name: 'main' }, secrets: {}, steps: {}, needs: {} }
  const label = model.interpolate(j['runs-on'], base)
  const runner = { os: model.runnerOs(label), arch: /arm/.test(label) ? 'ARM64' : 'X64' }
  const ctx = { ...base, runner, env: {} }
  ctx.env = envFor(ctx, j)
  return { ctx, label }
}

/** workflow env + job env (+ step env), evaluated. */
function envFor(ctx, j, step) {
  const env = {}
  for (const source of [workflow.env, j.env, step && step.env]) {
    for (const [k, v] of Object.entries(source || {})) env[k] = String(model.interpolate(String(v), { ...ctx, env }))
  }
  return env
}

const withOf = (step, ctx) =>
  Object.fromEntries(Object.entries(step.with || {}).map(([k, v]) => [k, model.interpolate(v, ctx)]))

/**
 * The folder a build entry's binary is written to: the step that builds for it (its `if:`), and
 * that step's --output-dir, or build-cross.sh's own folder for `npm run build:cross`.
 */
function buildOutputDir(buildJob, ctx) {
  const builds = buildJob.steps.filter(
    (s) => typeof s.run === 'string' && /napi build|npm run build:cross/.test(s.run) && model.condition(s.if, ctx),
  )
  if (builds.length !== 1) throw new Error(`${builds.length} build steps run for ${ctx.matrix.target}, not one`)
  const run = builds[0].run
  if (run.includes('npm run build:cross')) {
    const script = fs.readFileSync(path.join(root, 'scripts', 'build-cross.sh'), 'utf8')
    const out = /^out=\$root\/(\S+)$/m.exec(script)
    if (!out) throw new Error('scripts/build-cross.sh: no out=$root/<folder> line')
    return out[1]
  }
  const dir = /--output-dir\s+(\S+)/.exec(run)
  if (!dir) throw new Error(`the build step for ${ctx.matrix.target} names no --output-dir`)
  return dir[1]
}

/** Runs an upload step in `workspace`: the artifact's name and files (upload-artifact's rules). */
function upload(step, ctx, workspace) {
  const w = withOf(step, ctx)
  const selection = model.uploadSelection(workspace, w.path)
  if (selection.files.length === 0 && (w['if-no-files-found'] || 'warn') === 'error')
    throw new Error(`upload ${w.name}: no file matches ${w.path}`)
  return { name: w.name, files: selection.files }
}

/** Runs a download step into `workspace` from `artifacts` (name → files); the paths written. */
function download(step, ctx, workspace, artifacts) {
  const written = []
  for (const { artifact, dir } of model.downloadPlacement(workspace, withOf(step, ctx), artifacts)) {
    for (const f of artifacts.get(artifact)) {
      const to = path.join(dir, f.name)
      fs.mkdirSync(path.dirname(to), { recursive: true })
      fs.copyFileSync(f.from, to)
      written.push(to)
    }
  }
  return written
}

// --- 1. the wiring, every matrix entry -----------------------------------------------------------

const WASM_FILES = ['vendor_auth_bg.wasm', 'vendor_auth.cjs', 'vendor_auth.mjs']
const TEST_JOBS = ['test', 'test-linux-docker']

function checkWiring(stage) {
  const artifacts = new Map()
  const producer = new Map()
  const fake = (dir, files) => {
    for (const f of files) {
      fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true })
      fs.writeFileSync(path.join(dir, f), f)
    }
  }
  // Every build entry, in a workspace of its own holding what its build writes (and what napi
  // build writes beside the binary), through the job's upload step.
  const build = job('build')
  for (const matrix of model.matrixEntries(build)) {
    const { ctx } = contextFor(build, matrix)
    const ws = fs.mkdtempSync(path.join(stage, 'wiring-build-'))
    const out = buildOutputDir(build, ctx)
    const file = nodeFile(matrix.target)
    fake(ws, [path.join(out, file), path.join(out, 'index.d.ts')])
    const step = build.steps.find((s) => isUpload(s) && model.condition(s.if, ctx))
    const a = upload(step, ctx, ws)
    check(
      `build ${matrix.target}: ${out}/${file} is at the root of artifact ${a.name}`,
      a.files.length === 1 && a.files[0].name === file,
      `the artifact holds ${a.files.map((f) => f.name).join(', ') || 'nothing'}`,
    )
    artifacts.set(a.name, a.files)
    producer.set(a.name, 'build')
  }
  const wasmJob = job('wasm')
  {
    const { ctx } = contextFor(wasmJob, {})
    // Its suites re-run store.test.js on the Node fallback (wasm.test.js): a redis-server too.
    const running = wasmJob.steps.filter((s) => model.condition(s.if, ctx))
    const testsAt = running.findIndex((s) => typeof s.run === 'string' && /wasm\.test\.js/.test(s.run))
    check(
      'wasm: a step installs redis-server before the suites (wasm.test.js re-runs store.test.js)',
      testsAt < 0 || running.slice(0, testsAt).some((s) => typeof s.run === 'string' && /redis-server/.test(s.run)),
    )
    const ws = fs.mkdtempSync(path.join(stage, 'wiring-wasm-'))
    fake(
      ws,
      WASM_FILES.map((f) => path.join('wasm', f)),
    )
    const a = upload(wasmJob.steps.find(isUpload), ctx, ws)
    check(
      `wasm: artifact ${a.name} holds ${WASM_FILES.join(', ')} at its root`,
      WASM_FILES.every((f) => a.files.some((x) => x.name === f)),
      a.files.map((f) => f.name).join(', '),
    )
    artifacts.set(a.name, a.files)
    producer.set(a.name, 'wasm')
  }
  // Every test entry: what its downloads lay out, its needs, its skip variables.
  for (const id of TEST_JOBS) {
    const j = job(id)
    let allOk = true
    for (const matrix of model.matrixEntries(j)) {
      const { ctx, label } = contextFor(j, matrix)
      const target = matrix.target || matrix.settings?.target
      const title = `${id} ${target}, node ${matrix.node} (${label})`
      const ws = fs.mkdtempSync(path.join(stage, 'wiring-test-'))
      const running = j.steps.filter((s) => model.condition(s.if, ctx))
      const downloads = running.filter(isDownload)
      let ok = true
      for (const step of downloads) {
        const names = model.downloadPlacement(ws, withOf(step, ctx), artifacts).map((p) => p.artifact)
        for (const n of names) {
          if (!needsOf(j).includes(producer.get(n))) {
            ok = check(
              `${title}: needs ${producer.get(n)}, whose artifact ${n} it downloads`,
              false,
              `needs: ${needsOf(j)}`,
            )
          }
        }
        download(step, ctx, ws, artifacts)
      }
      const binary = path.join(ws, nodeFile(target))
      const wasm = path.join(ws, 'wasm', 'vendor_auth_bg.wasm')
      const placed = fs.existsSync(binary) && fs.existsSync(wasm)
      ok &&= placed
      if (!placed) {
        const found = fs.readdirSync(ws, { recursive: true }).filter((f) => /\.(node|wasm)$/.test(f))
        check(
          `${title}: ${nodeFile(target)} in the root and wasm/ beside it`,
          false,
          `the downloads put ${found.join(', ') || 'nothing'}`,
        )
      }
      // The skip variables on the suite step, and a redis-server wherever it is not skipped.
      const suite = running.find(isSuite)
      if (!suite) {
        allOk = check(`${title}: a step runs npm run test:js`, false)
        continue
      }
      const env = envFor(ctx, j, suite)
      const docker = /\bdocker exec\b/.test(suite.run)
      const musl = target.endsWith('-musl')
      const want = {
        VENDOR_AUTH_TEST_NO_CARGO: true,
        VENDOR_AUTH_TEST_NO_REDIS: ctx.runner.os === 'Windows' && !docker,
        VENDOR_AUTH_TEST_NO_WORKERD: musl,
      }
      for (const [name, set] of Object.entries(want)) {
        if (Boolean(env[name]) !== set)
          ok = check(
            `${title}: ${name} ${set ? 'set' : 'not set'} on the suite step`,
            false,
            `it is "${env[name] ?? ''}"`,
          )
        if (set && docker && !new RegExp(`-e ${name}\\b`).test(suite.run))
          ok = check(`${title}: docker exec passes ${name} into the container`, false)
      }
      if (!want.VENDOR_AUTH_TEST_NO_REDIS) {
        const installs = running.some((s) =>
          /redis/.test(
            `${s.run || ''} ${Object.values(envFor(ctx, j, s)).join(' ')}`.replace(/VENDOR_AUTH_TEST_NO_REDIS/g, ''),
          ),
        )
        if (!installs) ok = check(`${title}: a step installs redis-server`, false)
      }
      if (!running.some(isSmoke)) ok = check(`${title}: a smoke step requires ./binding.js`, false)
      if (ok) results.push({ name: title, ok: true })
      allOk &&= ok
    }
    if (allOk)
      log(`ok   ${id}: every matrix entry lays out its binary and wasm/, needs their jobs, sets its skip variables`)
  }
}

// --- running steps -------------------------------------------------------------------------------

/** PATH without any folder holding cargo, rustc or rustup (the test job has no Rust). */
function pathWithoutRust() {
  return process.env.PATH.split(path.delimiter)
    .filter((dir) => !['cargo', 'rustc', 'rustup'].some((tool) => fs.existsSync(path.join(dir, tool))))
    .join(path.delimiter)
}

/** The environment of the job's steps: this one's, less what a fresh runner would not have. */
function runnerEnv(workspace, extraPath) {
  const env = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(npm_|CARGO|RUSTUP|RUSTC|VENDOR_AUTH_|NAPI_RS_)/i.test(k) || k === 'NODE_PATH') continue
    env[k] = v
  }
  env.PATH = [extraPath, pathWithoutRust()].filter(Boolean).join(path.delimiter)
  return { ...env, CI: 'true', RUNNER_OS: 'Linux', RUNNER_ARCH: 'X64', GITHUB_WORKSPACE: workspace }
}

/** Runs a `run:` step with bash as the runner does; resolves { code, output }. */
function runStep(text, { cwd, env, shell }) {
  const script = path.join(cwd, '..', `step-${process.hrtime.bigint()}.sh`)
  fs.writeFileSync(script, text)
  // GitHub's bash: `bash --noprofile --norc -eo pipefail {0}` when named, `bash -e {0}` by default.
  const argv = shell === 'bash' ? ['--noprofile', '--norc', '-eo', 'pipefail', script] : ['-e', script]
  if (shell && shell !== 'bash') throw new Error(`shell: ${shell} is not rehearsed`)
  return new Promise((resolve) => {
    const child = spawn('bash', argv, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    const tee = (stream, to) =>
      stream.on('data', (chunk) => {
        output += chunk
        to.write(chunk)
      })
    tee(child.stdout, process.stdout)
    tee(child.stderr, process.stderr)
    child.on('close', (code, signal) => {
      fs.rmSync(script, { force: true })
      resolve({ code: signal ? 128 : code, output })
    })
  })
}

/** A checkout: the repository's files as git lists them (tracked and new, not ignored). */
function checkout(workspace) {
  const listed = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  })
  if (listed.status !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`)
  let count = 0
  for (const file of new Set(listed.stdout.split('\0').filter(Boolean))) {
    const from = path.join(root, file)
    if (!fs.existsSync(from) || fs.lstatSync(from).isDirectory()) continue // deleted in the tree, or a submodule
    fs.mkdirSync(path.dirname(path.join(workspace, file)), { recursive: true })
    fs.copyFileSync(from, path.join(workspace, file))
    count++
  }
  return count
}

/**
 * Where `modules` differs from what package-lock.json installs: a locked package missing (one
 * for another platform excepted) or at another version, as npm's own record says
 * (node_modules/.package-lock.json).
 */
function lockMismatches(modules) {
  const read = (file) => JSON.parse(fs.readFileSync(file, 'utf8')).packages || {}
  const hiddenFile = path.join(modules, '.package-lock.json')
  if (!fs.existsSync(hiddenFile)) return ['no node_modules/.package-lock.json']
  const installed = read(hiddenFile)
  const problems = []
  for (const [where, entry] of Object.entries(read(path.join(root, 'package-lock.json')))) {
    if (!where.startsWith('node_modules/')) continue
    const got = installed[where]
    if (!got && !entry.optional && !entry.devOptional) problems.push(`${where} missing`)
    else if (got && got.version !== entry.version) problems.push(`${where} ${got.version}, locked ${entry.version}`)
  }
  return problems
}

/** npm ci in the copy, or the repository's node_modules linked in (see the header). */
async function installDependencies(step, workspace, env) {
  if (npmCi) return runStep(step.run, { cwd: workspace, env })
  const modules = path.join(root, 'node_modules')
  const stale = lockMismatches(modules)
  if (stale.length > 0) {
    const message = `node_modules is not what package-lock.json installs (${stale.slice(0, 5).join('; ')}): run npm ci, or rehearse with --npm-ci\n`
    process.stderr.write(message)
    return { code: 1, output: message }
  }
  const linked = spawnSync('cp', ['-al', modules, path.join(workspace, 'node_modules')])
  if (linked.status !== 0) fs.cpSync(modules, path.join(workspace, 'node_modules'), { recursive: true })
  // Hard links share their file: nothing the suite writes under node_modules/.cache reaches back.
  fs.rmSync(path.join(workspace, 'node_modules', '.cache'), { recursive: true, force: true })
  const how = linked.status === 0 ? 'hard-linked' : 'copied'
  console.log(`(${step.run}: the repository's node_modules ${how} instead; --npm-ci runs it)`)
  return { code: 0, output: '' }
}

/** Runs a job's steps in `workspace`, the `uses:` ones by what those actions do. */
async function runJob(id, matrix, workspace, artifacts, { suiteFiles, onStep } = {}) {
  const j = job(id)
  const { ctx, label } = contextFor(j, matrix)
  if (ctx.runner.os !== 'Linux') throw new Error(`${id} runs on ${label}: only Linux jobs are rehearsed`)
  const shims = path.join(workspace, '..', `${id}-shims`)
  fs.mkdirSync(shims, { recursive: true })
  // Hosted runners have a password-less sudo; as root here, a sudo that just runs the command.
  if (spawnSync('sh', ['-c', 'command -v sudo'], { stdio: 'ignore' }).status !== 0 && process.getuid?.() === 0) {
    fs.writeFileSync(path.join(shims, 'sudo'), '#!/bin/sh\nexec "$@"\n', { mode: 0o755 })
  }
  const baseEnv = runnerEnv(workspace, shims)
  for (const [index, step] of j.steps.entries()) {
    const name = step.name || step.uses || step.run.split('\n')[0]
    const stepCtx = { ...ctx, env: envFor(ctx, j, step) }
    if (!model.condition(step.if, stepCtx)) {
      console.log(`\n--- ${id} step ${index + 1}: ${name} (skipped: if ${step.if})`)
      continue
    }
    console.log(`\n--- ${id} step ${index + 1}: ${name}`)
    const t = Date.now()
    let result = { code: 0, output: '' }
    const uses = usesOf(step)
    if (uses === 'actions/checkout') {
      console.log(`${checkout(workspace)} files copied from ${root}`)
    } else if (uses === 'actions/setup-node') {
      const wanted = String(withOf(step, stepCtx)['node-version'] || '')
      console.log(`node ${process.version} of this machine (the job asks for ${wanted || 'the default'})`)
    } else if (isDownload(step)) {
      for (const f of download(step, stepCtx, workspace, artifacts)) console.log(`  ${path.relative(workspace, f)}`)
    } else if (uses) {
      throw new Error(`${id}: the rehearsal does not know what ${step.uses} does (scripts/release-rehearse.js)`)
    } else {
      const env = { ...baseEnv, ...stepCtx.env }
      let text = model.interpolate(step.run, stepCtx)
      if (isSuite(step) && suiteFiles)
        text = text.replace(/\bnpm run test:js\b/, `npm run test:js -- ${suiteFiles.join(' ')}`)
      if (/^npm ci\b/.test(text.trim())) result = await installDependencies(step, workspace, env)
      else {
        if (text !== step.run) console.log(`$ ${text.trim()}`)
        result = await runStep(text, { cwd: workspace, env, shell: step.shell })
      }
    }
    console.log(`--- ${name}: exit ${result.code} in ${((Date.now() - t) / 1000).toFixed(1)} s`)
    if (onStep) onStep(step, result, { ...baseEnv, ...stepCtx.env })
    must(`${id}: ${name}`, result.code === 0, result.code === 0 ? '' : `exit ${result.code}`)
  }
}

// --- the rehearsal -------------------------------------------------------------------------------

/** Skips in the suite's TAP output, and whether each names a variable the job set. */
function skipsOf(output, env) {
  return output
    .split('\n')
    .filter((l) => /^\s*ok \d+ - .* # SKIP/.test(l))
    .map((l) => {
      const reason = l.replace(/^.*# SKIP\s*/, '')
      const named = /\b(VENDOR_AUTH_TEST_NO_[A-Z]+)=/.exec(reason)
      return { line: l.trim(), explained: named !== null && Boolean(env[named[1]]) }
    })
}

async function main() {
  const started = Date.now()
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'vendor-auth-rehearsal-'))
  log(`stage ${stage}`)
  try {
    await phase(`1. the wiring of every matrix entry (${path.relative(root, WORKFLOW)})`, () => checkWiring(stage))
    if (wiringOnly) return

    const artifacts = new Map()
    await phase(`2. build ${TARGET} and wasm, and their upload steps`, async () => {
      const build = job('build')
      const matrix = model.matrixEntries(build).find((m) => m.target === TARGET)
      const { ctx } = contextFor(build, matrix)
      const ws = path.join(stage, 'build')
      const out = path.join(ws, buildOutputDir(build, ctx))
      must(
        `this machine is ${TARGET}`,
        process.platform === 'linux' &&
          process.arch === 'x64' &&
          !fs.readFileSync('/usr/bin/ldd', 'utf8').includes('musl'),
      )
      // `npm run build` is this very build (napi build --platform --release, for the host): its
      // binary is taken when it is newer than the Rust sources (scripts/ensure-built.js's rule).
      // Otherwise napi builds it here, in cargo's target dir; not after every `npm run build`
      // (napi's type-definition cache then makes cargo compile the crate again).
      const built = path.join(root, nodeFile(TARGET))
      fs.mkdirSync(out, { recursive: true })
      if (fs.existsSync(built) && fs.statSync(built).mtimeMs >= sourcesChanged()) {
        fs.copyFileSync(built, path.join(out, nodeFile(TARGET)))
        check(
          `${nodeFile(TARGET)} of npm run build (newer than the Rust sources) into ${path.relative(ws, out)}/`,
          true,
        )
      } else {
        const napi = spawnSync(
          process.execPath,
          [napiCli, 'build', '--platform', '--release', '--no-js', '--output-dir', out],
          { cwd: root, stdio: 'inherit', env: { ...process.env, CARGO_TERM_COLOR: 'never' } },
        )
        must(`napi build --platform --release into ${path.relative(ws, out)}/`, napi.status === 0)
      }
      const checked = spawnSync(
        'bash',
        [path.join(root, 'scripts', 'check-artifacts.sh'), path.join(out, nodeFile(TARGET))],
        {
          stdio: 'inherit',
        },
      )
      must(`check-artifacts.sh ${nodeFile(TARGET)}`, checked.status === 0)
      const b = upload(
        build.steps.find((s) => isUpload(s) && model.condition(s.if, ctx)),
        ctx,
        ws,
      )
      artifacts.set(b.name, b.files)
      log(`artifact ${b.name}: ${b.files.map((f) => f.name).join(', ')}`)

      const ensured = spawnSync(process.execPath, [path.join(root, 'scripts', 'ensure-wasm.js')], {
        cwd: root,
        stdio: 'inherit',
      })
      must('wasm/ built (scripts/ensure-wasm.js)', ensured.status === 0)
      const wasmJob = job('wasm')
      const w = upload(wasmJob.steps.find(isUpload), contextFor(wasmJob, {}).ctx, root)
      artifacts.set(w.name, w.files)
      log(`artifact ${w.name}: ${w.files.map((f) => f.name).join(', ')}`)
    })

    await phase(`3. the test job of ${TARGET}, in a clean copy without Rust`, async () => {
      const test = job('test')
      const node = process.versions.node.split('.')[0]
      const entries = model.matrixEntries(test).filter((m) => m.settings.target === TARGET)
      const matrix = entries.find((m) => m.node === node) || entries[0]
      log(`matrix entry: ${JSON.stringify(matrix)}, on node ${process.version}`)
      const ws = path.join(stage, 'test', 'repo')
      fs.mkdirSync(ws, { recursive: true })
      const rust = spawnSync('sh', ['-c', 'command -v cargo rustc rustup'], { env: runnerEnv(ws), encoding: 'utf8' })
      must('no cargo, rustc or rustup on the job PATH', rust.stdout.trim() === '', rust.stdout.trim())
      let files
      if (!full) {
        files = [...REHEARSED.keys()].map((f) => path.join('__test__', f))
        log(`the suite step runs ${files.length} files (--full: all of them):`)
        for (const [f, why] of REHEARSED) log(`  ${f}: ${why}`)
      }
      await runJob('test', matrix, ws, artifacts, {
        suiteFiles: files,
        onStep(step, result, env) {
          if (isSmoke(step)) {
            const expected = path.join(ws, nodeFile(TARGET))
            check(
              `the smoke step loaded ${nodeFile(TARGET)} from the copy's root`,
              result.output.includes(expected),
              expected,
            )
          }
          if (isSuite(step)) {
            const skips = skipsOf(result.output, env)
            const stray = skips.filter((s) => !s.explained)
            log(`the suite skipped ${skips.length}:`)
            for (const s of skips) log(`  ${s.line}`)
            check(
              'every skip names a VENDOR_AUTH_TEST_NO_* variable this job sets',
              stray.length === 0,
              stray.map((s) => s.line).join('; '),
            )
            const ran = /^# pass (\d+)$/m.exec(result.output)
            check('the suite ran tests', ran !== null && Number(ran[1]) > 0, ran ? `${ran[1]} passed` : 'no summary')
          }
        },
      })
    })

    await phase('4. the publish job: its downloads and its dry run', async () => {
      const publish = job('publish')
      const { ctx } = contextFor(publish, {})
      const ws = path.join(stage, 'publish', 'repo')
      fs.mkdirSync(ws, { recursive: true })
      console.log(`${checkout(ws)} files copied (checkout)`)
      const env = runnerEnv(ws)
      must('node_modules (npm ci)', (await installDependencies({ run: 'npm ci' }, ws, env)).code === 0)
      for (const step of publish.steps.filter(isDownload)) {
        for (const f of download(step, ctx, ws, artifacts)) console.log(`  ${path.relative(ws, f)}`)
      }
      const dry = publish.steps.find((s) => typeof s.run === 'string' && s.run.includes('scripts/publish-dry-run.js'))
      must('the publish job has a publish-dry-run.js step', Boolean(dry))
      const text = dry.run.replace(/\s--require-all\b/, '')
      console.log(`$ ${text}   (--require-all dropped: one of the eight binaries is built here)`)
      const r = await runStep(text, { cwd: ws, env })
      check('the publish dry run on the laid-out artifacts', r.code === 0, r.code === 0 ? '' : `exit ${r.code}`)
    })
  } catch (error) {
    if (!(error instanceof Stop)) check('the rehearsal ran', false, error.stack)
  } finally {
    if (keep) log(`kept ${stage}`)
    else fs.rmSync(stage, { recursive: true, force: true })
    console.log('')
    for (const [name, s] of timings) log(`${s.toFixed(1).padStart(6)} s  ${name}`)
    log(`${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s  in all`)
    const failed = results.filter((r) => !r.ok)
    console.log(`release-rehearse: ${results.length - failed.length} passed, ${failed.length} failed`)
    if (failed.length) process.exitCode = 1
  }
}

main()
