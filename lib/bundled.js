'use strict'
// When vendor-auth was bundled (esbuild, webpack, Next.js) and its native addon did not come
// along as a Node-API module: load it where that is possible, else say which bundler setting
// went wrong and how to fix it. Used by loadBinding() in native.js only when binding.js failed
// or returned something else than the addon; nothing here runs for the package as published.

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

module.exports = { fromBundle }
