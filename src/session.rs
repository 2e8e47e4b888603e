//! A token and what is known about it.

use crate::redact::token_preview;
use crate::TokenHeader;
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
