'use strict'
// Figure 8: the wasm build (issue 13), next to the native figures. Each against a reference
// measured in the same run:
//   8a the .wasm's size, gzipped (target ≤ 150 KB) and raw;
//   8b instantiating it in a fresh Node process (read + compile + instantiate; target ≤ 10 ms),
//      beside loading the native addon the same way, and a whole require('vendor-auth') forced
//      to the wasm build beside the native one;
//   8c the hot path on a wasm-driven client against the plain JS getter (figure 1's worker with
//      VENDOR_AUTH_FORCE_WASM=1; target ≤ 1.3×: it is the same JS);
//   8d one exchange through fetch against a bare fetch of the same request (target ≤ 1.2×), and
//      the Node fallback (node:https) against a bare https keep-alive request.

const fs = require('node:fs')
const path = require('node:path')
const zlib = require('node:zlib')
const { runWorker, runNode, ROOT } = require('./lib/proc')
const { summary, ratios, median } = require('./lib/stats')

const KB = 1e3

async function figure8(ctx, { row, show, quick }) {
  const file = path.join(ROOT, 'wasm', 'vendor_auth_bg.wasm')
  if (!fs.existsSync(file)) throw new Error('wasm/ is not built: `npm run bench` builds it (or npm run build:wasm)')
  const bytes = fs.readFileSync(file)
  const gzipped = zlib.gzipSync(bytes, { level: 9 }).length

  // 8b: timed inside fresh processes, around the load alone.
  const reps = quick ? 5 : 12
  const timeIn = (code, env) =>
    runNode(
      [
        '-e',
        `const h = () => process.hrtime.bigint(); const t0 = h(); ${code}; const t1 = h(); process.stdout.write(String(Number(t1 - t0) / 1e6))`,
      ],
      { env },
    ).then(Number)
  const instantiate = `const glue = require('./wasm/vendor_auth.cjs'); glue.initSync({ module: new WebAssembly.Module(require('node:fs').readFileSync('./wasm/vendor_auth_bg.wasm')) })`
  const loadAddon = `require('./binding.js')`
  const times = { instantiate: [], addon: [], requireWasm: [], requireNative: [] }
  for (let i = 0; i < reps; i++) {
    times.instantiate.push(await timeIn(instantiate))
    times.addon.push(await timeIn(loadAddon))
    times.requireWasm.push(await timeIn(`require('vendor-auth')`, { VENDOR_AUTH_FORCE_WASM: '1' }))
    times.requireNative.push(await timeIn(`require('vendor-auth')`))
  }

  const hot = await runWorker('hot-path', { ...ctx, env: { VENDOR_AUTH_FORCE_WASM: '1' } })
  const hotRatio = summary(ratios(hot.nsPerOp.vendorAuth, hot.nsPerOp.plain))

  const ex = await runWorker('wasm-exchange', { ...ctx, env: { NODE_EXTRA_CA_CERTS: ctx.config.mock.caCertPath } })
  const m = ex.msPerExchange
  const fetchRatio = summary(ratios(m.wasmFetch, m.bareFetch))
  const httpsRatio = summary(ratios(m.wasmHttps, m.bareHttps))

  const inst = summary(ratios(times.instantiate, times.addon))
  return {
    raw: { bytes: bytes.length, gzipped, loadMs: times, hotPath: hot, exchange: ex },
    rows: [
      row(
        '8a',
        'wasm: vendor_auth_bg.wasm gzipped',
        gzipped / KB,
        'KB',
        `raw ${show(bytes.length / KB, 'KB')}`,
        null,
        '≤ 150 KB',
        gzipped <= 150 * KB,
      ),
      row(
        '8b',
        '  instantiate in a fresh Node process (read + compile + instantiate)',
        median(times.instantiate),
        'ms',
        `native addon require('./binding.js') ${show(median(times.addon), 'ms')}`,
        inst,
        '≤ 10 ms',
        median(times.instantiate) <= 10,
      ),
      row(
        '8·',
        "  require('vendor-auth') forced to the wasm build",
        median(times.requireWasm),
        'ms',
        `native ${show(median(times.requireNative), 'ms')}`,
        summary(ratios(times.requireWasm, times.requireNative)),
        null,
        null,
      ),
      row(
        '8c',
        '  hot path: await client.authHeader() on a wasm-driven client',
        median(hot.nsPerOp.vendorAuth),
        'ns',
        `plain JS async getter ${show(median(hot.nsPerOp.plain), 'ns')}`,
        hotRatio,
        '≤ 1.3×',
        hotRatio.median <= 1.3,
      ),
      row(
        '8d',
        '  one exchange through fetch: authenticate() (edge transport)',
        median(m.wasmFetch),
        'ms',
        `bare fetch of the same request ${show(median(m.bareFetch), 'ms')}`,
        fetchRatio,
        '≤ 1.2×',
        fetchRatio.median <= 1.2,
      ),
      row(
        '8·',
        '  Node fallback: authenticate() over node:https',
        median(m.wasmHttps),
        'ms',
        `bare https keep-alive ${show(median(m.bareHttps), 'ms')}; native ${show(median(m.native), 'ms')}`,
        httpsRatio,
        null,
        null,
      ),
    ],
  }
}

module.exports = { figure8 }
