'use strict'
// Small statistics helpers: every figure is a median over rounds with its spread.

/** Sorted copy (numbers). */
function sorted(values) {
  return Float64Array.from(values).sort()
}

/** Quantile with linear interpolation, q in [0, 1]. */
function quantileSorted(s, q) {
  if (s.length === 0) return NaN
  const pos = (s.length - 1) * q
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  return s[lo] + (s[hi] - s[lo]) * (pos - lo)
}

function quantile(values, q) {
  return quantileSorted(sorted(values), q)
}

function median(values) {
  return quantile(values, 0.5)
}

/** `{ median, min, max, q1, q3, n }` of a list of numbers. */
function summary(values) {
  const s = sorted(values)
  return {
    median: quantileSorted(s, 0.5),
    min: s[0],
    max: s[s.length - 1],
    q1: quantileSorted(s, 0.25),
    q3: quantileSorted(s, 0.75),
    n: s.length,
  }
}

/** Element-wise a[i] / b[i]. */
function ratios(a, b) {
  return a.map((x, i) => x / b[i])
}

/** Round to `digits` significant digits (for a commit-friendly results file). */
function sig(x, digits = 4) {
  if (typeof x !== 'number' || !Number.isFinite(x) || x === 0) return x
  return Number(x.toPrecision(digits))
}

/** Deep-round every number in a JSON-like value. */
function roundDeep(value, digits = 4) {
  if (typeof value === 'number') return Number.isInteger(value) ? value : sig(value, digits)
  if (Array.isArray(value)) return value.map((v) => roundDeep(v, digits))
  if (value && typeof value === 'object') {
    const out = {}
    for (const [k, v] of Object.entries(value)) out[k] = roundDeep(v, digits)
    return out
  }
  return value
}

/** Rotate `list` left by `k` (used to interleave subjects in a different order each round). */
function rotate(list, k) {
  const n = list.length
  const s = ((k % n) + n) % n
  return [...list.slice(s), ...list.slice(0, s)]
}

module.exports = { median, quantile, quantileSorted, summary, ratios, sig, roundDeep, rotate, sorted }
