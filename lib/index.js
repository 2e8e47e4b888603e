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

module.exports = { authenticate, createClient, AuthClient, VendorAuthError, ErrorCodes, Session, redisTokenStore }
