//! The `wasm-bindgen` surface of the core's driver (the JS side is `lib/wasm/driver.js`, which
//! performs the steps). Structured values are the wire types both bindings share
//! (`src/wire.rs`), crossing as JSON text: one string per step instead of a getter call per
//! field, and no extra crate (serde_json is already in the core).

use crate::wire::{self, ms, WireError, WireField, WireOutcome, WirePlan, WireSeed, WireStoreStep};
use crate::{
    Driver, Error, Failure, Mode, Next, RawOptions, Run, StoreFault, StoreRun, TransportFailure,
    ANSWER_HEADERS, MAX_BODY_BYTES, NONCE_LEN,
};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// An object of environment variables (own entries of `process.env` copied into a
    /// null-prototype object, or an empty object where the runtime has none): where unset
    /// credentials are read from.
    pub type Env;

    #[wasm_bindgen(method, structural, indexing_getter)]
    fn get(this: &Env, name: &str) -> Option<String>;
}

/// Options as JS passes them: a JSON object (names and types checked by `lib/options.js` first,
/// against the same schema), plus the names of number options whose value JSON cannot carry
/// (`NaN`, `±Infinity`), each as its text, so that the core refuses them by name as the native
/// build does.
#[derive(Deserialize)]
struct WireOptions {
    options: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    non_finite: Vec<(String, String)>,
}

fn raw_options(text: &str) -> Result<RawOptions, Error> {
    // JSON is read from bytes everywhere in the core (`from_slice`, never `from_str`): one
    // serde_json reader type, so its parser is compiled into the .wasm once (13 KB raw).
    let wire: WireOptions = serde_json::from_slice(text.as_bytes()).map_err(|e| {
        // serde's message names the field and the expected type, never the value.
        Error::invalid_options(format!("options could not be read: {e}"))
    })?;
    let mut raw = RawOptions::from_json(&wire.options)?;
    for (name, text) in wire.non_finite {
        let n = match text.as_str() {
            "Infinity" => f64::INFINITY,
            "-Infinity" => f64::NEG_INFINITY,
            _ => f64::NAN,
        };
        raw.set(&name, n.into())?;
    }
    Ok(raw)
}

/// A request for JS to send with `fetch` (the one place credentials leave the instance: they
/// go on the wire).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireRequest {
    url: String,
    method: &'static str,
    headers: Vec<(&'static str, String)>,
    body: String,
    timeout_ms: u64,
}

/// One step for JS: the debug lines it produced, then exactly one of `send`, `waitMs`, `done`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireStep {
    log: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    send: Option<WireRequest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    wait_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    done: Option<WireOutcome>,
}

const USER_AGENT: &str = concat!("vendor-auth/", env!("CARGO_PKG_VERSION"));

fn json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("wire types always serialize")
}

fn step_json(next: Next, log: Vec<String>, trace: crate::ExchangeTrace) -> String {
    let mut step = WireStep {
        log,
        send: None,
        wait_ms: None,
        done: None,
    };
    match next {
        Next::Send {
            request,
            timeout_ms,
        } => {
            step.send = Some(WireRequest {
                url: request.url.to_string(),
                method: request.method(),
                headers: request
                    .headers
                    .iter()
                    .map(|h| (h.name(), h.value().to_owned()))
                    // As the native transport sends it.
                    .chain([("user-agent", USER_AGENT.to_owned())])
                    .collect(),
                body: String::from_utf8_lossy(request.body.expose_secret()).into_owned(),
                timeout_ms,
            })
        }
        Next::Wait(ms) => step.wait_ms = Some(ms),
        Next::Done(result) => step.done = Some(WireOutcome::from(result).traced(trace)),
    }
    json(&step)
}

/// A store nonce: exactly [`NONCE_LEN`] bytes.
fn nonce_of(bytes: &[u8]) -> Result<[u8; NONCE_LEN], String> {
    bytes.try_into().map_err(|_| {
        let message = format!("a store nonce is {NONCE_LEN} random bytes");
        json(&WireError::from(Error::invalid_options(message)))
    })
}

/// The option schema (every option and vendor, from the core's declarations), as JSON: the same
/// as the native binding's `optionSchema()`.
#[wasm_bindgen(js_name = optionSchema)]
pub fn schema() -> String {
    wire::option_schema_json()
}

/// The answer headers the core reads, as a JSON array (transports copy only these).
#[wasm_bindgen(js_name = answerHeaders)]
pub fn answer_headers() -> String {
    json(&ANSWER_HEADERS)
}

/// The most of a response body the core looks at; JS stops reading just past it.
#[wasm_bindgen(js_name = maxBodyBytes)]
pub fn max_body_bytes() -> u32 {
    MAX_BODY_BYTES as u32
}

/// Holds credentials and the lifecycle for one `AuthClient` (or one `authenticate()` call): the
/// core driver, whose steps JS performs.
///
/// Missing credentials do not fail construction (as in the native build): the client stays
/// *pending* until `resolve(env)` finds them at first use; every other bad option throws at once.
#[wasm_bindgen]
pub struct WasmClient {
    provider: &'static str,
    driver: Rc<RefCell<Driver>>,
}

#[wasm_bindgen]
impl WasmClient {
    /// Validate options (see `WireOptions`; unset credentials read from `env`) before any I/O.
    /// Throws the error's fields as JSON text (`INVALID_OPTIONS`, `INSECURE_URL`).
    #[wasm_bindgen(constructor)]
    pub fn new(options: &str, env: &Env) -> Result<WasmClient, String> {
        let lookup = |name: &str| env.get(name);
        let driver = raw_options(options)
            .and_then(|raw| Driver::new(raw, &lookup))
            .map_err(|e| json(&WireError::from(e)))?;
        Ok(Self {
            provider: driver.provider(),
            driver: Rc::new(RefCell::new(driver)),
        })
    }

    /// The provider id.
    #[wasm_bindgen(getter)]
    pub fn provider(&self) -> String {
        self.provider.into()
    }

    /// The debug lines of the client's creation, as a JSON array (a permanent credential says
    /// so; the native build logs the same line).
    #[wasm_bindgen(js_name = startLog)]
    pub fn start_log(&self) -> String {
        json(&self.driver.borrow().start_log())
    }

    /// Whether the credentials are still to be found (see `resolve`).
    #[wasm_bindgen(getter)]
    pub fn pending(&self) -> bool {
        self.driver.borrow().pending()
    }

    /// Look for the missing credentials again in `env` (at first use). Returns the error that
    /// still stands as JSON (`INVALID_OPTIONS` naming the options and variables), or nothing
    /// once the client is ready.
    pub fn resolve(&mut self, env: &Env) -> Option<String> {
        let lookup = |name: &str| env.get(name);
        let error = self.driver.borrow_mut().resolve(&lookup)?;
        Some(json(&WireError::from(error)))
    }

    /// Credentials given at exchange time (options given as functions): a JSON object of strings
    /// by option name, with `env` for the other credentials. `{ changed, error? }` as JSON.
    #[wasm_bindgen(js_name = setCredentials)]
    pub fn set_credentials(&mut self, values: &str, env: &Env) -> String {
        let lookup = |name: &str| env.get(name);
        let result = crate::wire::credential_values(values)
            .and_then(|values| self.driver.borrow_mut().set_credentials(&values, &lookup));
        json(&crate::wire::WireCredentials::from(result))
    }

    /// Whether `client.fetch()` may send the token to `url`: the refusal as JSON (`INSECURE_URL`,
    /// naming `allowedOrigins`), or nothing.
    #[wasm_bindgen(js_name = checkOrigin)]
    pub fn check_origin(&self, url: &str) -> Option<String> {
        let error = self.driver.borrow().check_origin(url).err()?;
        Some(json(&WireError::from(error)))
    }

    /// What to do at `now` (ms since the epoch), for a caller off the hot path, as JSON. A pending
    /// client always needs an exchange.
    pub fn plan(&self, now: f64) -> String {
        json(&WirePlan::from(self.driver.borrow().plan(ms(now))))
    }

    /// The session the core holds now, as an outcome (JSON), or nothing: from construction on,
    /// a permanent credential (Vendy's scheme `'basic'`).
    pub fn current(&self) -> Option<String> {
        let current = self.driver.borrow().current()?;
        Some(json(&WireOutcome::from(Ok(current))))
    }

    /// Take a kept session (JSON `{ token, expiresAt, metadata }`) as the current one at `now`,
    /// checked like a vendor's answer; the outcome (JSON) has `INVALID_OPTIONS` when it cannot
    /// be used.
    pub fn adopt(&self, seed: &str, now: f64) -> String {
        let result = serde_json::from_slice::<WireSeed>(seed.as_bytes())
            .map_err(|e| Error::invalid_options(format!("initialSession could not be read: {e}")))
            .and_then(|seed| {
                let metadata = WireField::metadata(seed.metadata.unwrap_or_default());
                let expires_at = ms(seed.expires_at);
                self.driver
                    .borrow_mut()
                    .adopt(seed.token.into(), expires_at, metadata, ms(now))
            });
        json(&WireOutcome::from(result))
    }

    /// Start an exchange at `now`; `background`: one attempt per endpoint.
    pub fn begin(&self, background: bool, now: f64) -> WasmRun {
        let mode = if background {
            Mode::Background
        } else {
            Mode::Foreground
        };
        let mut log = Vec::new();
        let (run, next) = self.driver.borrow_mut().begin(mode, ms(now), &mut log);
        let first = Some(step_json(next, log, run.trace()));
        WasmRun {
            driver: Rc::clone(&self.driver),
            run,
            first,
        }
    }

    /// Forget the current session and end a refusal cool-down. Returns whether it was dropped:
    /// `false` for a permanent credential, which no exchange could replace.
    pub fn invalidate(&self) -> bool {
        self.driver.borrow_mut().invalidate()
    }

    /// Start obtaining a token the shared store's way at `now` (see `src/coordinator.rs`):
    /// `owner` a random lock owner id, `nonce` 24 random bytes, `storeTimeoutMs` the bound JS
    /// puts on each store call. Throws the error's fields as JSON text.
    #[wasm_bindgen(js_name = storeRun)]
    pub fn store_run(
        &self,
        background: bool,
        owner: String,
        nonce: &[u8],
        store_timeout_ms: f64,
        now: f64,
    ) -> Result<WasmStoreRun, String> {
        let nonce = nonce_of(nonce)?;
        let timeout = ms(store_timeout_ms);
        let begun =
            self.driver
                .borrow_mut()
                .store_begin(background, owner, nonce, timeout, ms(now));
        let (run, first) = begun.map_err(|e| json(&WireError::from(e)))?;
        Ok(WasmStoreRun {
            driver: Rc::clone(&self.driver),
            run,
            first: Some(json(&WireStoreStep::from(first))),
        })
    }

    /// Refuse new exchanges; runs in flight end with `CLOSED`.
    pub fn close(&mut self) {
        self.driver.borrow_mut().close();
    }
}

/// One `obtain` of the shared store in flight, stepped by JS (`lib/store.js`): each method
/// reports the answer to the step before and returns the next step as JSON.
#[wasm_bindgen]
pub struct WasmStoreRun {
    driver: Rc<RefCell<Driver>>,
    run: StoreRun,
    first: Option<String>,
}

#[wasm_bindgen]
impl WasmStoreRun {
    /// The first step (once).
    pub fn first(&mut self) -> String {
        self.first.take().unwrap_or_default()
    }

    /// `get`: the three entries as read (nothing: absent, empty or not text).
    pub fn got(
        &mut self,
        session: Option<String>,
        rate_limit: Option<String>,
        lock: Option<String>,
        now: f64,
    ) -> String {
        let mut driver = self.driver.borrow_mut();
        let next = driver.store_got(
            &mut self.run,
            session.as_deref(),
            rate_limit.as_deref(),
            lock.as_deref(),
            ms(now),
        );
        json(&WireStoreStep::from(next))
    }

    /// `lock`: whether it was taken.
    pub fn locked(&mut self, taken: bool, now: f64) -> String {
        let next = self
            .driver
            .borrow_mut()
            .store_locked(&mut self.run, taken, ms(now));
        json(&WireStoreStep::from(next))
    }

    /// `set`, `release` or `sleep`: over.
    pub fn done(&mut self) -> String {
        let next = self.driver.borrow_mut().store_done(&mut self.run);
        json(&WireStoreStep::from(next))
    }

    /// `exchange`: over; `ok`: it gave a session.
    pub fn exchanged(&mut self, ok: bool, now: f64) -> String {
        let next = self
            .driver
            .borrow_mut()
            .store_exchanged(&mut self.run, ok, ms(now));
        json(&WireStoreStep::from(next))
    }

    /// The store call failed: `op` and why (never a value).
    pub fn failed(&mut self, op: String, why: String, now: f64) -> String {
        let fault = StoreFault { op, why };
        let next = self
            .driver
            .borrow_mut()
            .store_failed(&mut self.run, &fault, ms(now));
        json(&WireStoreStep::from(next))
    }
}

/// One exchange in flight, stepped by JS: every method returns the next step as JSON.
#[wasm_bindgen]
pub struct WasmRun {
    driver: Rc<RefCell<Driver>>,
    run: Run,
    first: Option<String>,
}

#[wasm_bindgen]
impl WasmRun {
    /// The first step (once).
    pub fn first(&mut self) -> String {
        self.first.take().unwrap_or_default()
    }

    /// After `waitMs`: the request to send at `now`.
    pub fn resume(&mut self, now: f64) -> String {
        let mut log = Vec::new();
        let next = self
            .driver
            .borrow_mut()
            .resume(&mut self.run, ms(now), &mut log);
        step_json(next, log, self.run.trace())
    }

    /// The answer: status, headers as a JSON array of `[name, value]`, the body as read
    /// (`complete` false when reading stopped at the cap), when it was sent and how long it took.
    #[allow(clippy::too_many_arguments)]
    pub fn answered(
        &mut self,
        status: u16,
        headers: &str,
        body: &[u8],
        complete: bool,
        sent_at: f64,
        elapsed: f64,
        jitter: f64,
    ) -> String {
        let headers: Vec<(String, String)> =
            serde_json::from_slice(headers.as_bytes()).unwrap_or_default();
        let response = crate::HttpResponse {
            status,
            headers,
            body: body.to_vec(),
        };
        let mut log = Vec::new();
        let next = self.driver.borrow_mut().answered(
            &mut self.run,
            response,
            complete,
            ms(sent_at),
            ms(elapsed),
            jitter,
            &mut log,
        );
        step_json(next, log, self.run.trace())
    }

    /// No answer: `kind` 0 timed out, 1 could not connect, 2 untrusted certificate, 3 other
    /// network failure, 4 aborted by `close()`, 5 the server refused HTTP/1.1 (ALPN); `detail` is
    /// the runtime's description.
    pub fn failed(
        &mut self,
        kind: u8,
        detail: &str,
        sent_at: f64,
        elapsed: f64,
        jitter: f64,
    ) -> String {
        let failure = match kind {
            0 => Failure::Transport(TransportFailure::Timeout),
            1 => Failure::Transport(TransportFailure::Connect),
            2 => Failure::Transport(TransportFailure::Untrusted),
            4 => Failure::Aborted,
            5 => Failure::Transport(TransportFailure::NoHttp1),
            _ => Failure::Transport(TransportFailure::Other),
        };
        let mut log = Vec::new();
        let next = self.driver.borrow_mut().failed(
            &mut self.run,
            failure,
            detail,
            ms(sent_at),
            ms(elapsed),
            jitter,
            &mut log,
        );
        step_json(next, log, self.run.trace())
    }
}
