//! Request and response *descriptions*: what the core asks a transport to send and what the
//! transport hands back. No sockets here.

use crate::{Error, ErrorCode};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
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
    /// The credential values inside `body` (see [`HttpRequest::secret_in_body`]).
    body_secrets: Vec<SecretString>,
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
            body_secrets: Vec::new(),
        }
    }

    pub fn header(mut self, header: Header) -> Self {
        self.headers.push(header);
        self
    }

    /// Declare a credential that the body carries (a JSON field's value), so that a vendor's
    /// echo of it is scrubbed like the sensitive headers.
    pub fn secret_in_body(mut self, value: SecretString) -> Self {
        self.body_secrets.push(value);
        self
    }

    /// Every secret value this request puts on the wire, for scrubbing what comes back: each
    /// sensitive header's value; for `<scheme> <credentials>` values the credentials alone; for
    /// HTTP Basic also the decoded `user:password` and its two halves; and the body's declared
    /// credentials. (`scrub` adds their base64 and percent-encoded forms.)
    pub fn sensitive_values(&self) -> Vec<SecretString> {
        let mut out: Vec<SecretString> = Vec::new();
        for header in self.headers.iter().filter(|h| h.is_sensitive()) {
            let value = header.value();
            out.push(value.into());
            let Some((scheme, credentials)) = value.split_once(' ') else {
                continue;
            };
            out.push(credentials.into());
            if !scheme.eq_ignore_ascii_case("basic") {
                continue;
            }
            let decoded = STANDARD
                .decode(credentials.trim())
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok());
            if let Some(pair) = decoded {
                if let Some((user, password)) = pair.split_once(':') {
                    out.extend([user.into(), password.into()]);
                }
                out.push(pair.into());
            }
        }
        out.extend(self.body_secrets.iter().cloned());
        out
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
                "the value for the {} header has characters not allowed in HTTP headers (a control character such as a newline, or a non-ASCII character)",
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
    /// The server refused HTTP/1.1 when negotiating the protocol (ALPN): an HTTP/2-only server.
    /// Retrying cannot help.
    NoHttp1,
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
            Self::NoHttp1 => Error::new(
                ErrorCode::Network,
                format!(
                    "TLS with {host} failed: {detail}. The server speaks only HTTP/2 (it refused HTTP/1.1 when negotiating the protocol, ALPN), and vendor-auth talks HTTP/1.1: check baseUrl (retrying cannot help)"
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

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
    fn sensitive_values_cover_headers_basic_pairs_and_body_fields() {
        let basic = format!("Basic {}", STANDARD.encode("user@example.com:pa:ss"));
        let req = HttpRequest::post_json(
            Url::parse("https://example.test/auth").unwrap(),
            b"{\"apiKey\":\"vk_test_BODY\"}".to_vec(),
        )
        .header(Header::Plain("accept", "application/json".into()))
        .header(Header::Sensitive("SecretKey", "SK-VALUE".into()))
        .header(Header::Sensitive("Authorization", basic.clone().into()))
        .secret_in_body("vk_test_BODY".into());
        let values: Vec<String> = req
            .sensitive_values()
            .iter()
            .map(|s| s.expose_secret().to_owned())
            .collect();
        for expected in [
            "SK-VALUE",
            basic.as_str(),
            &basic["Basic ".len()..],
            "user@example.com:pa:ss",
            "user@example.com",
            "pa:ss",
            "vk_test_BODY",
        ] {
            assert!(values.iter().any(|v| v == expected), "{expected} missing");
        }
        assert!(!values.iter().any(|v| v == "application/json"));
    }

    #[test]
    fn header_lookup_ignores_case() {
        let res = HttpResponse::new(429, "").with_header("Retry-After", "3");
        assert_eq!(res.header("retry-after"), Some("3"));
        assert_eq!(res.header("x-missing"), None);
        assert!(!res.is_success());
    }
}
