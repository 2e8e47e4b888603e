'use strict'
// The bridge to the native binding: loading it, and creating native drivers (the NativeClient
// of src/native/binding.rs already has the driver shape lib/client.js expects), with every
// failure turned into a VendorAuthError.

const { VendorAuthError } = require('./errors')
const { prepareOptions, coreTypes } = require('./options')
const { envSnapshot, declareEnvNames } = require('./outcome')

const OUR_CODES = new Set(['INVALID_OPTIONS', 'INSECURE_URL', 'INTERNAL'])
/** Where the native init leaves the code of a refused load (src/native/binding.rs). */
const REFUSAL_GLOBAL = '__vendorAuthLoadRefused'

/** The driver factory over a loaded binding (see `loadBinding`). */
function nativeDriverFactory(binding) {
  const schema = JSON.parse(binding.optionSchema())
  const types = coreTypes(schema.options)
  declareEnvNames(schema.options)
  const fields = fieldsByProvider(schema)
  return (options) => createNative(binding, types, fields, options)
}

/** Validate options and create the native client that holds the credentials. */
function createNative(binding, types, fields, options) {
  const prepared = prepareOptions(options, types)
  // Lines arrive from Rust as they happen (the logger is contained: lib/options.js).
  const log = prepared.logger
  let native
  try {
    native = new binding.NativeClient(prepared.core, envSnapshot(), log)
  } catch (error) {
    // The native side throws with a stable code; anything else is a conversion failure.
    const code = OUR_CODES.has(error && error.code) ? error.code : 'INVALID_OPTIONS'
    throw new VendorAuthError(code, String(error && error.message))
  }
  const { signal, initialSession, tokenStore, storeTimeoutMs, credentials } = prepared
  return {
    driver: native,
    credentials,
    logger: prepared.logger,
    signal,
    initialSession,
    tokenStore,
    storeTimeoutMs,
    sessionFields: fields,
    SharedStore: tokenStore === undefined ? undefined : require('./store').SharedStore,
  }
}

/**
 * The generated loader, or a VendorAuthError (code UNSUPPORTED_PLATFORM) that names this platform,
 * the package that should have carried its binary, and what to do (inside a bundle: the bundler
 * setting to change); the loader's error is `cause`.
 */
function loadBinding() {
  let loaded
  try {
    loaded = require('../binding.js')
  } catch (error) {
    // A binary that loaded but refused a browser-like context at init leaves its code as data
    // (binding.js keeps only the messages of its load errors): src/native/binding.rs `init`.
    const refused = Object.hasOwn(globalThis, REFUSAL_GLOBAL) ? globalThis[REFUSAL_GLOBAL] : undefined
    if (refused !== undefined) {
      delete globalThis[REFUSAL_GLOBAL]
      if (refused === 'SERVER_ONLY') {
        throw new VendorAuthError(
          'SERVER_ONLY',
          'vendor-auth is server-only: it was loaded where browser globals (window/document) exist, and keys or tokens must never reach a browser. Call it from your server.',
          { cause: error },
        )
      }
    }
    const { platform, arch, abi, wanted, where } = platformTarget()
    // Bundled (esbuild, webpack, Next.js): the addon the bundler emitted, or the setting to change.
    const bundled = require('./bundled').fromBundle(error)
    if (bundled !== undefined) return bundled
    const { optionalDependencies = {} } = require('../package.json')
    const supported = Object.keys(optionalDependencies).map((name) => name.replace('vendor-auth-', ''))
    const published = supported.includes(wanted.slice('vendor-auth-'.length))
    const message =
      `vendor-auth has no native binary that loads on ${where}: looked for the package ${wanted} ` +
      `(and a local vendor-auth.${platform}-${arch}${abi}.node). ` +
      (published
        ? `${wanted} is an optional dependency of vendor-auth: reinstall without --no-optional / ` +
          '--omit=optional, and remove node_modules and the lockfile if they came from another platform. '
        : 'This platform has no prebuilt binary. ') +
      `Prebuilt binaries: ${supported.join(', ') || 'see "napi.targets" in package.json'}. ` +
      'Otherwise build from source with Rust (a clone of the repository, then `npm run build`). ' +
      "The loader's error is in `cause`."
    throw new VendorAuthError('UNSUPPORTED_PLATFORM', message, { cause: error })
  }
  if (loaded && typeof loaded.knownOptions === 'function') return loaded
  // A bundler's loader returned something else than the addon (see bundled.js).
  return require('./bundled').fromBundle(undefined, loaded)
}

/** This platform as the binary packages name it: `wanted` is the package that would carry it. */
function platformTarget() {
  const { platform, arch } = process
  let libc = ''
  if (platform === 'linux') {
    // Node reports the glibc it runs on; no glibc means musl (Alpine).
    const report = process.report || {}
    const excludeNetwork = report.excludeNetwork
    try {
      report.excludeNetwork = true
      libc = report.getReport().header.glibcVersionRuntime ? 'gnu' : 'musl'
    } catch {
      libc = 'unknown'
    } finally {
      report.excludeNetwork = excludeNetwork
    }
  }
  const abi = { linux: `-${libc}`, win32: '-msvc' }[platform] || ''
  const wanted = `vendor-auth-${platform}-${arch}${abi}`
  const where = `${platform}-${arch}${libc ? ` (libc: ${libc === 'gnu' ? 'glibc' : libc})` : ''}`
  return { platform, arch, abi, wanted, where }
}

/** The session fields each vendor of `schema` declares, by provider id: `[{ name, jsType }]`. */
function fieldsByProvider(schema) {
  const fields = new Map()
  for (const spec of schema.providers) fields.set(spec.id, spec.fields)
  return (provider) => fields.get(provider) || []
}

module.exports = { loadBinding, nativeDriverFactory, platformTarget, fieldsByProvider }
