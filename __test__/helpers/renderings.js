'use strict'
// Every way a user may turn a value into text (inspect in its variants, console.*, JSON, String,
// an error's message and stack), and an assertion that none of them holds a secret. Shared by the
// redaction tests and the basic-scheme tests.

const util = require('node:util')

const { assertClean } = require('./faults')

/** Everything written to stdout/stderr while `fn` runs (synchronously), not passed through. */
function captureOutput(fn) {
  const written = []
  const streams = [process.stdout, process.stderr]
  const originals = streams.map((s) => s.write)
  for (const stream of streams) {
    stream.write = function (chunk, ...rest) {
      written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'))
      const callback = rest.find((r) => typeof r === 'function')
      if (callback) process.nextTick(callback)
      return true
    }
  }
  try {
    fn()
  } finally {
    streams.forEach((s, i) => {
      s.write = originals[i]
    })
  }
  return written.join('')
}

/** Every way a user may turn `value` into text. */
function renderings(value) {
  const out = {
    'util.inspect': util.inspect(value),
    'util.inspect(showHidden, depth ∞)': util.inspect(value, { showHidden: true, depth: Infinity }),
    'util.inspect(customInspect: false)': util.inspect(value, {
      customInspect: false,
      showHidden: true,
      depth: Infinity,
    }),
    'util.inspect(colors)': util.inspect(value, { colors: true }),
    '%o': util.format('%o', value),
    '%O': util.format('%O', value),
    '%j': util.format('%j', value),
    '%s': util.format('%s', value),
    'JSON.stringify': String(JSON.stringify(value)),
    'JSON.stringify(wrapped)': JSON.stringify({ wrapped: [value] }),
    String: String(value),
    'console.log': captureOutput(() => console.log(value)),
    'console.error': captureOutput(() => console.error('failed:', value)),
    'console.dir': captureOutput(() => console.dir(value, { depth: null })),
    'console.table': captureOutput(() => console.table([value])),
  }
  if (value instanceof Error) {
    out.message = value.message
    out.stack = String(value.stack)
    out.template = `${value}`
    out.fields = JSON.stringify(Object.fromEntries(Object.entries(value)))
  }
  return out
}

/** Assert that no rendering of `value` holds a credential or (more than a prefix of) a token. */
function assertRedacted(value, tokens = [], label = 'value') {
  for (const [how, text] of Object.entries(renderings(value))) {
    assertClean(text, tokens, `${how} of ${label}`)
  }
}

module.exports = { captureOutput, renderings, assertRedacted }
