//! A token and what is known about it: how it travels ([`TokenHeader`]), when it expires, and the
//! fields its vendor declares ([`SessionMetadata`], shaped by each vendor's [`FieldSpec`]s).

use crate::redact::token_preview;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// How a token travels on the vendor's API requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenHeader {
    /// `Authorization: Bearer <token>`
    Bearer,
    /// `Authorization: Basic <token>`, where the token is base64 of `user:password` (a
    /// permanent credential such as Vendy's scheme `'basic'`).
    Basic,
    /// `<name>: <token>`
    Raw(&'static str),
}

impl TokenHeader {
    pub fn name(self) -> &'static str {
        match self {
            Self::Bearer | Self::Basic => "Authorization",
            Self::Raw(name) => name,
        }
    }

    pub fn value(self, token: &SecretString) -> SecretString {
        match self {
            Self::Bearer => format!("Bearer {}", token.expose_secret()).into(),
            Self::Basic => format!("Basic {}", token.expose_secret()).into(),
            Self::Raw(_) => token.clone(),
        }
    }
}

/// What a session field holds, as a vendor's answer gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// A string.
    Text,
    /// A string, or a number kept as its decimal text (ids).
    Id,
    /// An array of strings.
    List,
}

/// One field a vendor's answer may carry besides the token, declared in its `Spec`. It becomes
/// `session[name]` in JS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    /// The name in JS (camelCase), e.g. `"shopDomain"`.
    pub name: &'static str,
    /// The field of the answer it is read from (the name, unless declared otherwise).
    pub key: &'static str,
    pub kind: FieldKind,
    pub doc: &'static str,
}

impl FieldSpec {
    const fn new(name: &'static str, kind: FieldKind, doc: &'static str) -> Self {
        Self {
            name,
            key: name,
            kind,
            doc,
        }
    }

    pub const fn text(name: &'static str, doc: &'static str) -> Self {
        Self::new(name, FieldKind::Text, doc)
    }

    pub const fn id(name: &'static str, doc: &'static str) -> Self {
        Self::new(name, FieldKind::Id, doc)
    }

    pub const fn list(name: &'static str, doc: &'static str) -> Self {
        Self::new(name, FieldKind::List, doc)
    }

    /// Read from the answer's field `key` (e.g. a snake_case one).
    pub const fn in_answer(self, key: &'static str) -> Self {
        Self { key, ..self }
    }
}

/// The value of a session field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FieldValue {
    Text(String),
    List(Vec<String>),
}

impl FieldValue {
    fn fits(&self, kind: FieldKind) -> bool {
        matches!(
            (self, kind),
            (Self::Text(_), FieldKind::Text | FieldKind::Id) | (Self::List(_), FieldKind::List)
        )
    }
}

/// The fields a vendor said about a token besides the token itself (PuppetVendors' `scope`,
/// `permissions`…), by their JS names. Which fields exist is the vendor's declaration; all are
/// optional (older docs and other vendors send none). Serializes as a plain JSON object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SessionMetadata(BTreeMap<String, FieldValue>);

impl SessionMetadata {
    pub fn get(&self, name: &str) -> Option<&FieldValue> {
        self.0.get(name)
    }

    /// The text field `name`.
    pub fn text(&self, name: &str) -> Option<&str> {
        match self.0.get(name) {
            Some(FieldValue::Text(text)) => Some(text),
            _ => None,
        }
    }

    /// The list field `name`.
    pub fn list(&self, name: &str) -> Option<&[String]> {
        match self.0.get(name) {
            Some(FieldValue::List(items)) => Some(items),
            _ => None,
        }
    }

    pub fn insert(&mut self, name: impl Into<String>, value: FieldValue) {
        self.0.insert(name.into(), value);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every field, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &FieldValue)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Only the fields `fields` declares, with values of the declared kind (for metadata that
    /// did not come from the vendor, such as a kept session).
    pub fn declared(mut self, fields: &[FieldSpec]) -> Self {
        self.0.retain(|name, value| {
            fields
                .iter()
                .any(|f| f.name == name.as_str() && value.fits(f.kind))
        });
        self
    }

    /// The fields in the order `fields` declares them (for presenting them).
    pub fn in_order<'a>(
        &'a self,
        fields: &'a [FieldSpec],
    ) -> impl Iterator<Item = (&'static str, &'a FieldValue)> + 'a {
        fields
            .iter()
            .filter_map(|f| self.0.get(f.name).map(|v| (f.name, v)))
    }

    /// Fill the fields this one lacks from `older` (a refresh answer carries less than the first).
    pub fn fill_from(&mut self, older: &SessionMetadata) {
        for (name, value) in &older.0 {
            self.0.entry(name.clone()).or_insert_with(|| value.clone());
        }
    }
}

/// A token from one exchange, or a permanent credential.
#[derive(Clone)]
pub struct Session {
    pub provider: &'static str,
    pub token: SecretString,
    /// Milliseconds since the Unix epoch; the earlier of the vendor's statement and the JWT `exp`.
    /// [`Session::NEVER`] for a credential that does not expire (Vendy's scheme `'basic'`).
    pub expires_at_ms: u64,
    pub header: TokenHeader,
    pub metadata: SessionMetadata,
}

impl Session {
    /// `expires_at_ms` of a permanent credential: it never expires, is never refreshed, and is
    /// served without asking again (the lifecycle's plan says so until `u64::MAX`). A vendor's
    /// answer can never produce it: expiries are checked to be within a year.
    pub const NEVER: u64 = u64::MAX;

    /// The expiry, or `None` for a permanent credential.
    pub fn expires(&self) -> Option<u64> {
        (self.expires_at_ms != Self::NEVER).then_some(self.expires_at_ms)
    }

    /// The header value that carries the token (`Bearer <token>` or the bare token).
    pub fn header_value(&self) -> SecretString {
        self.header.value(&self.token)
    }

    /// What logs, `inspect` and JSON show of the token: a JWT's first characters (its header,
    /// the same for every JWT), and nothing of a Basic credential (its base64 starts with the
    /// key itself).
    pub fn preview(&self) -> String {
        match self.header {
            TokenHeader::Basic => "…".into(),
            TokenHeader::Bearer | TokenHeader::Raw(_) => token_preview(self.token.expose_secret()),
        }
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("provider", &self.provider)
            .field("token", &self.preview())
            .field("expires_at_ms", &self.expires())
            .field("header_name", &self.header.name())
            .field("metadata", &self.metadata)
            .finish()
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

    #[test]
    fn a_basic_credential_shows_nothing_of_itself_and_never_expires() {
        // base64("AK-12345:SK") starts with the access key's own base64.
        let s = Session {
            provider: "vendy",
            token: "QUstMTIzNDU6U0s=".into(),
            expires_at_ms: Session::NEVER,
            header: TokenHeader::Basic,
            metadata: SessionMetadata::default(),
        };
        let printed = format!("{s:?}");
        assert!(!printed.contains("QUst"), "{printed}");
        assert_eq!(s.preview(), "…");
        assert_eq!(s.expires(), None);
        assert_eq!(s.header_value().expose_secret(), "Basic QUstMTIzNDU6U0s=");
        assert_eq!(s.header.name(), "Authorization");
    }

    #[test]
    fn metadata_keeps_declared_fields_and_fills_from_older() {
        const FIELDS: &[FieldSpec] = &[FieldSpec::text("mode", ""), FieldSpec::list("scopes", "")];
        let mut m = SessionMetadata::default();
        m.insert("mode", FieldValue::Text("live".into()));
        m.insert("scopes", FieldValue::Text("not a list".into()));
        m.insert("undeclared", FieldValue::Text("x".into()));
        let m = m.declared(FIELDS);
        assert_eq!(m.iter().map(|(k, _)| k).collect::<Vec<_>>(), ["mode"]);
        let mut newer = SessionMetadata::default();
        newer.insert("mode", FieldValue::Text("test".into()));
        let mut older = m.clone();
        older.insert("scopes", FieldValue::List(vec!["a".into()]));
        newer.fill_from(&older);
        assert_eq!(newer.text("mode"), Some("test"));
        assert_eq!(newer.list("scopes"), Some(&["a".to_owned()][..]));
        assert_eq!(
            newer.in_order(FIELDS).map(|(k, _)| k).collect::<Vec<_>>(),
            ["mode", "scopes"]
        );
        // A plain JSON object, for sealing it.
        assert_eq!(
            serde_json::to_string(&newer).unwrap(),
            r#"{"mode":"test","scopes":["a"]}"#
        );
    }
}
