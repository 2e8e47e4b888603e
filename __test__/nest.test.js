'use strict'
// vendor-auth/nest in real Nest 11 application contexts (no HTTP platform needed), written in
// plain JavaScript with Nest's decorators applied as functions: one client per token, forRoot
// and forRootAsync (injected config, async factory), global modules, bad options failing the
// bootstrap with INVALID_OPTIONS, and every client closed by app.close().

const test = require('node:test')
const assert = require('node:assert/strict')

require('reflect-metadata')
const { Module, Injectable, Inject } = require('@nestjs/common')
const { NestFactory } = require('@nestjs/core')

const { AuthClient } = require('..')
const { VendorAuthModule, VENDOR_AUTH_CLIENT } = require('vendor-auth/nest')
const { startMock, optionsFor, SECRETS } = require('./helpers')
const { expectVendorError, expectVendorErrorSync } = require('./helpers/util')

let mock
test.before(async () => {
  mock = await startMock()
})
test.after(() => mock.close())

/** A class made a Nest module / injectable by applying the decorators as functions. */
function nestModule(metadata, name = 'TestModule') {
  const cls = { [name]: class {} }[name]
  Module(metadata)(cls)
  return cls
}

function injectable(tokens, name = 'Consumer') {
  const cls = {
    [name]: class {
      constructor(...deps) {
        this.deps = deps
      }
    },
  }[name]
  Injectable()(cls)
  tokens.forEach((token, index) => Inject(token)(cls, undefined, index))
  return cls
}

async function context(t, rootModule) {
  const app = await NestFactory.createApplicationContext(rootModule, { logger: false, abortOnError: false })
  t.after(() => app.close())
  return app
}

test('forRoot: the client is provided by VENDOR_AUTH_CLIENT and by the AuthClient class, and works', async (t) => {
  const app = await context(t, nestModule({ imports: [VendorAuthModule.forRoot(optionsFor(mock, 'vendy'))] }))
  const client = app.get(VENDOR_AUTH_CLIENT)
  assert.ok(client instanceof AuthClient)
  assert.equal(app.get(AuthClient), client)
  assert.deepEqual(Object.keys(await client.authHeader()), ['Authorization'])
})

test('one client per token (a Vendy and a PuppetVendors client side by side), each closed by app.close()', async (t) => {
  const Consumer = injectable(['VENDY', 'PV'])
  const app = await NestFactory.createApplicationContext(
    nestModule({
      imports: [
        VendorAuthModule.forRoot(optionsFor(mock, 'vendy'), { token: 'VENDY' }),
        VendorAuthModule.forRoot(optionsFor(mock, 'puppetvendors'), { token: 'PV' }),
      ],
      providers: [Consumer],
    }),
    { logger: false },
  )
  const [vendy, pv] = app.get(Consumer).deps
  assert.equal(vendy.provider, 'vendy')
  assert.equal(pv.provider, 'puppetvendors')
  assert.throws(() => app.get(AuthClient), 'no AuthClient alias with tokens of your own')
  await Promise.all([vendy.authHeader(), pv.authHeader()])
  await app.close()
  for (const client of [vendy, pv]) await expectVendorError(client.authHeader(), { code: 'CLOSED' })
})

test('forRootAsync: options from an injected config provider of an imported module, via an async factory', async (t) => {
  const Config = nestModule(
    {
      providers: [{ provide: 'CONFIG', useValue: { pvKey: SECRETS.pvApiKey } }],
      exports: ['CONFIG'],
    },
    'ConfigModule',
  )
  const seen = []
  const auth = VendorAuthModule.forRootAsync({
    imports: [Config],
    inject: ['CONFIG'],
    useFactory: async (config) => {
      seen.push(config)
      return { provider: 'puppetvendors', apiKey: config.pvKey, baseUrl: mock.baseUrl, caCert: mock.caCert }
    },
  })
  const app = await context(t, nestModule({ imports: [auth] }))
  assert.deepEqual(seen, [{ pvKey: SECRETS.pvApiKey }])
  const session = await app.get(AuthClient).getSession()
  assert.equal(session.shopDomain, 'mock-store.myshopify.com')
})

test('global: a module that does not import VendorAuthModule can inject the client', async (t) => {
  const Consumer = injectable([VENDOR_AUTH_CLIENT])
  const Feature = nestModule({ providers: [Consumer] }, 'FeatureModule')
  const app = await context(
    t,
    nestModule({ imports: [VendorAuthModule.forRoot(optionsFor(mock, 'vendy'), { global: true }), Feature] }),
  )
  assert.equal(app.get(Consumer).deps[0], app.get(VENDOR_AUTH_CLIENT))
})

test('without global, a module that does not import it cannot inject it (the usual Nest rule)', async () => {
  const Consumer = injectable([VENDOR_AUTH_CLIENT])
  const Feature = nestModule({ providers: [Consumer] }, 'FeatureModule')
  await assert.rejects(
    NestFactory.createApplicationContext(
      nestModule({ imports: [VendorAuthModule.forRoot(optionsFor(mock, 'vendy')), Feature] }),
      { logger: false, abortOnError: false },
    ),
    /VENDOR_AUTH_CLIENT/,
  )
})

test('bad client options fail the bootstrap with INVALID_OPTIONS, naming the option (never its value)', async () => {
  const error = await expectVendorError(
    NestFactory.createApplicationContext(
      nestModule({ imports: [VendorAuthModule.forRoot({ provider: 'vendy', accesKey: SECRETS.vendyAccessKey })] }),
      { logger: false, abortOnError: false },
    ),
    { code: 'INVALID_OPTIONS' },
  )
  assert.match(error.message, /unknown option 'accesKey'/)
})

test('misuse of forRoot / forRootAsync is refused at once', () => {
  expectVendorErrorSync(() => VendorAuthModule.forRootAsync({ inject: [] }), {
    code: 'INVALID_OPTIONS',
    message: /useFactory/,
  })
  expectVendorErrorSync(() => VendorAuthModule.forRoot({ provider: 'vendy' }, { tokne: 'X' }), {
    code: 'INVALID_OPTIONS',
    message: /unknown option 'tokne'/,
  })
  expectVendorErrorSync(() => VendorAuthModule.forRoot({ provider: 'vendy' }, { token: 42 }), {
    code: 'INVALID_OPTIONS',
    message: /token must be a string or a symbol/,
  })
})

test('the ESM entry is the same module instance', async () => {
  const esm = await import('vendor-auth/nest')
  assert.equal(esm.VendorAuthModule, VendorAuthModule)
  assert.equal(esm.VENDOR_AUTH_CLIENT, VENDOR_AUTH_CLIENT)
  assert.equal(esm.default.VendorAuthModule, VendorAuthModule)
})
