#!/usr/bin/env node
'use strict'
// `npm run bench`: vendor-auth beside plain JavaScript, google-auth-library and Node's own
// fetch/https, in one run. Prints a table and writes benches/results.json.
//
// Method (see benches/README.md): every figure is measured against its reference in the same
// run and reported as a ratio: the median over several rounds, with the spread (min–max);
// subject and reference rounds are interleaved in a rotating order to cancel drift; everything
// is warmed up first. Each figure runs in its own Node process, and the mock vendor in another.
//
// Flags: --quick (fewer rounds, shorter loops; writes <tmpdir>/vendor-auth-bench-results.quick.json),
//        --only=1,3 (just these figures), --no-write (print only).
// Exit code: 0 when every benchmark ran, whatever the targets say; 1 when one failed to run.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync } = require('node:child_process')

const { forkBenchMock, optionsFor } = require('./lib/bench-mock')
const { runWorker, runNode, ROOT } = require('./lib/proc')
const { summary, ratios, median, roundDeep, sig } = require('./lib/stats')
const { figureStore } = require('./figures/store')
const { figure8 } = require('./wasm')

const MB = 1e6 // targets are in MB = 10^6 bytes (the stricter reading)

// ---------------------------------------------------------------- arguments

const argv = process.argv.slice(2)
const quick = argv.includes('--quick')
const write = !argv.includes('--no-write')
const onlyArg = argv.find((a) => a.startsWith('--only='))
const only = onlyArg ? new Set(onlyArg.slice('--only='.length).split(',').map(Number)) : null
const unknown = argv.filter((a) => a !== '--quick' && a !== '--no-write' && !a.startsWith('--only='))
if (unknown.length) {
  console.error(
    `unknown argument(s): ${unknown.join(' ')}\nusage: node benches/run.js [--quick] [--only=1,2,…] [--no-write]`,
  )
  process.exit(2)
}

// ---------------------------------------------------------------- figures

/** One row of the table. `ratio`: a summary of per-round subject/reference ratios, or null. */
function row(id, figure, value, unit, reference, ratio, target, met, extra = {}) {
  return { id, figure, value, unit, reference, ratio, target, met, ...extra }
}

const fmt = {
  ns: (v) => `${v.toFixed(v < 100 ? 1 : 0)} ns/op`,
  ms: (v) => `${v < 0.1 ? v.toFixed(4) : v < 10 ? v.toFixed(2) : v.toFixed(1)} ms`,
  MB: (v) => `${(Math.abs(v) < 0.005 ? 0 : v).toFixed(2)} MB`,
  KB: (v) => `${v.toFixed(1)} KB`,
  count: (v) => String(v),
}
const show = (v, unit) => (typeof v === 'number' && Number.isFinite(v) ? fmt[unit](v) : String(v))

async function figure1(ctx) {
  const r = await runWorker('hot-path', ctx)
  const va = r.nsPerOp.vendorAuth
  const plain = r.nsPerOp.plain
  const google = r.nsPerOp.google
  const vsPlain = summary(ratios(va, plain))
  const vsGoogle = summary(ratios(va, google))
  return {
    raw: r,
    rows: [
      row(
        '1a',
        'Hot path: await client.authHeader()',
        median(va),
        'ns',
        `plain JS async getter ${show(median(plain), 'ns')}`,
        vsPlain,
        '≤ 1.3×',
        vsPlain.median <= 1.3,
      ),
      row(
        '1b',
        'Hot path vs google-auth-library',
        median(va),
        'ns',
        `OAuth2Client#getRequestHeaders() ${show(median(google), 'ns')}`,
        vsGoogle,
        '≤ 0.33× (≥ 3× faster)',
        vsGoogle.median <= 1 / 3,
        { speedup: sig(1 / vsGoogle.median, 3) },
      ),
    ],
  }
}

async function figure2(ctx) {
  const r = await runWorker('cold-exchange', { ...ctx, env: { NODE_EXTRA_CA_CERTS: ctx.config.mock.caCertPath } })
  const m = r.msPerExchange
  const fasterReuse = m.fetchReuse.map((f, i) => Math.min(f, m.httpsKeepAlive[i]))
  const fasterNew = m.fetchNew.map((f, i) => Math.min(f, m.httpsNew[i]))
  const headline = summary(ratios(m.vendorAuth, fasterReuse))
  const f = r.firstInProcessMs
  return {
    raw: r,
    rows: [
      row(
        '2',
        'Cold exchange: authenticate() (pooled connection)',
        median(m.vendorAuth),
        'ms',
        `faster of fetch ${show(median(m.fetchReuse), 'ms')} / https keep-alive ${show(median(m.httpsKeepAlive), 'ms')}`,
        headline,
        '≤ 1.0×',
        headline.median <= 1.0,
      ),
      row(
        '2·',
        '  authenticate() vs fetch (reuse)',
        median(m.vendorAuth),
        'ms',
        `fetch ${show(median(m.fetchReuse), 'ms')}`,
        summary(ratios(m.vendorAuth, m.fetchReuse)),
        null,
        null,
      ),
      row(
        '2·',
        '  authenticate() vs https keep-alive',
        median(m.vendorAuth),
        'ms',
        `https keep-alive ${show(median(m.httpsKeepAlive), 'ms')}`,
        summary(ratios(m.vendorAuth, m.httpsKeepAlive)),
        null,
        null,
      ),
      row(
        '2·',
        '  new TLS connection each time: authenticate() with a new caCert (new pool)',
        median(m.vendorAuthNewPool),
        'ms',
        `faster of fetch ${show(median(m.fetchNew), 'ms')} / https ${show(median(m.httpsNew), 'ms')} (Connection: close)`,
        summary(ratios(m.vendorAuthNewPool, fasterNew)),
        null,
        null,
      ),
      row(
        '2·',
        '  first call in a process (1 sample; lazy init)',
        f.vendorAuth,
        'ms',
        `fetch ${show(f.fetchReuse, 'ms')} / https ${show(f.httpsKeepAlive, 'ms')}`,
        null,
        null,
        null,
      ),
    ],
  }
}

async function figure3(ctx) {
  const r = await runWorker('herd', ctx)
  const exact = r.requests.every((n) => n === 1)
  const time = summary(ratios(r.herdMs, r.oneExchangeMs))
  const floor = summary(ratios(r.floorMs, r.oneExchangeMs))
  return {
    raw: r,
    rows: [
      row(
        '3a',
        `Herd: ${r.callers} concurrent authHeader() on a cold client → requests`,
        Math.max(...r.requests),
        'count',
        `${r.rounds} rounds: ${[...new Set(r.requests)].join('/')}`,
        null,
        'exactly 1',
        exact,
      ),
      row(
        '3b',
        '  herd: all resolved',
        median(r.herdMs),
        'ms',
        `one authenticate() ${show(median(r.oneExchangeMs), 'ms')}`,
        time,
        '≤ 1.5×',
        time.median <= 1.5,
      ),
      row(
        '3·',
        `  of which issuing the ${r.callers} calls (sync)`,
        median(r.issueMs),
        'ms',
        `one authenticate() ${show(median(r.oneExchangeMs), 'ms')}`,
        summary(ratios(r.issueMs, r.oneExchangeMs)),
        null,
        null,
      ),
      row(
        '3·',
        `  floor: ${r.callers} callers awaiting one shared authenticate() promise`,
        median(r.floorMs),
        'ms',
        `one authenticate() ${show(median(r.oneExchangeMs), 'ms')}`,
        floor,
        null,
        null,
      ),
      row(
        '3·',
        "  herd vs that floor (the library's own share)",
        median(r.herdMs),
        'ms',
        `floor ${show(median(r.floorMs), 'ms')}`,
        summary(ratios(r.herdMs, r.floorMs)),
        null,
        null,
      ),
    ],
  }
}

async function figure4(ctx) {
  const r = await runWorker('refresh', ctx)
  const c = r.cycles
  const n = `${c.length} refresh${c.length > 1 ? 'es' : ''}`
  const waited = c.reduce((sum, x) => sum + x.waited, 0)
  const during = c.map((x) => x.callsDuringRefresh)
  const inFlight = summary(c.map((x) => x.maxDuringRefreshMs / r.delayMs))
  const p99 = summary(
    ratios(
      c.map((x) => x.p99Ms),
      c.map((x) => x.hotMedianMs),
    ),
  )
  const slowest = c.reduce((a, b) => (b.maxMs > a.maxMs ? b : a))
  const where = slowest.slowestIssuedMsFromSwap
  return {
    raw: r,
    rows: [
      row(
        '4a',
        `Refresh under load (${n}, ${Math.min(...during)}+ callers while each was in flight): callers that waited for it`,
        waited,
        'count',
        `control (forced exchange): ${r.control.waited} of ${r.control.calls} waited`,
        null,
        '0',
        waited === 0 && r.control.waited > 0 && during.every((x) => x > 0),
      ),
      row(
        '4b',
        "  slowest caller's wait while the refresh was in flight",
        Math.max(...c.map((x) => x.maxDuringRefreshMs)),
        'ms',
        `refresh delay ${r.delayMs} ms (took ${show(median(c.map((x) => x.refreshMs)), 'ms')})`,
        inFlight,
        '≤ 0.25×',
        inFlight.max <= 0.25,
      ),
      row(
        '4·',
        `  slowest caller overall (issued ${Math.abs(where).toFixed(0)} ms ${where < 0 ? 'before' : 'after'} the swap)`,
        slowest.maxMs,
        'ms',
        `longest event-loop turn ${show(Math.max(...c.map((x) => x.maxEventLoopTurnMs)), 'ms')}`,
        null,
        null,
        null,
      ),
      row(
        '4·',
        '  p99 wait vs hot-path median (same harness)',
        median(c.map((x) => x.p99Ms)),
        'ms',
        `median before refresh ${show(median(c.map((x) => x.hotMedianMs)), 'ms')}`,
        p99,
        null,
        null,
        {
          p999Ms: median(c.map((x) => x.p999Ms)),
        },
      ),
      row(
        '4c',
        '  refresh requests per refresh',
        Math.max(...c.map((x) => x.refreshRequests)),
        'count',
        `endpoint: ${[...new Set(c.flatMap((x) => x.endpoints))].join(', ')}`,
        null,
        'exactly 1',
        c.every((x) => x.refreshRequests === 1),
      ),
    ],
  }
}

/** RSS (bytes) of a fresh process after running `code` (then a full GC). */
async function rssProbe(code, env) {
  const script = `${code};\nPromise.resolve(typeof ready === 'undefined' ? null : ready).then(() => { for (let i = 0; i < 3; i++) gc(); process.stdout.write(String(process.memoryUsage().rss)); process.exit(0) })`
  return Number(await runNode(['--expose-gc', '-e', script], { env }))
}

async function figure5(ctx) {
  const reps = quick ? 2 : 3
  const growth = { vendorAuth: [], plain: [] }
  for (let i = 0; i < reps; i++) {
    for (const subject of i % 2 ? ['plain', 'vendorAuth'] : ['vendorAuth', 'plain']) {
      growth[subject].push(await runWorker('memory-growth', { ...ctx, args: [subject], execArgv: ['--expose-gc'] }))
    }
  }
  const delta = (list, key) => list.map((g) => (g.large[key] - g.small[key]) / MB)
  const rssVa = delta(growth.vendorAuth, 'rss')
  const rssPlain = delta(growth.plain, 'rss')
  const heapVa = delta(growth.vendorAuth, 'heapUsed')
  const heapPlain = delta(growth.plain, 'heapUsed')

  // RSS of a whole process: plain node, after require('vendor-auth'), after one authenticate().
  const env = { BENCH_OPTIONS: JSON.stringify(optionsFor(ctx.mock)) }
  const probes = {
    plain: '',
    required: "require('vendor-auth')",
    exchanged: "const ready = require('vendor-auth').authenticate(JSON.parse(process.env.BENCH_OPTIONS))",
  }
  const rss = { plain: [], required: [], exchanged: [] }
  const rssReps = quick ? 3 : 5
  for (let i = 0; i < rssReps; i++) {
    for (const name of Object.keys(probes)) rss[name].push((await rssProbe(probes[name], env)) / MB)
  }
  const calls = growth.vendorAuth[0].calls
  const label = `${calls.small / 1e3}k → ${calls.large / 1e6}M calls`
  return {
    raw: { growth, rssMB: rss },
    rows: [
      row(
        '5a',
        `Memory: RSS growth ${label}`,
        median(rssVa),
        'MB',
        `plain JS getter ${show(median(rssPlain), 'MB')}`,
        null,
        '< 2 MB',
        median(rssVa) < 2,
        {
          spread: { min: Math.min(...rssVa), max: Math.max(...rssVa) },
        },
      ),
      row(
        '5b',
        `  heapUsed growth ${label}`,
        median(heapVa),
        'MB',
        `plain JS getter ${show(median(heapPlain), 'MB')}`,
        null,
        '< 2 MB',
        median(heapVa) < 2,
        {
          spread: { min: Math.min(...heapVa), max: Math.max(...heapVa) },
        },
      ),
      row(
        '5·',
        `  process RSS after require('vendor-auth') (Δ ${show(median(rss.required) - median(rss.plain), 'MB')})`,
        median(rss.required),
        'MB',
        `plain node -e ${show(median(rss.plain), 'MB')}`,
        summary(ratios(rss.required, rss.plain)),
        null,
        null,
        { deltaMB: median(rss.required) - median(rss.plain) },
      ),
      row(
        '5·',
        `  process RSS after one authenticate() (Δ ${show(median(rss.exchanged) - median(rss.plain), 'MB')})`,
        median(rss.exchanged),
        'MB',
        `plain node -e ${show(median(rss.plain), 'MB')}`,
        summary(ratios(rss.exchanged, rss.plain)),
        null,
        null,
        { deltaMB: median(rss.exchanged) - median(rss.plain) },
      ),
    ],
  }
}

async function figure6() {
  const reps = quick ? 5 : 12
  // Timed inside the child around the require() alone; the result is computed before touching
  // process.stdout (whose lazy creation would otherwise be counted). Resolution (the package's
  // "exports" map) and loading are also timed apart.
  // `warm`: first resolve a throw-away package that has an "exports" map, as any app with such a
  // dependency already has, so that Node's own one-time resolver set-up is not counted.
  const warmDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vendor-auth-bench-'))
  fs.mkdirSync(path.join(warmDir, 'node_modules', 'warm'), { recursive: true })
  fs.writeFileSync(path.join(warmDir, 'node_modules', 'warm', 'package.json'), '{"name":"warm","exports":"./index.js"}')
  fs.writeFileSync(path.join(warmDir, 'node_modules', 'warm', 'index.js'), '')
  const timeRequire = (name, warm = false) =>
    runNode([
      '-e',
      `${warm ? `require.resolve('warm', { paths: [${JSON.stringify(warmDir)}] });` : ''}
       const h = () => process.hrtime.bigint(); const t0 = h(); const file = require.resolve(${JSON.stringify(name)}); const t1 = h(); require(file); const t2 = h();
       const out = JSON.stringify({ total: Number(t2 - t0) / 1e6, resolve: Number(t1 - t0) / 1e6 }); process.stdout.write(out)`,
    ]).then(JSON.parse)
  const ours = []
  const oursResolve = []
  const oursWarm = []
  const google = []
  try {
    for (let i = 0; i < reps; i++) {
      if (i % 2) google.push((await timeRequire('google-auth-library')).total)
      const t = await timeRequire('vendor-auth')
      ours.push(t.total)
      oursResolve.push(t.resolve)
      oursWarm.push((await timeRequire('vendor-auth', true)).total)
      if (!(i % 2)) google.push((await timeRequire('google-auth-library')).total)
    }
  } finally {
    fs.rmSync(warmDir, { recursive: true, force: true })
  }

  const addon =
    fs.readdirSync(ROOT).find((f) => /^vendor-auth\.linux-x64-gnu\.node$/.test(f)) ??
    fs.readdirSync(ROOT).find((f) => /^vendor-auth\..+\.node$/.test(f))
  const size = fs.statSync(path.join(ROOT, addon)).size
  // Check it is stripped: strip a copy and compare.
  let strippedSize = null
  try {
    const tmp = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vendor-auth-bench-')), addon)
    fs.copyFileSync(path.join(ROOT, addon), tmp)
    execFileSync('strip', ['--strip-all', tmp], { stdio: 'ignore' })
    strippedSize = fs.statSync(tmp).size
    fs.rmSync(path.dirname(tmp), { recursive: true, force: true })
  } catch {
    // no `strip` here: report the file size alone
  }
  return {
    raw: {
      requireMs: { vendorAuth: ours, vendorAuthResolve: oursResolve, vendorAuthWarmResolver: oursWarm, google },
      addon,
      size,
      strippedSize,
    },
    rows: [
      row(
        '6a',
        "Start-up: require('vendor-auth') in a fresh process",
        median(ours),
        'ms',
        `require('google-auth-library') ${show(median(google), 'ms')}`,
        summary(ratios(ours, google)),
        '≤ 10 ms',
        median(ours) <= 10,
        {
          spread: { min: Math.min(...ours), max: Math.max(...ours) },
        },
      ),
      row(
        '6·',
        "  of which resolving 'vendor-auth' (its exports map)",
        median(oursResolve),
        'ms',
        '',
        null,
        null,
        null,
      ),
      row(
        '6·',
        "  require('vendor-auth') once Node's exports resolver is set up (by any earlier package with an exports map)",
        median(oursWarm),
        'ms',
        '',
        null,
        null,
        null,
      ),
      row(
        '6b',
        `  ${addon} size`,
        size / MB,
        'MB',
        strippedSize === null ? 'strip not available' : `after strip --strip-all ${show(strippedSize / MB, 'MB')}`,
        null,
        '≤ 4 MB',
        size <= 4 * MB,
      ),
    ],
  }
}

const FIGURES = [
  [1, 'hot path', figure1],
  [2, 'cold exchange', figure2],
  [3, 'herd', figure3],
  [4, 'refresh under load', figure4],
  [5, 'memory', figure5],
  [6, 'start-up', figure6],
  [7, 'shared token store', (ctx) => figureStore(ctx, { row, show })],
  [8, 'wasm build', (ctx) => figure8(ctx, { row, show, quick })],
]

// ---------------------------------------------------------------- output

function ratioText(r) {
  if (!r) return '—'
  return `${r.median.toFixed(r.median < 0.1 ? 3 : 2)}× (${r.min.toFixed(2)}–${r.max.toFixed(2)})`
}

function printTable(rows) {
  const header = ['#', 'figure', 'value', 'reference', 'ratio: median (min–max)', 'target', 'result']
  const lines = rows.map((r) => [
    r.id,
    r.figure,
    r.error ? 'ERROR' : show(r.value, r.unit),
    r.reference ?? '',
    r.error ? r.error : ratioText(r.ratio),
    r.target ?? '',
    r.met === null || r.met === undefined ? (r.error ? 'ERROR' : '') : r.met ? 'met' : 'MISSED',
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => String(l[i]).length)))
  const fmtLine = (cells) =>
    cells
      .map((c, i) => String(c).padEnd(widths[i]))
      .join('  ')
      .trimEnd()
  console.log(fmtLine(header))
  console.log(widths.map((w) => '─'.repeat(w)).join('  '))
  for (const l of lines) console.log(fmtLine(l))
}

function gitInfo() {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim()
    const dirty =
      execFileSync('git', ['status', '--porcelain', '--', 'src', 'lib', 'Cargo.toml', 'Cargo.lock'], {
        cwd: ROOT,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim() !== ''
    return { commit, dirty }
  } catch {
    return null
  }
}

/** The addon file, and whether it is older than the Rust sources (then the figures are not this tree's). */
function addonInfo() {
  const file = fs.readdirSync(ROOT).find((f) => /^vendor-auth\..+\.node$/.test(f))
  if (!file) return null
  const newest = (dir) =>
    fs.readdirSync(dir, { withFileTypes: true }).reduce((m, e) => {
      const full = path.join(dir, e.name)
      return Math.max(m, e.isDirectory() ? newest(full) : fs.statSync(full).mtimeMs)
    }, 0)
  const stat = fs.statSync(path.join(ROOT, file))
  let stale = null
  try {
    const sources = Math.max(
      newest(path.join(ROOT, 'src')),
      ...['Cargo.toml', 'Cargo.lock'].map((f) => fs.statSync(path.join(ROOT, f)).mtimeMs),
    )
    stale = stat.mtimeMs < sources
  } catch {
    // no sources (an installed package): nothing to compare
  }
  return { file, bytes: stat.size, builtAt: stat.mtime.toISOString(), staleVsSources: stale }
}

// ---------------------------------------------------------------- main

async function main() {
  const started = Date.now()
  const addon = addonInfo()
  if (!addon) throw new Error('the addon is not built: run `npm run bench` (it builds it) or `npm run build` first')
  if (addon.staleVsSources)
    console.error(
      `warning: ${addon.file} is older than src/: these figures are not this tree's (\`npm run bench\` rebuilds it)`,
    )
  const cpus = os.cpus()
  const machine = {
    cpu: cpus[0] ? cpus[0].model.trim() : 'unknown',
    cores: cpus.length,
    memoryGB: sig(os.totalmem() / 2 ** 30, 3),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    loadavgAtStart: os.loadavg().map((l) => sig(l, 3)),
  }
  console.log(
    `vendor-auth benchmarks${quick ? ' (--quick)' : ''}: node ${process.version}, ${machine.cpu} ×${machine.cores}, load ${machine.loadavgAtStart.join(' ')}`,
  )

  const mock = await forkBenchMock()
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vendor-auth-bench-'))
  const caCertPath = path.join(tmp, 'mock-ca.pem')
  fs.writeFileSync(caCertPath, mock.caCert)
  const ctx = { config: { quick, mock: { baseUrl: mock.baseUrl, caCertPath } }, mock }

  const rows = []
  const raw = {}
  const errors = []
  try {
    for (const [n, name, run] of FIGURES) {
      if (only && !only.has(n)) continue
      const t0 = Date.now()
      process.stderr.write(`[${n}] ${name}… `)
      try {
        await mock.reset()
        const out = await run(ctx)
        rows.push(...out.rows)
        raw[n] = out.raw
        process.stderr.write(`${((Date.now() - t0) / 1000).toFixed(1)} s\n`)
      } catch (error) {
        process.stderr.write(`FAILED\n${error.stack || error}\n`)
        errors.push({ figure: n, name, error: String(error.message || error) })
        rows.push(
          row(String(n), name, null, 'ms', null, null, null, null, {
            error: String(error.message || error).slice(0, 60),
          }),
        )
      }
    }
  } finally {
    await mock.close()
    fs.rmSync(tmp, { recursive: true, force: true })
  }

  console.log()
  printTable(rows)
  const withTarget = rows.filter((r) => r.target && !r.error)
  const met = withTarget.filter((r) => r.met).map((r) => r.id)
  const missed = withTarget.filter((r) => !r.met).map((r) => r.id)
  console.log()
  console.log(
    `targets: ${met.length} met, ${missed.length} missed${missed.length ? ` (${missed.join(', ')})` : ''}${errors.length ? `; ${errors.length} benchmark(s) failed to run` : ''}`,
  )
  console.log('ratios are subject / reference per round, median over rounds (min–max); MB = 10^6 bytes')

  const durationSec = (Date.now() - started) / 1000
  const results = roundDeep({
    benchmark: 'vendor-auth',
    schema: 1,
    date: new Date(started).toISOString(),
    quick,
    git: gitInfo(),
    node: process.version,
    v8: process.versions.v8,
    machine: { ...machine, loadavgAtEnd: os.loadavg().map((l) => sig(l, 3)) },
    addon,
    durationSec,
    targets: { met, missed },
    errors,
    figures: rows.map(({ id, figure, value, unit, reference, ratio, target, met: ok, ...extra }) => ({
      id,
      figure: figure.trim(),
      value,
      unit,
      reference,
      ratio: ratio
        ? { median: ratio.median, min: ratio.min, max: ratio.max, q1: ratio.q1, q3: ratio.q3, rounds: ratio.n }
        : null,
      target,
      met: target ? ok : null,
      ...extra,
    })),
    raw,
  })
  if (write) {
    // --quick runs are for development: their results stay out of the tree.
    const file = quick
      ? path.join(os.tmpdir(), 'vendor-auth-bench-results.quick.json')
      : path.join(__dirname, 'results.json')
    fs.writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`)
    console.log(`wrote ${quick ? file : path.relative(process.cwd(), file)} (${durationSec.toFixed(0)} s)`)
  }
  return errors.length ? 1 : 0
}

main().then(
  (code) => {
    process.exitCode = code
  },
  (error) => {
    console.error(error)
    process.exitCode = 1
  },
)
