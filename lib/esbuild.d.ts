// Types of vendor-auth/esbuild. Structural, so that they need no esbuild types: the plugin is
// assignable to esbuild's `Plugin`.

export interface VendorAuthWasmOptions {
  /**
   * Copy `vendor_auth_bg.wasm` next to the bundle (into `outdir`, or `outfile`'s folder) when the
   * build writes its output. Default `true`; with `false`, copy `wasmPath` yourself.
   */
  copy?: boolean
}

export interface VendorAuthWasmPlugin {
  name: string
  setup(build: unknown): void
}

/**
 * The esbuild plugin for vendor-auth's edge entries: its `.wasm` import stays a separate module
 * (`./vendor_auth_bg.wasm`, `?module` kept for Vercel's entry) that the runtime compiles, and the
 * file is copied next to the bundle.
 */
export declare function vendorAuthWasm(options?: VendorAuthWasmOptions): VendorAuthWasmPlugin

/** The absolute path of the installed `vendor_auth_bg.wasm`. */
export declare const wasmPath: string
