'use strict'
// The bridge to the native binding: creating native clients and running exchanges, with every
// failure turned into a VendorAuthError.

const { VendorAuthError, fromNative } = require('./errors')
const binding = loadBinding()
const { prepareOptions, nativeTypes } = require('./options')
const { Session } = require('./session')

/** The core's option schema: every option and vendor, as the Rust side declares them. */
const SCHEMA = binding.optionSchema()
const NATIVE_TYPES = nativeTypes(SCHEMA.options)
const OUR_CODES = new Set(['INVALID_OPTIONS', 'INSECURE_URL'])

/** Validate options and create the native client that holds the credentials. */
function createNative(options) {
  const prepared = prepareOptions(options, NATIVE_TYPES)
  const { logger } = prepared
  // Lines arrive from Rust as they happen; a user's logger that throws is contained here too.
  const log =
    logger === undefined
      ? undefined
      : (line) => {
          try {
            logger(line)
          } catch {
            // never breaks an exchange
          }
        }
  let native
  try {
    native = new binding.NativeClient(prepared.native, envSnapshot(), log)
  } catch (error) {
    // The native side throws with a stable code; anything else is a conversion failure.
    const code = OUR_CODES.has(error && error.code) ? error.code : 'INVALID_OPTIONS'
    throw new VendorAuthError(code, String(error && error.message))
  }
  const { signal, initialSession, tokenStore, storeTimeoutMs } = prepared
  return { native, logger, signal, initialSession, tokenStore, storeTimeoutMs }
}

/**
 * The environment the native side reads credential defaults from: the own entries of
 * `process.env`, copied into a null-prototype object, so that an inherited
 * `Object.prototype.PUPPETVENDORS_API_KEY` can never count as a credential.
 */
function envSnapshot() {
  const env = process.env
  const snapshot = Object.create(null)
  for (const name of Object.keys(env)) {
    const value = env[name]
    if (typeof value === 'string') snapshot[name] = value
  }
  return snapshot
}

/**
 * One exchange on `native`: resolves to its outcome `{ session, freshUntil, error }` (never
 * rejects). `background`: a single attempt per endpoint, and nothing that keeps the process alive
 * while it runs.
 */
async function exchange(native, background) {
  const missing = ready(native)
  if (missing !== undefined) return missing
  const outcome = background
    ? await new Promise((resolve) => native.exchangeInBackground(resolve))
    : await native.exchange()
  return ownOutcome(outcome)
}

/**
 * The fields of a native outcome or plan, read as own properties only: an absent one must never
 * be read through a polluted Object.prototype.
 */
function ownOutcome(outcome) {
  const own = (key) => (Object.hasOwn(outcome, key) ? outcome[key] : undefined)
  return {
    session: own('session'),
    freshUntil: own('freshUntil'),
    error: own('error'),
    action: own('action'),
    until: own('until'),
  }
}

/**
 * A client created without credentials (a build without secrets) looks for them again at first
 * use; the outcome `{ error }` (INVALID_OPTIONS naming the variables) while they are still missing.
 */
function ready(native) {
  if (!native.pending) return undefined
  const error = native.resolve(envSnapshot())
  return error ? ownOutcome({ error }) : undefined
}

/** One exchange as a Session, or a VendorAuthError. */
async function sessionFrom(native) {
  const outcome = await exchange(native, false)
  if (outcome.error) throw fromNative(outcome.error)
  return new Session(outcome.session)
}

/** `authenticate()`: one exchange, with an optional AbortSignal. */
async function authenticate(options) {
  const { native, signal, initialSession, tokenStore, storeTimeoutMs } = createNative(options)
  for (const [name, value] of Object.entries({ initialSession, tokenStore, storeTimeoutMs })) {
    if (value === undefined) continue
    native.close()
    throw new VendorAuthError('INVALID_OPTIONS', `${name} is a createClient() option; authenticate() always exchanges`)
  }
  if (!signal) return sessionFrom(native)
  if (signal.aborted) throw abortError(signal, native.provider)
  const onAbort = () => native.close()
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    return await sessionFrom(native)
  } catch (error) {
    throw signal.aborted ? abortError(signal, native.provider) : error
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

function abortError(signal, provider) {
  return new VendorAuthError('ABORTED', 'authenticate() was aborted by its AbortSignal', {
    provider,
    cause: signal.reason,
  })
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
    // A binary that loaded but refused a browser-like context at init: binding.js keeps only the
    // messages of its load errors, so the refusal is found by its message.
    for (let e = error; e; e = e.cause) {
      if (typeof e.message === 'string' && e.message.startsWith('vendor-auth is server-only')) {
        throw new VendorAuthError('SERVER_ONLY', e.message, { cause: error })
      }
    }
    // Bundled (esbuild, webpack, Next.js): the addon the bundler emitted, or the setting to change.
    const bundled = require('./bundled').fromBundle(error)
    if (bundled !== undefined) return bundled
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
    const { optionalDependencies = {} } = require('../package.json')
    const supported = Object.keys(optionalDependencies).map((name) => name.replace('vendor-auth-', ''))
    const where = `${platform}-${arch}${libc ? ` (libc: ${libc === 'gnu' ? 'glibc' : libc})` : ''}`
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

/** The session fields vendor `provider` declares: `[{ name, jsType }]`. */
function sessionFields(provider) {
  const spec = SCHEMA.providers.find((p) => p.id === provider)
  return spec === undefined ? [] : spec.fields
}

module.exports = { authenticate, createNative, exchange, ownOutcome, ready, sessionFields }
