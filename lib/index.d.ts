/**
 * vendor-auth: trade vendor marketplace API keys for short-lived JWTs, and keep a valid auth
 * header at hand. Server-only: the package refuses to load in a browser.
 */

/** Vendors the library knows. */
export type Provider = 'vendy' | 'puppetvendors'

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
  | 'ABORTED'
  | 'UNSUPPORTED_PLATFORM'

export declare const ErrorCodes: Readonly<{ [K in ErrorCode]: K }>

/** Receives one debug line (never holding a secret). */
export type Logger = ((line: string) => void) | { debug(line: string): void }

/**
 * Options every vendor takes. Each vendor's own options are in its interface below; the core
 * declares them all once (`binding.optionSchema()`), and `__test__/schema.test.js` fails when
 * these types drift from it.
 */
export interface CommonOptions {
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

/** Vendy's options. */
export interface VendyOptions extends CommonOptions {
  /** Which vendor. */
  provider: 'vendy'
  /** Vendy access key (printable ASCII: it travels as a header value). Default: env `VENDY_ACCESS_KEY`. */
  accessKey?: string
  /** Vendy secret key (printable ASCII: it travels as a header value). Default: env `VENDY_SECRET_KEY`. */
  secretKey?: string
  /** Vendy legacy login: the registered e-mail (HTTP Basic; not empty, no `:`). Scheme `'token'` only. */
  username?: string
  /** Vendy legacy login: the password (not empty). Scheme `'token'` only. */
  password?: string
  /**
   * How the keys are used. `'token'` (default): traded for a short-lived JWT, sent as
   * `Authorization: Bearer …` and refreshed ahead of expiry. `'basic'`: Vendy's permanent keys,
   * sent as they are on every request as `Authorization: Basic base64(accessKey:secretKey)`,
   * with no exchange and no expiry (the Session's `expiresAt` is `null`); the options that only
   * shape an exchange (`timeoutMs`, `maxRetries`, `refreshWindowMs`, `initialSession`…) are
   * checked and have no effect.
   */
  scheme?: 'token' | 'basic'
}

/** PuppetVendors' options. */
export interface PuppetVendorsOptions extends CommonOptions {
  /** Which vendor. */
  provider: 'puppetvendors'
  /** PuppetVendors vendor key (`vk_live_…` / `vk_test_…`). Default: env `PUPPETVENDORS_API_KEY`. */
  apiKey?: string
  /** PuppetVendors shop, for keys valid across several shops. Default: env `PUPPETVENDORS_SHOP_DOMAIN`. */
  shopDomain?: string
}

/** One vendor's options: `provider` picks which. */
export type ProviderOptions = VendyOptions | PuppetVendorsOptions

/** Options of `authenticate()`. */
export type AuthenticateOptions = ProviderOptions & {
  /** Aborts the exchange (rejects with code `ABORTED`). `authenticate()` only. */
  signal?: AbortSignal
}

/** Options only a client takes. */
export interface ClientOnlyOptions {
  /**
   * How long before expiry a background refresh starts. Default 300000 (5 minutes); at most half
   * the token's lifetime.
   */
  refreshWindowMs?: number
  /**
   * Start from a session the application kept (a `Session` from `authenticate()` /
   * `getSession()`, or `{ token, expiresAt }`), so that a serverless cold start skips the
   * exchange. Checked like a vendor's answer (`INVALID_OPTIONS` if malformed); an expired one is
   * skipped and the first call exchanges.
   */
  initialSession?: Session | KeptSession
}

/** Options of `createClient()` / `new AuthClient()`. */
export type ClientOptions = ProviderOptions & ClientOnlyOptions

/** The fields of a kept session that `initialSession` needs (plus optional metadata). */
export interface KeptSession {
  token: string
  /** Milliseconds since the epoch. */
  expiresAt: number
  provider?: Provider
  scope?: string
  permissions?: string[]
  shopDomain?: string
  mode?: string
  vendorId?: string
}

/** Client events and what their listeners receive. */
export interface ClientEvents {
  /** A new token (redacted when printed). */
  refresh: Session
  /** A failed exchange, foreground or background. Without a listener it is dropped. */
  error: VendorAuthError
}

/**
 * A token from one exchange (or a permanent credential). `inspect`/`JSON.stringify` show only a
 * prefix of a token, and nothing of a permanent credential.
 */
export declare class Session {
  private constructor()
  readonly provider: Provider
  /** The token (read it only to send it to the vendor). */
  readonly token: string
  /**
   * Expiry in ms since the epoch: the earlier of the vendor's statement and the JWT `exp`.
   * `null`: never expires (Vendy's scheme `'basic'`, a permanent credential).
   */
  readonly expiresAt: number | null
  /** `'Authorization'` (Vendy) or `'x-access-token'` (PuppetVendors). */
  readonly headerName: 'Authorization' | 'x-access-token'
  /**
   * `'Bearer <token>'` (Vendy), `'Basic <base64(accessKey:secretKey)>'` (Vendy's scheme
   * `'basic'`: the token is the base64 part) or the bare token (PuppetVendors).
   */
  readonly headerValue: string
  /** `{ [headerName]: headerValue }`. */
  readonly headers: Record<string, string>
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
export declare function authenticate(options: AuthenticateOptions): Promise<Session>

/** Options of one call on a client. */
export interface CallOptions {
  /**
   * Rejects this call with code `ABORTED` when the signal fires (e.g. `AbortSignal.timeout(300)`);
   * an exchange other callers wait for goes on.
   */
  signal?: AbortSignal
}

/** Keeps a valid token: refreshes ahead of expiry, shares one in-flight request. */
export declare class AuthClient {
  constructor(options: ClientOptions)
  readonly provider: Provider
  /**
   * `{ Authorization: 'Bearer …' }`, `{ Authorization: 'Basic …' }` (Vendy's scheme `'basic'`: at
   * once, no request ever) or `{ 'x-access-token': '…' }`; a frozen object. Rejects at once (no
   * request) while a rate limit or a refusal cool-down is remembered. Never throws.
   */
  authHeader(options?: CallOptions): Promise<Readonly<Record<string, string>>>
  /** The current session. */
  getSession(options?: CallOptions): Promise<Session>
  /**
   * Drop the cached token. Given the header object from `authHeader()` (or the token, a
   * `Headers`, or the header value) that the vendor's API refused, only if that is still the
   * current token, so that many callers that saw the same 401 cause one new exchange. With no
   * argument, whatever is current. Returns whether a token was dropped; also ends a cool-down
   * after refused credentials. A permanent credential (Vendy's scheme `'basic'`) is never dropped
   * (`false`): no exchange could give another.
   */
  invalidate(stale?: Readonly<Record<string, string>> | Headers | string): boolean
  /**
   * The global `fetch` with the auth header merged into the request's headers (the caller's
   * others kept). On a 401 it calls `invalidate(stale)` and retries once with the new token,
   * unless the body is a stream (then the 401 is returned as is). `https:` only (plain `http:`
   * only to localhost), so a token never travels in clear.
   */
  fetch(input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]): Promise<Response>
  /**
   * Listen for `'refresh'` / `'error'`. Listeners that throw or reject are reported to the debug
   * logger and never break a call or the process.
   */
  on<E extends keyof ClientEvents>(event: E, listener: (value: ClientEvents[E]) => unknown): this
  /** Like `on`, for one event only. */
  once<E extends keyof ClientEvents>(event: E, listener: (value: ClientEvents[E]) => unknown): this
  /** Remove a listener. */
  off<E extends keyof ClientEvents>(event: E, listener: (value: ClientEvents[E]) => unknown): this
  /** Number of listeners of an event. */
  listenerCount(event: keyof ClientEvents): number
  /** Stop; later calls reject with `CLOSED`. */
  close(): void
  [Symbol.dispose](): void
}

/** Same as `new AuthClient(options)`. */
export declare function createClient(options: ClientOptions): AuthClient
