//! When a token stops being valid. Vendors state it in different ways (an HTTP-date, seconds from
//! now) and the JWT carries its own `exp`; the earlier one wins. No clock is read here: callers
//! pass the time the answer arrived.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use std::time::{Duration, UNIX_EPOCH};

/// Longest lifetime accepted from a vendor. Vendy documents 7 days (its sample shows 14);
/// anything past a year is a broken answer, not a token to cache.
pub const MAX_TOKEN_LIFETIME_MS: u64 = 366 * 24 * 60 * 60 * 1000;

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

/// The session's expiry: the earlier of what the vendor stated and the JWT's `exp`, checked to be
/// in the future and not absurdly far from `received_at_ms`.
pub fn resolve_expiry(
    provider: &'static str,
    stated_ms: u64,
    token: &str,
    received_at_ms: u64,
) -> Result<u64, crate::Error> {
    let expires_at = match jwt_exp_ms(token) {
        Some(exp) => stated_ms.min(exp),
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
            resolve_expiry("vendy", stated, &token, received).unwrap(),
            1_688_682_551_000
        );
    }

    #[test]
    fn past_and_absurd_expiries_are_invalid_responses() {
        let now = 1_700_000_000_000;
        let past = resolve_expiry("vendy", now - 1, "opaque", now).unwrap_err();
        assert_eq!(past.code(), ErrorCode::InvalidResponse);
        assert!(
            past.message().contains("already expired"),
            "{}",
            past.message()
        );
        let far = resolve_expiry("vendy", now + 2 * MAX_TOKEN_LIFETIME_MS, "opaque", now);
        assert_eq!(far.unwrap_err().code(), ErrorCode::InvalidResponse);
        assert_eq!(
            resolve_expiry("vendy", now + 1000, "opaque", now),
            Ok(now + 1000)
        );
    }
}
