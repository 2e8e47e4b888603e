//! The `wasm-bindgen` surface, and the one place where core types become JS values for the wasm
//! build (`#[wasm_bindgen]` appears nowhere else). Structured values cross as JSON text: one
//! string per step instead of a getter call per field, and no extra crate (serde_json is already
//! in the core). The JS side is `lib/wasm/driver.js`.

use super::driver::{Driver, Failure, Next, Run};
use crate::{
    token_preview, Error, Mode, Options, Plan, RawOptions, Session, TransportFailure,
    ANSWER_HEADERS, KNOWN_OPTIONS, MAX_BODY_BYTES,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// An object of environment variables (`process.env`, or an empty object where the runtime
    /// has none): where unset credentials are read from.
    pub type Env;

    #[wasm_bindgen(method, structural, indexing_getter)]
    fn get(this: &Env, name: &str) -> Option<String>;
}

/// Options as JS passes them (names and types checked by `lib/options.js` first; numbers as text).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct WireOptions {
    provider: Option<String>,
    access_key: Option<String>,
    secret_key: Option<String>,
    username: Option<String>,
    password: Option<String>,
    api_key: Option<String>,
    shop_domain: Option<String>,
    environment: Option<String>,
    base_url: Option<String>,
    ca_cert: Option<String>,
    timeout_ms: Option<String>,
    exchange_timeout_ms: Option<String>,
    max_retries: Option<String>,
    max_retry_delay_ms: Option<String>,
    refresh_window_ms: Option<String>,
}

/// A JS number, sent as its text (`String(n)`): JSON has no NaN or Infinity, and the core must
/// refuse those with the same message as the native build. Read with serde_json's number parser,
/// already in the module (`str::parse::<f64>` or `deserialize_any` would each add ~14 KB gzipped).
fn js_number(text: Option<String>) -> Option<f64> {
    text.map(|t| match t.as_str() {
        "Infinity" => f64::INFINITY,
        "-Infinity" => f64::NEG_INFINITY,
        _ => serde_json::from_str(&t).unwrap_or(f64::NAN),
    })
}

impl From<WireOptions> for RawOptions {
    fn from(o: WireOptions) -> Self {
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
            timeout_ms: js_number(o.timeout_ms),
            exchange_timeout_ms: js_number(o.exchange_timeout_ms),
            max_retries: js_number(o.max_retries),
            max_retry_delay_ms: js_number(o.max_retry_delay_ms),
            refresh_window_ms: js_number(o.refresh_window_ms),
        }
    }
}

/// A session as plain data (the same fields as the native binding's `NativeSession`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireSession {
    provider: &'static str,
    token: String,
    token_preview: String,
    expires_at: u64,
    header_name: &'static str,
    header_value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    permissions: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    shop_domain: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vendor_id: Option<String>,
}

impl From<Session> for WireSession {
    fn from(s: Session) -> Self {
        Self {
            provider: s.provider,
            header_name: s.header.name(),
            header_value: s.header_value().expose_secret().into(),
            token: s.token.expose_secret().into(),
            token_preview: token_preview(s.token.expose_secret()),
            expires_at: s.expires_at_ms,
            scope: s.metadata.scope,
            permissions: s.metadata.permissions,
            shop_domain: s.metadata.shop_domain,
            mode: s.metadata.mode,
            vendor_id: s.metadata.vendor_id,
        }
    }
}

/// The fields of a `VendorAuthError`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireError {
    code: &'static str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    provider: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vendor_message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vendor_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after_ms: Option<u64>,
}

impl From<Error> for WireError {
    fn from(e: Error) -> Self {
        Self {
            code: e.code().as_str(),
            message: e.message().into(),
            status: e.status(),
            provider: e.provider(),
            vendor_message: e.vendor_message().map(Into::into),
            vendor_code: e.vendor_code().map(Into::into),
            retry_after_ms: e.retry_after_ms(),
        }
    }
}

/// The core's [`Plan`]: `action` 0 serve, 1 serve and refresh in the background, 2 exchange,
/// 3 reject (the same numbers as the native binding's `NativePlan`).
#[derive(Serialize)]
struct WirePlan {
    action: u8,
    until: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<WireError>,
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

/// The end of an exchange: `{ session, freshUntil }` or `{ error }`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireOutcome {
    #[serde(skip_serializing_if = "Option::is_none")]
    session: Option<WireSession>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fresh_until: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<WireError>,
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

fn step_json(next: Next, log: Vec<String>) -> String {
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
        Next::Done(Ok((session, times))) => {
            step.done = Some(WireOutcome {
                session: Some(session.into()),
                fresh_until: Some(times.refresh_at_ms),
                error: None,
            })
        }
        Next::Done(Err(error)) => {
            step.done = Some(WireOutcome {
                session: None,
                fresh_until: None,
                error: Some(error.into()),
            })
        }
    }
    json(&step)
}

/// JS numbers to milliseconds (the clock and durations come from JS).
fn ms(value: f64) -> u64 {
    if value.is_finite() && value > 0.0 {
        value as u64
    } else {
        0
    }
}

/// Option names the wasm build understands, as a JSON array.
#[wasm_bindgen(js_name = knownOptions)]
pub fn known_options() -> String {
    json(&KNOWN_OPTIONS)
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

/// Holds credentials and the lifecycle for one `AuthClient` (or one `authenticate()` call).
#[wasm_bindgen]
pub struct WasmClient {
    driver: Rc<RefCell<Driver>>,
}

#[wasm_bindgen]
impl WasmClient {
    /// Validate options (JSON text; unset credentials read from `env`) before any I/O. Throws
    /// the error's fields as JSON text (`INVALID_OPTIONS`, `INSECURE_URL`).
    #[wasm_bindgen(constructor)]
    pub fn new(options: &str, env: &Env) -> Result<WasmClient, String> {
        let wire: WireOptions = serde_json::from_str(options).map_err(|e| {
            // serde's message names the field and the expected type, never the value.
            json(&WireError::from(Error::invalid_options(format!(
                "options could not be read: {e}"
            ))))
        })?;
        let lookup = |name: &str| env.get(name);
        let options =
            Options::resolve(wire.into(), &lookup).map_err(|e| json(&WireError::from(e)))?;
        Ok(Self {
            driver: Rc::new(RefCell::new(Driver::new(options))),
        })
    }

    /// The provider id.
    #[wasm_bindgen(getter)]
    pub fn provider(&self) -> String {
        self.driver.borrow().options().provider.id().into()
    }

    /// What to do at `now` (ms since the epoch), for a caller off the hot path, as JSON.
    pub fn plan(&self, now: f64) -> String {
        let (action, until, error) = match self.driver.borrow().plan(ms(now)) {
            Plan::Serve { until_ms } => (0, until_ms, None),
            Plan::Refresh { until_ms } => (1, until_ms, None),
            Plan::Exchange => (2, 0, None),
            Plan::Reject(error) => (3, 0, Some(error.into())),
        };
        json(&WirePlan {
            action,
            until,
            error,
        })
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
        WasmRun {
            driver: Rc::clone(&self.driver),
            run,
            first: Some(step_json(next, log)),
        }
    }

    /// Forget the current session and end a refusal cool-down.
    pub fn invalidate(&self) {
        self.driver.borrow_mut().invalidate();
    }

    /// Refuse new exchanges; runs in flight end with `CLOSED`.
    pub fn close(&self) {
        self.driver.borrow_mut().close();
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
        step_json(next, log)
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
        let headers: Vec<(String, String)> = serde_json::from_str(headers).unwrap_or_default();
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
        step_json(next, log)
    }

    /// No answer: `kind` 0 timed out, 1 could not connect, 2 untrusted certificate, 3 other
    /// network failure, 4 aborted by `close()`; `detail` is the runtime's description.
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
        step_json(next, log)
    }
}
