//! The option schema: what an option *is* (its name as users write it, its kind, whether it is a
//! credential, the environment variable it falls back to, its documentation), the options every
//! vendor shares ([`COMMON`]), and the values given, keyed by declared name ([`Values`]).
//!
//! Each vendor declares its own options in its [`crate::provider::Spec`] (in
//! `src/provider/<vendor>.rs`); `options.rs` validates, redacts and exports every option from
//! these declarations, and the bindings read options by their declared kind. A leaf module: it
//! knows no vendor.

use crate::RetryPolicy;
use secrecy::SecretString;
use std::collections::BTreeMap;
use std::fmt;

/// What an option's value is, as users write it in JS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A string.
    Text,
    /// A whole number from `min` to `max`; `default` when not given.
    Integer { min: u64, max: u64, default: u64 },
    /// One of these strings; the first is the default.
    Choice(&'static [&'static str]),
    /// An array of origins (`https://host[:port]`), checked by [`crate::origins`].
    Origins,
}

/// One option, declared once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionSpec {
    /// The name users write (camelCase), e.g. `"accessKey"`.
    pub name: &'static str,
    pub kind: Kind,
    /// A credential: held as a secret from the moment it is read, never quoted in a message,
    /// scrubbed from every text a vendor sends back (also when read from `env`).
    pub secret: bool,
    /// The environment variable read when the option is not given.
    pub env: Option<&'static str>,
    /// Taken by `createClient()` only (`authenticate()` accepts it and it has no effect there).
    pub client_only: bool,
    /// Part of the credentials (every secret, and what selects the key, such as a shop): may be
    /// given as a function, asked before each exchange (`Driver::set_credentials`).
    pub credential: bool,
    /// One or two sentences, for generated documentation and messages.
    pub doc: &'static str,
}

impl OptionSpec {
    const fn new(name: &'static str, kind: Kind, doc: &'static str) -> Self {
        Self {
            name,
            kind,
            secret: false,
            env: None,
            client_only: false,
            credential: false,
            doc,
        }
    }

    /// A string option.
    pub const fn text(name: &'static str, doc: &'static str) -> Self {
        Self::new(name, Kind::Text, doc)
    }

    /// A credential: a string that is a secret.
    pub const fn secret(name: &'static str, doc: &'static str) -> Self {
        Self {
            secret: true,
            credential: true,
            ..Self::new(name, Kind::Text, doc)
        }
    }

    /// A whole number from `min` to `max`, `default` when not given.
    pub const fn integer(
        name: &'static str,
        min: u64,
        max: u64,
        default: u64,
        doc: &'static str,
    ) -> Self {
        Self::new(name, Kind::Integer { min, max, default }, doc)
    }

    /// One of `values` (the first is the default).
    pub const fn choice(
        name: &'static str,
        values: &'static [&'static str],
        doc: &'static str,
    ) -> Self {
        Self::new(name, Kind::Choice(values), doc)
    }

    /// An array of origins.
    pub const fn origins(name: &'static str, doc: &'static str) -> Self {
        Self::new(name, Kind::Origins, doc)
    }

    /// Falls back to the environment variable `var` when not given.
    pub const fn env(self, var: &'static str) -> Self {
        Self {
            env: Some(var),
            ..self
        }
    }

    /// Part of the credentials though not a secret (may be given as a function).
    pub const fn credential(self) -> Self {
        Self {
            credential: true,
            ..self
        }
    }

    /// Taken by `createClient()` only.
    pub const fn client_only(self) -> Self {
        Self {
            client_only: true,
            ..self
        }
    }

    /// The JS type of the value: `"string"`, `"number"` or `"string[]"`.
    pub const fn js_type(&self) -> &'static str {
        match self.kind {
            Kind::Integer { .. } => "number",
            Kind::Text | Kind::Choice(_) => "string",
            Kind::Origins => "string[]",
        }
    }

    /// The default of an integer option (0 for another kind).
    pub const fn default_integer(&self) -> u64 {
        match self.kind {
            Kind::Integer { default, .. } => default,
            Kind::Text | Kind::Choice(_) | Kind::Origins => 0,
        }
    }

    /// The default as documented, if there is one.
    pub fn default_text(&self) -> Option<String> {
        match self.kind {
            Kind::Text | Kind::Origins => None,
            Kind::Integer { default, .. } => Some(default.to_string()),
            Kind::Choice(values) => values.first().map(|v| (*v).to_owned()),
        }
    }
}

/// Which of a vendor's documented deployments to use when no `baseUrl` is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Production,
    Staging,
}

// ------------------------------------------------------------------ the options every vendor takes

pub const PROVIDER: OptionSpec = OptionSpec::text(
    "provider",
    "Which vendor (required): one of the registered provider ids.",
);
pub const ENVIRONMENT: OptionSpec = OptionSpec::choice(
    "environment",
    &["production", "staging"],
    "Picks the vendor's documented base URL.",
);
pub const BASE_URL: OptionSpec = OptionSpec::text(
    "baseUrl",
    "Overrides the base URL; must be https:, at most 2048 characters.",
);
pub const CA_CERT: OptionSpec = OptionSpec::text(
    "caCert",
    "PEM of extra CA certificates to trust (added to the system roots); CERTIFICATE blocks only.",
);
pub const TIMEOUT_MS: OptionSpec = OptionSpec::integer(
    "timeoutMs",
    1,
    600_000,
    10_000,
    "Bound on each attempt, connect to last byte.",
);
/// Two stalled attempts at the default `timeoutMs`, and well inside the ~30 s that load balancers
/// and API gateways give the request that is waiting for the token.
pub const EXCHANGE_TIMEOUT_MS: OptionSpec = OptionSpec::integer(
    "exchangeTimeoutMs",
    1,
    3_600_000,
    20_000,
    "Bound on a whole exchange: every attempt, retry wait and fall back.",
);
pub const MAX_RETRIES: OptionSpec = OptionSpec::integer(
    "maxRetries",
    0,
    10,
    RetryPolicy::DEFAULT_MAX_RETRIES as u64,
    "Retries of transient failures (network, timeout, 429, 500/502/503/504).",
);
pub const MAX_RETRY_DELAY_MS: OptionSpec = OptionSpec::integer(
    "maxRetryDelayMs",
    0,
    3_600_000,
    RetryPolicy::DEFAULT_MAX_RETRY_DELAY_MS,
    "Longest Retry-After waited out; a longer one fails with RATE_LIMITED.",
);
pub const REFRESH_WINDOW_MS: OptionSpec = OptionSpec::integer(
    "refreshWindowMs",
    0,
    24 * 3_600_000,
    5 * 60 * 1000,
    "How long before expiry a background refresh starts (at most half the token's lifetime).",
)
.client_only();
pub const ALLOWED_ORIGINS: OptionSpec = OptionSpec::origins(
    "allowedOrigins",
    "Origins besides the vendor's API (and baseUrl's) that client.fetch() may send the token to, e.g. ['https://files.vendy.money']; https: only (http: for loopback).",
)
.client_only();

/// The options every vendor takes. A vendor's own options are in its `Spec`.
pub const COMMON: &[OptionSpec] = &[
    PROVIDER,
    ENVIRONMENT,
    BASE_URL,
    CA_CERT,
    TIMEOUT_MS,
    EXCHANGE_TIMEOUT_MS,
    MAX_RETRIES,
    MAX_RETRY_DELAY_MS,
    REFRESH_WINDOW_MS,
    ALLOWED_ORIGINS,
];

// ------------------------------------------------------------------ values

/// A value as given, stored by the declared kind of its option.
#[derive(Clone)]
pub enum OptionValue {
    Text(String),
    /// The value of a `secret` option.
    Secret(SecretString),
    Number(f64),
    /// The strings of an array option.
    List(Vec<String>),
}

impl fmt::Debug for OptionValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Text(text) => write!(f, "{text:?}"),
            Self::Secret(_) => f.write_str("[redacted]"),
            Self::Number(n) => write!(f, "{n}"),
            Self::List(items) => write!(f, "{items:?}"),
        }
    }
}

/// The options given, keyed by declared name (names are the declarations' own `&'static str`).
#[derive(Debug, Clone, Default)]
pub struct Values(BTreeMap<&'static str, OptionValue>);

impl Values {
    pub(crate) fn insert(&mut self, name: &'static str, value: OptionValue) {
        self.0.insert(name, value);
    }

    pub(crate) fn remove(&mut self, name: &str) {
        self.0.remove(name);
    }

    /// Whether the option was given.
    pub fn given(&self, spec: &OptionSpec) -> bool {
        self.0.contains_key(spec.name)
    }

    pub fn get(&self, name: &str) -> Option<&OptionValue> {
        self.0.get(name)
    }

    /// The names given, in name order.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.0.keys().copied()
    }

    /// The string given for `spec` (a text or choice option).
    pub fn text(&self, spec: &OptionSpec) -> Option<&str> {
        match self.0.get(spec.name) {
            Some(OptionValue::Text(text)) => Some(text),
            _ => None,
        }
    }

    /// The credential given for the secret option `spec`.
    pub fn secret(&self, spec: &OptionSpec) -> Option<&SecretString> {
        match self.0.get(spec.name) {
            Some(OptionValue::Secret(secret)) => Some(secret),
            _ => None,
        }
    }

    /// The number given for `spec` (an integer option).
    pub fn number(&self, spec: &OptionSpec) -> Option<f64> {
        match self.0.get(spec.name) {
            Some(OptionValue::Number(n)) => Some(*n),
            _ => None,
        }
    }

    /// The strings given for `spec` (an array option).
    pub fn list(&self, spec: &OptionSpec) -> Option<&[String]> {
        match self.0.get(spec.name) {
            Some(OptionValue::List(items)) => Some(items),
            _ => None,
        }
    }

    /// Every credential given, to scrub messages of.
    pub fn secrets(&self) -> impl Iterator<Item = &SecretString> + '_ {
        self.0.values().filter_map(|v| match v {
            OptionValue::Secret(secret) => Some(secret),
            _ => None,
        })
    }
}
