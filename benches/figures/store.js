'use strict'
// Figure 7 (the shared token store): rows from workers/store.js. Kept apart from run.js, which
// passes in its table helpers.

const { runWorker } = require('../lib/proc')
const { summary, ratios, median } = require('../lib/stats')

/**
 * Figure 7 on the native build, then (7c, 7d) the same worker on the Node fallback (the
 * WebAssembly build over node:https, which shares the store protocol and format).
 * @param {object} ctx run.js's context  @param {{ row: Function, show: Function }} table
 */
async function figureStore(ctx, table) {
  const native = await figureStoreOn(ctx, table, { cold: '7a', added: '7·', hot: '7b', build: '' })
  const fallback = await figureStoreOn({ ...ctx, env: { ...ctx.env, VENDOR_AUTH_FORCE_WASM: '1' } }, table, {
    cold: '7c',
    added: '7c·',
    hot: '7d',
    build: ' (Node fallback, wasm)',
  })
  return { raw: { native: native.raw, fallback: fallback.raw }, rows: [...native.rows, ...fallback.rows] }
}

async function figureStoreOn(ctx, { row, show }, ids) {
  const r = await runWorker('store', ctx)
  const m = r.msColdClient
  const cold = summary(ratios(m.fromStore, m.ownExchangeNewTls))
  const hot = summary(ratios(r.nsPerOp.vendorAuth, r.nsPerOp.plain))
  const added = m.fromStore.map((v, i) => v - m.initialSession[i])
  return {
    raw: r,
    rows: [
      row(
        ids.cold,
        `Shared store${ids.build}: cold client, token already in Redis → first header`,
        median(m.fromStore),
        'ms',
        `cold client's own exchange, new TLS connection ${show(median(m.ownExchangeNewTls), 'ms')}`,
        cold,
        '≤ 0.5×',
        cold.median <= 0.5,
      ),
      row(
        ids.added,
        `  added by reading Redis: vs a cold client seeded with initialSession (no I/O), +${show(median(added), 'ms')}`,
        median(m.fromStore),
        'ms',
        `initialSession ${show(median(m.initialSession), 'ms')}`,
        summary(ratios(m.fromStore, m.initialSession)),
        null,
        null,
        { addedMs: median(added) },
      ),
      row(
        ids.hot,
        `Shared store${ids.build}: hot path with a tokenStore configured (store calls in the loops: ${r.hotStoreCalls})`,
        median(r.nsPerOp.vendorAuth),
        'ns',
        `plain JS async getter ${show(median(r.nsPerOp.plain), 'ns')}`,
        hot,
        '≤ 1.3×, 0 store calls',
        hot.median <= 1.3 && r.hotStoreCalls === 0,
      ),
    ],
  }
}

module.exports = { figureStore }
