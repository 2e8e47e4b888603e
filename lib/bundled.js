'use strict'
// When vendor-auth was bundled (esbuild, webpack, Next.js) and its native addon did not come
// along as a Node-API module: load it where that is possible, else say which bundler setting
// went wrong and how to fix it. Used by loadBinding() in native.js only when binding.js failed
// or returned something else than the addon; nothing here runs for the package as published. And
// where the Node fallback finds the WebAssembly build inside a bundle (wasmFolder, for backend.js).

const KEEP_EXTERNAL =
  'Keep vendor-auth out of the bundle: esbuild --external:vendor-auth (or --packages=external), ' +
  "webpack externals: { 'vendor-auth': 'commonjs vendor-auth' }, Next.js serverExternalPackages: " +
  "['vendor-auth'], and ship node_modules/vendor-auth with the app (see README, Bundlers and frameworks)"

/**
 * The binding from inside a bundle, or a `VendorAuthError` (`UNSUPPORTED_PLATFORM`) naming the
 * bundler setting to change; `undefined` when nothing points at a bundler (the platform message
 * applies then).
 * @param {unknown} error what `require('../binding.js')` threw, or undefined when it returned
 * @param {unknown} [loaded] what it returned instead of the addon
 */
function fromBundle(error, loaded) {
  const { VendorAuthError } = require('./errors')
  const fail = (message) => new VendorAuthError('UNSUPPORTED_PLATFORM', message, error ? { cause: error } : {})
  // esbuild's `file` loader (and webpack's asset modules) turn `require('./x.node')` into the
  // emitted file's path. binding.js returns it, or, in a strict-mode bundle (an entry with
  // 'use strict'), throws as it sets properties on that string: V8's TypeError then holds it.
  const emitted = error === undefined ? loaded : emittedPathIn(error)
  if (typeof emitted === 'string' && /\.node(?:[?#].*)?$/.test(emitted)) {
    const addon = loadEmittedAddon(emitted, fail)
    if (addon && typeof addon.knownOptions === 'function') return addon
  }
  for (let e = error; e; e = e.cause) {
    const message = typeof e.message === 'string' ? e.message : ''
    if (/^Dynamic require of ".*" is not supported/.test(message)) {
      throw fail(
        'vendor-auth was bundled into an ES module that has no `require`, so its native addon ' +
          `cannot load (esbuild's "${message}"). ${KEEP_EXTERNAL}. Or give the bundle a require ` +
          'and copy the addon: esbuild --loader:.node=copy --banner:js="import { createRequire } ' +
          "from 'node:module'; const require = createRequire(import.meta.url);\"",
      )
    }
  }
  // The bundle requires its addon from beside it (esbuild --loader:.node=copy wrote it there), and
  // the deployment left it behind: name the file, where it must be.
  const left = addonLeftBehind(error)
  if (left !== undefined) {
    throw fail(
      `vendor-auth runs from the bundle ${left.bundle}, and the native addon it requires is not beside ` +
        `it: ship ${left.addon} with the bundle (the file the bundler wrote next to it, e.g. esbuild's ` +
        "--loader:.node=copy), or keep vendor-auth out of the bundle. The loader's error is in `cause`.",
    )
  }
  if (error === undefined) {
    throw fail(
      `vendor-auth's native addon did not load as a Node-API module (got ${describe(loaded)}): a ` +
        `bundler's loader changed it. Use esbuild --loader:.node=copy, or: ${KEEP_EXTERNAL}.`,
    )
  }
  // webpack rewrites this identifier inside its bundles (elsewhere it is an undeclared global).
  // eslint-disable-next-line no-undef
  if (typeof __webpack_require__ === 'function') {
    throw fail(
      `vendor-auth was bundled by webpack (or Next.js), which cannot carry its native addon. ${KEEP_EXTERNAL}.`,
    )
  }
  return undefined
}

/**
 * `{ bundle, addon }` when binding.js ran inside a bundle and a `.node` file it requires by a
 * relative path is missing: Node's "Cannot find module './x.node'" (binding.js keeps its load
 * errors' messages, "Require stack" included), required from a file that is not our binding.js.
 */
function addonLeftBehind(error) {
  const path = require('node:path')
  for (let e = error; e; e = e.cause) {
    const message = typeof e.message === 'string' ? e.message : ''
    const match = /^Cannot find module '(\.{1,2}[\\/][^']*\.node)'\s+Require stack:\s+- ([^\n]+)/.exec(message)
    if (match === null) continue
    const [, request, from] = match
    if (path.basename(from) === 'binding.js') return undefined
    return { bundle: from, addon: path.resolve(path.dirname(from), request) }
  }
  return undefined
}

/**
 * The folder of the running bundle, or undefined for the package as published (this file at its
 * place, lib/bundled.js). From the native loader's `error` when it names the bundle (an ES module
 * bundle has no __dirname), else from __filename.
 */
function bundleFolder(error) {
  const path = require('node:path')
  const left = addonLeftBehind(error)
  if (left !== undefined) return path.dirname(left.bundle)
  if (typeof __filename !== 'string') return process.cwd()
  return /[\\/]lib[\\/]bundled\.js$/.test(__filename) ? undefined : __dirname
}

/** The WebAssembly build's files (node_modules/vendor-auth/wasm/), which the Node fallback loads. */
const WASM_FILES = ['vendor_auth.cjs', 'vendor_auth_bg.wasm']

/**
 * Where the Node fallback loads the WebAssembly build from: undefined for the package as published
 * (its wasm/ folder), the bundle's own folder for a bundle (a bundle does not carry these files:
 * they are shipped beside it, as the native addon is). Throws an Error naming each file to ship
 * and where, when one is missing there.
 * @param {unknown} [error] the native loader's error, if it failed
 */
function wasmFolder(error) {
  const folder = bundleFolder(error)
  if (folder === undefined) return undefined
  const path = require('node:path')
  const fs = require('node:fs')
  const missing = WASM_FILES.map((file) => path.join(folder, file)).filter((file) => !fs.existsSync(file))
  if (missing.length > 0) {
    throw new Error(
      `in a bundle it is loaded from the bundle's folder, and ${missing.join(' and ')} ` +
        `${missing.length === 1 ? 'is' : 'are'} not there: ship ${WASM_FILES.join(' and ')} from ` +
        `node_modules/vendor-auth/wasm/ beside the bundle`,
    )
  }
  return folder
}

/** The emitted addon's path in binding.js's strict-mode TypeError, if that is what it threw. */
function emittedPathIn(error) {
  if (!(error instanceof TypeError)) return undefined
  const match = /^Cannot create property '\w+' on string '(.+\.node)'$/.exec(error.message)
  return match === null ? undefined : match[1]
}

/** Loads the addon at `emitted` (relative to the running bundle's folder). */
function loadEmittedAddon(emitted, fail) {
  const path = require('node:path')
  const fs = require('node:fs')
  const relative = emitted.replace(/[?#].*$/, '')
  // In an ES module bundle there is no __dirname; a relative path then means the working folder.
  const base = typeof __dirname === 'string' ? __dirname : process.cwd()
  const file = path.resolve(base, relative)
  if (!fs.existsSync(file)) {
    throw fail(
      `vendor-auth was bundled with a loader that replaced its native addon by the path '${emitted}' ` +
        `(esbuild --loader:.node=file, a webpack asset module), and no file is at ${file}. ` +
        `Use esbuild --loader:.node=copy instead, or: ${KEEP_EXTERNAL}.`,
    )
  }
  const addon = { exports: {} }
  process.dlopen(addon, file)
  return addon.exports
}

function describe(value) {
  if (value === null) return 'null'
  if (typeof value === 'string') return `the string '${value.slice(0, 120)}'`
  return typeof value === 'object' ? `an object with keys ${Object.keys(value).slice(0, 5).join(', ')}` : typeof value
}

module.exports = { fromBundle, wasmFolder }
