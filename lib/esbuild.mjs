// ESM entry of vendor-auth/esbuild: the CommonJS implementation, re-exported.
import plugin from './esbuild.js'

export const { vendorAuthWasm, wasmPath } = plugin
export default plugin
