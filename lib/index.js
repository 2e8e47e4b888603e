'use strict'
// vendor-auth: vendor API keys to short-lived JWT auth headers, for servers only.

// Before anything native is loaded: refuse browser-like contexts.
require('./guard').assertServerContext()

const { defineApi } = require('./api')
const { chooseDriverFactory } = require('./backend')
const { VendorAuthError, ErrorCodes } = require('./errors')
const { Session } = require('./session')
const { redisTokenStore } = require('./redis')

const { authenticate, createClient, AuthClient } = defineApi(chooseDriverFactory())

module.exports = {
  authenticate,
  createClient,
  AuthClient,
  VendorAuthError,
  ErrorCodes,
  Session,
  redisTokenStore,
  // The edge stores' adapters, loaded at first use: a process that never uses them loads nothing.
  upstashTokenStore: (redis, options) => require('./stores/upstash').upstashTokenStore(redis, options),
  durableObjectTokenStore: (namespace, options) =>
    require('./stores/durable-object').durableObjectTokenStore(namespace, options),
}
// The Durable Object class runs only in workerd (its entry is lib/workerd.mjs); here it is the same
// class for the types' sake, read when asked for.
Object.defineProperty(module.exports, 'VendorAuthTokenStore', {
  enumerable: true,
  get: () => require('./stores/durable-object').VendorAuthTokenStore,
})
