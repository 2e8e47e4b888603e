'use strict'
// Child process of edge-runtime.test.js: what `vercel dev` does with an edge function, with
// Vercel's edge-runtime package (the VM it runs them in). The function (argv[2], inside an app
// whose node_modules hold vendor-auth as packed and edge-runtime) is bundled with esbuild under
// Vercel's conditions (edge-light, worker, browser), its `.wasm?module` imports turned into
// globals compiled here, in the host's realm, and handed to the VM's context, as Vercel's
// bundling does; then runServer() serves it on 127.0.0.1 and prints `{ "url": … }`. The VM's
// fetch trusts the mock's CA through NODE_EXTRA_CA_CERTS, set by the test.

const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')

const { ROOT } = require('../helpers/util')

const ENV = ['PUPPETVENDORS_API_KEY', 'PUPPETVENDORS_BASE_URL', 'PUPPETVENDORS_API_URL', 'DEBUG']

async function main() {
  const fn = path.resolve(process.argv[2])
  const app = path.dirname(path.dirname(fn))
  const { EdgeRuntime, runServer } = require(path.join(app, 'node_modules', 'edge-runtime'))
  const wasm = new Map()
  const result = await require(path.join(ROOT, 'node_modules', 'esbuild')).build({
    stdin: {
      contents: `import handler from ${JSON.stringify(fn)}\naddEventListener('fetch', (event) => event.respondWith(handler(event.request)))\n`,
      resolveDir: app,
      sourcefile: 'edge-entry.js',
    },
    absWorkingDir: app,
    bundle: true,
    format: 'iife',
    platform: 'neutral',
    conditions: ['edge-light', 'worker', 'browser'],
    mainFields: ['browser', 'module', 'main'],
    write: false,
    metafile: true,
    logLevel: 'silent',
    plugins: [
      {
        name: 'vercel-edge-wasm',
        setup(build) {
          build.onResolve({ filter: /\.wasm\?module$/ }, (args) => ({
            path: path.resolve(args.resolveDir, args.path.replace(/\?module$/, '')),
            namespace: 'wasm-binding',
          }))
          build.onLoad({ filter: /.*/, namespace: 'wasm-binding' }, (args) => {
            const name = `wasm_${crypto.createHash('sha1').update(fs.readFileSync(args.path)).digest('hex')}`
            wasm.set(name, args.path)
            return { contents: `export default globalThis[${JSON.stringify(name)}]` }
          })
        },
      },
    ],
  })
  const inputs = Object.keys(result.metafile.inputs)
  const bindings = {}
  for (const [name, file] of wasm) bindings[name] = await WebAssembly.compile(fs.readFileSync(file))
  const env = {}
  for (const name of ENV) if (process.env[name] !== undefined) env[name] = process.env[name]
  const runtime = new EdgeRuntime({
    initialCode: result.outputFiles[0].text,
    extend: (context) => Object.assign(context, bindings, { process: { env } }),
  })
  const server = await runServer({ runtime, host: '127.0.0.1', port: 0 })
  console.log(JSON.stringify({ url: server.url, inputs, bindings: Object.keys(bindings) }))
  process.on('SIGTERM', () => server.close().then(() => process.exit(0)))
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
