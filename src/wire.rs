//! What crosses to JS, declared once for both bindings: sessions, errors, plans, outcomes, kept
//! sessions (`initialSession`) and the shared store's steps. Each type is plain data with
//! `serde` (the wasm binding sends it as JSON text: one string per call instead of a getter call
//! per field) and, in the native build, a napi-rs object (the native binding hands it over as a
//! JS object). The option schema crosses as JSON
//! text on both builds (read once, at load).
//!
//! Times are `f64` milliseconds with "for ever" as `Infinity`; JSON cannot carry it, so the wasm
//! build's JSON has `null` there, which `lib/wasm/driver.js` reads back as `Infinity`.

use crate::{Error, Plan, Session, SessionMetadata, StoreEnd, StoreNext, StoreStep, Times};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

#[cfg(feature = "native")]
use napi_derive::napi;

/// A time for JS: milliseconds, with `u64::MAX` (for ever) as `Infinity`.
pub fn js_ms(ms: u64) -> f64 {
    if ms == u64::MAX {
        f64::INFINITY
    } else {
        ms as f64
    }
}

/// JS numbers to milliseconds (the clock and durations come from JS): anything that is not a
/// positive finite number is 0.
pub fn ms(value: f64) -> u64 {
    if value.is_finite() && value > 0.0 {
        value as u64
    } else {
        0
    }
}

/// One session field a vendor declares (`session[name]` in JS).
#[cfg_attr(feature = "native", napi(object))]
#[derive(Serialize, Deserialize)]
pub struct WireField {
    pub name: String,
    #[cfg_attr(feature = "native", napi(ts_type = "string | Array<string>"))]
    pub value: FieldValue,
}

/// A field's value: text, or a list of text.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
pub enum FieldValue {
    Text(String),
    List(Vec<String>),
}

impl WireField {
    /// The fields a vendor declares, in its order.
    pub fn list(metadata: &SessionMetadata, provider: &str) -> Vec<Self> {
        let fields = crate::provider::find(provider).map_or(&[][..], |spec| spec.fields);
        metadata
            .in_order(fields)
            .map(|(name, value)| Self {
                name: name.into(),
                value: match value {
                    crate::FieldValue::Text(text) => FieldValue::Text(text.clone()),
                    crate::FieldValue::List(items) => FieldValue::List(items.clone()),
                },
            })
            .collect()
    }

    /// Fields from JS as the core's metadata (the vendor's checks come later).
    pub fn metadata(fields: Vec<Self>) -> SessionMetadata {
        let mut metadata = SessionMetadata::default();
        for field in fields {
            let value = match field.value {
                FieldValue::Text(text) => crate::FieldValue::Text(text),
                FieldValue::List(items) => crate::FieldValue::List(items),
            };
            metadata.insert(field.name, value);
        }
        metadata
    }
}

/// A session as plain data; the JS wrapper turns it into a `Session` that redacts itself.
#[cfg_attr(feature = "native", napi(object, object_from_js = false))]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WireSession {
    pub provider: &'static str,
    pub token: String,
    /// What `inspect`/JSON/logs show of the token: a short prefix of a JWT, nothing of a
    /// permanent credential.
    pub token_preview: String,
    /// Milliseconds since the epoch; absent for a credential that never expires.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<f64>,
    pub header_name: &'static str,
    pub header_value: String,
    /// The fields the vendor declares, in its order.
    pub metadata: Vec<WireField>,
}

impl From<Session> for WireSession {
    fn from(s: Session) -> Self {
        Self {
            provider: s.provider,
            header_name: s.header.name(),
            header_value: s.header_value().expose_secret().into(),
            token: s.token.expose_secret().into(),
            token_preview: s.preview(),
            expires_at: s.expires().map(|ms| ms as f64),
            metadata: WireField::list(&s.metadata, s.provider),
        }
    }
}

/// A session the application kept (`initialSession`), as `lib/client.js` reads it; also a
/// session opened from the shared store, on its way to being adopted.
#[cfg_attr(feature = "native", napi(object))]
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireSeed {
    pub token: String,
    /// Milliseconds since the epoch.
    pub expires_at: f64,
    /// Fields the vendor declares (others are dropped).
    #[serde(default)]
    pub metadata: Option<Vec<WireField>>,
}

/// What giving credentials at exchange time did (`setCredentials`): whether a value changed, or
/// the error (INVALID_OPTIONS: not a credential of this vendor, a bad value; CLOSED).
#[cfg_attr(feature = "native", napi(object, object_from_js = false))]
#[derive(Serialize)]
pub struct WireCredentials {
    pub changed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<WireError>,
}

impl From<Result<bool, Error>> for WireCredentials {
    fn from(result: Result<bool, Error>) -> Self {
        match result {
            Ok(changed) => Self {
                changed,
                error: None,
            },
            Err(error) => Self {
                changed: false,
                error: Some(error.into()),
            },
        }
    }
}

/// Credential values as they cross (a JSON object of strings, by option name), each held as a
/// secret from here on.
pub fn credential_values(json: &str) -> Result<Vec<(String, secrecy::SecretString)>, Error> {
    // From bytes, as everywhere in the core: one serde_json reader in the .wasm (2 KB gzipped).
    let object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(json.as_bytes())
            .map_err(|_| Error::invalid_options("credentials must be a JSON object of strings"))?;
    object
        .into_iter()
        .map(|(name, value)| match value {
            serde_json::Value::String(text) => Ok((name, text.into())),
            _ => Err(Error::invalid_options(format!(
                "credential '{name}' must be a string"
            ))),
        })
        .collect()
}

/// The fields of a `VendorAuthError`.
#[cfg_attr(feature = "native", napi(object, object_from_js = false))]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WireError {
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor_message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<f64>,
}

impl From<Error> for WireError {
    fn from(e: Error) -> Self {
        Self {
            code: e.code().as_str(),
            message: e.message().into(),
            status: e.status().map(u32::from),
            provider: e.provider(),
            vendor_message: e.vendor_message().map(Into::into),
            vendor_code: e.vendor_code().map(Into::into),
            retry_after_ms: e.retry_after_ms().map(|ms| ms as f64),
        }
    }
}

/// The end of an exchange (or an adoption): `{ session, freshUntil }` or `{ error }`. Errors are
/// returned, not thrown, so that every field of the error reaches JS.
#[cfg_attr(feature = "native", napi(object, object_from_js = false))]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WireOutcome {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<WireSession>,
    /// With a session: until when the JS hot path may serve it (the core's refresh time).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fresh_until: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<WireError>,
    /// What the exchange did (for the `vendor-auth:exchange` tracing channel); none for an
    /// outcome that made no exchange (adopting a session).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<WireTrace>,
}

/// What one exchange did, for tracers: never a secret.
#[cfg_attr(feature = "native", napi(object, object_from_js = false))]
#[derive(Serialize)]
pub struct WireTrace {
    /// Requests sent (retries and a fall back included).
    pub requests: u32,
    /// The endpoint of the last request.
    #[cfg_attr(feature = "native", napi(ts_type = "'authenticate' | 'refresh'"))]
    pub endpoint: &'static str,
    /// The HTTP status of the last answer, if there was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u32>,
}

impl From<crate::ExchangeTrace> for WireTrace {
    fn from(trace: crate::ExchangeTrace) -> Self {
        Self {
            requests: trace.requests,
            endpoint: if trace.refresh {
                "refresh"
            } else {
                "authenticate"
            },
            status: trace.status.map(u32::from),
        }
    }
}

impl WireOutcome {
    /// This outcome with what its exchange did.
    pub fn traced(mut self, trace: crate::ExchangeTrace) -> Self {
        self.trace = Some(trace.into());
        self
    }
}

impl From<Result<(Session, Times), Error>> for WireOutcome {
    fn from(result: Result<(Session, Times), Error>) -> Self {
        match result {
            Ok((session, times)) => Self {
                session: Some(session.into()),
                fresh_until: Some(js_ms(times.refresh_at_ms)),
                error: None,
                trace: None,
            },
            Err(error) => Self {
                session: None,
                fresh_until: None,
                error: Some(error.into()),
                trace: None,
            },
        }
    }
}

/// The core's [`Plan`] for a caller off the hot path.
#[cfg_attr(feature = "native", napi(object, object_from_js = false))]
#[derive(Serialize)]
pub struct WirePlan {
    /// `'serve'`, `'refresh'` (serve, and refresh in the background), `'exchange'` (callers
    /// wait for one) or `'reject'`.
    #[cfg_attr(
        feature = "native",
        napi(ts_type = "'serve' | 'refresh' | 'exchange' | 'reject'")
    )]
    pub action: &'static str,
    /// For serve and refresh: until when the hot path may serve the current header without
    /// asking again (`Infinity` for a permanent credential).
    pub until: f64,
    /// For reject: the remembered error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<WireError>,
}

impl From<Plan> for WirePlan {
    fn from(plan: Plan) -> Self {
        let action = plan.action();
        let (until, error) = match plan {
            Plan::Serve { until_ms } | Plan::Refresh { until_ms } => (js_ms(until_ms), None),
            Plan::Exchange => (0.0, None),
            Plan::Reject(error) => (0.0, Some(error.into())),
        };
        Self {
            action,
            until,
            error,
        }
    }
}

/// One step of the shared store's protocol (src/coordinator.rs) for the runtime to perform:
/// `op` says which, and only the fields it needs are set.
#[cfg_attr(feature = "native", napi(object, object_from_js = false))]
#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct WireStoreStep {
    #[cfg_attr(
        feature = "native",
        napi(ts_type = "'get' | 'lock' | 'set' | 'release' | 'sleep' | 'exchange' | 'done'")
    )]
    pub op: &'static str,
    /// Debug lines to log first (JS logs them as it performs the step, so that they are in order
    /// with what the caller sees).
    pub log: Vec<String>,
    /// `STORE_UNAVAILABLE`, for the client's `'error'` event: the store just became unavailable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<WireError>,
    /// `get`: the session's key; `lock`, `set`, `release`: the key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// `get`: the shared rate limit's key (read with the session's, at once).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit_key: Option<String>,
    /// `get`: the lock's key (read with the others, at once).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lock_key: Option<String>,
    /// `lock`, `release`: the lock's value (sealed: its owner and until when).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// `set`: the sealed value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// `lock`, `set`: how long the store keeps it; `sleep`: how long to wait.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ms: Option<f64>,
    /// `exchange`: a background refresh (one attempt per endpoint) or callers are waiting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub background: Option<bool>,
    /// `done`: `'adopted'` (the outcome is `outcome`), `'exchanged'` (the exchange the runtime
    /// ran is the result) or `'replan'` (nothing new: ask the plan again).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "native",
        napi(ts_type = "'adopted' | 'exchanged' | 'replan'")
    )]
    pub end: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<WireOutcome>,
}

impl From<StoreNext> for WireStoreStep {
    fn from(next: StoreNext) -> Self {
        let mut wire = Self {
            log: next.log,
            report: next.report.map(Into::into),
            ..Self::default()
        };
        wire.op = match next.step {
            StoreStep::Get {
                session_key,
                rate_limit_key,
                lock_key,
            } => {
                wire.key = Some(session_key);
                wire.rate_limit_key = Some(rate_limit_key);
                wire.lock_key = Some(lock_key);
                "get"
            }
            StoreStep::Lock { key, owner, ttl_ms } => {
                (wire.key, wire.owner, wire.ms) = (Some(key), Some(owner), Some(ttl_ms as f64));
                "lock"
            }
            StoreStep::Set { key, value, ttl_ms } => {
                (wire.key, wire.value, wire.ms) = (Some(key), Some(value), Some(ttl_ms as f64));
                "set"
            }
            StoreStep::Release { key, owner } => {
                (wire.key, wire.owner) = (Some(key), Some(owner));
                "release"
            }
            StoreStep::Sleep(ms) => {
                wire.ms = Some(ms as f64);
                "sleep"
            }
            StoreStep::Exchange { background } => {
                wire.background = Some(background);
                "exchange"
            }
            StoreStep::Done(end) => {
                wire.end = Some(match end {
                    StoreEnd::Adopted(session, times) => {
                        wire.outcome = Some(Ok((session, times)).into());
                        "adopted"
                    }
                    StoreEnd::Exchanged => "exchanged",
                    StoreEnd::Replan => "replan",
                });
                "done"
            }
        };
        wire
    }
}

/// The option schema (every option and vendor, from the core's declarations) as JSON text: the
/// same on both builds. `lib/options.js` checks options against it and the type-drift test
/// compares `lib/index.d.ts` with it.
pub fn option_schema_json() -> String {
    serde_json::to_string(&crate::option_schema()).expect("the option schema always serializes")
}

/// Option names the core understands (every name the schema declares, once).
#[cfg(feature = "native")]
pub fn known_options() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Vec::new();
    for option in crate::option_schema().options {
        if !names.contains(&option.name) {
            names.push(option.name);
        }
    }
    names
}

/// A field value crosses the native boundary as napi-rs's `Either<String, Vec<String>>`.
#[cfg(feature = "native")]
mod napi_value {
    use super::FieldValue;
    use napi::bindgen_prelude::{Either, FromNapiValue, ToNapiValue, TypeName};
    use napi::{sys, ValueType};

    type Js = Either<String, Vec<String>>;

    impl TypeName for FieldValue {
        fn type_name() -> &'static str {
            Js::type_name()
        }

        fn value_type() -> ValueType {
            Js::value_type()
        }
    }

    impl ToNapiValue for FieldValue {
        unsafe fn to_napi_value(env: sys::napi_env, value: Self) -> napi::Result<sys::napi_value> {
            let js: Js = match value {
                FieldValue::Text(text) => Either::A(text),
                FieldValue::List(items) => Either::B(items),
            };
            // SAFETY: forwarded as napi-rs calls us, with the same env.
            unsafe { Js::to_napi_value(env, js) }
        }
    }

    impl FromNapiValue for FieldValue {
        unsafe fn from_napi_value(
            env: sys::napi_env,
            value: sys::napi_value,
        ) -> napi::Result<Self> {
            // SAFETY: forwarded as napi-rs calls us, with the same env and value.
            Ok(match unsafe { Js::from_napi_value(env, value)? } {
                Either::A(text) => FieldValue::Text(text),
                Either::B(items) => FieldValue::List(items),
            })
        }
    }
}
