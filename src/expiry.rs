//! When a token stops being valid. Vendors state it in different ways (an HTTP-date, seconds from
//! now) and the JWT carries its own `exp`; the earlier one wins. Absolute times come from the
//! vendor's clock and are anchored to ours through the answer's `Date` header ([`Timing`]). No
//! clock is read here: callers pass when the request went out and the answer arrived.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use std::time::{Duration, UNIX_EPOCH};

/// Longest lifetime accepted from a vendor. Vendy documents 7 days (its sample shows 14);
/// anything past a year is a broken answer, not a token to cache.
pub const MAX_TOKEN_LIFETIME_MS: u64 = 366 * 24 * 60 * 60 * 1000;

/// Vendor and local clocks that differ by less than this are taken to agree: `Date` has a
/// resolution of one second, so a smaller difference is noise, not skew.
const CLOCK_SKEW_NOISE_MS: i64 = 2_000;

/// When one answer was exchanged, on our clock, and how far the vendor's clock is from ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// When the request was sent (ms since the epoch, our clock).
    pub sent_at_ms: u64,
    /// When the answer arrived (ms since the epoch, our clock; `sent_at_ms` plus a monotonic
    /// duration).
    pub received_at_ms: u64,
    /// The vendor's clock minus ours (from the answer's `Date` header; 0 without one).
    pub vendor_offset_ms: i64,
}

impl Timing {
    /// Sent and received at the same instant, with no vendor clock (tests, and answers that
    /// carry no `Date`).
    pub const fn at(now_ms: u64) -> Self {
        Self {
            sent_at_ms: now_ms,
            received_at_ms: now_ms,
            vendor_offset_ms: 0,
        }
    }

    /// The timing of an answer whose `Date` header (if any) gives the vendor's clock.
    pub fn of_answer(sent_at_ms: u64, received_at_ms: u64, date_header: Option<&str>) -> Self {
        let offset = date_header
            .and_then(parse_http_date_ms)
            .map(|vendor_now| {
                // `Date` is truncated to the second: the vendor's "now" was within it.
                (vendor_now as i64 + 500).saturating_sub(received_at_ms as i64)
            })
            .filter(|offset| offset.abs() >= CLOCK_SKEW_NOISE_MS)
            .unwrap_or(0);
        Self {
            sent_at_ms,
            received_at_ms: received_at_ms.max(sent_at_ms),
            vendor_offset_ms: offset,
        }
    }

    /// A time on the vendor's clock, on ours.
    pub fn to_local(&self, vendor_ms: u64) -> u64 {
        (vendor_ms as i64)
            .saturating_sub(self.vendor_offset_ms)
            .max(0) as u64
    }

    /// The vendor's clock when the answer arrived (for `Retry-After` dates).
    pub fn vendor_now_ms(&self) -> u64 {
        (self.received_at_ms as i64)
            .saturating_add(self.vendor_offset_ms)
            .max(0) as u64
    }
}

/// Parse an RFC 7231 HTTP-date (`Thu, 06 Jul 2023 22:35:51 GMT`, and the obsolete forms) into
/// milliseconds since the epoch.
pub fn parse_http_date_ms(value: &str) -> Option<u64> {
    let time = httpdate::parse_http_date(value.trim()).ok()?;
    let since = time.duration_since(UNIX_EPOCH).ok()?;
    u64::try_from(since.as_millis()).ok()
}

/// Format milliseconds since the epoch as an HTTP-date (for messages and debug logs). Dates past
/// year 9999 cannot be HTTP-dates (and `httpdate` panics on them): those print as raw ms.
pub fn format_http_date(ms: u64) -> String {
    const LAST_HTTP_DATE_MS: u64 = 253_402_300_799_000; // 9999-12-31T23:59:59Z
    if ms > LAST_HTTP_DATE_MS {
        return format!("{ms} ms after the epoch");
    }
    httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_millis(ms))
}

/// The `exp` claim of a JWT, in milliseconds, if the token is a JWT that has one. The signature
/// is not checked: this only reads the vendor's own statement of when the token dies.
pub fn jwt_exp_ms(token: &str) -> Option<u64> {
    let mut parts = token.split('.');
    let (_header, payload, _sig) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || payload.len() > 8 * 1024 {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let exp = claims.get("exp")?.as_f64()?;
    if !exp.is_finite() || exp <= 0.0 || exp > 1e13 {
        return None;
    }
    Some((exp * 1000.0) as u64)
}

/// The session's expiry on our clock: the earlier of what the vendor stated (`stated_ms`, already
/// on our clock) and the JWT's `exp` (on the vendor's clock), checked to be in the future and not
/// absurdly far from when the answer arrived.
pub fn resolve_expiry(
    provider: &'static str,
    stated_ms: u64,
    token: &str,
    timing: &Timing,
) -> Result<u64, crate::Error> {
    let received_at_ms = timing.received_at_ms;
    let expires_at = match jwt_exp_ms(token) {
        Some(exp) => stated_ms.min(timing.to_local(exp)),
        None => stated_ms,
    };
    if expires_at <= received_at_ms {
        return Err(crate::Error::invalid_response(
            provider,
            format!(
                "the token is already expired (expiry {}, answer received {})",
                format_http_date(expires_at),
                format_http_date(received_at_ms)
            ),
        ));
    }
    if expires_at - received_at_ms > MAX_TOKEN_LIFETIME_MS {
        return Err(crate::Error::invalid_response(
            provider,
            format!(
                "the stated expiry {} is more than a year away",
                format_http_date(expires_at)
            ),
        ));
    }
    Ok(expires_at)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::ErrorCode;

    /// An unsigned JWT-shaped token with the given `exp` (seconds).
    pub(crate) fn jwt_with_exp(exp: u64) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(format!(r#"{{"iat":1,"exp":{exp},"jti":"x"}}"#));
        format!("{header}.{payload}.c2ln")
    }

    #[test]
    fn parses_vendys_http_date() {
        // Vendy's documented sample answer.
        assert_eq!(
            parse_http_date_ms("Thu, 06 Jul 2023 22:35:51 GMT"),
            Some(1_688_682_951_000)
        );
        assert_eq!(parse_http_date_ms("not a date"), None);
        assert_eq!(
            format_http_date(1_688_682_951_000),
            "Thu, 06 Jul 2023 22:35:51 GMT"
        );
    }

    #[test]
    fn reads_jwt_exp_and_ignores_non_jwts() {
        assert_eq!(
            jwt_exp_ms(&jwt_with_exp(1_688_682_551)),
            Some(1_688_682_551_000)
        );
        assert_eq!(jwt_exp_ms("opaque-token"), None);
        assert_eq!(jwt_exp_ms("a.!!!.c"), None);
        assert_eq!(jwt_exp_ms("a.b.c.d"), None);
    }

    #[test]
    fn vendys_inconsistent_sample_uses_the_earlier_jwt_exp() {
        // Sample: exp = 2023-07-06 22:29:11 UTC, expiryTime 400 s later.
        let token = jwt_with_exp(1_688_682_551);
        let stated = parse_http_date_ms("Thu, 06 Jul 2023 22:35:51 GMT").unwrap();
        let received = 1_688_682_551_000 - 7 * 86_400_000;
        assert_eq!(
            resolve_expiry("vendy", stated, &token, &Timing::at(received)).unwrap(),
            1_688_682_551_000
        );
    }

    #[test]
    fn past_and_absurd_expiries_are_invalid_responses() {
        let now = 1_700_000_000_000;
        let at = Timing::at(now);
        let past = resolve_expiry("vendy", now - 1, "opaque", &at).unwrap_err();
        assert_eq!(past.code(), ErrorCode::InvalidResponse);
        assert!(
            past.message().contains("already expired"),
            "{}",
            past.message()
        );
        let far = resolve_expiry("vendy", now + 2 * MAX_TOKEN_LIFETIME_MS, "opaque", &at);
        assert_eq!(far.unwrap_err().code(), ErrorCode::InvalidResponse);
        assert_eq!(
            resolve_expiry("vendy", now + 1000, "opaque", &at),
            Ok(now + 1000)
        );
    }

    #[test]
    fn the_vendor_clock_is_read_from_date_and_small_differences_are_noise() {
        let received = 1_688_682_951_000; // Thu, 06 Jul 2023 22:35:51 GMT
        let ahead = Timing::of_answer(
            received - 50,
            received,
            Some("Thu, 06 Jul 2023 23:35:51 GMT"),
        );
        assert_eq!(ahead.vendor_offset_ms, 3_600_500);
        assert_eq!(ahead.to_local(received + 3_600_500), received);
        assert_eq!(ahead.vendor_now_ms(), received + 3_600_500);
        let behind = Timing::of_answer(received, received, Some("Thu, 06 Jul 2023 21:35:51 GMT"));
        assert_eq!(behind.to_local(received - 3_599_500), received);
        for date in [Some("Thu, 06 Jul 2023 22:35:52 GMT"), Some("garbage"), None] {
            assert_eq!(
                Timing::of_answer(received, received, date).vendor_offset_ms,
                0
            );
        }
    }

    #[test]
    fn a_jwt_exp_on_a_skewed_vendor_clock_is_anchored_to_ours() {
        // The vendor's clock is an hour ahead: its `exp` an hour "too late" is right on time.
        let received = 1_700_000_000_000;
        let timing = Timing {
            sent_at_ms: received,
            received_at_ms: received,
            vendor_offset_ms: 3_600_000,
        };
        let token = jwt_with_exp((received + 3_600_000 + 600_000) / 1000);
        let expiry = resolve_expiry("vendy", u64::MAX, &token, &timing).unwrap();
        assert_eq!(expiry, received + 600_000);
    }
}
