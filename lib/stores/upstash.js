'use strict'
// `upstashTokenStore(redis, { keyPrefix })`: the tokenStore interface over an @upstash/redis
// client (Redis over HTTP: Upstash, and Vercel KV, whose `kv` is an @upstash/redis client), for
// the edge runtimes, where the TCP clients of redisTokenStore() do not run, and for Node. The
// client is passed in: @upstash/redis is an optional peer dependency that vendor-auth never loads.
// The same keys and commands as redisTokenStore(), so a fleet can mix both over one database.
// No Node built-ins.

const { VendorAuthError } = require('../errors')
const { readStoreOptions } = require('./options')

/** Delete the lock only if we still own it (a lock that expired may be someone else's now). */
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"

/**
 * @param {object} redis an @upstash/redis client (`new Redis({ url, token })`, `Redis.fromEnv()`)
 *   or @vercel/kv's `kv`
 * @param {{ keyPrefix?: string }} [options] prefix of every key (default `'vendor-auth:'`)
 */
function upstashTokenStore(redis, options) {
  const { keyPrefix } = readStoreOptions('upstashTokenStore', options, { keyPrefix: 'vendor-auth:' })
  const has = (method) => redis !== null && typeof redis === 'object' && typeof redis[method] === 'function'
  if (!has('get') || !has('set') || !has('eval')) {
    throw new VendorAuthError(
      'INVALID_OPTIONS',
      'upstashTokenStore takes an @upstash/redis client (new Redis({ url, token }) or Redis.fromEnv()) or @vercel/kv’s kv',
    )
  }
  // A TCP client's set() takes other arguments: say which adapter it needs instead of failing later.
  if (has('sendCommand') || has('defineCommand')) {
    throw new VendorAuthError(
      'INVALID_OPTIONS',
      'upstashTokenStore takes an @upstash/redis client; for a node-redis or ioredis client use redisTokenStore()',
    )
  }
  const k = (key) => keyPrefix + key
  return Object.freeze({
    // The client decodes values that look like JSON; ours never do (`v1.<base64url>`), and
    // anything else (written by something else) counts as absent.
    get: async (key) => {
      const value = await redis.get(k(key))
      return typeof value === 'string' ? value : null
    },
    set: async (key, value, ttlMs) => {
      await redis.set(k(key), value, { px: ttlMs })
    },
    lock: async (key, owner, ttlMs) => (await redis.set(k(key), owner, { px: ttlMs, nx: true })) === 'OK',
    release: async (key, owner) => {
      await redis.eval(RELEASE, [k(key)], [owner])
    },
  })
}

module.exports = { upstashTokenStore }
