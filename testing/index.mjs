// ESM entry of vendor-auth/testing: re-exports the CommonJS implementation.
import mod from './index.js'

export const { startMockVendor, forkMockVendor, ENDPOINTS, MOCK_CREDENTIALS } = mod
export default mod
