// The driver contract: what lib/client.js, lib/api.js and lib/store.js ask of a driver, the same
// for both builds. The native binding's NativeClient (binding.d.ts, generated from
// src/native/binding.rs) and the wasm build's WasmDriver (lib/wasm/driver.js) are both checked
// against it by __test__/driver-contract.test.js. Every call that depends on time takes `now`
// (ms since the epoch): time is an input. The values are the wire types of src/wire.rs.

import type { WireCredentials, WireError, WireOutcome, WirePlan, WireSeed, WireStoreStep } from '../binding'

export interface Driver {
  /** The provider id. */
  readonly provider: string
  /** Whether the credentials are still to be found (`resolve`). */
  readonly pending: boolean
  /** Look for missing credentials again in `env`: the error that still stands, or none. */
  resolve(env: object): WireError | null | undefined
  /**
   * Credentials given at exchange time (options given as functions): a JSON object of strings by
   * option name, `env` for the others. Whether a value changed, or the error.
   */
  setCredentials(values: string, env: object): WireCredentials
  /** Whether `client.fetch()` may send the token to `url`: the refusal (INSECURE_URL), or none. */
  checkOrigin(url: string): WireError | null | undefined
  /** What to do at `now`, off the hot path. */
  plan(now: number): WirePlan
  /** The session the core holds from the start (a permanent credential), or none. */
  current(): WireOutcome | null | undefined
  /** Take a kept session (`initialSession`) at `now`. */
  adopt(seed: WireSeed, now: number): WireOutcome
  /** One exchange from `now`, with the full retry policy. */
  exchange(now: number): Promise<WireOutcome>
  /** One background refresh from `now`, reported to `done`; keeps no process alive. */
  exchangeInBackground(now: number, done: (outcome: WireOutcome) => void): void
  /** One obtain of the shared store's protocol (src/coordinator.rs), stepped by lib/store.js. */
  storeRun(background: boolean, owner: string, nonce: Uint8Array, storeTimeoutMs: number, now: number): StoreRun
  /** Drop the current session; whether one was dropped. */
  invalidate(): boolean
  /** End exchanges in flight with CLOSED and refuse new ones. */
  close(): void
}

/** One obtain of the shared store: each method reports an answer and returns the next step. */
export interface StoreRun {
  first(): WireStoreStep
  got(session: string | null, rateLimit: string | null, lock: string | null, now: number): WireStoreStep
  locked(taken: boolean, now: number): WireStoreStep
  done(): WireStoreStep
  exchanged(ok: boolean, now: number): WireStoreStep
  failed(op: string, why: string, now: number): WireStoreStep
}
