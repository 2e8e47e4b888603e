//! The Node-API surface, and the one place where core types become JS values. Nothing else in
//! the crate knows about N-API. The JS wrapper (`lib/`) builds the public API on top of this.

// Under `cargo test` napi-derive registers nothing, so the exported items look unused.
#![cfg_attr(test, allow(dead_code, unused_imports))]

use super::client::{now_ms, Client, LogSink};
use crate::NONCE_LEN;
use crate::{
    token_preview, Error, ErrorCode, Mode, Options, Plan, RawOptions, Session, SessionMetadata,
    Times, KNOWN_OPTIONS,
};
use napi::bindgen_prelude::{Buffer, Env, Function, JsObjectValue, Object};
use napi::threadsafe_function::ThreadsafeFunctionCallMode;
use napi_derive::napi;
use secrecy::{ExposeSecret, SecretString};
use std::sync::{Arc, Mutex, OnceLock};

/// Options as JS passes them (see `lib/index.d.ts` for their documentation).
#[napi(object)]
pub struct NativeOptions {
    pub provider: Option<String>,
    pub access_key: Option<String>,
    pub secret_key: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub api_key: Option<String>,
    pub shop_domain: Option<String>,
    pub environment: Option<String>,
    pub base_url: Option<String>,
    pub ca_cert: Option<String>,
    pub timeout_ms: Option<f64>,
    pub exchange_timeout_ms: Option<f64>,
    pub max_retries: Option<f64>,
    pub max_retry_delay_ms: Option<f64>,
    pub refresh_window_ms: Option<f64>,
}

impl From<NativeOptions> for RawOptions {
    fn from(o: NativeOptions) -> Self {
        let secret = |v: Option<String>| v.map(SecretString::from);
        RawOptions {
            provider: o.provider,
            access_key: secret(o.access_key),
            secret_key: secret(o.secret_key),
            username: secret(o.username),
            password: secret(o.password),
            api_key: secret(o.api_key),
            shop_domain: o.shop_domain,
            environment: o.environment,
            base_url: o.base_url,
            ca_cert: o.ca_cert,
            timeout_ms: o.timeout_ms,
            exchange_timeout_ms: o.exchange_timeout_ms,
            max_retries: o.max_retries,
            max_retry_delay_ms: o.max_retry_delay_ms,
            refresh_window_ms: o.refresh_window_ms,
        }
    }
}

/// A session as plain data; the JS wrapper turns it into a `Session` that redacts itself.
#[napi(object)]
pub struct NativeSession {
    pub provider: String,
    pub token: String,
    /// A short prefix of the token for `inspect`/JSON/logs.
    pub token_preview: String,
    pub expires_at: f64,
    pub header_name: String,
    pub header_value: String,
    pub scope: Option<String>,
    pub permissions: Option<Vec<String>>,
    pub shop_domain: Option<String>,
    pub mode: Option<String>,
    pub vendor_id: Option<String>,
}

impl From<Session> for NativeSession {
    fn from(s: Session) -> Self {
        Self {
            provider: s.provider.into(),
            header_name: s.header.name().into(),
            header_value: s.header_value().expose_secret().into(),
            token: s.token.expose_secret().into(),
            token_preview: token_preview(s.token.expose_secret()),
            expires_at: s.expires_at_ms as f64,
            scope: s.metadata.scope,
            permissions: s.metadata.permissions,
            shop_domain: s.metadata.shop_domain,
            mode: s.metadata.mode,
            vendor_id: s.metadata.vendor_id,
        }
    }
}

/// The fields of a `VendorAuthError`.
#[napi(object)]
pub struct NativeError {
    pub code: String,
    pub message: String,
    pub status: Option<u32>,
    pub provider: Option<String>,
    pub vendor_message: Option<String>,
    pub vendor_code: Option<String>,
    pub retry_after_ms: Option<f64>,
}

impl From<Error> for NativeError {
    fn from(e: Error) -> Self {
        Self {
            code: e.code().as_str().into(),
            message: e.message().into(),
            status: e.status().map(u32::from),
            provider: e.provider().map(Into::into),
            vendor_message: e.vendor_message().map(Into::into),
            vendor_code: e.vendor_code().map(Into::into),
            retry_after_ms: e.retry_after_ms().map(|ms| ms as f64),
        }
    }
}

/// The result of an exchange. Errors are returned, not thrown, so that every field of the
/// error reaches JS (a thrown N-API error carries only `code` and `message`).
#[napi(object)]
pub struct NativeOutcome {
    pub session: Option<NativeSession>,
    /// Until when the new token may be served from the JS hot path (the core's refresh time).
    pub fresh_until: Option<f64>,
    pub error: Option<NativeError>,
}

/// A session the application kept from an earlier exchange (`initialSession`).
#[napi(object)]
pub struct NativeSeed {
    pub token: String,
    /// Milliseconds since the epoch.
    pub expires_at: f64,
    pub scope: Option<String>,
    pub permissions: Option<Vec<String>>,
    pub shop_domain: Option<String>,
    pub mode: Option<String>,
    pub vendor_id: Option<String>,
}

/// The core's [`Plan`] for a caller off the hot path.
#[napi(object)]
pub struct NativePlan {
    /// 0 serve, 1 serve and refresh in the background, 2 exchange (callers wait), 3 reject.
    pub action: u32,
    /// For 0 and 1: until when the hot path may serve the current header without asking again.
    pub until: f64,
    /// For 3: the remembered error.
    pub error: Option<NativeError>,
}

impl From<Plan> for NativePlan {
    fn from(plan: Plan) -> Self {
        let (action, until, error) = match plan {
            Plan::Serve { until_ms } => (0, until_ms as f64, None),
            Plan::Refresh { until_ms } => (1, until_ms as f64, None),
            Plan::Exchange => (2, 0.0, None),
            Plan::Reject(error) => (3, 0.0, Some(error.into())),
        };
        Self {
            action,
            until,
            error,
        }
    }
}

/// A value sealed for the shared token store, and how long the store should keep it.
#[napi(object)]
pub struct NativeSealed {
    /// Text: `v1.` and base64url of nonce, ciphertext and tag.
    pub value: String,
    pub ttl_ms: f64,
}

impl From<(String, u64)> for NativeSealed {
    fn from((value, ttl_ms): (String, u64)) -> Self {
        Self {
            value,
            ttl_ms: ttl_ms as f64,
        }
    }
}

fn nonce_of(bytes: &[u8]) -> napi::Result<[u8; NONCE_LEN], ErrorCode> {
    bytes.try_into().map_err(|_| {
        napi::Error::new(
            ErrorCode::InvalidOptions,
            format!("a store nonce is {NONCE_LEN} random bytes"),
        )
    })
}

/// A JS error whose `code` is the stable error code (for failures found synchronously).
fn throw(e: Error) -> napi::Error<ErrorCode> {
    napi::Error::new(e.code(), e.message())
}

impl AsRef<str> for ErrorCode {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

/// Holds credentials and performs exchanges for one `AuthClient` (or one `authenticate()` call).
///
/// Missing credentials do not fail construction (a module-level client in a build without
/// secrets): the client stays *pending* until `resolve(env)` finds them at first use; every other
/// bad option throws at once.
#[napi]
pub struct NativeClient {
    provider: &'static str,
    client: OnceLock<Arc<Client>>,
    pending: Mutex<Option<Pending>>,
}

struct Pending {
    raw: RawOptions,
    log: Option<LogSink>,
    error: Error,
}

#[napi]
impl NativeClient {
    /// Validate options (reading unset credentials from `env`, normally `process.env`) before
    /// any I/O. Throws an error with the stable `code` (`INVALID_OPTIONS`, `INSECURE_URL`).
    /// `log`, if given, receives debug lines as they happen (it must not throw; it never keeps
    /// the process alive).
    #[napi(constructor)]
    pub fn new(
        options: NativeOptions,
        env: Object,
        log: Option<Function<String, ()>>,
    ) -> napi::Result<Self, ErrorCode> {
        let lookup = |name: &str| env.get::<String>(name).ok().flatten();
        let raw = RawOptions::from(options);
        let log: Option<LogSink> = match log {
            Some(log) => {
                let log = log
                    .build_threadsafe_function::<String>()
                    .weak::<true>()
                    .build()
                    .map_err(|e| napi::Error::new(ErrorCode::InvalidOptions, e.reason))?;
                Some(Box::new(move |line: String| {
                    log.call(line, ThreadsafeFunctionCallMode::NonBlocking);
                }))
            }
            None => None,
        };
        let this = match Options::resolve(raw.clone(), &lookup) {
            Ok(options) => {
                let provider = options.provider.id();
                let client = Client::new(options, log).map_err(throw)?;
                Self {
                    provider,
                    client: OnceLock::from(Arc::new(client)),
                    pending: Mutex::new(None),
                }
            }
            Err(error) if error.is_missing_credentials() => Self {
                provider: provider_id(&raw).map_err(throw)?,
                client: OnceLock::new(),
                pending: Mutex::new(Some(Pending { raw, log, error })),
            },
            Err(error) => return Err(throw(error)),
        };
        Ok(this)
    }

    /// Whether the credentials are still to be found (see `resolve`).
    #[napi(getter)]
    pub fn pending(&self) -> bool {
        self.client.get().is_none()
    }

    /// Look for the missing credentials again in `env` (at first use). Returns the error that
    /// still stands (`INVALID_OPTIONS` naming the options and variables), or nothing once the
    /// client is ready.
    #[napi]
    pub fn resolve(&self, env: Object) -> Option<NativeError> {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let state = pending.as_mut()?;
        let lookup = |name: &str| env.get::<String>(name).ok().flatten();
        let result = Options::resolve(state.raw.clone(), &lookup)
            .and_then(|o| Client::new(o, state.log.take()));
        match result {
            Ok(client) => {
                let _ = self.client.set(Arc::new(client));
                *pending = None;
                None
            }
            Err(error) => {
                state.error = error.clone();
                Some(error.into())
            }
        }
    }

    /// What to do now, for a caller off the hot path (no I/O; a short lock that no exchange
    /// holds while it waits on the network). A pending client always needs an exchange.
    #[napi]
    pub fn plan(&self) -> NativePlan {
        match self.client.get() {
            Some(client) => client.plan(now_ms()).into(),
            None => Plan::Exchange.into(),
        }
    }

    /// The provider id.
    #[napi(getter)]
    pub fn provider(&self) -> String {
        self.provider.into()
    }

    /// Take a kept session as the current one (checked like a vendor's answer); the outcome's
    /// error is `INVALID_OPTIONS` when it cannot be used.
    #[napi]
    pub fn adopt(&self, seed: NativeSeed) -> NativeOutcome {
        let client = match self.ready() {
            Ok(client) => client,
            Err(error) => return outcome(Err(error)),
        };
        let metadata = SessionMetadata {
            scope: seed.scope,
            permissions: seed.permissions,
            shop_domain: seed.shop_domain,
            mode: seed.mode,
            vendor_id: seed.vendor_id,
        };
        let expires_at = if seed.expires_at.is_finite() && seed.expires_at > 0.0 {
            seed.expires_at as u64
        } else {
            0
        };
        outcome(client.adopt(seed.token.into(), expires_at, metadata))
    }

    /// `exchangeTimeoutMs` as resolved (the shared store's lock outlives one exchange).
    #[napi(getter)]
    pub fn exchange_timeout_ms(&self) -> f64 {
        match self.client.get() {
            Some(client) => client.options().exchange_timeout_ms as f64,
            // Pending: validated already; only the credentials are missing.
            None => self
                .pending
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .as_ref()
                .and_then(|state| state.raw.exchange_timeout_ms)
                .unwrap_or(Options::DEFAULT_EXCHANGE_TIMEOUT_MS as f64),
        }
    }

    /// The shared store's name for these credentials: provider, base URL and a keyed hash of
    /// the credentials (HKDF-SHA256), never a credential.
    #[napi]
    pub fn store_key(&self) -> napi::Result<String, ErrorCode> {
        Ok(self.ready().map_err(throw)?.store_key().into())
    }

    /// The current session sealed (XChaCha20-Poly1305) under `nonce` (24 random bytes), or
    /// null without a current session.
    #[napi]
    pub fn seal_session(&self, nonce: Buffer) -> napi::Result<Option<NativeSealed>, ErrorCode> {
        let client = self.ready().map_err(throw)?;
        Ok(client.seal_session(&nonce_of(&nonce)?).map(Into::into))
    }

    /// A sealed session from the store, opened; null when it does not open (another key, a
    /// changed byte). Not adopted: pass it to `adopt()`.
    #[napi]
    pub fn open_session(&self, sealed: String) -> Option<NativeSeed> {
        let stored = self.ready().ok()?.open_session(&sealed)?;
        let m = stored.metadata;
        Some(NativeSeed {
            token: stored.token.expose_secret().into(),
            expires_at: stored.expires_at_ms as f64,
            scope: m.scope,
            permissions: m.permissions,
            shop_domain: m.shop_domain,
            mode: m.mode,
            vendor_id: m.vendor_id,
        })
    }

    /// The remembered rate limit (429, or 503 with Retry-After) sealed under `nonce`, or null.
    #[napi]
    pub fn seal_rate_limit(&self, nonce: Buffer) -> napi::Result<Option<NativeSealed>, ErrorCode> {
        let client = self.ready().map_err(throw)?;
        Ok(client.seal_rate_limit(&nonce_of(&nonce)?).map(Into::into))
    }

    /// Remember a sealed rate limit from the store: `plan()` rejects until it ends. Whether it
    /// opened and still holds.
    #[napi]
    pub fn adopt_rate_limit(&self, sealed: String) -> bool {
        self.ready()
            .is_ok_and(|client| client.adopt_rate_limit(&sealed))
    }

    /// Hold background refreshes off for `ms` (another process holds the refresh lock).
    #[napi]
    pub fn defer_refresh(&self, ms: f64) {
        let ms = if ms.is_finite() && ms > 0.0 {
            ms as u64
        } else {
            0
        };
        if let Some(client) = self.client.get() {
            client.defer_refresh(ms);
        }
    }

    /// Get a new session, with the full retry policy (callers are waiting for it).
    #[napi]
    pub async fn exchange(&self) -> NativeOutcome {
        match self.ready() {
            Ok(client) => run(client, Mode::Foreground).await,
            Err(error) => outcome(Err(error)),
        }
    }

    /// Refresh ahead of expiry: one attempt, reported to `done`. Unlike a promise, this does not
    /// hold the event loop open (the callback is a weak thread-safe function), so a process
    /// that is otherwise finished exits even while the vendor stalls.
    #[napi]
    pub fn exchange_in_background(&self, done: Function<NativeOutcome, ()>) -> napi::Result<()> {
        let done = done
            .build_threadsafe_function::<NativeOutcome>()
            .weak::<true>()
            .build()?;
        let client = self.ready();
        napi::bindgen_prelude::spawn(async move {
            let outcome = match client {
                Ok(client) => run(client, Mode::Background).await,
                Err(error) => outcome(Err(error)),
            };
            // If the environment is gone (process exiting), there is nobody left to tell.
            done.call(outcome, ThreadsafeFunctionCallMode::NonBlocking);
        });
        Ok(())
    }

    /// Forget the current session (the next exchange authenticates from scratch) and end a
    /// refusal cool-down.
    #[napi]
    pub fn invalidate(&self) {
        if let Some(client) = self.client.get() {
            client.invalidate();
        }
    }

    /// End in-flight exchanges with `CLOSED` and refuse new ones.
    #[napi]
    pub fn close(&self) {
        match self.client.get() {
            Some(client) => client.close(),
            // Never resolved: nothing in flight, and nothing may start.
            None => {
                let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(state) = pending.as_mut() {
                    state.error = Client::closed_error(self.provider);
                }
            }
        }
    }

    /// The ready client, or the error that stands (missing credentials, or closed).
    fn ready(&self) -> Result<Arc<Client>, Error> {
        if let Some(client) = self.client.get() {
            return Ok(Arc::clone(client));
        }
        let pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        Err(pending
            .as_ref()
            .map(|state| state.error.clone())
            .unwrap_or_else(|| Client::closed_error(self.provider)))
    }
}

/// The provider id of options whose only fault is missing credentials (so the provider is valid).
fn provider_id(raw: &RawOptions) -> Result<&'static str, Error> {
    let name = raw.provider.as_deref().unwrap_or_default();
    crate::provider::find(name).map(|spec| spec.id)
}

async fn run(client: Arc<Client>, mode: Mode) -> NativeOutcome {
    outcome(client.exchange(mode).await)
}

fn outcome(result: Result<(Session, Times), Error>) -> NativeOutcome {
    match result {
        Ok((session, times)) => NativeOutcome {
            session: Some(session.into()),
            fresh_until: Some(fresh_until(&times)),
            error: None,
        },
        Err(error) => NativeOutcome {
            session: None,
            fresh_until: None,
            error: Some(error.into()),
        },
    }
}

fn fresh_until(times: &Times) -> f64 {
    times.refresh_at_ms as f64
}

/// Option names the native side understands (the wrapper rejects others before any I/O).
#[napi]
pub fn known_options() -> Vec<&'static str> {
    KNOWN_OPTIONS.to_vec()
}

/// Refuse to initialise where keys would reach a browser: a global scope with `window` or
/// `document` (an Electron renderer, a browser-like embedding). The JS entry checks first; this
/// makes loading the `.node` file directly no way around it.
#[napi(module_exports)]
pub fn init(mut _exports: Object, env: Env) -> napi::Result<()> {
    let has = |name: &str| {
        env.get_global()
            .and_then(|g| g.has_named_property(name))
            .unwrap_or(false)
    };
    // Deno 1.x defines `window` on its (server) global scope.
    let browser_like = (has("window") || has("document")) && !has("Deno");
    if browser_like && !jsdom_opt_in(&env) {
        // `module_exports` can only fail with a generic status, so the error (with its stable
        // code) is thrown directly; Node rethrows it from `require()`.
        env.throw_error(
            "vendor-auth is server-only: it was loaded where browser globals (window/document) exist, and keys or tokens must never reach a browser. Call it from your server.",
            Some(ErrorCode::ServerOnly.as_str()),
        )?;
    }
    Ok(())
}

/// The jsdom opt-in (`VENDOR_AUTH_ALLOW_DOM_GLOBALS=1` in the real process environment) counts
/// only in a genuine Node process, never in an Electron renderer.
fn jsdom_opt_in(env: &Env) -> bool {
    let allowed = std::env::var("VENDOR_AUTH_ALLOW_DOM_GLOBALS").is_ok_and(|v| v == "1");
    allowed && !is_electron_renderer(env)
}

fn is_electron_renderer(env: &Env) -> bool {
    let check = || -> napi::Result<bool> {
        let process: Object = env.get_global()?.get_named_property("process")?;
        let versions: Object = process.get_named_property("versions")?;
        let electron = versions.has_named_property("electron")?;
        let kind: Option<String> = process.get("type")?;
        Ok(electron && kind.as_deref() != Some("browser"))
    };
    check().unwrap_or(true)
}
