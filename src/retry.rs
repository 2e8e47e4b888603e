//! When to try again, and after how long. Pure arithmetic: callers supply the clock and the
//! randomness (`jitter` in `[0, 1)`).

use crate::expiry::parse_http_date_ms;
use crate::Error;

/// Retry settings for one exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (so `max_retries + 1` attempts at most).
    pub max_retries: u32,
    /// First backoff ceiling; doubles per retry ("full jitter": a uniform wait below the ceiling).
    pub base_delay_ms: u64,
    /// Largest backoff ceiling.
    pub max_backoff_ms: u64,
    /// Longest `Retry-After` the library will wait out; a longer one fails with `RATE_LIMITED`.
    pub max_retry_delay_ms: u64,
}

impl RetryPolicy {
    pub const DEFAULT_MAX_RETRIES: u32 = 2;
    pub const DEFAULT_MAX_RETRY_DELAY_MS: u64 = 30_000;

    pub const fn new(max_retries: u32, max_retry_delay_ms: u64) -> Self {
        Self {
            max_retries,
            base_delay_ms: 250,
            max_backoff_ms: 8_000,
            max_retry_delay_ms,
        }
    }

    /// No retries (one attempt).
    pub const fn once(self) -> Self {
        Self {
            max_retries: 0,
            ..self
        }
    }

    /// The full-jitter backoff before retry number `retry` (0-based).
    pub fn backoff_ms(&self, retry: u32, jitter: f64) -> u64 {
        let ceiling = self
            .base_delay_ms
            .saturating_mul(1u64 << retry.min(20))
            .min(self.max_backoff_ms);
        (ceiling as f64 * jitter.clamp(0.0, 1.0)) as u64
    }

    /// How long to wait before retrying after `error` on retry number `retry` (0-based), or the
    /// final error to give up with.
    pub fn decide(&self, retry: u32, error: Error, jitter: f64) -> Result<u64, Error> {
        if !error.is_retryable() {
            return Err(error);
        }
        if let Some(wait) = error.retry_after_ms() {
            if wait > self.max_retry_delay_ms {
                let message = format!(
                    "{} (the vendor asked to wait {} s, more than maxRetryDelayMs = {} ms)",
                    error.message(),
                    wait.div_ceil(1000),
                    self.max_retry_delay_ms
                );
                return Err(error.with_message(message));
            }
        }
        if retry >= self.max_retries {
            if self.max_retries == 0 {
                return Err(error);
            }
            let message = format!("{} (gave up after {} retries)", error.message(), retry);
            return Err(error.with_message(message));
        }
        let backoff = self.backoff_ms(retry, jitter);
        // The vendor's own Retry-After wins over our guess.
        Ok(error.retry_after_ms().unwrap_or(backoff))
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self::new(Self::DEFAULT_MAX_RETRIES, Self::DEFAULT_MAX_RETRY_DELAY_MS)
    }
}

/// A `Retry-After` value (delay-seconds or an HTTP-date) as a wait in milliseconds from `now_ms`.
/// Delay-seconds too large for any integer type mean "the longest wait" ([`MAX_RETRY_AFTER_MS`]),
/// never "no wait given".
pub fn parse_retry_after_ms(value: &str, now_ms: u64) -> Option<u64> {
    let value = value.trim();
    let wait = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        value
            .parse::<u64>()
            .map_or(u64::MAX, |seconds| seconds.saturating_mul(1000))
    } else {
        parse_http_date_ms(value)?.saturating_sub(now_ms)
    };
    // The longest wait: a client remembers it, and callers may hand it to `setTimeout`.
    Some(wait.min(MAX_RETRY_AFTER_MS))
}

/// The longest `Retry-After` taken from a vendor (a day): larger values, up to ones that overflow
/// 64 bits, mean "the longest wait", not "no wait given".
pub const MAX_RETRY_AFTER_MS: u64 = 24 * 60 * 60 * 1000;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    fn err(code: ErrorCode, status: u16) -> Error {
        Error::new(code, "boom").with_status(status)
    }

    #[test]
    fn backoff_grows_exponentially_with_full_jitter() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff_ms(0, 0.999_999), 249);
        assert_eq!(p.backoff_ms(1, 0.5), 250);
        assert_eq!(p.backoff_ms(3, 1.0), 2000);
        assert_eq!(p.backoff_ms(30, 1.0), 8000);
        assert_eq!(p.backoff_ms(2, 0.0), 0);
    }

    #[test]
    fn never_retries_client_errors() {
        let p = RetryPolicy::default();
        for (code, status) in [
            (ErrorCode::BadRequest, 400),
            (ErrorCode::Unauthorized, 401),
            (ErrorCode::Forbidden, 403),
        ] {
            assert_eq!(
                p.decide(0, err(code, status), 0.5).unwrap_err().code(),
                code
            );
        }
    }

    #[test]
    fn retries_transient_failures_until_the_budget_is_spent() {
        let p = RetryPolicy::new(2, 30_000);
        assert!(p.decide(0, err(ErrorCode::ServerError, 503), 0.5).is_ok());
        assert!(p.decide(1, err(ErrorCode::ServerError, 500), 0.5).is_ok());
        let last = p
            .decide(2, err(ErrorCode::ServerError, 500), 0.5)
            .unwrap_err();
        assert!(
            last.message().contains("gave up after 2 retries"),
            "{}",
            last.message()
        );
        assert!(p.once().decide(0, err(ErrorCode::Timeout, 0), 0.5).is_err());
    }

    #[test]
    fn honours_retry_after_within_the_cap_and_fails_beyond_it() {
        let p = RetryPolicy::new(2, 30_000);
        let limited = |ms| err(ErrorCode::RateLimited, 429).with_retry_after_ms(Some(ms));
        assert_eq!(p.decide(0, limited(2000), 0.1).unwrap(), 2000);
        let too_long = p.decide(0, limited(120_000), 0.1).unwrap_err();
        assert_eq!(too_long.code(), ErrorCode::RateLimited);
        assert_eq!(too_long.retry_after_ms(), Some(120_000));
        assert!(too_long.message().contains("maxRetryDelayMs"));
    }

    #[test]
    fn parses_both_retry_after_forms() {
        let now = 1_688_682_941_000; // 10 s before the date below
        assert_eq!(parse_retry_after_ms("7", now), Some(7000));
        assert_eq!(
            parse_retry_after_ms("Thu, 06 Jul 2023 22:35:51 GMT", now),
            Some(10_000)
        );
        assert_eq!(
            parse_retry_after_ms("Thu, 06 Jul 2000 22:35:51 GMT", now),
            Some(0)
        );
        assert_eq!(parse_retry_after_ms("soon", now), None);
    }

    #[test]
    fn an_overflowing_retry_after_is_the_longest_wait() {
        // Regression: 2^64 failed to parse as u64 and was ignored (a 249 ms backoff followed).
        for huge in [
            "18446744073709551616",
            "99999999999999999999999999",
            "18446744073709552",
        ] {
            assert_eq!(
                parse_retry_after_ms(huge, 0),
                Some(MAX_RETRY_AFTER_MS),
                "{huge}"
            );
        }
        let p = RetryPolicy::default();
        let limited = err(ErrorCode::RateLimited, 429)
            .with_retry_after_ms(parse_retry_after_ms("18446744073709551616", 0));
        let e = p.decide(0, limited, 0.99).unwrap_err();
        assert_eq!(e.code(), ErrorCode::RateLimited);
        assert!(e.message().contains("maxRetryDelayMs"), "{}", e.message());
    }
}
