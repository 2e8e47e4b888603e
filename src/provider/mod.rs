//! The provider abstraction: one trait, one file per vendor, one registry line each.
//!
//! A provider knows how to *describe* its token requests and how to *read* the answers; it never
//! sends anything. Its file declares everything else about it in its [`Spec`]: its options (names,
//! kinds, secrets, environment defaults, docs), the session fields its answers carry, and its base
//! URLs. The generic layer (`options.rs`) validates, redacts and documents options from those
//! declarations; nothing outside the vendor's file names its options.
//!
//! Adding a vendor: a file `src/provider/<vendor>.rs` with a `pub(super) const SPEC: Spec` and a
//! type implementing [`Provider`], and its module name added to [`registry!`] below.

use crate::answer::{json_object, token_field};
use crate::expiry::resolve_expiry;
use crate::schema::{Environment, Kind, OptionSpec, Values};
use crate::session::FieldSpec;
use crate::status::{status_error, Asker};
use crate::{Error, HttpRequest, HttpResponse, Session, SessionMetadata, Timing, TokenHeader};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};
use std::fmt;
use url::Url;

/// Declares each vendor's module and lists its `SPEC` in [`SPECS`], in this order.
macro_rules! registry {
    ($($(#[$attr:meta])* $module:ident),* $(,)?) => {
        $($(#[$attr])* mod $module;)*
        /// Every vendor the library knows.
        const SPECS: &[&Spec] = &[$($(#[$attr])* &$module::SPEC),*];
    };
}

// The registry: one line per vendor.
registry! {
    vendy,
    puppetvendors,
    #[cfg(test)] acme, // exists only in tests: proves that a vendor is one file and this line
}

/// A vendor's entry in the registry: everything the generic layer needs to know about it.
#[derive(Debug)]
pub struct Spec {
    /// The `provider` option value, e.g. `"vendy"`.
    pub id: &'static str,
    /// The vendor's name for messages, e.g. `"Vendy"`.
    pub name: &'static str,
    /// What the vendor takes, in one clause for messages ("PuppetVendors trades apiKey … for a
    /// JWT"): said to a user who gave it another vendor's option.
    pub about: &'static str,
    pub production_url: &'static str,
    pub staging_url: &'static str,
    /// The vendor's own options (the ones every vendor takes are [`crate::schema::COMMON`]).
    pub options: &'static [OptionSpec],
    /// The fields its answers carry besides the token (they become `session[name]` in JS).
    pub fields: &'static [FieldSpec],
    /// Build the provider from validated common parts plus its own options.
    pub build: fn(Config<'_>) -> Result<Box<dyn Provider>, Error>,
}

impl Spec {
    pub fn base_url(&self, environment: Environment) -> &'static str {
        match environment {
            Environment::Production => self.production_url,
            Environment::Staging => self.staging_url,
        }
    }

    /// The vendor's own option `name`.
    pub fn option(&self, name: &str) -> Option<&'static OptionSpec> {
        self.options.iter().find(|o| o.name == name)
    }
}

/// Every registered vendor.
pub fn specs() -> &'static [&'static Spec] {
    SPECS
}

/// What a provider's `build` gets: its spec, the checked base URL, the options given (already
/// checked against their declared kinds) and the environment lookup (for defaults).
pub struct Config<'a> {
    pub spec: &'static Spec,
    pub base_url: Url,
    pub values: &'a Values,
    pub env: &'a dyn Fn(&str) -> Option<String>,
}

impl Config<'_> {
    /// Whether `option` was given.
    pub fn given(&self, option: &OptionSpec) -> bool {
        self.values.given(option)
    }

    /// The text option `option`, else its environment variable (an empty variable counts as
    /// unset).
    pub fn text(&self, option: &OptionSpec) -> Option<String> {
        match self.values.text(option) {
            Some(text) => Some(text.to_owned()),
            None => self.env_default(option),
        }
    }

    /// The choice option `option` (checked by the generic layer), else its default.
    pub fn choice(&self, option: &OptionSpec) -> &'static str {
        let values = match option.kind {
            Kind::Choice(values) => values,
            Kind::Text | Kind::Integer { .. } | Kind::Origins => &[],
        };
        let given = self.values.text(option);
        values
            .iter()
            .copied()
            .find(|v| Some(*v) == given)
            .or_else(|| values.first().copied())
            .unwrap_or_default()
    }

    /// The credential `option`, else its environment variable (an empty variable counts as
    /// unset; an empty option is an error, not a silent fall back).
    pub fn secret(&self, option: &OptionSpec) -> Result<Option<SecretString>, Error> {
        match self.values.secret(option) {
            Some(value) if value.expose_secret().trim().is_empty() => {
                Err(Error::invalid_options(match option.env {
                    Some(var) => format!(
                        "{} is empty; pass the credential or leave the option out to use {var}",
                        option.name
                    ),
                    None => format!("{} is empty; pass the credential", option.name),
                }))
            }
            Some(value) => Ok(Some(value.clone())),
            None => Ok(self.env_default(option).map(SecretString::from)),
        }
    }

    /// The credential `option`, which the vendor cannot do without: missing (neither given nor in
    /// the environment) is [`Error::missing_credentials`], reported by a client at first use.
    pub fn required_secret(&self, option: &OptionSpec) -> Result<SecretString, Error> {
        self.secret(option)?.ok_or_else(|| {
            Error::missing_credentials(match option.env {
                Some(var) => format!(
                    "{} needs {}: pass it as an option or set {var}",
                    self.spec.name, option.name
                ),
                None => format!(
                    "{} needs {}: pass it as an option",
                    self.spec.name, option.name
                ),
            })
        })
    }

    fn env_default(&self, option: &OptionSpec) -> Option<String> {
        option
            .env
            .and_then(|var| (self.env)(var))
            .filter(|v| !v.is_empty())
    }
}

/// The vendor with this `provider` id. The value given is never quoted back: it may be a
/// credential pasted into the wrong option.
pub(crate) fn find(id: &str) -> Result<&'static Spec, Error> {
    SPECS.iter().copied().find(|s| s.id == id).ok_or_else(|| {
        let near = SPECS
            .iter()
            .find(|s| s.id.eq_ignore_ascii_case(id.trim()))
            .map(|s| format!(" (did you mean '{}'? ids are lower-case)", s.id))
            .unwrap_or_default();
        Error::invalid_options(format!(
            "unknown provider{near}: expected one of {} (the value given, {} characters long, is not shown as it could be a credential)",
            known_ids(),
            id.chars().count()
        ))
    })
}

pub(crate) fn known_ids() -> String {
    SPECS
        .iter()
        .map(|s| format!("'{}'", s.id))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One vendor's token protocol.
pub trait Provider: Send + Sync + fmt::Debug {
    /// The vendor's registry entry.
    fn spec(&self) -> &'static Spec;
    fn base_url(&self) -> &Url;
    /// The `provider` option value.
    fn id(&self) -> &'static str {
        self.spec().id
    }
    /// The vendor's name for messages.
    fn name(&self) -> &'static str {
        self.spec().name
    }
    /// The header that carries the token.
    fn token_header(&self) -> TokenHeader;
    /// What to tell a person whose credentials were refused.
    fn credentials_hint(&self) -> &'static str;
    /// The request that trades credentials for a token. (With a [`Provider::permanent_session`],
    /// no exchange is made; this still describes the credential, for scrubbing.)
    fn authenticate_request(&self) -> HttpRequest;
    /// Every secret the authentication request puts on the wire (derived from the request
    /// itself, so nothing sent can be forgotten), to scrub vendor-supplied text of.
    fn secrets(&self) -> Vec<SecretString> {
        self.authenticate_request().sensitive_values()
    }
    /// The request that trades a still-valid token for a new one, where the vendor has one.
    fn refresh_request(&self, _current: &Session) -> Option<HttpRequest> {
        None
    }
    /// A credential sent as it is on every API request, with no exchange at all (Vendy's scheme
    /// `'basic'`): the session to serve for ever (`expires_at_ms` = [`Session::NEVER`]). Drivers
    /// make no request for such a provider: the lifecycle serves it, `authenticate()` returns it.
    fn permanent_session(&self) -> Option<Session> {
        None
    }
    /// Read a 2xx answer (to either request) into a session; `timing` anchors the vendor's
    /// times to our clock.
    fn parse_session(&self, body: &Map<String, Value>, timing: &Timing) -> Result<Session, Error>;

    /// Read any answer: a session on 2xx, else the error it stands for.
    fn parse_response(&self, res: &HttpResponse, timing: &Timing) -> Result<Session, Error> {
        if !res.is_success() {
            let secrets = self.secrets();
            let asker = Asker {
                id: self.id(),
                name: self.name(),
                hint: self.credentials_hint(),
                base_url: self.base_url(),
                secrets: &secrets,
            };
            return Err(status_error(&asker, res, timing.vendor_now_ms()));
        }
        json_object(self.id(), &res.body)
            .and_then(|body| self.parse_session(&body, timing))
            .map_err(|e| e.with_status(res.status))
    }

    /// A session the application kept from an earlier exchange (a serverless cold start seeded
    /// with a cached token), checked like a vendor's answer: a token that can travel in a header,
    /// an expiry in the future and within a year, no later than the JWT's own `exp`, and only
    /// the metadata fields the vendor declares. Errors are `INVALID_OPTIONS` (the application
    /// passed it, not the vendor).
    fn seeded_session(
        &self,
        token: SecretString,
        expires_at_ms: u64,
        metadata: SessionMetadata,
        now_ms: u64,
    ) -> Result<Session, Error> {
        let id = self.id();
        let as_option = |e: Error| {
            let problem = e.problem().unwrap_or(e.message());
            Error::invalid_options(format!("initialSession cannot be used: {problem}"))
        };
        // Not `Map::from_iter`: it sorts, and its sort is 2.6 KB of the gzipped .wasm.
        let mut body = Map::new();
        body.insert(
            "token".to_owned(),
            Value::String(token.expose_secret().to_owned()),
        );
        let token = token_field(id, &body, "token").map_err(as_option)?;
        let expires_at_ms = resolve_expiry(
            id,
            expires_at_ms,
            token.expose_secret(),
            &Timing::at(now_ms),
        )
        .map_err(as_option)?;
        Ok(Session {
            provider: id,
            token,
            expires_at_ms,
            header: self.token_header(),
            metadata: metadata.declared(self.spec().fields),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::COMMON;
    use crate::session::FieldValue;
    use crate::{ErrorCode, Options, RawOptions};

    #[test]
    fn registry_finds_known_vendors_and_lists_them_otherwise() {
        assert_eq!(find("vendy").unwrap().id, "vendy");
        assert_eq!(find("puppetvendors").unwrap().id, "puppetvendors");
        let e = find("Vendy").unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidOptions);
        assert!(
            e.message().contains("'vendy', 'puppetvendors'")
                && e.message().contains("did you mean 'vendy'?")
                && !e.message().contains("'Vendy'"),
            "{}",
            e.message()
        );
        let e = find("acme-corp-password").unwrap_err();
        assert!(!e.message().contains("acme-corp"), "{}", e.message());
        assert!(e.message().contains("18 characters"), "{}", e.message());
    }

    /// What the generic layer relies on: each vendor's options and fields are its own, and one
    /// name means one thing everywhere.
    #[test]
    fn declarations_are_consistent_across_vendors() {
        // JS Session's own properties: a field may not shadow one.
        const RESERVED: &[&str] = &[
            "provider",
            "token",
            "expiresAt",
            "expiresAtIso",
            "headerName",
            "headerValue",
            "headers",
            "toJSON",
        ];
        let mut ids = Vec::new();
        for spec in SPECS {
            assert!(!ids.contains(&spec.id), "{} registered twice", spec.id);
            ids.push(spec.id);
            for option in spec.options {
                assert!(
                    COMMON.iter().all(|c| c.name != option.name),
                    "{}: {} is a common option",
                    spec.id,
                    option.name
                );
                assert!(
                    !option.doc.is_empty(),
                    "{}.{} has no doc",
                    spec.id,
                    option.name
                );
                // Another vendor may declare the same name only with the same kind and secrecy.
                for other in SPECS.iter().flat_map(|s| s.options) {
                    if other.name == option.name {
                        assert_eq!(
                            (other.kind, other.secret),
                            (option.kind, option.secret),
                            "{}",
                            option.name
                        );
                    }
                }
            }
            for field in spec.fields {
                assert!(
                    !RESERVED.contains(&field.name),
                    "{}.{}",
                    spec.id,
                    field.name
                );
            }
        }
    }

    #[test]
    fn a_seeded_session_is_checked_like_an_answer() {
        let o = Options::resolve(
            RawOptions::new()
                .with("provider", "puppetvendors")
                .with("apiKey", "vk_test_abc"),
            &|_| None,
        )
        .unwrap();
        let now = 1_700_000_000_000;
        let p = &*o.provider;
        let meta = SessionMetadata::default;
        let s = p
            .seeded_session("tok-abc".into(), now + 60_000, meta(), now)
            .unwrap();
        assert_eq!(s.header.name(), "x-access-token");
        assert_eq!(s.expires_at_ms, now + 60_000);
        // The JWT's exp wins when it is earlier.
        let jwt = crate::expiry::tests::jwt_with_exp(now / 1000 + 30);
        let s = p
            .seeded_session(jwt.into(), now + 60_000, meta(), now)
            .unwrap();
        assert_eq!(s.expires_at_ms, now + 30_000);
        // Only declared fields of the declared kinds are kept.
        let mut m = meta();
        m.insert("mode", FieldValue::Text("live".into()));
        m.insert("permissions", FieldValue::List(vec!["orders:read".into()]));
        m.insert("isAdmin", FieldValue::Text("yes".into()));
        let s = p
            .seeded_session("tok-abc".into(), now + 60_000, m, now)
            .unwrap();
        assert_eq!(s.metadata.text("mode"), Some("live"));
        assert!(s.metadata.list("permissions").is_some());
        assert_eq!(s.metadata.get("isAdmin"), None);
        for (token, expires, why) in [
            ("tok", now - 1, "already expired"),
            ("tok", now + 400 * 86_400_000, "more than a year"),
            ("", now + 1000, "empty"),
            ("a\r\nb", now + 1000, "characters not allowed"),
        ] {
            let e = p
                .seeded_session(token.into(), expires, meta(), now)
                .unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidOptions);
            assert!(
                e.message().starts_with("initialSession cannot be used: "),
                "{}",
                e.message()
            );
            assert!(e.message().contains(why), "{} !~ {why}", e.message());
        }
    }
}
