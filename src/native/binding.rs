//! The Node-API surface, and the one place where core types become JS values. Nothing else in
//! the crate knows about N-API. The JS wrapper (`lib/`) builds the public API on top of this.

// Under `cargo test` napi-derive registers nothing, so the exported items look unused.
#![cfg_attr(test, allow(dead_code, unused_imports))]

use super::client::{Client, LogSink};
use crate::wire::{self, ms, WireError, WireField, WireOutcome, WirePlan, WireSealed, WireSeed};
use crate::{Driver, Error, ErrorCode, Mode, OptionInput, OptionSpec, Plan, RawOptions, NONCE_LEN};
use napi::bindgen_prelude::{Env, Function, JsObjectValue, Object, Uint8Array, Unknown};
use napi::threadsafe_function::ThreadsafeFunctionCallMode;
use napi::ValueType;
use napi_derive::napi;
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

/// The option schema (every option and vendor, from the core's declarations), as JSON text:
/// the same as the wasm build's.
#[napi(js_name = "optionSchema")]
pub fn schema() -> String {
    wire::option_schema_json()
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
    pub fn resolve(&self, env: Object) -> Option<WireError> {
        let lookup = |name: &str| env.get::<String>(name).ok().flatten();
        guard("resolve", || Ok(self.client.resolve(&lookup)))
            .unwrap_or_else(Some)
            .map(Into::into)
    }

    /// What to do at `now`, for a caller off the hot path (no I/O; a short lock that no exchange
    /// holds while it waits on the network). A pending client always needs an exchange.
    #[napi]
    pub fn plan(&self, now: f64) -> WirePlan {
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
    pub fn adopt(&self, seed: WireSeed, now: f64) -> WireOutcome {
        WireOutcome::from(guard("adopt", || {
            let metadata = WireField::metadata(seed.metadata.unwrap_or_default());
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
    ) -> napi::Result<Option<WireSealed>, ErrorCode> {
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
    pub fn open_session(&self, sealed: String) -> Option<WireSeed> {
        guard("openSession", || {
            let stored = self.client.driver().open_session(&sealed);
            Ok(stored.map(|stored| WireSeed::stored(stored, self.provider)))
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
    ) -> napi::Result<Option<WireSealed>, ErrorCode> {
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
    pub async fn exchange(&self, now: f64) -> WireOutcome {
        run(Arc::clone(&self.client), Mode::Foreground, now).await
    }

    /// Refresh ahead of expiry, starting at `now`: one attempt, reported to `done`. Unlike a
    /// promise, this does not hold the event loop open (the callback is a weak thread-safe
    /// function), so a process that is otherwise finished exits even while the vendor stalls.
    #[napi]
    pub fn exchange_in_background(
        &self,
        now: f64,
        done: Function<WireOutcome, ()>,
    ) -> napi::Result<()> {
        let done = done
            .build_threadsafe_function::<WireOutcome>()
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
    pub fn current(&self) -> Option<WireOutcome> {
        match guard("current", || Ok(self.client.driver().current())) {
            Ok(current) => current.map(|current| WireOutcome::from(Ok(current))),
            Err(error) => Some(WireOutcome::from(Err(error))),
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
    let f = || {
        test_hook(call);
        f()
    };
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let detail = panic
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("a panic without a message");
        Err(Error::internal(call, detail))
    })
}

/// In a test build (feature `test-hooks`), panic in the call that `VENDOR_AUTH_TEST_PANIC`
/// names; nothing in a release build.
#[cfg(feature = "test-hooks")]
fn test_hook(call: &str) {
    if std::env::var("VENDOR_AUTH_TEST_PANIC").is_ok_and(|name| name == call) {
        panic!("test hook: a panic in {call}");
    }
}

#[cfg(not(feature = "test-hooks"))]
fn test_hook(_call: &str) {}

async fn run(client: Arc<Client>, mode: Mode, now: f64) -> WireOutcome {
    client.exchange(mode, ms(now)).await.into()
}

/// Option names the native side understands (every name `optionSchema()` declares, once).
#[napi]
pub fn known_options() -> Vec<&'static str> {
    wire::known_options()
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
