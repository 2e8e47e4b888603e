// Types of the ESM entry (index.mjs): the same API as the CommonJS entry.
import * as testing from './index.js'

export * from './index.js'
// The default export is the CommonJS module's exports: its named exports, and no `default` of
// its own (which TypeScript gives a CommonJS module imported as a namespace).
declare const defaultExport: Omit<typeof testing, 'default'>
export default defaultExport
