//! The Node-API surface, and the one place where core types become JS values. Nothing else in
//! the crate knows about N-API. The JS wrapper (`lib/`) builds the public API on top of this.

// Under `cargo test` napi-derive registers nothing, so the exported items look unused.
#![cfg_attr(test, allow(dead_code, unused_imports))]

use super::client::{Client, LogSink};
use crate::NONCE_LEN;
use crate::{
    option_schema, Driver, Error, ErrorCode, FieldValue, Mode, OptionInput, OptionSpec, Plan,
    RawOptions, Session, SessionMetadata, Times,
};
use napi::bindgen_prelude::{Either, Env, Function, JsObjectValue, Object, Uint8Array, Unknown};
use napi::threadsafe_function::ThreadsafeFunctionCallMode;
use napi::ValueType;
use napi_derive::napi;
use secrecy::ExposeSecret;
use std::sync::Arc;

/// Read option `option` from the JS options object by its declared kind (one property read).
/// `lib/options.js` checks names and types first; this is the second line, and it never quotes a
/// value.
fn read_option(options: &Object, option: &OptionSpec) -> Result<Option<OptionInput>, Error> {
    let unreadable = |_| {
        Error::invalid_options(format!(
            "option '{}' could not be read (a getter or Proxy threw)",
            option.name
        ))
    };
    let Some(value) = options.get::<Unknown>(option.name).map_err(unreadable)? else {
        return Ok(None);
    };
    // SAFETY (both casts): the value's type was just checked to be the one cast to.
    let input = match value.get_type().map_err(unreadable)? {
        ValueType::Undefined | ValueType::Null => return Ok(None),
        ValueType::String => {
            OptionInput::Text(unsafe { value.cast::<String>() }.map_err(unreadable)?)
        }
        ValueType::Number => {
            OptionInput::Number(unsafe { value.cast::<f64>() }.map_err(unreadable)?)
        }
        other => {
            let got = match other {
                ValueType::Boolean => "a boolean",
                ValueType::Object => "an object",
                ValueType::Function => "a function",
                ValueType::Symbol => "a symbol",
                ValueType::BigInt => "a bigint",
                _ => "another type",
            };
            return Err(Error::invalid_options(format!(
                "option '{}' must be a {}, not {got}",
                option.name,
                option.js_type()
            )));
        }
    };
    Ok(Some(input))
}

/// A time for JS: milliseconds, with `u64::MAX` (for ever) as `Infinity`.
fn js_ms(ms: u64) -> f64 {
    if ms == u64::MAX {
        f64::INFINITY
    } else {
        ms as f64
    }
}

/// One session field a vendor declares (`session[name]` in JS).
#[napi(object)]
pub struct NativeField {
    pub name: String,
    pub value: Either<String, Vec<String>>,
}

impl NativeField {
    fn list(metadata: &SessionMetadata, provider: &str) -> Vec<Self> {
        let fields = crate::provider::find(provider).map_or(&[][..], |spec| spec.fields);
        metadata
            .in_order(fields)
            .map(|(name, value)| Self {
                name: name.into(),
                value: match value {
                    FieldValue::Text(text) => Either::A(text.clone()),
                    FieldValue::List(items) => Either::B(items.clone()),
                },
            })
            .collect()
    }

    fn metadata(fields: Vec<Self>) -> SessionMetadata {
        let mut metadata = SessionMetadata::default();
        for field in fields {
            let value = match field.value {
                Either::A(text) => FieldValue::Text(text),
                Either::B(items) => FieldValue::List(items),
            };
            metadata.insert(field.name, value);
        }
        metadata
    }
}

/// A session as plain data; the JS wrapper turns it into a `Session` that redacts itself.
#[napi(object)]
pub struct NativeSession {
    pub provider: String,
    pub token: String,
    /// What `inspect`/JSON/logs show of the token: a short prefix of a JWT, nothing of a
    /// permanent credential.
    pub token_preview: String,
    /// Milliseconds since the epoch; absent for a credential that never expires.
    pub expires_at: Option<f64>,
    pub header_name: String,
    pub header_value: String,
    /// The fields the vendor declares, in its order.
    pub metadata: Vec<NativeField>,
}

impl From<Session> for NativeSession {
    fn from(s: Session) -> Self {
        Self {
            provider: s.provider.into(),
            header_name: s.header.name().into(),
            header_value: s.header_value().expose_secret().into(),
            token: s.token.expose_secret().into(),
            token_preview: s.preview(),
            expires_at: s.expires().map(|ms| ms as f64),
            metadata: NativeField::list(&s.metadata, s.provider),
        }
    }
}

/// An option as the schema declares it (see `optionSchema()`).
#[napi(object)]
pub struct NativeOptionSpec {
    pub name: String,
    /// `'text'`, `'integer'` or `'choice'`.
    pub kind: String,
    /// `'string'` or `'number'`.
    pub js_type: String,
    /// The allowed values of a choice (for `provider`: the registered ids).
    pub values: Vec<String>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub default: Option<String>,
    /// The vendor that declares it; absent: every vendor takes it.
    pub provider: Option<String>,
    /// A credential: never quoted, scrubbed, redacted.
    pub secret: bool,
    /// The environment variable read when it is not given.
    pub env: Option<String>,
    /// `createClient()` only.
    pub client_only: bool,
    pub doc: String,
}

/// A session field a vendor declares.
#[napi(object)]
pub struct NativeFieldSpec {
    pub name: String,
    /// `'string'` or `'string[]'`.
    pub js_type: String,
    pub doc: String,
}

/// A registered vendor.
#[napi(object)]
pub struct NativeProviderSpec {
    pub id: String,
    pub name: String,
    pub about: String,
    pub fields: Vec<NativeFieldSpec>,
}

/// Every option and vendor, from the core's declarations (`src/schema.rs`, and each vendor's
/// `Spec` in `src/provider/`).
#[napi(object)]
pub struct NativeOptionSchema {
    pub options: Vec<NativeOptionSpec>,
    pub providers: Vec<NativeProviderSpec>,
}

/// The option schema: names, kinds, vendor, secrecy, environment defaults and docs of every
/// option, and each vendor's session fields. `lib/options.js` checks options against it and the
/// type-drift test compares `lib/index.d.ts` with it.
#[napi(js_name = "optionSchema")]
pub fn schema() -> NativeOptionSchema {
    let schema = option_schema();
    NativeOptionSchema {
        options: schema
            .options
            .into_iter()
            .map(|o| NativeOptionSpec {
                name: o.name.into(),
                kind: o.kind.into(),
                js_type: o.js_type.into(),
                values: o.values.into_iter().map(Into::into).collect(),
                min: o.min.map(|n| n as f64),
                max: o.max.map(|n| n as f64),
                default: o.default,
                provider: o.provider.map(Into::into),
                secret: o.secret,
                env: o.env.map(Into::into),
                client_only: o.client_only,
                doc: o.doc.into(),
            })
            .collect(),
        providers: schema
            .providers
            .into_iter()
            .map(|p| NativeProviderSpec {
                id: p.id.into(),
                name: p.name.into(),
                about: p.about.into(),
                fields: p
                    .fields
                    .into_iter()
                    .map(|f| NativeFieldSpec {
                        name: f.name.into(),
                        js_type: f.js_type.into(),
                        doc: f.doc.into(),
                    })
                    .collect(),
            })
            .collect(),
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
    /// Fields the vendor declares (others are dropped).
    pub metadata: Option<Vec<NativeField>>,
}

/// The core's [`Plan`] for a caller off the hot path (only ever sent to JS).
#[napi(object, object_from_js = false)]
pub struct NativePlan {
    /// `'serve'`, `'refresh'` (serve, and refresh in the background), `'exchange'` (callers
    /// wait for one) or `'reject'`.
    #[napi(ts_type = "'serve' | 'refresh' | 'exchange' | 'reject'")]
    pub action: &'static str,
    /// For serve and refresh: until when the hot path may serve the current header without asking again
    /// (`Infinity` for a permanent credential).
    pub until: f64,
    /// For reject: the remembered error.
    pub error: Option<NativeError>,
}

impl From<Plan> for NativePlan {
    fn from(plan: Plan) -> Self {
        let (action, until, error) = match plan {
            Plan::Serve { until_ms } => (plan.action(), js_ms(until_ms), None),
            Plan::Refresh { until_ms } => (plan.action(), js_ms(until_ms), None),
            Plan::Exchange => (plan.action(), 0.0, None),
            Plan::Reject(ref error) => (plan.action(), 0.0, Some(error.clone().into())),
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
///
/// Time is an input: every call that depends on it takes `now` (ms since the epoch, JS's
/// `Date.now()`), so a test that drives the JS clock drives the client's. A panic inside any
/// call is caught and becomes an `INTERNAL` error: a bug never aborts the process.
#[napi]
pub struct NativeClient {
    provider: &'static str,
    client: Arc<Client>,
}

#[napi]
impl NativeClient {
    /// Validate options (a plain object; each option the schema declares is read once, by its
    /// declared kind), reading unset credentials from `env` (normally `process.env`), before
    /// any I/O. Throws an error with the stable `code` (`INVALID_OPTIONS`, `INSECURE_URL`).
    /// `log`, if given, receives debug lines as they happen (it must not throw; it never keeps
    /// the process alive).
    #[napi(constructor)]
    pub fn new(
        options: Object,
        env: Object,
        log: Option<Function<String, ()>>,
    ) -> napi::Result<Self, ErrorCode> {
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
        guard("NativeClient", || {
            let lookup = |name: &str| env.get::<String>(name).ok().flatten();
            let raw = RawOptions::read(|option| read_option(&options, option))?;
            let driver = Driver::new(raw, &lookup)?;
            let provider = driver.provider();
            let client = Arc::new(Client::new(driver, log)?);
            Ok(Self { provider, client })
        })
        .map_err(throw)
    }

    /// Whether the credentials are still to be found (see `resolve`).
    #[napi(getter)]
    pub fn pending(&self) -> bool {
        self.client.driver().pending()
    }

    /// Look for the missing credentials again in `env` (at first use). Returns the error that
    /// still stands (`INVALID_OPTIONS` naming the options and variables), or nothing once the
    /// client is ready.
    #[napi]
    pub fn resolve(&self, env: Object) -> Option<NativeError> {
        let lookup = |name: &str| env.get::<String>(name).ok().flatten();
        guard("resolve", || Ok(self.client.resolve(&lookup)))
            .unwrap_or_else(Some)
            .map(Into::into)
    }

    /// What to do at `now`, for a caller off the hot path (no I/O; a short lock that no exchange
    /// holds while it waits on the network). A pending client always needs an exchange.
    #[napi]
    pub fn plan(&self, now: f64) -> NativePlan {
        match guard("plan", || Ok(self.client.driver().plan(ms(now)))) {
            Ok(plan) => plan.into(),
            Err(error) => Plan::Reject(error).into(),
        }
    }

    /// The provider id.
    #[napi(getter)]
    pub fn provider(&self) -> String {
        self.provider.into()
    }

    /// Take a kept session as the current one at `now` (checked like a vendor's answer); the
    /// outcome's error is `INVALID_OPTIONS` when it cannot be used.
    #[napi]
    pub fn adopt(&self, seed: NativeSeed, now: f64) -> NativeOutcome {
        outcome(guard("adopt", || {
            let metadata = NativeField::metadata(seed.metadata.unwrap_or_default());
            let token = seed.token.into();
            let expires_at = ms(seed.expires_at);
            self.client
                .driver()
                .adopt(token, expires_at, metadata, ms(now))
        }))
    }

    /// `exchangeTimeoutMs` as resolved (the shared store's lock outlives one exchange).
    #[napi(getter)]
    pub fn exchange_timeout_ms(&self) -> f64 {
        self.client.driver().exchange_timeout_ms() as f64
    }

    /// The shared store's name for these credentials: provider, base URL and a keyed hash of
    /// the credentials (HKDF-SHA256), never a credential.
    #[napi]
    pub fn store_key(&self) -> napi::Result<String, ErrorCode> {
        guard("storeKey", || self.client.driver().store_key()).map_err(throw)
    }

    /// The current session sealed (XChaCha20-Poly1305) under `nonce` (24 random bytes) at
    /// `now`, or null without a current session.
    #[napi]
    pub fn seal_session(
        &self,
        nonce: Uint8Array,
        now: f64,
    ) -> napi::Result<Option<NativeSealed>, ErrorCode> {
        let nonce = nonce_of(&nonce)?;
        guard("sealSession", || {
            self.client.driver().seal_session(&nonce, ms(now))
        })
        .map(|sealed| sealed.map(Into::into))
        .map_err(throw)
    }

    /// A sealed session from the store, opened; null when it does not open (another key, a
    /// changed byte). Not adopted: pass it to `adopt()`.
    #[napi]
    pub fn open_session(&self, sealed: String) -> Option<NativeSeed> {
        guard("openSession", || {
            let stored = self.client.driver().open_session(&sealed);
            Ok(stored.map(|stored| NativeSeed {
                token: stored.token.expose_secret().into(),
                expires_at: stored.expires_at_ms as f64,
                metadata: Some(NativeField::list(&stored.metadata, self.provider)),
            }))
        })
        .ok()
        .flatten()
    }

    /// The remembered rate limit (429, or 503 with Retry-After) sealed under `nonce` at `now`,
    /// or null.
    #[napi]
    pub fn seal_rate_limit(
        &self,
        nonce: Uint8Array,
        now: f64,
    ) -> napi::Result<Option<NativeSealed>, ErrorCode> {
        let nonce = nonce_of(&nonce)?;
        guard("sealRateLimit", || {
            self.client.driver().seal_rate_limit(&nonce, ms(now))
        })
        .map(|sealed| sealed.map(Into::into))
        .map_err(throw)
    }

    /// Remember a sealed rate limit from the store at `now`: `plan()` rejects until it ends.
    /// Whether it opened and still holds.
    #[napi]
    pub fn adopt_rate_limit(&self, sealed: String, now: f64) -> bool {
        guard("adoptRateLimit", || {
            let mut log = Vec::new();
            let held = self
                .client
                .driver()
                .adopt_rate_limit(&sealed, ms(now), &mut log);
            self.client.log_all(log);
            Ok(held)
        })
        .unwrap_or(false)
    }

    /// Hold background refreshes off for `ms` from `now` (another process holds the refresh
    /// lock).
    #[napi]
    pub fn defer_refresh(&self, wait_ms: f64, now: f64) {
        let _ = guard("deferRefresh", || {
            self.client.driver().defer_refresh(ms(wait_ms), ms(now));
            Ok(())
        });
    }

    /// Get a new session starting at `now`, with the full retry policy (callers are waiting
    /// for it).
    #[napi]
    pub async fn exchange(&self, now: f64) -> NativeOutcome {
        run(Arc::clone(&self.client), Mode::Foreground, now).await
    }

    /// Refresh ahead of expiry, starting at `now`: one attempt, reported to `done`. Unlike a
    /// promise, this does not hold the event loop open (the callback is a weak thread-safe
    /// function), so a process that is otherwise finished exits even while the vendor stalls.
    #[napi]
    pub fn exchange_in_background(
        &self,
        now: f64,
        done: Function<NativeOutcome, ()>,
    ) -> napi::Result<()> {
        let done = done
            .build_threadsafe_function::<NativeOutcome>()
            .weak::<true>()
            .build()?;
        let client = Arc::clone(&self.client);
        napi::bindgen_prelude::spawn(async move {
            let outcome = run(client, Mode::Background, now).await;
            // If the environment is gone (process exiting), there is nobody left to tell.
            done.call(outcome, ThreadsafeFunctionCallMode::NonBlocking);
        });
        Ok(())
    }

    /// Forget the current session (the next exchange authenticates from scratch) and end a
    /// refusal cool-down. Returns whether it was dropped: `false` for a permanent credential,
    /// which no exchange could replace.
    #[napi]
    pub fn invalidate(&self) -> bool {
        guard("invalidate", || Ok(self.client.driver().invalidate())).unwrap_or(true)
    }

    /// The session the core holds now, if any: from construction on, a permanent credential
    /// (Vendy's scheme `'basic'`), so that the hot path serves it from the first call.
    #[napi]
    pub fn current(&self) -> Option<NativeOutcome> {
        match guard("current", || Ok(self.client.driver().current())) {
            Ok(current) => current.map(|current| outcome(Ok(current))),
            Err(error) => Some(outcome(Err(error))),
        }
    }

    /// End in-flight exchanges with `CLOSED` and refuse new ones.
    #[napi]
    pub fn close(&self) {
        let _ = guard("close", || {
            self.client.close();
            Ok(())
        });
    }
}

/// Run `call`, turning a panic into an `INTERNAL` error: a bug in one call must never abort the
/// process that loaded the addon (napi-rs catches panics only in async functions).
fn guard<T>(call: &str, f: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let detail = panic
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("a panic without a message");
        Err(Error::internal(call, detail))
    })
}

/// JS numbers to milliseconds (the clock and durations come from JS).
fn ms(value: f64) -> u64 {
    if value.is_finite() && value > 0.0 {
        value as u64
    } else {
        0
    }
}

async fn run(client: Arc<Client>, mode: Mode, now: f64) -> NativeOutcome {
    outcome(client.exchange(mode, ms(now)).await)
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
    js_ms(times.refresh_at_ms)
}

/// Option names the native side understands (every name `optionSchema()` declares, once).
#[napi]
pub fn known_options() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Vec::new();
    for option in option_schema().options {
        if !names.contains(&option.name) {
            names.push(option.name);
        }
    }
    names
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
