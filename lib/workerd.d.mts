// Types of the edge entries (workerd.mjs for the `workerd` and `worker` conditions; edge-light.mjs
// re-exports these): what they export, which is the Node entry's API without `redisTokenStore`
// (an edge runtime has no TCP socket: its shared stores are `upstashTokenStore` and
// `durableObjectTokenStore`). __test__/entry-exports.test.js holds every entry's declared names
// to its runtime ones, and this list of types to lib/index.d.ts's.
import type { authenticate, createClient, AuthClient, VendorAuthError, ErrorCodes, Session } from './index.js'

export {
  authenticate,
  createClient,
  AuthClient,
  VendorAuthError,
  ErrorCodes,
  Session,
  upstashTokenStore,
  durableObjectTokenStore,
  VendorAuthTokenStore,
} from './index.js'

export type {
  Provider,
  ProviderHeaders,
  AuthHeader,
  HeaderName,
  ErrorCode,
  Logger,
  CommonOptions,
  Credential,
  VendyOptions,
  PuppetVendorsOptions,
  VendorOptions,
  ProviderOptions,
  AuthenticateOptions,
  ClientOnlyOptions,
  ClientOptions,
  TokenStore,
  UpstashTokenStoreOptions,
  UpstashRedisLike,
  DurableObjectTokenStoreOptions,
  DurableObjectNamespaceLike,
  KeptSession,
  ClientEvents,
  CallOptions,
} from './index.js'

/** The default export: the API without the store adapters (import those by name). */
declare const vendorAuth: {
  authenticate: typeof authenticate
  createClient: typeof createClient
  AuthClient: typeof AuthClient
  VendorAuthError: typeof VendorAuthError
  ErrorCodes: typeof ErrorCodes
  Session: typeof Session
}
export default vendorAuth
