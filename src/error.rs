//! The one error type of the core. Every failure carries a stable [`ErrorCode`] that the binding
//! turns into the JS error's `code`; messages say what to do and never hold a secret.

use std::fmt;

/// Stable, machine-readable failure kinds. `as_str()` is the JS `code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// Options are missing, malformed or unknown (checked before any I/O).
    InvalidOptions,
    /// A base URL that is not `https:`.
    InsecureUrl,
    /// The vendor answered 400 (or another 4xx without a more precise code).
    BadRequest,
    /// 401: wrong, revoked or expired credentials. Never retried.
    Unauthorized,
    /// 403: the credentials are valid but not allowed this.
    Forbidden,
    /// 429: too many requests; `retry_after_ms` says how long the vendor asked to wait.
    RateLimited,
    /// 5xx from the vendor.
    ServerError,
    /// Connection, DNS or TLS failure (including an untrusted certificate).
    Network,
    /// An attempt took longer than `timeoutMs`.
    Timeout,
    /// The vendor's answer could not be used (not JSON, no token, bad expiry, too large).
    InvalidResponse,
    /// Loaded where keys would reach a browser.
    ServerOnly,
    /// The client was closed.
    Closed,
    /// The shared token store failed or did not answer in time (reported as an event, never a
    /// failed call: the client exchanges on its own meanwhile).
    StoreUnavailable,
    /// A bug in vendor-auth (a panic caught at the boundary): the call failed, the process and
    /// the client go on.
    Internal,
}

impl ErrorCode {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidOptions => "INVALID_OPTIONS",
            Self::InsecureUrl => "INSECURE_URL",
            Self::BadRequest => "BAD_REQUEST",
            Self::Unauthorized => "UNAUTHORIZED",
            Self::Forbidden => "FORBIDDEN",
            Self::RateLimited => "RATE_LIMITED",
            Self::ServerError => "SERVER_ERROR",
            Self::Network => "NETWORK",
            Self::Timeout => "TIMEOUT",
            Self::InvalidResponse => "INVALID_RESPONSE",
            Self::ServerOnly => "SERVER_ONLY",
            Self::Closed => "CLOSED",
            Self::StoreUnavailable => "STORE_UNAVAILABLE",
            Self::Internal => "INTERNAL",
        }
    }

    /// The code an HTTP error status maps to (`None` for statuses that are not errors).
    pub const fn from_status(status: u16) -> Option<Self> {
        match status {
            401 => Some(Self::Unauthorized),
            403 => Some(Self::Forbidden),
            429 => Some(Self::RateLimited),
            400..=499 => Some(Self::BadRequest),
            500..=599 => Some(Self::ServerError),
            _ => None,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failure of an exchange or of option checking.
///
/// Built only from non-secret parts: codes, statuses, provider ids and vendor messages that have
/// been passed through [`crate::scrub`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    code: ErrorCode,
    message: String,
    status: Option<u16>,
    provider: Option<&'static str>,
    vendor_message: Option<String>,
    vendor_code: Option<String>,
    retry_after_ms: Option<u64>,
    /// Set for failures of a retryable kind that trying again cannot fix (an untrusted
    /// certificate is a `NETWORK` error, but the same certificate comes back every time).
    permanent: bool,
    /// An `INVALID_OPTIONS` whose only fault is a credential that is not there (yet): a client
    /// reports it at first use, not at construction.
    missing_credentials: bool,
    /// For `INVALID_RESPONSE`: where in the message what was wrong with the answer starts,
    /// after the framing (so that another framing, e.g. for `initialSession`, needs no message
    /// surgery). An offset rather than a copy: errors travel in `Result`s and stay small.
    problem_at: Option<u32>,
}

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            status: None,
            provider: None,
            vendor_message: None,
            vendor_code: None,
            retry_after_ms: None,
            permanent: false,
            missing_credentials: false,
            problem_at: None,
        }
    }

    pub fn invalid_options(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidOptions, message)
    }

    /// `INVALID_OPTIONS` for a credential given neither as an option nor in the environment.
    pub fn missing_credentials(message: impl Into<String>) -> Self {
        Self {
            missing_credentials: true,
            ..Self::invalid_options(message)
        }
    }

    /// Whether this is only a missing credential (see [`Error::missing_credentials`]).
    pub fn is_missing_credentials(&self) -> bool {
        self.missing_credentials
    }

    pub fn invalid_response(provider: &'static str, what: impl fmt::Display) -> Self {
        let framing = format!("{provider} sent an unusable token response: ");
        Self {
            problem_at: u32::try_from(framing.len()).ok(),
            ..Self::new(ErrorCode::InvalidResponse, format!("{framing}{what}"))
        }
        .with_provider(provider)
    }

    /// What was wrong with a vendor's answer (`INVALID_RESPONSE` only), unframed.
    pub fn problem(&self) -> Option<&str> {
        self.message.get(self.problem_at? as usize..)
    }

    /// The client was closed (in-flight and later exchanges end with this).
    pub fn closed(provider: &'static str) -> Self {
        Self::new(
            ErrorCode::Closed,
            "the client was closed; create a new one to get tokens again",
        )
        .with_provider(provider)
    }

    /// A panic caught at the binding's boundary, in `call` (a bug: the message says so, and
    /// what to report). `detail` is the panic's message, which never holds a secret (the core
    /// never formats one).
    pub fn internal(call: &str, detail: &str) -> Self {
        Self::new(
            ErrorCode::Internal,
            format!(
                "vendor-auth hit an internal error (a bug) in {call}(): {detail}. The call failed and the process goes on; please report this message with the vendor-auth version and the Node version"
            ),
        )
    }

    /// A whole exchange ran past `exchangeTimeoutMs`.
    pub fn exchange_timeout(provider: &'static str, budget_ms: u64) -> Self {
        Self::new(
            ErrorCode::Timeout,
            format!("no token within exchangeTimeoutMs = {budget_ms} ms (all attempts and waits; timeoutMs bounds each attempt)"),
        )
        .with_provider(provider)
    }

    pub fn with_provider(mut self, provider: &'static str) -> Self {
        self.provider = Some(provider);
        self
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    pub fn with_vendor(mut self, message: Option<String>, code: Option<String>) -> Self {
        self.vendor_message = message;
        self.vendor_code = code;
        self
    }

    pub fn with_retry_after_ms(mut self, ms: Option<u64>) -> Self {
        self.retry_after_ms = ms;
        self
    }

    /// Remove `secrets` from every text of the error (for secrets the producer did not know,
    /// such as the token sent to a refresh endpoint).
    pub fn scrubbed(mut self, secrets: &[&secrecy::SecretString]) -> Self {
        self.message = crate::scrub(&self.message, secrets);
        self.vendor_message = self.vendor_message.map(|m| crate::scrub(&m, secrets));
        self.vendor_code = self.vendor_code.map(|c| crate::scrub(&c, secrets));
        self
    }

    /// Mark as not worth retrying, whatever the code.
    pub fn permanent(mut self) -> Self {
        self.permanent = true;
        self
    }

    /// Replace the message, keeping every field (used to add context such as a give-up reason).
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into();
        self
    }

    pub fn code(&self) -> ErrorCode {
        self.code
    }
    pub fn message(&self) -> &str {
        &self.message
    }
    pub fn status(&self) -> Option<u16> {
        self.status
    }
    pub fn provider(&self) -> Option<&'static str> {
        self.provider
    }
    pub fn vendor_message(&self) -> Option<&str> {
        self.vendor_message.as_deref()
    }
    pub fn vendor_code(&self) -> Option<&str> {
        self.vendor_code.as_deref()
    }
    pub fn retry_after_ms(&self) -> Option<u64> {
        self.retry_after_ms
    }

    /// Whether trying the same request again may succeed: connection failures, timeouts, 429,
    /// and the 5xx statuses that mean "temporarily unavailable". 400/401/403 never are.
    pub fn is_retryable(&self) -> bool {
        if self.permanent {
            return false;
        }
        match self.code {
            ErrorCode::Network | ErrorCode::Timeout | ErrorCode::RateLimited => true,
            ErrorCode::ServerError => matches!(self.status, Some(500 | 502 | 503 | 504)),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invalid_response_keeps_its_problem_apart_from_its_framing() {
        let e = Error::invalid_response("vendy", "no token field");
        assert_eq!(
            e.message(),
            "vendy sent an unusable token response: no token field"
        );
        assert_eq!(e.problem(), Some("no token field"));
        assert_eq!(Error::invalid_options("x").problem(), None);
    }

    #[test]
    fn an_internal_error_says_it_is_a_bug_and_what_to_report() {
        let e = Error::internal("plan", "index out of bounds");
        assert_eq!(e.code().as_str(), "INTERNAL");
        assert!(e
            .message()
            .contains("internal error (a bug) in plan(): index out of bounds"));
        assert!(e.message().contains("please report"));
    }

    #[test]
    fn statuses_map_to_stable_codes() {
        assert_eq!(ErrorCode::from_status(400), Some(ErrorCode::BadRequest));
        assert_eq!(ErrorCode::from_status(401), Some(ErrorCode::Unauthorized));
        assert_eq!(ErrorCode::from_status(403), Some(ErrorCode::Forbidden));
        assert_eq!(ErrorCode::from_status(404), Some(ErrorCode::BadRequest));
        assert_eq!(ErrorCode::from_status(429), Some(ErrorCode::RateLimited));
        assert_eq!(ErrorCode::from_status(503), Some(ErrorCode::ServerError));
        assert_eq!(ErrorCode::from_status(200), None);
        assert_eq!(ErrorCode::RateLimited.as_str(), "RATE_LIMITED");
    }

    #[test]
    fn only_transient_failures_are_retryable() {
        let e = |code, status| Error::new(code, "x").with_status(status);
        assert!(e(ErrorCode::RateLimited, 429).is_retryable());
        assert!(e(ErrorCode::ServerError, 500).is_retryable());
        assert!(e(ErrorCode::ServerError, 503).is_retryable());
        assert!(!e(ErrorCode::ServerError, 501).is_retryable());
        assert!(!e(ErrorCode::Unauthorized, 401).is_retryable());
        assert!(!e(ErrorCode::BadRequest, 400).is_retryable());
        assert!(!e(ErrorCode::Forbidden, 403).is_retryable());
        assert!(Error::new(ErrorCode::Timeout, "t").is_retryable());
        assert!(Error::new(ErrorCode::Network, "n").is_retryable());
        assert!(!Error::new(ErrorCode::InvalidResponse, "i").is_retryable());
        assert!(!Error::new(ErrorCode::Network, "bad certificate")
            .permanent()
            .is_retryable());
    }
}
