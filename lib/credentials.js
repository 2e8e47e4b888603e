'use strict'
// Credentials given as functions (`apiKey: () => secrets.get('pv-key')`): keys that live in a
// secret manager and rotate. Each function is asked before every exchange (never on the hot path),
// at most once at a time, and its values go to the core (`driver.setCredentials`), which holds
// them as secrets and decides what a change means: the next exchange uses it, the shared store's
// key follows it, and a refusal cool-down ends (it belonged to the refused value; an unchanged
// value keeps it). After a refusal (UNAUTHORIZED / FORBIDDEN) the next call asks once more, so a
// rotated key is tried at once.
//
// A function that throws, rejects or returns no string is INVALID_OPTIONS with its error as
// `cause`, remembered for 1 s (doubling up to 60 s) so that a broken secret manager is not asked
// in a loop. No Node built-ins here (every entry bundles this file).

const { VendorAuthError, fromCore } = require('./errors')
const { envSnapshot } = require('./outcome')

const REFUSALS = new Set(['UNAUTHORIZED', 'FORBIDDEN'])
const FIRST_BACKOFF_MS = 1_000
const MAX_BACKOFF_MS = 60_000

class Credentials {
  /** @type {Array<[string, Function]>} */
  #functions
  #driver
  #asking = null
  #failures = 0
  #blocked = null // { until, error } after a failure
  #refused = false

  /**
   * @param {Record<string, Function>} functions credential option name → function
   * @param {object} driver the client's driver (`setCredentials(json, env)`)
   */
  constructor(functions, driver) {
    this.#functions = Object.entries(functions)
    this.#driver = driver
  }

  /**
   * Ask every function and give the values to the core. Resolves to whether a value changed;
   * rejects with INVALID_OPTIONS (the function's error as `cause`) or the core's error.
   */
  refresh() {
    if (this.#asking === null) {
      this.#asking = this.#ask().finally(() => {
        this.#asking = null
      })
    }
    return this.#asking
  }

  /** The vendor refused the credentials: the next call may ask the functions again. */
  noteOutcome(error) {
    if (error && REFUSALS.has(error.code)) this.#refused = true
  }

  /** Whether a plan's rejection is a refusal cool-down that asking again could end. */
  mayEnd(planError) {
    if (!this.#refused || !REFUSALS.has(planError.code)) return false
    this.#refused = false
    return true
  }

  async #ask() {
    const blocked = this.#blocked
    if (blocked !== null && Date.now() < blocked.until) throw blocked.error
    const values = Object.create(null)
    for (const [name, fn] of this.#functions) {
      let value
      try {
        value = await Reflect.apply(fn, undefined, [])
      } catch (error) {
        throw this.#failed(`the ${name} function threw or rejected (its error is the cause); asked again in`, error)
      }
      if (typeof value !== 'string' || value === '') {
        const what = value === '' ? 'an empty string' : value === null ? 'null' : `a ${typeof value}`
        throw this.#failed(`the ${name} function returned ${what}, not the credential as a string; asked again in`)
      }
      values[name] = value
    }
    this.#failures = 0
    this.#blocked = null
    const result = this.#driver.setCredentials(JSON.stringify(values), envSnapshot())
    const error = Object.hasOwn(result, 'error') ? result.error : undefined
    if (error) throw fromCore(error)
    return result.changed === true
  }

  #failed(message, cause) {
    const wait = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** Math.min(this.#failures, 16))
    this.#failures++
    const error = new VendorAuthError('INVALID_OPTIONS', `${message} ${wait / 1000} s`, {
      provider: this.#driver.provider,
      ...(cause === undefined ? {} : { cause }),
    })
    this.#blocked = { until: Date.now() + wait, error }
    return error
  }
}

module.exports = { Credentials }
