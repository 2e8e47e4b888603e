//! The error a vendor's non-2xx answer stands for: a stable code from the status, the vendor's
//! own message and code (scrubbed of every credential the request carried), and a message that
//! says what to do.

use crate::redact::{printable, scrub};
use crate::retry::parse_retry_after_ms;
use crate::{Error, ErrorCode, HttpResponse};
use secrecy::SecretString;
use serde_json::Value;
use url::Url;

/// Who asked: what a message about a refused request needs to know of the vendor.
pub(crate) struct Asker<'a> {
    pub id: &'static str,
    pub name: &'static str,
    /// What to tell a person whose credentials were refused.
    pub hint: &'a str,
    pub base_url: &'a Url,
    /// Every secret the request put on the wire.
    pub secrets: &'a [SecretString],
}

/// The error a non-2xx answer stands for, with the vendor's own message (scrubbed) attached.
pub(crate) fn status_error(asker: &Asker<'_>, res: &HttpResponse, now_ms: u64) -> Error {
    let name = asker.name;
    let status = res.status;
    let (vendor_message, vendor_code) = vendor_message(&res.body);
    let secrets: Vec<&SecretString> = asker.secrets.iter().collect();
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
        return Error::invalid_response(asker.id, what).with_status(status);
    };
    let retry_after_ms = res
        .header("retry-after")
        .and_then(|v| parse_retry_after_ms(v, now_ms));
    let message = match code {
        ErrorCode::Unauthorized => format!(
            "{name} refused the credentials (HTTP 401{quoted}). {}",
            asker.hint
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
            asker.hint
        ),
        _ => format!(
            "{name} answered HTTP {status}{quoted} at {}; check baseUrl and environment",
            asker.base_url
        ),
    };
    Error::new(code, message)
        .with_provider(asker.id)
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
    // From bytes, as all JSON in the core (one serde_json reader type in the .wasm).
    match serde_json::from_slice::<Value>(text.as_bytes()) {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
