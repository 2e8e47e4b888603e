'use strict'
// A real workerd for the tests (the `workerd` npm package ships the binary): bundling workers
// the way wrangler does, and running a config until the test stops it.

const assert = require('node:assert/strict')
const path = require('node:path')
const { spawn } = require('node:child_process')

const { ROOT, waitFor } = require('./util')

/** esbuild as wrangler runs it: .wasm imports stay separate modules (CompiledWasm). */
const wasmModules = {
  name: 'wasm-modules',
  setup(build) {
    build.onResolve({ filter: /\.wasm(\?module)?$/ }, (args) => ({
      path: `./${path.basename(args.path.replace(/\?module$/, ''))}`,
      external: true,
    }))
  },
}

/**
 * Bundles each of `entries` (name → file) as wrangler would (ESM, conditions workerd / worker /
 * browser, no Node built-ins, the .wasm kept as its own module). Resolves to name →
 * `{ text, inputs }` (inputs: the files in it, relative to the package root).
 */
async function bundleWorkers(entries) {
  const esbuild = require('esbuild')
  const bundles = {}
  await Promise.all(
    Object.entries(entries).map(async ([name, file]) => {
      const result = await esbuild.build({
        absWorkingDir: ROOT,
        entryPoints: [file],
        bundle: true,
        format: 'esm',
        platform: 'neutral',
        conditions: ['workerd', 'worker', 'browser'],
        mainFields: ['browser', 'module', 'main'],
        plugins: [wasmModules],
        write: false,
        metafile: true,
        logLevel: 'silent',
      })
      bundles[name] = { text: result.outputFiles[0].text, inputs: Object.keys(result.metafile.inputs).sort() }
    }),
  )
  return bundles
}

/**
 * Runs `workerd serve config.capnp` in `dir` with `env` added to this process's environment, and
 * resolves once `readyUrl` answers. `output()` is what it printed; `stop()` ends it.
 */
async function startWorkerd(dir, { env = {}, readyUrl }) {
  let output = ''
  const child = spawn(require('workerd').default, ['serve', path.join(dir, 'config.capnp')], {
    cwd: dir,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout.setEncoding('utf8').on('data', (chunk) => (output += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk) => (output += chunk))
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const closed = new Promise((resolve) => child.once('close', resolve))
    child.kill('SIGTERM')
    await closed
  }
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) assert.fail(`workerd exited (${child.exitCode}): ${output}`)
        return fetch(readyUrl).then(
          (res) => res.body.cancel().then(() => true),
          () => false,
        )
      },
      { timeoutMs: 30_000, intervalMs: 50, what: 'workerd to listen' },
    )
  } catch (error) {
    await stop()
    throw error
  }
  return { output: () => output, stop }
}

module.exports = { wasmModules, bundleWorkers, startWorkerd }
