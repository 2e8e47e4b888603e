// The types a Worker gets (the `workerd` condition: lib/workerd.d.mts), compiled by
// tsconfig.edge.json: the API and the edge stores, and no redisTokenStore (lib/workerd.mjs has
// none: a Worker has no TCP socket).
import vendorAuth, {
  createClient,
  durableObjectTokenStore,
  upstashTokenStore,
  VendorAuthTokenStore,
  type DurableObjectNamespaceLike,
  type TokenStore,
  type UpstashRedisLike,
} from 'vendor-auth'
// @ts-expect-error the edge entries do not export redisTokenStore
import { redisTokenStore } from 'vendor-auth'

declare const env: { VENDOR_AUTH_STORE: DurableObjectNamespaceLike; redis: UpstashRedisLike }

export const shared: TokenStore = durableObjectTokenStore(env.VENDOR_AUTH_STORE)
export const upstash: TokenStore = upstashTokenStore(env.redis, { keyPrefix: 'app:' })
export const client = createClient({ provider: 'vendy', tokenStore: shared })
export { VendorAuthTokenStore }
// The default export holds the API, not the store adapters.
export const viaDefault = vendorAuth.createClient({ provider: 'puppetvendors', apiKey: 'vk_test_x' })
// @ts-expect-error the default export has no store adapter
vendorAuth.durableObjectTokenStore
void redisTokenStore
