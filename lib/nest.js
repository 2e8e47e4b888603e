'use strict'
// vendor-auth/nest: a Nest dynamic module that provides an AuthClient and closes it when the
// application shuts down (onModuleDestroy). Plain JavaScript over Nest's documented
// DynamicModule and provider shapes: no decorator, and nothing of @nestjs/common is loaded at run
// time (it is an optional peer dependency, for the types). AuthClient itself knows nothing of Nest.

const { AuthClient, createClient, VendorAuthError } = require('./index')

/** The default injection token of the client (`@Inject(VENDOR_AUTH_CLIENT)`). */
const VENDOR_AUTH_CLIENT = 'VENDOR_AUTH_CLIENT'

class VendorAuthModule {
  /**
   * A module providing `createClient(options)` under `token` (default `VENDOR_AUTH_CLIENT`, and
   * then also under the `AuthClient` class, for constructor injection by type).
   * @param {import('./index').ClientOptions} options
   * @param {{ token?: string | symbol, global?: boolean }} [extras]
   */
  static forRoot(options, extras) {
    const { token, global } = checkExtras(extras, 'forRoot')
    return moduleFor(token, global, [], () => options, [])
  }

  /**
   * The same, with options from a factory that may inject other providers (a config service)
   * and may be async: `forRootAsync({ imports, inject, useFactory, token?, global? })`.
   */
  static forRootAsync(asyncOptions) {
    if (asyncOptions === null || typeof asyncOptions !== 'object' || typeof asyncOptions.useFactory !== 'function') {
      throw new VendorAuthError(
        'INVALID_OPTIONS',
        'VendorAuthModule.forRootAsync() takes { useFactory, inject?, imports?, token?, global? }',
      )
    }
    const { useFactory, inject = [], imports = [], ...extras } = asyncOptions
    const { token, global } = checkExtras(extras, 'forRootAsync')
    return moduleFor(token, global, imports, useFactory, inject)
  }
}

function checkExtras(extras, method) {
  const { token = VENDOR_AUTH_CLIENT, global = false, ...unknown } = extras ?? {}
  const names = Object.keys(unknown)
  if (names.length > 0) {
    throw new VendorAuthError('INVALID_OPTIONS', `VendorAuthModule.${method}(): unknown option '${names[0]}'`)
  }
  if (typeof token !== 'string' && typeof token !== 'symbol') {
    throw new VendorAuthError('INVALID_OPTIONS', `VendorAuthModule.${method}(): token must be a string or a symbol`)
  }
  return { token, global: global === true }
}

function moduleFor(token, global, imports, optionsFactory, inject) {
  // Closing is the job of a provider of our own, so that AuthClient gets no Nest hook; Nest
  // calls onModuleDestroy on every provider instance that has one, factory-made ones included.
  const closer = Symbol(`vendor-auth closer of ${String(token)}`)
  const providers = [
    {
      provide: token,
      useFactory: async (...deps) => createClient(await optionsFactory(...deps)),
      inject,
    },
    { provide: closer, useFactory: (client) => ({ onModuleDestroy: () => client.close() }), inject: [token] },
  ]
  const exports = [token]
  if (token === VENDOR_AUTH_CLIENT) {
    providers.push({ provide: AuthClient, useExisting: VENDOR_AUTH_CLIENT })
    exports.push(AuthClient)
  }
  return { module: VendorAuthModule, global, imports, providers, exports }
}

module.exports = { VendorAuthModule, VENDOR_AUTH_CLIENT }
