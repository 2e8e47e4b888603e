/**
 * `vendor-auth/testing` — a mock Vendy + PuppetVendors authentication server
 * for tests and benchmarks.
 *
 * The mock is a real HTTPS server on 127.0.0.1 with its own freshly generated
 * certificate authority: point the client at {@link MockVendor.baseUrl} and
 * trust {@link MockVendor.caCert}. Its answers follow the vendors' documented
 * behaviour and can be replaced per request with scripted faults
 * ({@link MockStep}).
 *
 * @example
 * const { startMockVendor } = require('vendor-auth/testing');
 * const mock = await startMockVendor();
 * mock.script('pv.authenticate', [{ status: 429, headers: { 'Retry-After': '1' }, body: { success: false } }]);
 * // ... run the client against mock.baseUrl with mock.caCert ...
 * assert.equal(mock.count('pv.authenticate'), 2);
 * await mock.close();
 */

/**
 * Names of the mocked endpoints. Each is served at the root and under `/v2`:
 * - `'vendy.auth'` — Vendy `POST /auth`
 * - `'pv.authenticate'` — PuppetVendors `POST /authenticate`
 * - `'pv.refresh'` — PuppetVendors `POST /refresh-token`
 */
export type MockEndpoint = 'vendy.auth' | 'pv.authenticate' | 'pv.refresh'

/** The endpoint names, in a frozen array. */
export declare const ENDPOINTS: readonly MockEndpoint[]

/**
 * The credentials a mock started without `vendy` / `puppetvendors` options accepts, to spread into
 * the options of `authenticate()` / `createClient()` (frozen).
 *
 * @example
 * const client = createClient({ provider: 'vendy', ...MOCK_CREDENTIALS.vendy, baseUrl: mock.baseUrl, caCert: mock.caCert });
 */
export declare const MOCK_CREDENTIALS: {
  readonly vendy: { readonly accessKey: string; readonly secretKey: string }
  /** Vendy's legacy Basic login: an alternative to the keys, never together with them. */
  readonly vendyLegacy: { readonly username: string; readonly password: string }
  readonly puppetvendors: { readonly apiKey: string; readonly shopDomain: string }
}

/**
 * What {@link MockVendor.verify} takes: a token, an `Authorization` value (`'Bearer …'`), or a
 * request's headers (Node's `req.headers`, any header object, or a `Headers`).
 */
export type MockCredential =
  | string
  | Readonly<Record<string, string | string[] | undefined>>
  | { get(name: string): string | null; has(name: string): boolean }

/** A token {@link MockVendor.verify} accepted. */
export interface MockTokenInfo {
  provider: 'vendy' | 'puppetvendors'
  /** The JWT `sub`: Vendy's access key id or user name, PuppetVendors' vendor id. */
  subject: string
  /** Expiry in ms since the epoch, on our clock. */
  expiresAt: number
  /** PuppetVendors: the shop the token was issued for. */
  shopDomain?: string
  /** PuppetVendors: the vendor id. */
  vendorId?: string
}

/** Options of the mocked Vendy account. */
export interface MockVendyOptions {
  /** Accepted `AccessKey` header. Default `'vendy-test-access-key'`. */
  accessKey?: string
  /** Accepted `SecretKey` header. Default `'vendy-test-secret-key'`. */
  secretKey?: string
  /** Accepted legacy Basic-auth user name. Default `'merchant@example.com'`. */
  username?: string
  /** Accepted legacy Basic-auth password. Default `'vendy-test-password'`. */
  password?: string
  /** Token lifetime in seconds (JWT `exp - iat`). Default 7 days (604800). */
  tokenLifetimeSec?: number
  /**
   * Seconds added to the JWT's `exp` to form the answer's `expiryTime`, to
   * mimic Vendy's own sample where `expiryTime` is 400 s after `exp`. Default 0.
   */
  expiryTimeSkewSec?: number
}

/** One PuppetVendors API key known to the mock. */
export interface MockPuppetVendorsKey {
  /** The key. `vk_live_…` answers `mode: 'live'`, anything else `'test'`. Default `'vk_test_mockkey'`. */
  apiKey?: string
  /** The key's shop. Default `'mock-store.myshopify.com'`. */
  shopDomain?: string
  /** Permissions announced on success. Default `['orders:read', 'products:read']`. */
  permissions?: string[]
  /** Vendor id announced on success (also the JWT `sub`). Default `'vendor_123'`. */
  vendorId?: string
  /**
   * When true the key is valid for any shop: a `shopDomain` in the request is
   * accepted and echoed back. When false (default) a `shopDomain` other than
   * the key's own is rejected with 401 "The provided shopDomain is not available.".
   */
  multiShop?: boolean
}

/** Options of the mocked PuppetVendors API. */
export interface MockPuppetVendorsOptions {
  /** Known API keys. Default: one key with all defaults. Each entry's missing fields take the defaults. */
  keys?: MockPuppetVendorsKey[]
  /** Token lifetime in seconds (`expiresIn` and JWT `exp - iat`). Default 86400. */
  tokenLifetimeSec?: number
}

/** Options of {@link startMockVendor} and {@link forkMockVendor}. */
export interface MockVendorOptions {
  vendy?: MockVendyOptions
  puppetvendors?: MockPuppetVendorsOptions
  /**
   * Address to listen on. Default `'127.0.0.1'`. The certificate always covers
   * IP 127.0.0.1 and DNS localhost, plus this host when it differs.
   */
  host?: string
  /** Port to listen on. Default 0 (an ephemeral port). */
  port?: number
  /**
   * The vendor's clock, as an offset from ours in ms (e.g. 3600000: an hour ahead). Tokens'
   * `iat`/`exp`, Vendy's `expiryTime` and every answer's `Date` header follow it. Default 0.
   */
  clockOffsetMs?: number
}

/** A request as seen by the mock. */
export interface MockRequest {
  /** Which endpoint it hit, or `null` for unknown paths/methods (answered 404). */
  endpoint: MockEndpoint | null
  method: string
  /** Path as received, including any query string. */
  path: string
  /** Request headers, names lower-cased (Node's `IncomingMessage.headers`). */
  headers: Record<string, string | string[] | undefined>
  /** Body as UTF-8 text (for a body over 64 KiB, answered 413: the first 64 KiB at most). */
  body: string
  /** Arrival time, ms since the epoch. */
  at: number
}

/**
 * How to answer one request. All keys are optional; `{}` means "normal
 * behaviour". Unknown keys, wrongly typed values and contradictory
 * combinations throw a `TypeError` naming the key when the step is scripted.
 *
 * Answer shape (mutually exclusive groups):
 * - normal answer (no `status`/`body`/`oversizedBytes`), optionally shaped by
 *   `lifetimeSec`, `jwtExpOffsetSec`, `expiresIn`, `expiryTime`;
 * - scripted answer: `status` and/or `body`;
 * - generated oversized answer: `oversizedBytes` (with optional `status`);
 * - no answer at all: `stall` or `reset`.
 *
 * `delayMs` combines with all of them, `headers` and `trickle` with every
 * answer.
 */
export interface MockStepObject {
  /** Answer this status instead of the normal handling (default 200 when only `body` is given). */
  status?: number
  /**
   * Answer this body instead of the normal handling: a string or bytes are
   * sent verbatim, anything else as JSON. Default empty when only `status`
   * is given. Content-Type is `application/json; charset=utf-8` unless
   * `headers` says otherwise.
   */
  body?: string | Uint8Array | object
  /** Extra/overriding response headers, e.g. `{ 'Retry-After': '2' }`. Applies to any answer. */
  headers?: Record<string, string | number | string[]>
  /** Wait this long (after reading the request) before answering, resetting or stalling. */
  delayMs?: number
  /** Read the request and never answer; the connection stays open until `close()`. */
  stall?: boolean
  /** Destroy the connection with a TCP reset instead of answering (client sees ECONNRESET). */
  reset?: boolean
  /**
   * Answer (status 200 unless `status` is given) with a generated JSON-looking
   * body of exactly this many bytes (`{"token":"aaaa…"}`), sent with chunked
   * transfer encoding (no Content-Length unless `headers` sets one), written
   * in chunks honouring backpressure; writing stops when the client goes away.
   */
  oversizedBytes?: number
  /** Send the answer's body slowly: `chunkBytes` at a time, `intervalMs` apart. */
  trickle?: { chunkBytes: number; intervalMs: number }
  /**
   * Issue the normal success answer with this lifetime in seconds instead of
   * the configured one, for both the stated expiry (`expiresIn` /
   * `expiryTime`) and the JWT `exp`. 0 or negative yields an already-expired
   * token.
   */
  lifetimeSec?: number
  /** Set the JWT's `exp` to `iat` + this many seconds, independently of the stated expiry. */
  jwtExpOffsetSec?: number
  /**
   * PuppetVendors endpoints only: replace `data.expiresIn` in a success answer
   * with this raw value (any JSON value; `undefined` removes the field).
   */
  expiresIn?: unknown
  /**
   * `vendy.auth` only: replace `expiryTime` in a success answer with this raw
   * value (any JSON value; `undefined` removes the field).
   */
  expiryTime?: unknown
}

/**
 * A dynamic step: called with the recorded request when it arrives; returns
 * (or resolves to) the step to apply, or null/undefined for normal behaviour.
 * If it throws or returns an invalid step, the mock answers 500 with
 * `error.code === 'MOCK_STEP_ERROR'`. In-process mocks only.
 */
export type MockStepFunction = (
  request: MockRequest,
) => MockStepObject | null | undefined | Promise<MockStepObject | null | undefined>

export type MockStep = MockStepObject | MockStepFunction

/** A running in-process mock vendor server. */
export interface MockVendor {
  /** `https://127.0.0.1:PORT` (no trailing slash). PuppetVendors' `/v2` base form is `${baseUrl}/v2`. */
  readonly baseUrl: string
  /** PEM of this server's own CA certificate: trust it to talk to the server. */
  readonly caCert: string
  readonly port: number
  /** Every request received, oldest first. The same array is kept (and emptied by `reset()`). */
  readonly requests: MockRequest[]
  /**
   * Appends steps to the endpoint's queue. Each request to the endpoint
   * consumes one step; once the queue is empty the endpoint's default step
   * (see `setDefault`) applies, else normal behaviour.
   * @throws TypeError for an unknown endpoint or an invalid step (nothing is queued then).
   */
  script(endpoint: MockEndpoint, steps: MockStep | MockStep[]): void
  /** Sets the step used when the endpoint's queue is empty; `null` restores normal behaviour. */
  setDefault(endpoint: MockEndpoint, step: MockStep | null): void
  /** Number of steps still queued for the endpoint (to check a script was fully consumed). */
  pending(endpoint: MockEndpoint): number
  /** Number of requests received; with an endpoint (or `null` for unknown paths) only those. */
  count(endpoint?: MockEndpoint | null): number
  /** Clears recorded requests, queued steps and defaults (issued tokens stay valid). */
  reset(): void
  /** Every token issued so far becomes invalid for `/refresh-token` and {@link MockVendor.verify}. */
  revokeTokens(): void
  /**
   * Checks a token as the vendor's API would, for your fake resource endpoints: issued by this
   * mock, correctly signed, unexpired and not revoked; given request headers, also carried in the
   * header its vendor reads (`Authorization: Bearer …` for Vendy, `x-access-token` for
   * PuppetVendors). Returns what the token is for, or `null` (answer 401 then).
   *
   * @example
   * http.createServer((req, res) => res.writeHead(mock.verify(req.headers) ? 200 : 401).end())
   */
  verify(credential: MockCredential): MockTokenInfo | null
  /** Stops the server and destroys open connections (including stalled ones). Idempotent. */
  close(): Promise<void>
}

/**
 * Starts a mock vendor server in this process, with a freshly generated CA
 * (ECDSA P-256) and leaf certificate. Nothing is cached across calls and no
 * key is written to disk.
 */
export declare function startMockVendor(options?: MockVendorOptions): Promise<MockVendor>

/**
 * A mock vendor server running in a child process (see {@link forkMockVendor}).
 * Same behaviour as {@link MockVendor}, but every control call is
 * asynchronous and function steps are not supported.
 */
export interface ForkedMockVendor {
  readonly baseUrl: string
  readonly caCert: string
  readonly port: number
  /** Process id of the child running the server. */
  readonly pid: number
  count(endpoint?: MockEndpoint | null): Promise<number>
  pending(endpoint: MockEndpoint): Promise<number>
  /** A snapshot of the requests received so far. */
  requests(): Promise<MockRequest[]>
  /** Like {@link MockVendor.script}; rejects with a TypeError for function steps or invalid steps. */
  script(endpoint: MockEndpoint, steps: MockStepObject | MockStepObject[]): Promise<void>
  setDefault(endpoint: MockEndpoint, step: MockStepObject | null): Promise<void>
  reset(): Promise<void>
  revokeTokens(): Promise<void>
  /** Like {@link MockVendor.verify}, over IPC. */
  verify(credential: MockCredential): Promise<MockTokenInfo | null>
  /** Closes the server and waits for the child process to exit. Idempotent. */
  close(): Promise<void>
}

/**
 * Starts the mock vendor server in a child process (`child_process.fork`)
 * controlled over IPC, so that benchmarks keep the server's work out of the
 * measured event loop. The child exits when the parent disconnects; while no
 * control call is in flight the child does not keep the parent alive.
 */
export declare function forkMockVendor(options?: MockVendorOptions): Promise<ForkedMockVendor>
