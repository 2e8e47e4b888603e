// Types of the ESM entry (index.mjs): the same API as the CommonJS entry.
import * as testing from './index.js'

export * from './index.js'
export default testing
