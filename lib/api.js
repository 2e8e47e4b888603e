'use strict'
// The public API over one kind of driver: `authenticate()`, `createClient()` / `AuthClient`.
// The Node entry passes the native driver (or the wasm one where no native binary loads); the
// edge entries pass the wasm one. Everything else is the same code.

const { VendorAuthError, fromCore } = require('./errors')
const { defineClient } = require('./client')
const { exchange } = require('./outcome')
const { Session } = require('./session')
const { Credentials } = require('./credentials')

/**
 * @param {(options: unknown) => { driver: object, logger?: (line: string) => void,
 *   signal?: AbortSignal, initialSession?: unknown, tokenStore?: unknown, storeTimeoutMs?: unknown,
 *   sessionFields: (provider: string) => Array<{ name: string, jsType: string }>,
 *   SharedStore?: Function }} createDriver validates options (throwing a VendorAuthError before any
 *   I/O) and makes the driver that holds the credentials (see lib/client.js)
 */
function defineApi(createDriver) {
  const { AuthClient, createClient } = defineClient(createDriver)

  /** `authenticate()`: one exchange, with an optional AbortSignal; then the driver is closed. */
  async function authenticate(options) {
    const { driver, credentials, signal, initialSession, tokenStore, storeTimeoutMs } = createDriver(options)
    try {
      if (credentials !== undefined) await new Credentials(credentials, driver).refresh()
      for (const [name, value] of Object.entries({ initialSession, tokenStore, storeTimeoutMs })) {
        if (value === undefined) continue
        throw new VendorAuthError(
          'INVALID_OPTIONS',
          `${name} is a createClient() option; authenticate() always exchanges`,
        )
      }
      if (!signal) return await sessionFrom(driver)
      if (signal.aborted) throw abortError(signal, driver.provider)
      const onAbort = () => driver.close()
      signal.addEventListener('abort', onAbort, { once: true })
      try {
        return await sessionFrom(driver)
      } catch (error) {
        throw signal.aborted ? abortError(signal, driver.provider) : error
      } finally {
        signal.removeEventListener('abort', onAbort)
      }
    } finally {
      // The credentials are not needed any more (the wasm build frees them at once).
      driver.close()
    }
  }

  return { authenticate, createClient, AuthClient }
}

/** One exchange as a Session, or a VendorAuthError. */
async function sessionFrom(driver) {
  const outcome = await exchange(driver, false)
  if (outcome.error) throw fromCore(outcome.error)
  return new Session(outcome.session)
}

function abortError(signal, provider) {
  return new VendorAuthError('ABORTED', 'authenticate() was aborted by its AbortSignal', {
    provider,
    cause: signal.reason,
  })
}

module.exports = { defineApi }
