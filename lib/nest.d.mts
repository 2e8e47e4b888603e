// Types of the ESM entry (nest.mjs): the same API as the CommonJS entry.
import * as nest from './nest.js'

export * from './nest.js'
// The default export is the CommonJS module's exports: its named exports, and no `default` of
// its own (which TypeScript gives a CommonJS module imported as a namespace).
declare const defaultExport: Omit<typeof nest, 'default'>
export default defaultExport
