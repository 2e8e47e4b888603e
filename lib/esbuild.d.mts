// Types of the ESM entry (esbuild.mjs): the same API as the CommonJS entry.
import * as plugin from './esbuild.js'

export * from './esbuild.js'
// The default export is the CommonJS module's exports: its named exports, and no `default` of
// its own (which TypeScript gives a CommonJS module imported as a namespace).
declare const defaultExport: Omit<typeof plugin, 'default'>
export default defaultExport
