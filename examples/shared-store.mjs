// Many processes, one token: a client whose tokens (and rate limits) are shared through Redis.
// Run it twice with the same keys: the second process makes no exchange.
// Run: REDIS_URL=redis://… PUPPETVENDORS_API_KEY=… node examples/shared-store.mjs

// #region shared-store
import { createClient as createRedisClient } from 'redis'
import { createClient, redisTokenStore } from 'vendor-auth'

const redis = createRedisClient({ url: process.env.REDIS_URL })
redis.on('error', (error) => console.error('redis:', error.message)) // without a listener, an error ends the process
await redis.connect()

// Every process with the same keys and baseUrl shares one entry (sealed, see "Security model")
const store = redisTokenStore(redis, { keyPrefix: 'myapp:' })
const puppetVendors = createClient({ provider: 'puppetvendors', tokenStore: store })
// #endregion

const header = await puppetVendors.authHeader()
console.log(JSON.stringify({ header: Object.keys(header) }))
puppetVendors.close()
await redis.quit()
