/**
 * vendor-auth: trade vendor marketplace API keys for short-lived JWTs, and keep a valid auth
 * header at hand. Server-only: the package refuses to load in a browser.
 */

/** Vendors the library knows. */
export type Provider = 'vendy' | 'puppetvendors'

/** The header each vendor reads its token from, as `authHeader()` returns it. */
export interface ProviderHeaders {
  vendy: { Authorization: string }
  puppetvendors: { 'x-access-token': string }
}

/**
 * The header object for provider `P`: `{ Authorization: 'Bearer …' }` (Vendy) or
 * `{ 'x-access-token': '…' }` (PuppetVendors); for `Provider` itself, either.
 */
export type AuthHeader<P extends Provider = Provider> = Readonly<ProviderHeaders[P]>

/** `'Authorization'` (Vendy) or `'x-access-token'` (PuppetVendors). */
export type HeaderName<P extends Provider = Provider> = { [K in Provider]: keyof ProviderHeaders[K] }[P]

// Only what says `export` is exported: without this line, a declaration file exports each of its
// top-level declarations, the helper types below included.
export {}

// These types need neither @types/node nor the DOM lib nor `esnext.disposable`: each global is
// taken from whatever declares it in the consumer's program, else the part vendor-auth uses.

/** A global class's instance type where the consumer's libs declare it, else `Fallback`. */
type GlobalInstance<Name extends string, Fallback> =
  typeof globalThis extends Record<Name, { prototype: infer T }> ? T : Fallback

/** `AbortSignal`, or what vendor-auth reads of one. */
type AbortSignalLike = GlobalInstance<
  'AbortSignal',
  {
    readonly aborted: boolean
    readonly reason: unknown
    addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void
    removeEventListener(type: 'abort', listener: () => void): void
  }
>

/** `Headers`, or what vendor-auth reads of one. */
type HeadersLike = GlobalInstance<'Headers', { get(name: string): string | null; has(name: string): boolean }>

/** `Response`, or its commonly used part. */
type ResponseLike = GlobalInstance<
  'Response',
  {
    readonly status: number
    readonly ok: boolean
    readonly headers: HeadersLike
    json(): Promise<unknown>
    text(): Promise<string>
  }
>

/** The parameters of the global `fetch`, or their commonly used part. */
type FetchParameters = typeof globalThis extends { fetch: (...args: infer A) => unknown }
  ? A
  : [
      input: string | { readonly href: string },
      init?: { method?: string; headers?: Record<string, string>; body?: unknown; signal?: AbortSignalLike },
    ]

/** `[Symbol.dispose](): void` where the consumer's libs know `Symbol.dispose`, else nothing. */
type DisposableMember = SymbolConstructor extends { readonly dispose: infer S extends symbol }
  ? { [K in S]: () => void }
  : {}

/** Stable error codes (`VendorAuthError#code`). */
export type ErrorCode =
  | 'INVALID_OPTIONS'
  | 'INSECURE_URL'
  | 'BAD_REQUEST'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'RATE_LIMITED'
  | 'SERVER_ERROR'
  | 'NETWORK'
  | 'TIMEOUT'
  | 'INVALID_RESPONSE'
  | 'SERVER_ONLY'
  | 'CLOSED'
  | 'INTERNAL'
  | 'ABORTED'
  | 'UNSUPPORTED_PLATFORM'
  | 'STORE_UNAVAILABLE'

export declare const ErrorCodes: Readonly<{ [K in ErrorCode]: K }>

/** Receives one debug line (never holding a secret). */
export type Logger = ((line: string) => void) | { debug(line: string): void }

/**
 * Options every vendor takes, `provider` among them. Each vendor's own options are in its
 * interface below (`VendorOptions` maps ids to them); the core declares every option once
 * (`binding.optionSchema()`), and `__test__/schema.test.js` fails when these types drift from it.
 */
export interface CommonOptions<P extends Provider = Provider> {
  /** Which vendor; a literal (`'vendy'`) narrows the options, header and session types to it. */
  provider: P
  /** Picks the vendor's documented base URL. Default `'production'`. */
  environment?: 'production' | 'staging'
  /** Overrides the base URL. Must be `https:`, at most 2048 characters. */
  baseUrl?: string
  /** PEM of extra CA certificates to trust (added to the system roots). `CERTIFICATE` blocks only. */
  caCert?: string
  /** Bound on each attempt, connect to last byte. Default 10000. */
  timeoutMs?: number
  /**
   * Bound on a whole exchange: every attempt, retry wait and fall back. Default 20000. A retry
   * whose wait would pass it is not made (the last error is returned at once).
   */
  exchangeTimeoutMs?: number
  /** Retries of transient failures (network, timeout, 429, 500/502/503/504). Default 2. */
  maxRetries?: number
  /** Longest `Retry-After` waited out; a longer one fails with `RATE_LIMITED`. Default 30000. */
  maxRetryDelayMs?: number
  /**
   * Debug log sink. Default: stderr when `DEBUG=vendor-auth`, else none. `debug` is read once;
   * whatever the logger throws (or an async one rejects with) is ignored.
   */
  logger?: Logger
}

/**
 * A credential: the value, or a function that returns it (or a promise of it), asked before each
 * exchange and never on the hot path: keys kept in a secret manager and rotated without a restart.
 * After a refusal (`UNAUTHORIZED`) the next call asks again and a changed value is tried at once.
 * A function that throws or rejects is `INVALID_OPTIONS` with its error as `cause`.
 */
export type Credential = string | (() => string | PromiseLike<string>)

/** Vendy's own options. */
export interface VendyOptions {
  /** Vendy access key (printable ASCII: it travels as a header value). Default: env `VENDY_ACCESS_KEY`. */
  accessKey?: Credential
  /** Vendy secret key (printable ASCII: it travels as a header value). Default: env `VENDY_SECRET_KEY`. */
  secretKey?: Credential
  /** Vendy legacy login: the registered e-mail (HTTP Basic; not empty, no `:`). Scheme `'token'` only. */
  username?: Credential
  /** Vendy legacy login: the password (not empty). Scheme `'token'` only. */
  password?: Credential
  /**
   * How the keys are used. `'token'` (default): traded for a short-lived JWT, sent as
   * `Authorization: Bearer …` and refreshed ahead of expiry. `'basic'`: Vendy's permanent keys,
   * sent as they are on every request as `Authorization: Basic base64(accessKey:secretKey)`,
   * with no exchange and no expiry (the Session's `expiresAt` is `null`); the options that only
   * shape an exchange (`timeoutMs`, `maxRetries`, `refreshWindowMs`, `initialSession`,
   * `tokenStore`…) are checked and have no effect.
   */
  scheme?: 'token' | 'basic'
}

/** PuppetVendors' own options. */
export interface PuppetVendorsOptions {
  /** PuppetVendors vendor key (`vk_live_…` / `vk_test_…`). Default: env `PUPPETVENDORS_API_KEY`. */
  apiKey?: Credential
  /** PuppetVendors shop, for keys valid across several shops. Default: env `PUPPETVENDORS_SHOP_DOMAIN`. */
  shopDomain?: Credential
}

/** Each vendor's own options, by provider id. */
export interface VendorOptions {
  vendy: VendyOptions
  puppetvendors: PuppetVendorsOptions
}

/**
 * The options of provider `P`: the common ones and that vendor's own (another vendor's option is
 * a type error). For `Provider` itself, a union with one member per vendor, told apart by
 * `provider`.
 */
export type ProviderOptions<P extends Provider = Provider> = P extends Provider
  ? CommonOptions<P> & VendorOptions[P]
  : never

/** Options of `authenticate()`. */
export type AuthenticateOptions<P extends Provider = Provider> = ProviderOptions<P> & {
  /** Aborts the exchange (rejects with code `ABORTED`). `authenticate()` only. */
  signal?: AbortSignalLike
}

/** Options only a client takes. */
export interface ClientOnlyOptions<P extends Provider = Provider> {
  /**
   * How long before expiry a background refresh starts. Default 300000 (5 minutes); at most half
   * the token's lifetime.
   */
  refreshWindowMs?: number
  /**
   * Origins besides the vendor's API and `baseUrl`'s that `client.fetch()` may send the token
   * to, e.g. `['https://files.vendy.money']`: `https:` only (`http:` only for loopback), each an
   * origin (no path). Any other origin is `INSECURE_URL` before a request is made.
   */
  allowedOrigins?: string[]
  /**
   * Start from a session the application kept (a `Session` from `authenticate()` /
   * `getSession()`, or `{ token, expiresAt }`), so that a serverless cold start skips the
   * exchange. Checked like a vendor's answer (`INVALID_OPTIONS` if malformed); an expired one is
   * skipped and the first call exchanges.
   */
  initialSession?: Session<P> | KeptSession<P>
  /**
   * Share tokens across processes through this store (e.g. `redisTokenStore(redis)`): only one
   * process exchanges or refreshes, the others read its sealed session. Opt-in; the hot path
   * never calls it.
   */
  tokenStore?: TokenStore
  /**
   * Bound on each call to `tokenStore`; a slower, failed or throwing call means this process
   * gets its own token (reported once as `'error'` `STORE_UNAVAILABLE`). Default 300.
   */
  storeTimeoutMs?: number
}

/** Options of `createClient()` / `new AuthClient()`. */
export type ClientOptions<P extends Provider = Provider> = ProviderOptions<P> & ClientOnlyOptions<P>

/**
 * A shared store for tokens (sealed: values are opaque text). Keys come without a prefix; every
 * method may return a value or a promise.
 */
export interface TokenStore {
  /** The value under `key`, or null/undefined. */
  get(key: string): Promise<string | null | undefined> | string | null | undefined
  /** Keep `value` under `key` for `ttlMs` (replacing any). */
  set(key: string, value: string, ttlMs: number): Promise<unknown> | unknown
  /** Take the lock `key` for `owner` for `ttlMs` unless someone holds it; whether it was taken. */
  lock(key: string, owner: string, ttlMs: number): Promise<boolean> | boolean
  /** Release the lock `key` only if `owner` still holds it. */
  release(key: string, owner: string): Promise<unknown> | unknown
}

/** Options of `redisTokenStore()`. */
export interface RedisTokenStoreOptions {
  /** Prefix of every key. Default `'vendor-auth:'`. */
  keyPrefix?: string
}

/**
 * A `TokenStore` over a connected node-redis (v4+) or ioredis client the application already
 * has (both optional peer dependencies; neither is loaded by vendor-auth).
 */
export declare function redisTokenStore(client: object, options?: RedisTokenStoreOptions): TokenStore

/** Options of `upstashTokenStore()`. */
export interface UpstashTokenStoreOptions {
  /** Prefix of every key. Default `'vendor-auth:'` (as `redisTokenStore`'s). */
  keyPrefix?: string
}

/** What `upstashTokenStore()` calls on an @upstash/redis client. */
export interface UpstashRedisLike {
  get(key: string): Promise<unknown>
  set(key: string, value: string, options: { px: number; nx: true }): Promise<unknown>
  set(key: string, value: string, options: { px: number }): Promise<unknown>
  eval(script: string, keys: string[], args: string[]): Promise<unknown>
}

/**
 * A `TokenStore` over Redis through HTTP: an @upstash/redis client (`new Redis({ url, token })`,
 * `Redis.fromEnv()`) or @vercel/kv's `kv` (an optional peer dependency, never loaded by
 * vendor-auth). For the edge runtimes, which have no TCP socket for `redisTokenStore`; in Node
 * too. `SET … NX PX` takes the lock, a compare-and-delete script (`EVAL`) releases it.
 */
export declare function upstashTokenStore(client: UpstashRedisLike, options?: UpstashTokenStoreOptions): TokenStore

/** Options of `durableObjectTokenStore()`. */
export interface DurableObjectTokenStoreOptions {
  /** Name of the Durable Object that holds the entries. Default `'vendor-auth'`. */
  name?: string
}

/** What `durableObjectTokenStore()` calls on a Durable Object namespace binding. */
export interface DurableObjectNamespaceLike {
  idFromName(name: string): unknown
  get(id: any): {
    fetch(
      input: string,
      init: { method: string; headers: Record<string, string>; body: string },
    ): Promise<{ readonly ok: boolean; readonly status: number; json(): Promise<any> }>
  }
}

/**
 * A `TokenStore` over a Cloudflare Durable Object namespace bound to `VendorAuthTokenStore`
 * (`env.VENDOR_AUTH_STORE`): every isolate of every worker bound to it shares one object, whose
 * single-threaded, strongly consistent storage makes the lock real.
 */
export declare function durableObjectTokenStore(
  namespace: DurableObjectNamespaceLike,
  options?: DurableObjectTokenStoreOptions,
): TokenStore

/**
 * The Durable Object class that holds a fleet's shared entries: export it from the worker's main
 * module (`export { VendorAuthTokenStore } from 'vendor-auth'`) and bind it in wrangler.toml.
 * Runs in workerd only; spoken to by `durableObjectTokenStore()`.
 */
export declare class VendorAuthTokenStore {
  constructor(state: { readonly storage: object }, env?: unknown)
  fetch(request: { readonly method: string; json(): Promise<unknown> }): Promise<ResponseLike>
  alarm(): Promise<void>
}

/** The fields of a kept session that `initialSession` needs (plus optional metadata). */
export interface KeptSession<P extends Provider = Provider> {
  token: string
  /** Milliseconds since the epoch. */
  expiresAt: number
  provider?: P
  scope?: string
  permissions?: string[]
  shopDomain?: string
  mode?: string
  vendorId?: string
}

/** Client events and what their listeners receive. */
export interface ClientEvents<P extends Provider = Provider> {
  /** A new token (redacted when printed). */
  refresh: Session<P>
  /**
   * A failed exchange, foreground or background, or a `tokenStore` that stopped answering
   * (`STORE_UNAVAILABLE`, once until it answers again). Without a listener it is dropped.
   */
  error: VendorAuthError
}

/**
 * A token from one exchange (or a permanent credential). `inspect`/`JSON.stringify` show only a
 * prefix of a token, and nothing of a permanent credential.
 */
export declare class Session<P extends Provider = Provider> {
  private constructor()
  readonly provider: P
  /** The token (read it only to send it to the vendor). */
  readonly token: string
  /**
   * Expiry in ms since the epoch: the earlier of the vendor's statement and the JWT `exp`.
   * `null`: never expires (Vendy's scheme `'basic'`, a permanent credential).
   */
  readonly expiresAt: number | null
  /** `'Authorization'` (Vendy) or `'x-access-token'` (PuppetVendors). */
  readonly headerName: HeaderName<P>
  /**
   * `'Bearer <token>'` (Vendy), `'Basic <base64(accessKey:secretKey)>'` (Vendy's scheme
   * `'basic'`: the token is the base64 part) or the bare token (PuppetVendors).
   */
  readonly headerValue: string
  /** `{ [headerName]: headerValue }` (a new object each time). */
  readonly headers: ProviderHeaders[P]
  /** PuppetVendors: the token's scope (`'vendor'`). */
  readonly scope?: string
  /** PuppetVendors: what the key may do, e.g. `'orders:read'`. */
  readonly permissions?: string[]
  /** PuppetVendors: the shop the token is for. */
  readonly shopDomain?: string
  /** PuppetVendors: `'live'` or `'test'`, from the key. */
  readonly mode?: 'live' | 'test' | string
  /** PuppetVendors: the vendor the token acts as. */
  readonly vendorId?: string
  /** A redacted plain object. */
  toJSON(): Record<string, unknown>
}

/** Every failure of vendor-auth. */
export declare class VendorAuthError extends Error {
  readonly name: 'VendorAuthError'
  readonly code: ErrorCode
  /** The HTTP status, when the vendor answered. */
  readonly status?: number
  readonly provider?: Provider
  /** The vendor's own message (with any echoed credential removed). */
  readonly vendorMessage?: string
  /** The vendor's own error code, e.g. PuppetVendors' `RATE_LIMITED`. */
  readonly vendorCode?: string
  /** How long the vendor asked to wait (429 with `Retry-After`). */
  readonly retryAfterMs?: number
}

/** One exchange: keys for a token. Rejects with `VendorAuthError`. */
export declare function authenticate<P extends Provider>(options: AuthenticateOptions<P>): Promise<Session<P>>

/** Options of one call on a client. */
export interface CallOptions {
  /**
   * Rejects this call with code `ABORTED` when the signal fires (e.g. `AbortSignal.timeout(300)`);
   * an exchange other callers wait for goes on.
   */
  signal?: AbortSignalLike
}

/**
 * Keeps a valid token: refreshes ahead of expiry, shares one in-flight request. `P` is the
 * provider, narrowed from a literal `provider` option.
 */
export declare class AuthClient<P extends Provider = Provider> {
  constructor(options: ClientOptions<P>)
  readonly provider: P
  /**
   * `{ Authorization: 'Bearer …' }` (Vendy; `'Basic …'` with scheme `'basic'`, at once and with
   * no request ever) or `{ 'x-access-token': '…' }` (PuppetVendors); a frozen object. Rejects at
   * once (no request) while a rate limit or a refusal cool-down is remembered. Never throws.
   */
  authHeader(options?: CallOptions): Promise<AuthHeader<P>>
  /** The current session. */
  getSession(options?: CallOptions): Promise<Session<P>>
  /**
   * Drop the cached token. Given the header object from `authHeader()` (or the token, a
   * `Headers`, or the header value) that the vendor's API refused, only if that is still the
   * current token, so that many callers that saw the same 401 cause one new exchange. With no
   * argument, whatever is current. Returns whether a token was dropped; also ends a cool-down
   * after refused credentials. A permanent credential (Vendy's scheme `'basic'`) is never dropped
   * (`false`): no exchange could give another.
   */
  invalidate(stale?: AuthHeader<P> | Readonly<Record<string, string>> | HeadersLike | string): boolean
  /**
   * The global `fetch` with the auth header merged into the request's headers (the caller's
   * others kept), only for origins the client trusts: the vendor's API, `baseUrl`'s origin, any
   * loopback origin when `baseUrl` is loopback, and `allowedOrigins`; any other is rejected with
   * `INSECURE_URL` before a request. Redirects are followed as the request's `redirect` mode says;
   * a hop to another origin (or from `https:` to `http:`) never carries the header. On a 401 to a
   * request that carried the token it calls `invalidate(stale)` and retries once with the new
   * token, unless the body is a stream (then the 401 is returned as is).
   */
  fetch(...args: FetchParameters): Promise<ResponseLike>
  /**
   * Listen for `'refresh'` / `'error'`. Listeners that throw or reject are reported to the debug
   * logger and never break a call or the process.
   */
  on<E extends keyof ClientEvents<P>>(event: E, listener: (value: ClientEvents<P>[E]) => unknown): this
  /** Like `on`, for one event only. */
  once<E extends keyof ClientEvents<P>>(event: E, listener: (value: ClientEvents<P>[E]) => unknown): this
  /** Remove a listener. */
  off<E extends keyof ClientEvents<P>>(event: E, listener: (value: ClientEvents<P>[E]) => unknown): this
  /**
   * Remove every listener of `event`, or of every event when none is given (as EventEmitter's).
   * An emit under way still reaches the listeners it started with.
   */
  removeAllListeners(event?: keyof ClientEvents<P>): this
  /** Number of listeners of an event. */
  listenerCount(event: keyof ClientEvents<P>): number
  /** Stop; later calls reject with `CLOSED`. */
  close(): void
  /**
   * A redacted plain object (what `JSON.stringify(client)` and `inspect` show): the session as
   * `Session#toJSON()` gives it, a token prefix at most, or `null` before the first exchange.
   */
  toJSON(): { provider: P; closed: boolean; session: Record<string, unknown> | null }
}

/** `using client = createClient(…)` closes it at the end of the scope (where `Symbol.dispose` exists). */
export interface AuthClient<P extends Provider = Provider> extends DisposableMember {}

/** Same as `new AuthClient(options)`; `createClient({ provider: 'vendy' })` is an `AuthClient<'vendy'>`. */
export declare function createClient<P extends Provider>(options: ClientOptions<P>): AuthClient<P>
