//! The provider abstraction: one trait, one file per vendor, one registry line each.
//!
//! A provider knows how to *describe* its token requests and how to *read* the answers; it never
//! sends anything. Adding a vendor: a new file with a type implementing [`Provider`] and a
//! [`Spec`], and its `Spec` added to [`SPECS`].

mod puppetvendors;
mod vendy;

use crate::options::{Environment, RawOptions};
use crate::redact::{printable, scrub};
use crate::retry::parse_retry_after_ms;
use crate::{Error, ErrorCode, HttpRequest, HttpResponse, Session, Timing};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};
use std::fmt;
use url::Url;

/// Every vendor the library knows.
const SPECS: &[&Spec] = &[&vendy::SPEC, &puppetvendors::SPEC];

/// A vendor's entry in the registry.
#[derive(Debug)]
pub struct Spec {
    /// The `provider` option value, e.g. `"vendy"`.
    pub id: &'static str,
    /// The vendor's name for messages, e.g. `"Vendy"`.
    pub name: &'static str,
    production_url: &'static str,
    staging_url: &'static str,
    /// Environment variables this vendor reads credentials from (never quoted in messages).
    pub credential_vars: &'static [&'static str],
    /// Build the provider from validated common parts plus its own options.
    pub build: fn(Config<'_>) -> Result<Box<dyn Provider>, Error>,
}

impl Spec {
    pub fn base_url(&self, environment: Environment) -> &'static str {
        match environment {
            Environment::Production => self.production_url,
            Environment::Staging => self.staging_url,
        }
    }
}

/// What a provider's `build` gets: the checked base URL, the raw options (for its credentials)
/// and the environment lookup (for credential defaults).
pub struct Config<'a> {
    pub base_url: Url,
    pub raw: &'a RawOptions,
    pub env: &'a dyn Fn(&str) -> Option<String>,
}

impl Config<'_> {
    /// A credential from the option `name`, else from the environment variable `var` (an empty
    /// variable counts as unset; an empty option is an error, not a silent fall back).
    pub fn secret(
        &self,
        option: &Option<SecretString>,
        name: &str,
        var: &str,
    ) -> Result<Option<SecretString>, Error> {
        match option {
            Some(value) if value.expose_secret().trim().is_empty() => {
                Err(Error::invalid_options(format!(
                    "{name} is empty; pass the credential or leave the option out to use {var}"
                )))
            }
            Some(value) => Ok(Some(value.clone())),
            None => Ok((self.env)(var)
                .filter(|v| !v.is_empty())
                .map(SecretString::from)),
        }
    }

    /// A credential that only comes from the option `name` (no environment default): empty is
    /// an error, as for [`Config::secret`].
    pub fn option_secret(
        &self,
        option: &Option<SecretString>,
        name: &str,
    ) -> Result<Option<SecretString>, Error> {
        match option {
            Some(value) if value.expose_secret().trim().is_empty() => Err(Error::invalid_options(
                format!("{name} is empty; pass the credential"),
            )),
            other => Ok(other.clone()),
        }
    }
}

/// Check that a credential can travel as the value of the HTTP header `header` as it is:
/// printable ASCII, no spaces (HTTP would let through non-ASCII bytes as "obs-text", which each
/// server reads differently, and trims spaces at the ends, changing the key). `what` names the
/// option (and its environment variable); the value itself is never quoted.
pub(crate) fn header_safe(value: &SecretString, what: &str, header: &str) -> Result<(), Error> {
    let value = value.expose_secret();
    let problem = if value.chars().any(|c| c.is_control()) {
        "a control character (such as a stray newline)"
    } else if !value.is_ascii() {
        "a non-ASCII character"
    } else if value.contains(' ') {
        "a space"
    } else {
        return Ok(());
    };
    Err(Error::invalid_options(format!(
        "{what} has {problem}; it is sent in the {header} HTTP header, which takes printable ASCII only (check for a copy-paste accident)"
    )))
}

/// Every credential set in the environment variables any vendor reads, so that a message can be
/// scrubbed of them even when one was put into another option.
pub(crate) fn credentials_in_env(env: &dyn Fn(&str) -> Option<String>) -> Vec<SecretString> {
    SPECS
        .iter()
        .flat_map(|spec| spec.credential_vars)
        .filter_map(|var| env(var).filter(|v| !v.is_empty()))
        .map(SecretString::from)
        .collect()
}

/// The vendor with this `provider` id. The value given is never quoted back: it may be a
/// credential pasted into the wrong option.
pub(crate) fn find(id: &str) -> Result<&'static Spec, Error> {
    SPECS.iter().copied().find(|s| s.id == id).ok_or_else(|| {
        let near = SPECS
            .iter()
            .find(|s| s.id.eq_ignore_ascii_case(id.trim()))
            .map(|s| format!(" (did you mean '{}'? ids are lower-case)", s.id))
            .unwrap_or_default();
        Error::invalid_options(format!(
            "unknown provider{near}: expected one of {} (the value given, {} characters long, is not shown as it could be a credential)",
            known_ids(),
            id.chars().count()
        ))
    })
}

pub(crate) fn known_ids() -> String {
    SPECS
        .iter()
        .map(|s| format!("'{}'", s.id))
        .collect::<Vec<_>>()
        .join(", ")
}

/// How a token travels on the vendor's API requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenHeader {
    /// `Authorization: Bearer <token>`
    Bearer,
    /// `<name>: <token>`
    Raw(&'static str),
}

impl TokenHeader {
    pub fn name(self) -> &'static str {
        match self {
            Self::Bearer => "Authorization",
            Self::Raw(name) => name,
        }
    }

    pub fn value(self, token: &SecretString) -> SecretString {
        match self {
            Self::Bearer => format!("Bearer {}", token.expose_secret()).into(),
            Self::Raw(_) => token.clone(),
        }
    }
}

/// One vendor's token protocol.
pub trait Provider: Send + Sync + fmt::Debug {
    /// The vendor's registry entry.
    fn spec(&self) -> &'static Spec;
    fn base_url(&self) -> &Url;
    /// The `provider` option value.
    fn id(&self) -> &'static str {
        self.spec().id
    }
    /// The vendor's name for messages.
    fn name(&self) -> &'static str {
        self.spec().name
    }
    /// The header that carries the token.
    fn token_header(&self) -> TokenHeader;
    /// What to tell a person whose credentials were refused.
    fn credentials_hint(&self) -> &'static str;
    /// The request that trades credentials for a token.
    fn authenticate_request(&self) -> HttpRequest;
    /// Every secret the authentication request puts on the wire (derived from the request
    /// itself, so nothing sent can be forgotten), to scrub vendor-supplied text of.
    fn secrets(&self) -> Vec<SecretString> {
        self.authenticate_request().sensitive_values()
    }
    /// The request that trades a still-valid token for a new one, where the vendor has one.
    fn refresh_request(&self, _current: &Session) -> Option<HttpRequest> {
        None
    }
    /// Read a 2xx answer (to either request) into a session; `timing` anchors the vendor's
    /// times to our clock.
    fn parse_session(&self, body: &Map<String, Value>, timing: &Timing) -> Result<Session, Error>;

    /// Read any answer: a session on 2xx, else the error it stands for.
    fn parse_response(&self, res: &HttpResponse, timing: &Timing) -> Result<Session, Error> {
        if !res.is_success() {
            return Err(status_error(self, res, timing.vendor_now_ms()));
        }
        json_object(self.id(), &res.body)
            .and_then(|body| self.parse_session(&body, timing))
            .map_err(|e| e.with_status(res.status))
    }
}

/// The error a non-2xx answer stands for, with the vendor's own message (scrubbed) attached.
pub(crate) fn status_error<P: Provider + ?Sized>(p: &P, res: &HttpResponse, now_ms: u64) -> Error {
    let name = p.name();
    let status = res.status;
    let (vendor_message, vendor_code) = vendor_message(&res.body);
    let secrets = p.secrets();
    let secrets: Vec<&SecretString> = secrets.iter().collect();
    let vendor_message = vendor_message.map(|m| scrub(&m, &secrets));
    let vendor_code = vendor_code.map(|c| printable(&scrub(&c, &secrets)));
    let quoted = vendor_message
        .as_deref()
        .map(|m| format!(": \"{m}\""))
        .unwrap_or_default();
    let Some(code) = ErrorCode::from_status(status) else {
        let what = if (300..400).contains(&status) {
            format!("HTTP {status} redirect, which is not followed; check baseUrl")
        } else {
            format!("unexpected HTTP status {status}")
        };
        return Error::invalid_response(p.id(), what).with_status(status);
    };
    let retry_after_ms = res
        .header("retry-after")
        .and_then(|v| parse_retry_after_ms(v, now_ms));
    let message = match code {
        ErrorCode::Unauthorized => format!(
            "{name} refused the credentials (HTTP 401{quoted}). {}",
            p.credentials_hint()
        ),
        ErrorCode::Forbidden => format!(
            "{name} answered HTTP 403 Forbidden{quoted}: the credentials are valid but not allowed to do this"
        ),
        ErrorCode::RateLimited => match retry_after_ms {
            Some(ms) => format!(
                "{name} is rate limiting token requests (HTTP 429{quoted}); it asks to retry after {} s",
                ms.div_ceil(1000)
            ),
            None => format!("{name} is rate limiting token requests (HTTP 429{quoted}); retry later with backoff"),
        },
        ErrorCode::ServerError => format!(
            "{name} failed with a server error (HTTP {status}{quoted}); the problem is on the vendor's side"
        ),
        _ if status == 400 => format!(
            "{name} rejected the token request as invalid (HTTP 400{quoted}). {}",
            p.credentials_hint()
        ),
        _ => format!(
            "{name} answered HTTP {status}{quoted} at {}; check baseUrl and environment",
            p.base_url()
        ),
    };
    Error::new(code, message)
        .with_provider(p.id())
        .with_status(status)
        .with_vendor(vendor_message, vendor_code)
        // 429, and a 503 that says when to come back: both are remembered until then.
        .with_retry_after_ms(if code == ErrorCode::RateLimited || status == 503 {
            retry_after_ms
        } else {
            None
        })
}

/// The vendor's message and code from an error body of any of the shapes seen in the docs:
/// `{error:{message,code}}`, `{message}`, `{error:"…"}`, or short plain text.
fn vendor_message(body: &[u8]) -> (Option<String>, Option<String>) {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(obj)) => {
            let error = obj.get("error");
            let message = error
                .and_then(|e| e.get("message"))
                .or(obj.get("message"))
                .or(error.filter(|e| e.is_string()))
                .and_then(Value::as_str)
                .map(str::to_owned);
            let code = error
                .and_then(|e| e.get("code"))
                .or(obj.get("code"))
                .and_then(Value::as_str)
                .map(str::to_owned);
            (message, code)
        }
        Ok(_) => (None, None),
        // Not shortened here: `scrub` must see whole credentials before anything is cut.
        Err(_) if !text.is_empty() && !text.starts_with('<') => (Some(text.to_owned()), None),
        Err(_) => (None, None),
    }
}

/// The body as a JSON object, or `INVALID_RESPONSE` saying what it was instead.
pub(crate) fn json_object(id: &'static str, body: &[u8]) -> Result<Map<String, Value>, Error> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(obj)) => Ok(obj),
        Ok(other) => Err(Error::invalid_response(
            id,
            format!("the body is JSON {}, not an object", json_type(&other)),
        )),
        Err(_) if body.is_empty() => Err(Error::invalid_response(id, "the body is empty")),
        Err(e) => Err(Error::invalid_response(
            id,
            format!("the body is not JSON ({} bytes; {e})", body.len()),
        )),
    }
}

pub(crate) fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `obj[field]` as a token: a non-empty string that can travel in an HTTP header.
pub(crate) fn token_field(
    id: &'static str,
    obj: &Map<String, Value>,
    field: &str,
) -> Result<SecretString, Error> {
    const MAX_TOKEN_BYTES: usize = 16 * 1024;
    match obj.get(field) {
        None | Some(Value::Null) => {
            Err(Error::invalid_response(id, format!("'{field}' is missing")))
        }
        Some(Value::String(s)) if s.is_empty() => {
            Err(Error::invalid_response(id, format!("'{field}' is empty")))
        }
        Some(Value::String(s)) if s.len() > MAX_TOKEN_BYTES => Err(Error::invalid_response(
            id,
            format!("'{field}' is {} bytes long", s.len()),
        )),
        // Visible ASCII only: anything else could not be sent back as a header value (and a CR/LF
        // would be a header injection).
        Some(Value::String(s)) if !s.bytes().all(|b| b.is_ascii_graphic()) => {
            Err(Error::invalid_response(
                id,
                format!("'{field}' has characters not allowed in an HTTP header"),
            ))
        }
        Some(Value::String(s)) => Ok(s.clone().into()),
        Some(other) => Err(Error::invalid_response(
            id,
            format!("'{field}' is {}, not a string", json_type(other)),
        )),
    }
}

/// `obj[field]` as an optional string (absent or null → `None`; any other type is an error).
pub(crate) fn optional_string(
    id: &'static str,
    obj: &Map<String, Value>,
    field: &str,
) -> Result<Option<String>, Error> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) if field == "vendorId" => Ok(Some(n.to_string())),
        Some(other) => Err(Error::invalid_response(
            id,
            format!("'{field}' is {}, not a string", json_type(other)),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_finds_known_vendors_and_lists_them_otherwise() {
        assert_eq!(find("vendy").unwrap().id, "vendy");
        assert_eq!(find("puppetvendors").unwrap().id, "puppetvendors");
        let e = find("Vendy").unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidOptions);
        assert!(
            e.message().contains("'vendy', 'puppetvendors'")
                && e.message().contains("did you mean 'vendy'?")
                && !e.message().contains("'Vendy'"),
            "{}",
            e.message()
        );
        let e = find("acme-corp-password").unwrap_err();
        assert!(!e.message().contains("acme"), "{}", e.message());
        assert!(e.message().contains("18 characters"), "{}", e.message());
    }

    #[test]
    fn header_values_must_be_printable_ascii() {
        assert!(header_safe(&"AK-123_x".into(), "accessKey", "AccessKey").is_ok());
        for (bad, why) in [
            ("sk-\u{e9}t\u{e9}", "non-ASCII"),
            ("sk-1\n", "control character"),
            ("sk 1", "a space"),
        ] {
            let e = header_safe(&bad.into(), "secretKey", "SecretKey").unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidOptions);
            assert!(e.message().contains(why), "{}", e.message());
            assert!(
                e.message().contains("SecretKey HTTP header"),
                "{}",
                e.message()
            );
        }
    }

    #[test]
    fn vendor_messages_are_read_from_every_documented_shape() {
        let pv =
            br#"{"success":false,"error":{"message":"Invalid API key","code":"UNAUTHORIZED"}}"#;
        assert_eq!(
            vendor_message(pv),
            (Some("Invalid API key".into()), Some("UNAUTHORIZED".into()))
        );
        assert_eq!(
            vendor_message(br#"{"message":"data invalid"}"#)
                .0
                .as_deref(),
            Some("data invalid")
        );
        assert_eq!(
            vendor_message(br#"{"error":"nope"}"#).0.as_deref(),
            Some("nope")
        );
        assert_eq!(
            vendor_message(b"incorrect password").0.as_deref(),
            Some("incorrect password")
        );
        assert_eq!(vendor_message(b"<html>502</html>"), (None, None));
        assert_eq!(vendor_message(b"[1]"), (None, None));
    }

    #[test]
    fn token_fields_must_be_header_safe_strings() {
        let obj = |v: Value| {
            serde_json::json!({ "token": v })
                .as_object()
                .unwrap()
                .clone()
        };
        assert!(token_field("x", &obj("abc.def".into()), "token").is_ok());
        for (bad, why) in [
            (Value::Null, "missing"),
            ("".into(), "empty"),
            (42.into(), "a number, not a string"),
            ("a\r\nX-Injected: 1".into(), "characters not allowed"),
        ] {
            let e = token_field("x", &obj(bad), "token").unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidResponse);
            assert!(e.message().contains(why), "{}", e.message());
        }
    }
}
