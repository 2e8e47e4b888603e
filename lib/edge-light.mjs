// Entry for Vercel Edge Functions and Next.js middleware (the `edge-light` export condition): the
// wasm build with the runtime's fetch. The `?module` suffix is how Vercel's bundler imports a
// .wasm file as a compiled WebAssembly.Module (compiling from bytes at run time is not allowed).
import wasmModule from '../wasm/vendor_auth_bg.wasm?module'
import * as glue from '../wasm/vendor_auth.mjs'
import edge from './edge.js'

const vendorAuth = edge.defineEdge(glue, wasmModule)

export const { authenticate, createClient, AuthClient, VendorAuthError, ErrorCodes, Session } = vendorAuth
// The store adapters: separate modules, left out of a bundle that does not import them.
export { upstashTokenStore } from './stores/upstash.js'
export { durableObjectTokenStore, VendorAuthTokenStore } from './stores/durable-object.js'
export default vendorAuth
