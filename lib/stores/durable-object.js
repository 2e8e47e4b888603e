'use strict'
// Cloudflare Durable Objects as the shared token store: one Durable Object (a class the worker
// exports and wrangler.toml binds) holds the entries, and `durableObjectTokenStore(namespace)`
// is the tokenStore interface over its binding. Every isolate of every worker bound to the
// namespace reaches the same object; an object runs one request at a time and its storage is
// strongly consistent, so its lock is a real lock (Workers KV, eventually consistent and without
// compare-and-set, could not give one).
//
// The object is spoken to over its stub's fetch() (a JSON command, a JSON answer), which every
// Durable Object class supports: no import of 'cloudflare:workers', so this file loads in any
// runtime and costs nothing where it is not used. No Node built-ins.

const { VendorAuthError } = require('../errors')
const { readStoreOptions } = require('./options')

/** The URL of the stub's requests: a Durable Object is reached by its stub, not by this name. */
const ENDPOINT = 'https://vendor-auth-token-store.invalid/'
const DELETE_BATCH = 128 // storage.delete() takes at most 128 keys at once
const OPS = new Set(['get', 'set', 'lock', 'release'])

const json = (body, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })

/** A command as the client sends it, checked; null when malformed. */
function command(body) {
  if (body === null || typeof body !== 'object' || !OPS.has(body.op) || typeof body.key !== 'string') return null
  const { op, key } = body
  if (op === 'get') return { op, key }
  if (op === 'release') return typeof body.owner === 'string' ? { op, key, owner: body.owner } : null
  const value = op === 'set' ? body.value : body.owner
  const ttlMs = body.ttlMs
  if (typeof value !== 'string' || !Number.isSafeInteger(ttlMs) || ttlMs < 1) return null
  return { op, key, value, ttlMs }
}

/**
 * The Durable Object that holds a fleet's shared entries. Export it from the worker's main
 * module and bind it in wrangler.toml (`[[durable_objects.bindings]]` and a migration naming the
 * class); entries are `{ value, expiresAt }` in its storage, expired ones are dropped when read
 * and by an alarm.
 */
class VendorAuthTokenStore {
  #storage
  /** Commands run one after another (a lock is read and taken with nothing in between). */
  #queue = Promise.resolve()

  /** @param {{ storage: object }} state the object's state, as the runtime passes it */
  constructor(state) {
    this.#storage = state.storage
  }

  /** One command: `{ op: 'get' | 'set' | 'lock' | 'release', key, value?, owner?, ttlMs? }`. */
  async fetch(request) {
    if (request.method !== 'POST') return json({ error: 'POST a command' }, 405)
    let cmd
    try {
      cmd = command(await request.json())
    } catch {
      cmd = null
    }
    if (cmd === null) return json({ error: 'malformed command' }, 400)
    const run = this.#queue.then(() => this.#run(cmd))
    this.#queue = run.then(
      () => {},
      () => {},
    )
    try {
      return json(await run)
    } catch (error) {
      // A storage failure: the client reports it as a store fault (never a value in it).
      return json({ error: error !== null && typeof error === 'object' ? String(error.name) : typeof error }, 500)
    }
  }

  async #run({ op, key, value, owner, ttlMs }) {
    const now = Date.now()
    switch (op) {
      case 'get':
        return { value: await this.#read(key, now) }
      case 'set':
        await this.#write(key, value, now + ttlMs)
        return {}
      case 'lock':
        if ((await this.#read(key, now)) !== null) return { taken: false }
        await this.#write(key, value, now + ttlMs)
        return { taken: true }
      default: // release: only the owner's own lock (an expired one may be someone else's now)
        if ((await this.#read(key, now)) === owner) await this.#storage.delete(key)
        return {}
    }
  }

  /** The live value under `key`, or null (an expired entry is deleted). */
  async #read(key, now) {
    const entry = await this.#storage.get(key)
    if (entry === undefined) return null
    if (entry.expiresAt <= now) {
      await this.#storage.delete(key)
      return null
    }
    return entry.value
  }

  async #write(key, value, expiresAt) {
    await this.#storage.put(key, { value, expiresAt })
    const alarm = await this.#storage.getAlarm()
    if (alarm === null || alarm > expiresAt) await this.#storage.setAlarm(expiresAt)
  }

  /** Drops the expired entries (of rotated credentials, say: nobody reads them again). */
  async alarm() {
    const run = this.#queue.then(async () => {
      const now = Date.now()
      const expired = []
      let next = null
      for (const [key, entry] of await this.#storage.list()) {
        if (entry.expiresAt <= now) expired.push(key)
        else if (next === null || entry.expiresAt < next) next = entry.expiresAt
      }
      for (let i = 0; i < expired.length; i += DELETE_BATCH) {
        await this.#storage.delete(expired.slice(i, i + DELETE_BATCH))
      }
      if (next !== null) await this.#storage.setAlarm(next)
    })
    this.#queue = run.then(
      () => {},
      () => {},
    )
    return run
  }
}

/**
 * The tokenStore interface over a Durable Object namespace bound to `VendorAuthTokenStore`
 * (`env.VENDOR_AUTH_STORE`). Every client using the same namespace and `name` shares one object.
 *
 * @param {{ idFromName(name: string): unknown, get(id: unknown): { fetch: Function } }} namespace
 * @param {{ name?: string }} [options] the object's name (default `'vendor-auth'`)
 */
function durableObjectTokenStore(namespace, options) {
  const { name } = readStoreOptions('durableObjectTokenStore', options, { name: 'vendor-auth' })
  const has = (method) => namespace !== null && typeof namespace === 'object' && typeof namespace[method] === 'function'
  if (!has('idFromName') || !has('get')) {
    throw new VendorAuthError(
      'INVALID_OPTIONS',
      'durableObjectTokenStore takes a Durable Object namespace binding (env.VENDOR_AUTH_STORE) of the VendorAuthTokenStore class',
    )
  }
  const id = namespace.idFromName(name)
  async function call(body) {
    // A stub per call: a stub is cheap, and one made in an earlier request is not reused.
    const res = await namespace.get(id).fetch(ENDPOINT, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    if (!res.ok) {
      if (res.body) await res.body.cancel()
      throw new Error(`the Durable Object token store answered HTTP ${res.status} to ${body.op}`)
    }
    return res.json()
  }
  return Object.freeze({
    get: async (key) => {
      const { value } = await call({ op: 'get', key })
      return typeof value === 'string' ? value : null
    },
    set: async (key, value, ttlMs) => {
      await call({ op: 'set', key, value, ttlMs })
    },
    lock: async (key, owner, ttlMs) => (await call({ op: 'lock', key, owner, ttlMs })).taken === true,
    release: async (key, owner) => {
      await call({ op: 'release', key, owner })
    },
  })
}

module.exports = { VendorAuthTokenStore, durableObjectTokenStore }
