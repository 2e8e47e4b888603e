'use strict'
// The options object of a store adapter (upstashTokenStore, durableObjectTokenStore): own
// properties only, each name known, each value a string.

const { VendorAuthError } = require('../errors')

/**
 * `options` read against `defaults` (name → default string): the options with the defaults
 * filled in, or INVALID_OPTIONS naming the adapter (`what`) and the option.
 */
function readStoreOptions(what, options, defaults) {
  if (options === undefined) options = {}
  const known = Object.keys(defaults)
  if (options === null || typeof options !== 'object') {
    throw new VendorAuthError('INVALID_OPTIONS', `${what} options must be an object such as { ${known.join(', ')} }`)
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new VendorAuthError('INVALID_OPTIONS', `unknown ${what} option '${key}'; known: ${known.join(', ')}`)
    }
  }
  const read = Object.create(null)
  for (const key of known) {
    const value = Object.hasOwn(options, key) ? options[key] : defaults[key]
    if (typeof value !== 'string') throw new VendorAuthError('INVALID_OPTIONS', `${what}: ${key} must be a string`)
    read[key] = value
  }
  return read
}

module.exports = { readStoreOptions }
