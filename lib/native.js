'use strict'
// The bridge to the native binding: loading it, and creating native drivers (the NativeClient
// of src/native/binding.rs already has the driver shape lib/client.js expects), with every
// failure turned into a VendorAuthError.

const { VendorAuthError } = require('./errors')
const { prepareOptions, containedLogger } = require('./options')

const OUR_CODES = new Set(['INVALID_OPTIONS', 'INSECURE_URL'])

/** The driver factory over a loaded binding (see `loadBinding`). */
function nativeDriverFactory(binding) {
  const known = Object.freeze(binding.knownOptions())
  return (options) => createNative(binding, known, options)
}

/** Validate options and create the native client that holds the credentials. */
function createNative(binding, known, options) {
  const prepared = prepareOptions(options, known)
  // Lines arrive from Rust as they happen; a user's logger that throws is contained here too.
  const log = containedLogger(prepared.logger)
  let native
  try {
    native = new binding.NativeClient(prepared.native, process.env, log)
  } catch (error) {
    // The native side throws with a stable code; anything else is a conversion failure.
    const code = OUR_CODES.has(error && error.code) ? error.code : 'INVALID_OPTIONS'
    throw new VendorAuthError(code, String(error && error.message))
  }
  return { driver: native, logger: prepared.logger, signal: prepared.signal }
}

/**
 * The generated loader, or a VendorAuthError (code UNSUPPORTED_PLATFORM) that names this platform,
 * the package that should have carried its binary, and what to do; the loader's error is `cause`.
 */
function loadBinding() {
  try {
    return require('../binding.js')
  } catch (error) {
    // A binary that loaded but refused a browser-like context at init: binding.js keeps only the
    // messages of its load errors, so the refusal is found by its message.
    for (let e = error; e; e = e.cause) {
      if (typeof e.message === 'string' && e.message.startsWith('vendor-auth is server-only')) {
        throw new VendorAuthError('SERVER_ONLY', e.message, { cause: error })
      }
    }
    const { platform, arch, abi, wanted, where } = platformTarget()
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

module.exports = { loadBinding, nativeDriverFactory, platformTarget }
