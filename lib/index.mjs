// ESM entry: the CommonJS implementation, re-exported (one module instance for both).
import vendorAuth from './index.js'

export const {
  authenticate,
  createClient,
  AuthClient,
  VendorAuthError,
  ErrorCodes,
  Session,
  redisTokenStore,
  upstashTokenStore,
  durableObjectTokenStore,
  VendorAuthTokenStore,
} = vendorAuth
export default vendorAuth
