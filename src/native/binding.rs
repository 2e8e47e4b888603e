//! The Node-API surface, and the one place where core types become JS values. Nothing else in
//! the crate knows about N-API. The JS wrapper (`lib/`) builds the public API on top of this.

// Under `cargo test` napi-derive registers nothing, so the exported items look unused.
#![cfg_attr(test, allow(dead_code, unused_imports))]

use super::client::{Client, LogSink};
use crate::wire::{
    self, ms, WireCredentials, WireError, WireField, WireOutcome, WirePlan, WireSeed, WireStoreStep,
};
use crate::{
    schema::Kind, Driver, Error, ErrorCode, Mode, OptionInput, OptionSpec, Plan, RawOptions,
    StoreFault, StoreNext, StoreRun, NONCE_LEN,
};
use napi::bindgen_prelude::{
    Env, Function, JsObjectValue, JsValue, Object, This, Uint8Array, Unknown,
};
use napi::threadsafe_function::ThreadsafeFunctionCallMode;
use napi::ValueType;
use napi::{Property, PropertyAttributes};
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
        // An array option (lib/options.js copied it into a fresh array of strings); a conversion
        // failure (not an array, an element not a string) is a wrong type.
        ValueType::Object if option.kind == Kind::Origins => {
            OptionInput::List(unsafe { value.cast::<Vec<String>>() }.map_err(|_| {
                Error::invalid_options(format!(
                    "option '{}' must be an array of strings",
                    option.name
                ))
            })?)
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

    /// Credentials given at exchange time (options given as functions): a JSON object of strings
    /// by option name, with `env` for the other credentials. Whether a value changed, or the
    /// error.
    #[napi(js_name = "setCredentials")]
    pub fn set_credentials(&self, values: String, env: Object) -> WireCredentials {
        let lookup = |name: &str| env.get::<String>(name).ok().flatten();
        guard("setCredentials", || {
            let values = wire::credential_values(&values)?;
            self.client.driver().set_credentials(&values, &lookup)
        })
        .into()
    }

    /// Whether `client.fetch()` may send the token to `url`: the refusal (`INSECURE_URL`, naming
    /// `allowedOrigins`), or nothing.
    #[napi(js_name = "checkOrigin")]
    pub fn check_origin(&self, url: String) -> Option<WireError> {
        guard("checkOrigin", || self.client.driver().check_origin(&url))
            .err()
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

    /// Start obtaining a token the shared store's way at `now` (see `src/coordinator.rs`):
    /// `owner` a random lock owner id, `nonce` 24 random bytes for what this publishes,
    /// `storeTimeoutMs` the bound JS puts on each store call. JS performs the steps.
    #[napi]
    pub fn store_run(
        &self,
        background: bool,
        owner: String,
        nonce: Uint8Array,
        store_timeout_ms: f64,
        now: f64,
    ) -> napi::Result<NativeStoreRun, ErrorCode> {
        let nonce = nonce_of(&nonce)?;
        let (run, first) = guard("storeRun", || {
            let timeout = ms(store_timeout_ms);
            let mut driver = self.client.driver();
            driver.store_begin(background, owner, nonce, timeout, ms(now))
        })
        .map_err(throw)?;
        let first = first.into();
        Ok(NativeStoreRun {
            client: Arc::clone(&self.client),
            run,
            first: Some(first),
        })
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

/// One `obtain` of the shared store in flight, stepped by JS (`lib/store.js`): each method
/// reports the answer to the step before and returns the next.
#[napi]
pub struct NativeStoreRun {
    client: Arc<Client>,
    run: StoreRun,
    first: Option<WireStoreStep>,
}

#[napi]
impl NativeStoreRun {
    /// The first step (once).
    #[napi]
    pub fn first(&mut self) -> WireStoreStep {
        self.first.take().unwrap_or_else(ended)
    }

    /// `get`: the three entries as read (null: absent, empty or not text).
    #[napi]
    pub fn got(
        &mut self,
        session: Option<String>,
        rate_limit: Option<String>,
        lock: Option<String>,
        now: f64,
    ) -> WireStoreStep {
        self.next("storeGot", |driver, run| {
            let (session, rate_limit, lock) =
                (session.as_deref(), rate_limit.as_deref(), lock.as_deref());
            driver.store_got(run, session, rate_limit, lock, ms(now))
        })
    }

    /// `lock`: whether it was taken.
    #[napi]
    pub fn locked(&mut self, taken: bool, now: f64) -> WireStoreStep {
        self.next("storeLocked", |driver, run| {
            driver.store_locked(run, taken, ms(now))
        })
    }

    /// `set`, `release` or `sleep`: over.
    #[napi]
    pub fn done(&mut self) -> WireStoreStep {
        self.next("storeDone", |driver, run| driver.store_done(run))
    }

    /// `exchange`: over; `ok`: it gave a session.
    #[napi]
    pub fn exchanged(&mut self, ok: bool, now: f64) -> WireStoreStep {
        self.next("storeExchanged", |driver, run| {
            driver.store_exchanged(run, ok, ms(now))
        })
    }

    /// The store call failed: `op` and why (never a value).
    #[napi]
    pub fn failed(&mut self, op: String, why: String, now: f64) -> WireStoreStep {
        let fault = StoreFault { op, why };
        self.next("storeFailed", |driver, run| {
            driver.store_failed(run, &fault, ms(now))
        })
    }

    fn next(
        &mut self,
        call: &str,
        step: impl FnOnce(&mut Driver, &mut StoreRun) -> StoreNext,
    ) -> WireStoreStep {
        let client = &self.client;
        let run = &mut self.run;
        match guard(call, || Ok(step(&mut client.driver(), run))) {
            Ok(next) => next.into(),
            Err(error) => WireStoreStep {
                op: "done",
                end: Some("exchanged"),
                report: Some(error.into()),
                ..WireStoreStep::default()
            },
        }
    }
}

/// What a store run that is over says when asked again.
fn ended() -> WireStoreStep {
    WireStoreStep {
        op: "done",
        end: Some("replan"),
        ..WireStoreStep::default()
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
    let (result, trace) = client.exchange(mode, ms(now)).await;
    WireOutcome::from(result).traced(trace)
}

/// Option names the native side understands (every name `optionSchema()` declares, once).
#[napi]
pub fn known_options() -> Vec<&'static str> {
    wire::known_options()
}

/// Refuse to initialise where keys would reach a browser: a global scope with a DOM (an Electron
/// renderer, a browser-like embedding, a DOM polyfill on a server runtime). The JS entry checks
/// first (lib/guard.js `hasDomGlobals`, the same question); this makes loading the `.node` file
/// directly no way around it.
#[napi(module_exports)]
pub fn init(mut exports: Object, env: Env) -> napi::Result<()> {
    let has = |name: &str| {
        env.get_global()
            .and_then(|g| g.has_named_property(name))
            .unwrap_or(false)
    };
    // A DOM is a `document`, or a `window` that is not Deno 1.x's own (Deno 1.x defines `window`
    // as the global scope itself, and no `document`). A `Deno` next to any other `window` proves
    // nothing: it can be faked. A failed look counts as a DOM.
    let window_is_global = || -> napi::Result<bool> {
        let global = env.get_global()?;
        let window: Unknown = global.get_named_property("window")?;
        env.strict_equals(window, global)
    };
    let deno_window = || has("Deno") && window_is_global().unwrap_or(false);
    let browser_like = has("document") || (has("window") && !deno_window());
    if browser_like && !jsdom_opt_in(&env) {
        // The refusal as data for the JS entry, which loads this file through the generated
        // loader (binding.js keeps only the messages of the errors it met): its code.
        let mut global = env.get_global()?;
        global.set_named_property(REFUSAL_GLOBAL, ErrorCode::ServerOnly.as_str())?;
        // Every export answers any use with the refusal: where a throw from here never reaches
        // `require()`, nothing of the addon can be used all the same.
        refuse_exports(&mut exports)?;
        // Node rethrows this from `require()` (`module_exports` can only fail with a generic
        // status, so the error, with its stable code, is thrown directly). Deno 2.9 does not look
        // for it: the exception stays pending and aborts the process later, so there the
        // refused exports above are the refusal.
        if !has("Deno") {
            env.throw_error(SERVER_ONLY_MESSAGE, Some(ErrorCode::ServerOnly.as_str()))?;
        }
    }
    Ok(())
}

const SERVER_ONLY_MESSAGE: &str = "vendor-auth is server-only: it was loaded where browser globals (window/document) exist, and keys or tokens must never reach a browser. Call it from your server.";

/// Turn each of `exports` into a getter that throws the SERVER_ONLY error.
fn refuse_exports(exports: &mut Object) -> napi::Result<()> {
    let names: Vec<String> = unsafe { exports.get_property_names()?.to_unknown().cast() }?;
    let refused = names
        .iter()
        .map(|name| {
            Ok(Property::new()
                .with_utf8_name(name)?
                .with_getter_closure(|env: Env, _this: This| {
                    env.throw_error(SERVER_ONLY_MESSAGE, Some(ErrorCode::ServerOnly.as_str()))
                })
                .with_property_attributes(
                    PropertyAttributes::Enumerable | PropertyAttributes::Configurable,
                ))
        })
        .collect::<napi::Result<Vec<_>>>()?;
    exports.define_properties(&refused)
}

/// Where a refused load leaves its code for `lib/native.js` (a global: the only channel that
/// outlives a throwing `require`).
const REFUSAL_GLOBAL: &str = "__vendorAuthLoadRefused";

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
