// Types of the ESM entry (index.mjs): the same API as the CommonJS entry.
import * as vendorAuth from './index.js'

export * from './index.js'
export default vendorAuth
