// Types of the ESM entry (nest.mjs): the same API as the CommonJS entry.
import * as nest from './nest.js'

export * from './nest.js'
export default nest
