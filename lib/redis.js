'use strict'
// `redisTokenStore(client, { keyPrefix })`: the tokenStore interface over a Redis client the
// application already has, node-redis (v4 and later) or ioredis. Neither is a dependency: the
// client is passed in, and told apart by its API.

const { VendorAuthError } = require('./errors')
const { ATTACH } = require('./store')

/** Delete the lock only if we still own it (a lock that expired may be someone else's now). */
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"

/**
 * @param {object} client a connected node-redis (`createClient()`, v4+) or ioredis client
 * @param {{ keyPrefix?: string }} [options] prefix of every key (default `'vendor-auth:'`)
 */
function redisTokenStore(client, options = {}) {
  if (options === null || typeof options !== 'object') {
    throw new VendorAuthError('INVALID_OPTIONS', 'redisTokenStore options must be an object such as { keyPrefix }')
  }
  for (const key of Object.keys(options)) {
    if (key !== 'keyPrefix')
      throw new VendorAuthError('INVALID_OPTIONS', `unknown redisTokenStore option '${key}'; known: keyPrefix`)
  }
  const keyPrefix = Object.hasOwn(options, 'keyPrefix') ? options.keyPrefix : 'vendor-auth:'
  if (typeof keyPrefix !== 'string') throw new VendorAuthError('INVALID_OPTIONS', 'keyPrefix must be a string')
  const api = kindOf(client)
  const k = (key) => keyPrefix + key
  const attach = guardErrors(client)
  if (api === 'ioredis') {
    return Object.freeze({
      [ATTACH]: attach,
      get: (key) => client.get(k(key)),
      set: async (key, value, ttlMs) => {
        await client.set(k(key), value, 'PX', ttlMs)
      },
      lock: async (key, owner, ttlMs) => (await client.set(k(key), owner, 'PX', ttlMs, 'NX')) === 'OK',
      release: async (key, owner) => {
        await client.eval(RELEASE, 1, k(key), owner)
      },
    })
  }
  return Object.freeze({
    [ATTACH]: attach,
    get: (key) => client.get(k(key)),
    set: async (key, value, ttlMs) => {
      await client.set(k(key), value, { PX: ttlMs })
    },
    lock: async (key, owner, ttlMs) => (await client.set(k(key), owner, { PX: ttlMs, NX: true })) === 'OK',
    release: async (key, owner) => {
      await client.eval(RELEASE, { keys: [k(key)], arguments: [owner] })
    },
  })
}

/**
 * A Redis client with no `'error'` listener ends the process on its first connection error
 * (node-redis and ioredis are EventEmitters), although a store fault must never fail a call. When
 * the client has none, add one: each outage (up to the client's next `'ready'`) is reported once
 * to every vendor-auth client using this store, as a `STORE_UNAVAILABLE` `'error'` event with the
 * Redis error as `cause`. A client with its own listener is left alone. Returns the store's
 * `[ATTACH]` hook (lib/store.js): `attach(report, log)` → detach.
 */
function guardErrors(client) {
  const sinks = new Set()
  const emitter = typeof client.on === 'function' && typeof client.listenerCount === 'function'
  const added = emitter && client.listenerCount('error') === 0
  if (added) {
    let reported = false
    client.on('error', (error) => {
      if (reported) return
      reported = true
      for (const sink of sinks) sink.report(error)
    })
    client.on('ready', () => {
      reported = false
    })
  }
  return (report, log) => {
    if (!added) return () => {}
    const sink = { report }
    sinks.add(sink)
    log(
      "redisTokenStore: the Redis client had no 'error' listener, so one was added: a Redis error is reported as STORE_UNAVAILABLE and cannot end the process",
    )
    return () => sinks.delete(sink)
  }
}

/** 'ioredis' or 'node-redis', from the client's own API. */
function kindOf(client) {
  const has = (name) => client !== null && typeof client === 'object' && typeof client[name] === 'function'
  if (!has('get') || !has('set') || !has('eval')) {
    throw new VendorAuthError(
      'INVALID_OPTIONS',
      'redisTokenStore takes a node-redis (createClient() from "redis", v4+) or an ioredis client',
    )
  }
  // ioredis: defineCommand and a connection status string; node-redis: isOpen and sendCommand.
  if (has('defineCommand') && typeof client.status === 'string') return 'ioredis'
  return 'node-redis'
}

module.exports = { redisTokenStore }
