// Both drivers against the one contract (lib/driver.d.ts): a method missing or taking other
// arguments on either side fails to compile.
import type { Driver, StoreRun } from '../../lib/driver'
import type { NativeClient, NativeStoreRun } from '../../binding'
import { WasmDriver } from '../../lib/wasm/driver'

declare const native: NativeClient
declare const nativeRun: NativeStoreRun
declare const wasm: WasmDriver

export const drivers: Driver[] = [native, wasm]
export const runs: StoreRun[] = [nativeRun, wasm.storeRun(false, 'owner', new Uint8Array(24), 300, 0)]
