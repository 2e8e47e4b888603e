//! Request and response *descriptions*: what the core asks a transport to send and what the
//! transport hands back. No sockets here.

use crate::{Error, ErrorCode};
use secrecy::{ExposeSecret, SecretSlice, SecretString};
use std::fmt;
use url::Url;

/// Largest response body the core will look at. Token answers are a few hundred bytes; a
/// transport stops reading past this and reports `INVALID_RESPONSE` instead of buffering more.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The answer headers the core reads (`Date` for the vendor clock, `Retry-After`, and
/// `Content-Length` for the body cap): a transport that must copy headers across a boundary (the
/// wasm build) copies only these.
pub const ANSWER_HEADERS: &[&str] = &["date", "retry-after", "content-length"];

/// One request header. Credential-bearing values are [`Header::Sensitive`]: transports must mark
/// them sensitive (so HTTP/2 HPACK never indexes them) and `Debug` prints them redacted.
pub enum Header {
    Plain(&'static str, String),
    Sensitive(&'static str, SecretString),
}

impl Header {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Plain(name, _) | Self::Sensitive(name, _) => name,
        }
    }

    pub fn value(&self) -> &str {
        match self {
            Self::Plain(_, value) => value,
            Self::Sensitive(_, value) => value.expose_secret(),
        }
    }

    pub fn is_sensitive(&self) -> bool {
        matches!(self, Self::Sensitive(..))
    }
}

impl fmt::Debug for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Plain(name, value) => write!(f, "{name}: {value}"),
            Self::Sensitive(name, _) => write!(f, "{name}: [redacted]"),
        }
    }
}

/// A `POST` to an auth endpoint. The body may carry credentials (PuppetVendors' `apiKey`), so it
/// is a secret too.
#[derive(Debug)]
pub struct HttpRequest {
    pub url: Url,
    pub headers: Vec<Header>,
    pub body: SecretSlice<u8>,
}

impl HttpRequest {
    pub fn post_json(url: Url, body: Vec<u8>) -> Self {
        Self {
            url,
            headers: vec![
                Header::Plain("content-type", "application/json".into()),
                Header::Plain("accept", "application/json".into()),
            ],
            body: body.into(),
        }
    }

    pub fn header(mut self, header: Header) -> Self {
        self.headers.push(header);
        self
    }

    pub fn method(&self) -> &'static str {
        "POST"
    }

    /// Refuse header values that HTTP cannot carry (a credential option with a stray newline or
    /// non-ASCII character): `INVALID_OPTIONS` naming the header, never its value. Every
    /// transport checks this before sending, so none sends a header it would have to mangle.
    pub fn check_headers(&self) -> Result<(), Error> {
        // Visible ASCII, space and tab: what `http::HeaderValue::from_str` (reqwest) accepts.
        let allowed = |b: u8| b == b'\t' || (b' '..=b'~').contains(&b);
        match self.headers.iter().find(|h| !h.value().bytes().all(allowed)) {
            None => Ok(()),
            Some(header) => Err(Error::invalid_options(format!(
                "the value for the {} header has characters not allowed in HTTP headers (check the credential options for stray newlines or non-ASCII characters)",
                header.name()
            ))),
        }
    }
}

/// What came back: status, headers (names lower-cased by the transport or not; lookups ignore
/// case) and at most [`MAX_BODY_BYTES`] of body.
#[derive(Debug, Clone, Default)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// First header of that name, ignoring ASCII case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Why a request got no answer, as a transport classifies its failure. The messages are the
/// core's, so every transport (reqwest, `fetch`, `node:https`) reports a failure the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportFailure {
    /// No complete answer within `timeoutMs`.
    Timeout,
    /// The connection could not be made (refused, DNS, unreachable).
    Connect,
    /// The server's certificate is not trusted: retrying cannot help.
    Untrusted,
    /// Anything else (reset, closed mid-answer, protocol error).
    Other,
}

impl TransportFailure {
    /// The error for a failed request to `host` (see [`host_of`]). `detail` is the transport's
    /// own description (never a credential: transports do not echo headers or bodies).
    pub fn error(self, host: &str, detail: &str, timeout_ms: u64, provider: &'static str) -> Error {
        let error = match self {
            Self::Timeout => Error::new(
                ErrorCode::Timeout,
                format!("no complete answer from {host} within timeoutMs = {timeout_ms} ms"),
            ),
            Self::Untrusted => Error::new(
                ErrorCode::Network,
                format!(
                    "TLS with {host} failed: {detail}. The server's certificate is not trusted; if it uses a private CA, pass that CA as caCert (verification cannot be turned off)"
                ),
            )
            .permanent(),
            Self::Connect => Error::new(
                ErrorCode::Network,
                format!("could not connect to {host}: {detail}"),
            ),
            Self::Other => Error::new(
                ErrorCode::Network,
                format!("the connection to {host} failed: {detail}"),
            ),
        };
        error.with_provider(provider)
    }
}

/// `host:port` of a URL, for messages.
pub fn host_of(url: &Url) -> String {
    format!(
        "{}:{}",
        url.host_str().unwrap_or("?"),
        url.port_or_known_default().unwrap_or(443)
    )
}

/// A success answer larger than [`MAX_BODY_BYTES`] cannot be a token answer.
pub fn body_too_large(provider: &'static str, status: u16) -> Error {
    Error::invalid_response(
        provider,
        format!("the body is larger than {} KiB", MAX_BODY_BYTES / 1024),
    )
    .with_status(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_sensitive_headers_and_body() {
        let req = HttpRequest::post_json(
            Url::parse("https://example.test/auth").unwrap(),
            b"{\"apiKey\":\"vk_test_SECRETVALUE\"}".to_vec(),
        )
        .header(Header::Sensitive("secretkey", "SECRETVALUE".into()));
        let printed = format!("{req:?}");
        assert!(!printed.contains("SECRETVALUE"), "{printed}");
        assert!(printed.contains("secretkey: [redacted]"), "{printed}");
        assert!(printed.contains("content-type: application/json"));
    }

    #[test]
    fn header_values_http_cannot_carry_are_refused_by_name_only() {
        let url = Url::parse("https://example.test/auth").unwrap();
        let ok = HttpRequest::post_json(url.clone(), b"{}".to_vec())
            .header(Header::Sensitive("secretkey", "sk\tSECRET value~".into()));
        assert!(ok.check_headers().is_ok());
        for bad in ["sk\r\nX-Evil: 1", "sk-\u{e9}", "sk\u{7f}"] {
            let req = HttpRequest::post_json(url.clone(), b"{}".to_vec())
                .header(Header::Sensitive("secretkey", bad.into()));
            let e = req.check_headers().unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidOptions);
            assert!(e.message().contains("secretkey header"), "{e}");
            assert!(!e.message().contains("sk"), "{e}");
        }
    }

    #[test]
    fn header_lookup_ignores_case() {
        let res = HttpResponse::new(429, "").with_header("Retry-After", "3");
        assert_eq!(res.header("retry-after"), Some("3"));
        assert_eq!(res.header("x-missing"), None);
        assert!(!res.is_success());
    }
}
