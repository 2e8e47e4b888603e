//! A token and what is known about it.

use crate::expiry::resolve_expiry;
use crate::provider::token_field;
use crate::redact::token_preview;
use crate::{Error, Provider, Timing, TokenHeader};
use secrecy::{ExposeSecret, SecretString};
use std::fmt;

/// What PuppetVendors says about a token besides the token itself. All optional: older docs and
/// Vendy send none of it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionMetadata {
    pub scope: Option<String>,
    pub permissions: Option<Vec<String>>,
    pub shop_domain: Option<String>,
    pub mode: Option<String>,
    pub vendor_id: Option<String>,
}

/// A short-lived token from one exchange.
#[derive(Clone)]
pub struct Session {
    pub provider: &'static str,
    pub token: SecretString,
    /// Milliseconds since the Unix epoch; the earlier of the vendor's statement and the JWT `exp`.
    pub expires_at_ms: u64,
    pub header: TokenHeader,
    pub metadata: SessionMetadata,
}

impl Session {
    /// The header value that carries the token (`Bearer <token>` or the bare token).
    pub fn header_value(&self) -> SecretString {
        self.header.value(&self.token)
    }

    /// A session the application kept from an earlier exchange (a serverless cold start seeded
    /// with a cached token), checked like a vendor's answer: a token that can travel in a header,
    /// an expiry in the future and within a year, and no later than the JWT's own `exp`.
    /// Errors are `INVALID_OPTIONS` (the application passed it, not the vendor).
    pub fn seeded(
        provider: &dyn Provider,
        token: SecretString,
        expires_at_ms: u64,
        metadata: SessionMetadata,
        now_ms: u64,
    ) -> Result<Self, Error> {
        let id = provider.id();
        let as_option = |e: Error| {
            Error::invalid_options(format!(
                "initialSession cannot be used: {}",
                e.message()
                    .trim_start_matches(&format!("{id} sent an unusable token response: "))
            ))
        };
        let body = serde_json::Map::from_iter([(
            "token".to_owned(),
            serde_json::Value::String(token.expose_secret().to_owned()),
        )]);
        let token = token_field(id, &body, "token").map_err(as_option)?;
        let expires_at_ms = resolve_expiry(
            id,
            expires_at_ms,
            token.expose_secret(),
            &Timing::at(now_ms),
        )
        .map_err(as_option)?;
        Ok(Self {
            provider: id,
            token,
            expires_at_ms,
            header: provider.token_header(),
            metadata,
        })
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("provider", &self.provider)
            .field("token", &token_preview(self.token.expose_secret()))
            .field("expires_at_ms", &self.expires_at_ms)
            .field("header_name", &self.header.name())
            .field("metadata", &self.metadata)
            .finish()
    }
}

impl SessionMetadata {
    /// Fill the fields this one lacks from `older` (a refresh answer carries less than the first).
    pub fn fill_from(&mut self, older: &SessionMetadata) {
        fn keep<T: Clone>(field: &mut Option<T>, older: &Option<T>) {
            if field.is_none() {
                field.clone_from(older);
            }
        }
        keep(&mut self.scope, &older.scope);
        keep(&mut self.permissions, &older.permissions);
        keep(&mut self.shop_domain, &older.shop_domain);
        keep(&mut self.mode, &older.mode);
        keep(&mut self.vendor_id, &older.vendor_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ErrorCode, Options, RawOptions};

    #[test]
    fn a_seeded_session_is_checked_like_an_answer() {
        let o = Options::resolve(
            RawOptions {
                provider: Some("puppetvendors".into()),
                api_key: Some("vk_test_abc".into()),
                ..Default::default()
            },
            &|_| None,
        )
        .unwrap();
        let now = 1_700_000_000_000;
        let p = &*o.provider;
        let meta = SessionMetadata::default;
        let s = Session::seeded(p, "tok-abc".into(), now + 60_000, meta(), now).unwrap();
        assert_eq!(s.header.name(), "x-access-token");
        assert_eq!(s.expires_at_ms, now + 60_000);
        // The JWT's exp wins when it is earlier.
        let jwt = crate::expiry::tests::jwt_with_exp(now / 1000 + 30);
        let s = Session::seeded(p, jwt.into(), now + 60_000, meta(), now).unwrap();
        assert_eq!(s.expires_at_ms, now + 30_000);
        for (token, expires, why) in [
            ("tok", now - 1, "already expired"),
            ("tok", now + 400 * 86_400_000, "more than a year"),
            ("", now + 1000, "empty"),
            ("a\r\nb", now + 1000, "characters not allowed"),
        ] {
            let e = Session::seeded(p, token.into(), expires, meta(), now).unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidOptions);
            assert!(
                e.message().starts_with("initialSession cannot be used: "),
                "{}",
                e.message()
            );
            assert!(e.message().contains(why), "{} !~ {why}", e.message());
        }
    }

    #[test]
    fn debug_shows_a_preview_only() {
        let token = "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.SECRET-SIGNATURE";
        let s = Session {
            provider: "vendy",
            token: token.into(),
            expires_at_ms: 1,
            header: TokenHeader::Bearer,
            metadata: SessionMetadata::default(),
        };
        let printed = format!("{s:?}");
        assert!(!printed.contains("SECRET-SIGNATURE"), "{printed}");
        assert!(printed.contains("eyJhbG…"), "{printed}");
        assert_eq!(s.header_value().expose_secret(), format!("Bearer {token}"));
    }
}
