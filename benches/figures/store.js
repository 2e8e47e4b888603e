'use strict'
// Figure 7 (the shared token store): rows from workers/store.js. Kept apart from run.js, which
// passes in its table helpers.

const { runWorker } = require('../lib/proc')
const { summary, ratios, median } = require('../lib/stats')

/** @param {object} ctx run.js's context  @param {{ row: Function, show: Function }} table */
async function figureStore(ctx, { row, show }) {
  const r = await runWorker('store', ctx)
  const m = r.msColdClient
  const cold = summary(ratios(m.fromStore, m.ownExchangeNewTls))
  const hot = summary(ratios(r.nsPerOp.vendorAuth, r.nsPerOp.plain))
  const added = m.fromStore.map((v, i) => v - m.initialSession[i])
  return {
    raw: r,
    rows: [
      row(
        '7a',
        'Shared store: cold client, token already in Redis → first header',
        median(m.fromStore),
        'ms',
        `cold client's own exchange, new TLS connection ${show(median(m.ownExchangeNewTls), 'ms')}`,
        cold,
        '≤ 0.5×',
        cold.median <= 0.5,
      ),
      row(
        '7·',
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
        '7b',
        `Shared store: hot path with a tokenStore configured (store calls in the loops: ${r.hotStoreCalls})`,
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
