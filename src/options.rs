//! The generic option layer. Options as the user gave them ([`RawOptions`], read by each option's
//! declared kind) and as the library uses them ([`Options`]: validated, defaults applied,
//! credentials resolved from the environment, provider built), and the schema that the bindings
//! export ([`option_schema`]).
//!
//! Nothing here names a vendor's option: the options every vendor takes are declared in
//! `schema.rs` ([`COMMON`]), each vendor's own in its `Spec` (`src/provider/<vendor>.rs`), and
//! everything below works from those declarations. Everything runs before any I/O, so a bad option
//! never costs a request.

use crate::answer::json_type;
use crate::origins::TrustedOrigins;
use crate::provider::{self, Config, Provider, Spec};
use crate::schema::{
    Environment, Kind, OptionSpec, OptionValue, Values, ALLOWED_ORIGINS, BASE_URL, CA_CERT, COMMON,
    ENVIRONMENT, EXCHANGE_TIMEOUT_MS, MAX_RETRIES, MAX_RETRY_DELAY_MS, PROVIDER, REFRESH_WINDOW_MS,
    TIMEOUT_MS,
};
use crate::session::FieldKind;
use crate::{Error, ErrorCode, Lifecycle, RetryPolicy};
use secrecy::SecretString;
use serde::Serialize;
use url::Url;

/// A value as a binding reads it (a JS string or number), before it is stored by its option's
/// declared kind.
#[derive(Clone)]
pub enum OptionInput {
    Text(String),
    Number(f64),
    /// An array of strings.
    List(Vec<String>),
}

impl From<&str> for OptionInput {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

impl From<String> for OptionInput {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<f64> for OptionInput {
    fn from(n: f64) -> Self {
        Self::Number(n)
    }
}

/// Every declared option, with the vendor that declares it (`None`: every vendor takes it).
fn declarations() -> impl Iterator<Item = (Option<&'static Spec>, &'static OptionSpec)> {
    COMMON.iter().map(|o| (None, o)).chain(
        provider::specs()
            .iter()
            .flat_map(|&spec| spec.options.iter().map(move |o| (Some(spec), o))),
    )
}

/// The declaration of option `name` (common, or any vendor's: declarations of one name agree on
/// kind and secrecy).
fn declared(name: &str) -> Option<&'static OptionSpec> {
    declarations().map(|(_, o)| o).find(|o| o.name == name)
}

/// Options as received: each value stored by its option's declared kind, a credential as a secret
/// from the moment it exists in Rust.
#[derive(Debug, Clone, Default)]
pub struct RawOptions {
    values: Values,
}

impl RawOptions {
    pub fn new() -> Self {
        Self::default()
    }

    /// Set option `name`. An undeclared name or a value of the wrong type is `INVALID_OPTIONS`
    /// (the value itself is never quoted).
    pub fn set(&mut self, name: &str, value: OptionInput) -> Result<(), Error> {
        let option = declared(name)
            .ok_or_else(|| Error::invalid_options(format!("unknown option '{name}'")))?;
        let value = match (option.kind, value) {
            (Kind::Integer { .. }, OptionInput::Number(n)) => OptionValue::Number(n),
            (Kind::Text | Kind::Choice(_), OptionInput::Text(text)) if option.secret => {
                OptionValue::Secret(SecretString::from(text))
            }
            (Kind::Text | Kind::Choice(_), OptionInput::Text(text)) => OptionValue::Text(text),
            (Kind::Origins, OptionInput::List(items)) => OptionValue::List(items),
            (_, given) => {
                let got = match given {
                    OptionInput::Text(_) => "a string",
                    OptionInput::Number(_) => "a number",
                    OptionInput::List(_) => "an array",
                };
                return Err(wrong_type(option, got));
            }
        };
        self.values.insert(option.name, value);
        Ok(())
    }

    /// `self` with option `name` set: for literals in tests and examples.
    ///
    /// # Panics
    /// On an undeclared name or a value of the wrong type (a programming error; [`RawOptions::set`]
    /// returns the error instead).
    #[track_caller]
    pub fn with(mut self, name: &str, value: impl Into<OptionInput>) -> Self {
        if let Err(e) = self.set(name, value.into()) {
            panic!("{}", e.message());
        }
        self
    }

    /// `self` without option `name`.
    pub fn without(mut self, name: &str) -> Self {
        self.values.remove(name);
        self
    }

    /// Read every declared option once, through `get` (a binding's read of the JS object by the
    /// option's declared kind; `None` when absent).
    pub fn read(
        mut get: impl FnMut(&'static OptionSpec) -> Result<Option<OptionInput>, Error>,
    ) -> Result<Self, Error> {
        let mut raw = Self::new();
        let mut seen: Vec<&str> = Vec::new();
        for (_, option) in declarations() {
            if seen.contains(&option.name) {
                continue;
            }
            seen.push(option.name);
            if let Some(value) = get(option)? {
                raw.set(option.name, value)?;
            }
        }
        Ok(raw)
    }

    /// Options from a JSON object (a binding that passes them as JSON text): unknown names and
    /// values of the wrong type are `INVALID_OPTIONS`; `null` counts as absent.
    pub fn from_json(object: &serde_json::Map<String, serde_json::Value>) -> Result<Self, Error> {
        let mut raw = Self::new();
        for (name, value) in object {
            let input = match value {
                serde_json::Value::Null => continue,
                serde_json::Value::String(text) => OptionInput::Text(text.clone()),
                serde_json::Value::Number(n) => OptionInput::Number(n.as_f64().unwrap_or(f64::NAN)),
                serde_json::Value::Array(items)
                    if items.iter().all(serde_json::Value::is_string) =>
                {
                    OptionInput::List(
                        items
                            .iter()
                            .filter_map(|v| v.as_str().map(str::to_owned))
                            .collect(),
                    )
                }
                other => {
                    let option = declared(name).ok_or_else(|| {
                        Error::invalid_options(format!("unknown option '{name}'"))
                    })?;
                    return Err(wrong_type(option, json_type(other)));
                }
            };
            raw.set(name, input)?;
        }
        Ok(raw)
    }

    /// The values given, by declared name.
    pub fn values(&self) -> &Values {
        &self.values
    }

    /// The `provider` option as given.
    pub fn provider(&self) -> Option<&str> {
        self.values.text(&PROVIDER)
    }

    /// The integer option `option` as given, else its default (checked by [`Options::resolve`]).
    pub fn integer(&self, option: &OptionSpec) -> u64 {
        integer(option, &self.values)
    }
}

fn wrong_type(option: &OptionSpec, got: &str) -> Error {
    // The value itself is not shown: it may be a credential.
    Error::invalid_options(format!(
        "option '{}' must be a {}, not {got}",
        option.name,
        option.js_type()
    ))
}

/// Validated options, ready for exchanges.
#[derive(Debug)]
pub struct Options {
    pub provider: Box<dyn Provider>,
    pub timeout_ms: u64,
    /// Bound on a whole exchange: every attempt, retry wait and fall back.
    pub exchange_timeout_ms: u64,
    pub retry: RetryPolicy,
    pub ca_cert: Option<String>,
    pub refresh_window_ms: u64,
    /// Where `client.fetch()` may send the token.
    pub trusted: TrustedOrigins,
}

impl Options {
    /// Validate `raw`, reading unset credentials through `env` (a lookup of environment
    /// variables; injected so that the core reads no process state of its own).
    pub fn resolve(raw: RawOptions, env: &dyn Fn(&str) -> Option<String>) -> Result<Self, Error> {
        // Messages never quote an option value that could be a credential; as a second line,
        // every credential known here (options and the environment alike) is scrubbed from them.
        let mut secrets: Vec<SecretString> = raw.values.secrets().cloned().collect();
        secrets.extend(secrets_in_env(env));
        Self::resolve_unscrubbed(&raw.values, env)
            .map_err(|e| e.scrubbed(&secrets.iter().collect::<Vec<_>>()))
    }

    fn resolve_unscrubbed(
        values: &Values,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, Error> {
        check(&ENVIRONMENT, values)?;
        let environment = match values.text(&ENVIRONMENT) {
            Some("staging") => Environment::Staging,
            _ => Environment::Production,
        };
        let Some(name) = values.text(&PROVIDER) else {
            return Err(Error::invalid_options(format!(
                "provider is required: one of {}",
                provider::known_ids()
            )));
        };
        let spec = provider::find(name)?;
        if let Some(name) = values
            .names()
            .find(|name| COMMON.iter().all(|o| o.name != *name) && spec.option(name).is_none())
        {
            return Err(not_this_vendors(name, spec));
        }
        for option in COMMON.iter().chain(spec.options) {
            check(option, values)?;
        }
        let base_url = match values.text(&BASE_URL) {
            Some(url) => parse_base_url(url)?,
            None => parse_base_url(spec.base_url(environment))?,
        };
        let trusted = TrustedOrigins::new(
            &parse_base_url(spec.base_url(environment))?,
            &base_url,
            values.list(&ALLOWED_ORIGINS).unwrap_or_default(),
        )?;
        let ca_cert = values.text(&CA_CERT).map(str::to_owned);
        if let Some(pem) = &ca_cert {
            crate::pem::check_ca_cert(pem)?;
        }
        let provider = (spec.build)(Config {
            spec,
            base_url,
            values,
            env,
        })?;
        Ok(Self {
            provider,
            timeout_ms: integer(&TIMEOUT_MS, values),
            exchange_timeout_ms: integer(&EXCHANGE_TIMEOUT_MS, values),
            retry: RetryPolicy::new(
                integer(&MAX_RETRIES, values) as u32,
                integer(&MAX_RETRY_DELAY_MS, values),
            ),
            ca_cert,
            refresh_window_ms: integer(&REFRESH_WINDOW_MS, values),
            trusted,
        })
    }
}

impl Options {
    /// A new lifecycle for a client with these options: a permanent credential (Vendy's scheme
    /// `'basic'`) is served from the start and for ever; otherwise there is no token yet. Every
    /// driver starts from this, so none can forget the permanent case.
    pub fn new_lifecycle(&self) -> Lifecycle {
        match self.provider.permanent_session() {
            Some(session) => Lifecycle::permanent(session),
            None => Lifecycle::new(self.refresh_window_ms),
        }
    }
}

/// Check the value given for `option` against its declared kind: a whole number in range, or
/// one of the declared choices. The value is never quoted when it is a string (it may be a
/// credential put into the wrong option).
fn check(option: &OptionSpec, values: &Values) -> Result<(), Error> {
    match option.kind {
        Kind::Integer { min, max, .. } => match values.number(option) {
            Some(v) if v.fract() != 0.0 || !(min as f64..=max as f64).contains(&v) => {
                Err(Error::invalid_options(format!(
                    "{} must be a whole number from {min} to {max}, not {}",
                    option.name,
                    // As `{v}` writes it, without std's float printer (docs/wasm.md, "Size").
                    crate::compact::display_f64(v)
                )))
            }
            _ => Ok(()),
        },
        Kind::Choice(choices) => match values.text(option) {
            Some(given) if !choices.contains(&given) => {
                let quoted: Vec<String> = choices.iter().map(|c| format!("'{c}'")).collect();
                let (list, none) = match quoted.as_slice() {
                    [a, b] => (format!("{a} or {b}"), "neither"),
                    _ => (format!("one of {}", quoted.join(", ")), "none of them"),
                };
                Err(Error::invalid_options(format!(
                    "{} must be {list} (the value given, {} characters long, is {none})",
                    option.name,
                    given.chars().count()
                )))
            }
            _ => Ok(()),
        },
        // Checked where they are used (`TrustedOrigins::new`).
        Kind::Text | Kind::Origins => Ok(()),
    }
}

/// An integer option's value (checked), or its default.
fn integer(option: &OptionSpec, values: &Values) -> u64 {
    match (option.kind, values.number(option)) {
        (Kind::Integer { .. }, Some(v)) => v as u64,
        (Kind::Integer { default, .. }, None) => default,
        (Kind::Text | Kind::Choice(_) | Kind::Origins, _) => 0,
    }
}

/// `INVALID_OPTIONS` for another vendor's option, saying whose it is and what this vendor takes
/// instead (and so why it has no use for it).
fn not_this_vendors(name: &str, spec: &Spec) -> Error {
    let owners: Vec<&str> = provider::specs()
        .iter()
        .filter(|s| s.option(name).is_some())
        .map(|s| s.name)
        .collect();
    let own: Vec<&str> = spec.options.iter().map(|o| o.name).collect();
    let own = match own.as_slice() {
        [] => "it takes no options of its own".to_owned(),
        _ => format!("its options: {}", own.join(", ")),
    };
    Error::invalid_options(format!(
        "{name} is an option of {}, not of {}: {} ({own})",
        owners.join(" and "),
        spec.name,
        spec.about
    ))
}

/// Every credential set in the environment variables any vendor reads, so that a message can be
/// scrubbed of them even when one was put into another option.
fn secrets_in_env(env: &dyn Fn(&str) -> Option<String>) -> Vec<SecretString> {
    declarations()
        .filter(|(_, o)| o.secret)
        .filter_map(|(_, o)| o.env)
        .filter_map(|var| env(var).filter(|v| !v.is_empty()))
        .map(SecretString::from)
        .collect()
}

// ------------------------------------------------------------------ the schema, for the bindings

/// One option as the bindings export it (`optionSchema()` in JS): enough for `lib/options.js` to
/// check types, for the type-drift test to compare `lib/index.d.ts`, and for docs.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OptionEntry {
    pub name: &'static str,
    /// `"text"`, `"integer"`, `"choice"` or `"origins"`.
    pub kind: &'static str,
    /// The JS type: `"string"`, `"number"` or `"string[]"`.
    pub js_type: &'static str,
    /// The allowed values of a choice (for `provider`: the registered ids).
    pub values: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// The vendor that declares it; `None`: every vendor takes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<&'static str>,
    pub secret: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env: Option<&'static str>,
    pub client_only: bool,
    /// Part of the credentials: a function may give it at exchange time.
    pub credential: bool,
    pub doc: &'static str,
}

/// A session field a vendor declares.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldEntry {
    pub name: &'static str,
    /// The JS type: `"string"` or `"string[]"`.
    pub js_type: &'static str,
    pub doc: &'static str,
}

/// A registered vendor.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderEntry {
    pub id: &'static str,
    pub name: &'static str,
    pub about: &'static str,
    pub fields: Vec<FieldEntry>,
}

/// Every option and vendor, from their declarations.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OptionSchema {
    pub options: Vec<OptionEntry>,
    pub providers: Vec<ProviderEntry>,
}

/// The schema of every declared option and every registered vendor.
pub fn option_schema() -> OptionSchema {
    let options = declarations()
        .map(|(spec, o)| {
            let (kind, values, min, max) = match o.kind {
                Kind::Text if o.name == PROVIDER.name => (
                    "choice",
                    provider::specs().iter().map(|s| s.id).collect(),
                    None,
                    None,
                ),
                Kind::Text => ("text", Vec::new(), None, None),
                Kind::Integer { min, max, .. } => ("integer", Vec::new(), Some(min), Some(max)),
                Kind::Choice(values) => ("choice", values.to_vec(), None, None),
                Kind::Origins => ("origins", Vec::new(), None, None),
            };
            OptionEntry {
                name: o.name,
                kind,
                js_type: o.js_type(),
                values,
                min,
                max,
                default: o.default_text(),
                provider: spec.map(|s| s.id),
                secret: o.secret,
                env: o.env,
                client_only: o.client_only,
                credential: o.credential,
                doc: o.doc,
            }
        })
        .collect();
    let providers = provider::specs()
        .iter()
        .map(|s| ProviderEntry {
            id: s.id,
            name: s.name,
            about: s.about,
            fields: s
                .fields
                .iter()
                .map(|f| FieldEntry {
                    name: f.name,
                    js_type: match f.kind {
                        FieldKind::Text | FieldKind::Id => "string",
                        FieldKind::List => "string[]",
                    },
                    doc: f.doc,
                })
                .collect(),
        })
        .collect();
    OptionSchema { options, providers }
}

/// Check a base URL: `https:` only, no embedded credentials, a trailing `/` so that endpoint
/// paths join under it (`…/v2` + `authenticate` → `…/v2/authenticate`).
pub fn parse_base_url(text: &str) -> Result<Url, Error> {
    let too_long = |len: usize| {
        Error::invalid_options(format!(
            "baseUrl is {len} characters long; at most {MAX_BASE_URL_CHARS} are accepted"
        ))
    };
    if text.len() > MAX_BASE_URL_CHARS {
        return Err(too_long(text.chars().count()));
    }
    // The text itself is not repeated: a mistaken value may hold credentials.
    let mut url = Url::parse(text.trim())
        .map_err(|e| Error::invalid_options(format!("baseUrl is not a valid URL ({e})")))?;
    if url.scheme() != "https" {
        // Only a well-known scheme is named: "abc:def" parses with the scheme "abc".
        let scheme = match url.scheme() {
            known @ ("http" | "ws" | "wss" | "ftp" | "file" | "data") => format!("'{known}:'"),
            _ => "another scheme".to_owned(),
        };
        return Err(Error::new(
            ErrorCode::InsecureUrl,
            format!(
                "baseUrl must use https: (got {scheme}); vendor-auth never sends credentials over an unencrypted connection"
            ),
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid_options(
            "baseUrl must not contain credentials (user:password@); pass them as options",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::invalid_options(
            "baseUrl must not have a query or fragment",
        ));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    // Parsing percent-encodes and may lengthen it.
    if url.as_str().len() > MAX_BASE_URL_CHARS {
        return Err(too_long(url.as_str().len()));
    }
    Ok(url)
}

/// Longest `baseUrl` accepted. Vendor base URLs are a few dozen characters; HTTP stacks refuse
/// URLs past 64 KiB (and many servers past 8 KiB), which would otherwise surface only at request
/// time, as a network failure.
pub const MAX_BASE_URL_CHARS: usize = 2048;

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn vendy() -> RawOptions {
        RawOptions::new()
            .with("provider", "vendy")
            .with("accessKey", "ak_example")
            .with("secretKey", "sk_example")
    }

    #[test]
    fn applies_documented_defaults() {
        let o = Options::resolve(vendy(), &no_env).unwrap();
        assert_eq!(o.timeout_ms, 10_000);
        assert_eq!(o.exchange_timeout_ms, 20_000);
        assert_eq!(o.retry.max_retries, 2);
        assert_eq!(o.retry.max_retry_delay_ms, 30_000);
        assert_eq!(o.refresh_window_ms, 300_000);
        assert_eq!(o.provider.id(), "vendy");
        assert_eq!(o.provider.base_url().as_str(), "https://api.vendy.money/");
    }

    #[test]
    fn staging_and_base_url_pick_the_endpoint() {
        let raw = vendy().with("environment", "staging");
        let o = Options::resolve(raw, &no_env).unwrap();
        assert_eq!(
            o.provider.base_url().as_str(),
            "https://api.staging.vendy.money/"
        );
        let raw = vendy().with("baseUrl", "https://127.0.0.1:8443/v2");
        let o = Options::resolve(raw, &no_env).unwrap();
        assert_eq!(o.provider.base_url().as_str(), "https://127.0.0.1:8443/v2/");
    }

    #[test]
    fn a_credential_given_in_the_wrong_option_is_not_quoted_back() {
        let raw = vendy().with("provider", "ak_example"); // the access key, pasted into `provider`
        let e = Options::resolve(raw, &no_env).unwrap_err();
        assert!(!e.message().contains("ak_example"), "{}", e.message());
    }

    #[test]
    fn a_credential_from_the_environment_put_into_another_option_is_not_quoted_back() {
        // `environment: process.env.PUPPETVENDORS_API_KEY`, `provider: process.env.VENDY_SECRET_KEY`
        let env = |name: &str| match name {
            "PUPPETVENDORS_API_KEY" => Some("vk_live_FROM_ENV_123456".to_owned()),
            "VENDY_SECRET_KEY" => Some("vendy-sk-FROM-ENV-98765".to_owned()),
            _ => None,
        };
        let raw = vendy().with("environment", "vk_live_FROM_ENV_123456");
        let e = Options::resolve(raw, &env).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidOptions);
        assert!(!e.message().contains("FROM_ENV"), "{}", e.message());
        assert!(e.message().contains("environment"), "{}", e.message());
        let raw = vendy().with("provider", "vendy-sk-FROM-ENV-98765");
        let e = Options::resolve(raw, &env).unwrap_err();
        assert!(!e.message().contains("FROM-ENV"), "{}", e.message());
        // An unconfigured value is not quoted either (it could be any secret).
        let raw = vendy().with("environment", "hunter2-db-password");
        let e = Options::resolve(raw, &no_env).unwrap_err();
        assert!(!e.message().contains("hunter2"), "{}", e.message());
    }

    #[test]
    fn an_overlong_base_url_is_invalid_before_any_io() {
        let raw = vendy().with(
            "baseUrl",
            format!("https://127.0.0.1:8443/{}", "a".repeat(70_000)),
        );
        let e = Options::resolve(raw, &no_env).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidOptions);
        assert!(e.message().contains("at most 2048"), "{}", e.message());
        // Percent-encoding during parsing counts too.
        let raw = vendy().with(
            "baseUrl",
            format!("https://127.0.0.1:8443/{}", "\u{e9}".repeat(400)),
        );
        let e = Options::resolve(raw, &no_env).unwrap_err();
        assert!(e.message().contains("at most 2048"), "{}", e.message());
        let raw = vendy().with(
            "baseUrl",
            format!("https://127.0.0.1:8443/{}", "a".repeat(2000)),
        );
        assert!(Options::resolve(raw, &no_env).is_ok());
    }

    #[test]
    fn an_unknown_scheme_is_not_quoted() {
        let raw = vendy().with("baseUrl", "secretuser:secretpass");
        let e = Options::resolve(raw, &no_env).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InsecureUrl);
        assert!(!e.message().contains("secretuser"), "{}", e.message());
    }

    #[test]
    fn plain_http_is_refused_as_insecure() {
        let raw = vendy().with("baseUrl", "http://127.0.0.1:8080");
        let e = Options::resolve(raw, &no_env).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InsecureUrl);
        assert!(e.message().contains("https"));
    }

    #[test]
    fn bad_values_are_invalid_options_naming_the_option() {
        type Case = (fn(RawOptions) -> RawOptions, &'static str);
        let cases: Vec<Case> = vec![
            (|r| r.without("provider"), "provider is required"),
            (|r| r.with("provider", "acme-corp"), "unknown provider"),
            (|r| r.with("environment", "dev"), "environment"),
            (|r| r.with("timeoutMs", 0.0), "timeoutMs"),
            (|r| r.with("timeoutMs", 1.5), "timeoutMs"),
            (|r| r.with("exchangeTimeoutMs", 0.0), "exchangeTimeoutMs"),
            (|r| r.with("maxRetries", -1.0), "maxRetries"),
            (|r| r.with("maxRetryDelayMs", f64::NAN), "maxRetryDelayMs"),
            (|r| r.with("caCert", "not pem"), "caCert"),
            (
                |r| {
                    r.with(
                        "caCert",
                        "-----BEGIN PRIVATE KEY-----\nMIGHAgEA\n-----END PRIVATE KEY-----\n",
                    )
                },
                "caCert holds a private key",
            ),
            (|r| r.with("baseUrl", "::"), "not a valid URL"),
            (
                |r| r.with("baseUrl", "https://u:pw@h:99999"),
                "not a valid URL",
            ),
            (|r| r.with("baseUrl", "https://u:p@host"), "credentials"),
            (
                |r| r.with("scheme", "jwt"),
                "scheme must be 'token' or 'basic'",
            ),
            (
                |r| r.with("apiKey", "vk_test_x"),
                "apiKey is an option of PuppetVendors",
            ),
        ];
        for (mutate, needle) in cases {
            let e = Options::resolve(mutate(vendy()), &no_env).unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidOptions, "{needle}");
            assert!(!e.message().contains(":pw@"), "{}", e.message());
            assert!(e.message().contains(needle), "{} !~ {needle}", e.message());
        }
    }

    #[test]
    fn values_are_stored_by_declared_kind_and_never_quoted_when_wrong() {
        let mut raw = RawOptions::new();
        let e = raw
            .set("timeoutMs", OptionInput::Text("300".into()))
            .unwrap_err();
        assert_eq!(
            e.message(),
            "option 'timeoutMs' must be a number, not a string"
        );
        let e = raw
            .set("accessKey", OptionInput::Number(12345.0))
            .unwrap_err();
        assert_eq!(
            e.message(),
            "option 'accessKey' must be a string, not a number"
        );
        let e = raw
            .set("accesKey", OptionInput::Text("x".into()))
            .unwrap_err();
        assert_eq!(e.message(), "unknown option 'accesKey'");
        raw.set("secretKey", OptionInput::Text("sk-hidden-1".into()))
            .unwrap();
        assert!(!format!("{raw:?}").contains("sk-hidden-1"));
        let json = serde_json::json!({ "provider": "vendy", "accessKey": "ak", "secretKey": "sk", "timeoutMs": 5, "baseUrl": null });
        let o = Options::resolve(
            RawOptions::from_json(json.as_object().unwrap()).unwrap(),
            &no_env,
        )
        .unwrap();
        assert_eq!(o.timeout_ms, 5);
        for (json, why) in [
            (
                serde_json::json!({ "acessKey": "x" }),
                "unknown option 'acessKey'",
            ),
            (
                serde_json::json!({ "apiKey": ["x"] }),
                "option 'apiKey' must be a string, not an array",
            ),
            (
                serde_json::json!({ "maxRetries": true }),
                "must be a number, not a boolean",
            ),
        ] {
            let e = RawOptions::from_json(json.as_object().unwrap()).unwrap_err();
            assert!(e.message().contains(why), "{}", e.message());
        }
    }

    #[test]
    fn read_asks_for_each_declared_option_once_by_kind() {
        let mut asked = Vec::new();
        let raw = RawOptions::read(|option| {
            asked.push(option.name);
            Ok(match option.name {
                "provider" => Some("puppetvendors".into()),
                "apiKey" => Some("vk_test_read".into()),
                "maxRetries" => Some(OptionInput::Number(0.0)),
                _ => None,
            })
        })
        .unwrap();
        let mut unique = asked.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), asked.len(), "{asked:?}");
        for name in [
            "provider",
            "timeoutMs",
            "accessKey",
            "scheme",
            "apiKey",
            "shopDomain",
        ] {
            assert!(asked.contains(&name), "{name} not read");
        }
        let o = Options::resolve(raw, &no_env).unwrap();
        assert_eq!((o.provider.id(), o.retry.max_retries), ("puppetvendors", 0));
    }

    #[test]
    fn another_vendors_option_is_refused_saying_whose_and_why() {
        let pv = || {
            RawOptions::new()
                .with("provider", "puppetvendors")
                .with("apiKey", "vk_test_a")
        };
        let e = Options::resolve(pv().with("scheme", "basic"), &no_env).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidOptions);
        let m = e.message();
        assert!(
            m == "scheme is an option of Vendy, not of PuppetVendors: PuppetVendors trades apiKey (and optionally shopDomain) for a JWT, and has no other scheme (its options: apiKey, shopDomain)",
            "{m}"
        );
        // The value is never quoted: a credential may be in the wrong option.
        let e = Options::resolve(pv().with("accessKey", "vendy-ak-QUOTED"), &no_env).unwrap_err();
        assert!(!e.message().contains("QUOTED"), "{}", e.message());
        assert!(
            e.message().contains("accessKey is an option of Vendy"),
            "{}",
            e.message()
        );
    }

    #[test]
    fn every_other_vendors_option_is_refused_in_full() {
        // Messages are capped (scrubbing cuts past 300 characters): none of these may be cut.
        for spec in provider::specs() {
            for other in provider::specs().iter().filter(|o| o.id != spec.id) {
                for option in other
                    .options
                    .iter()
                    .filter(|o| spec.option(o.name).is_none())
                {
                    let message = not_this_vendors(option.name, spec).message().to_owned();
                    let shown = crate::scrub(&message, &[]);
                    assert_eq!(shown, message, "cut: {message}");
                }
            }
        }
    }

    #[test]
    fn the_schema_lists_every_declared_option_and_vendor() {
        let s = option_schema();
        let entry = |name: &str, provider: Option<&str>| {
            s.options
                .iter()
                .find(|o| o.name == name && o.provider == provider)
                .unwrap_or_else(|| panic!("{name}"))
        };
        let p = entry("provider", None);
        assert_eq!((p.kind, p.js_type), ("choice", "string"));
        assert!(p.values.contains(&"vendy") && p.values.contains(&"puppetvendors"));
        let t = entry("timeoutMs", None);
        assert_eq!(
            (t.min, t.max, t.default.as_deref()),
            (Some(1), Some(600_000), Some("10000"))
        );
        assert!(entry("refreshWindowMs", None).client_only);
        let k = entry("accessKey", Some("vendy"));
        assert!(k.secret && k.env == Some("VENDY_ACCESS_KEY"));
        let scheme = entry("scheme", Some("vendy"));
        assert_eq!(
            (scheme.values.clone(), scheme.default.as_deref()),
            (vec!["token", "basic"], Some("token"))
        );
        let shop = entry("shopDomain", Some("puppetvendors"));
        assert!(!shop.secret && shop.env == Some("PUPPETVENDORS_SHOP_DOMAIN"));
        let pv = s
            .providers
            .iter()
            .find(|p| p.id == "puppetvendors")
            .unwrap();
        let fields: Vec<_> = pv.fields.iter().map(|f| (f.name, f.js_type)).collect();
        assert_eq!(
            fields,
            [
                ("scope", "string"),
                ("permissions", "string[]"),
                ("shopDomain", "string"),
                ("mode", "string"),
                ("vendorId", "string")
            ]
        );
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["options"][0]["jsType"], "string");
    }
}
