// ESM entry of vendor-auth/nest: the CommonJS implementation, re-exported (one module instance).
import nest from './nest.js'

export const { VendorAuthModule, VENDOR_AUTH_CLIENT } = nest
export default nest
