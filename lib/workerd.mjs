// Entry for Cloudflare Workers (workerd) and other runtimes matched by the `worker` export
// condition: the wasm build with the runtime's fetch. The .wasm is imported as a compiled
// WebAssembly.Module, as wrangler and workerd load it (they do not allow compiling wasm from
// bytes at run time).
import wasmModule from '../wasm/vendor_auth_bg.wasm'
import * as glue from '../wasm/vendor_auth.mjs'
import edge from './edge.js'

const vendorAuth = edge.defineEdge(glue, wasmModule)

export const { authenticate, createClient, AuthClient, VendorAuthError, ErrorCodes, Session } = vendorAuth
// The store adapters: separate modules, left out of a bundle that does not import them.
export { upstashTokenStore } from './stores/upstash.js'
export { durableObjectTokenStore, VendorAuthTokenStore } from './stores/durable-object.js'
export default vendorAuth
