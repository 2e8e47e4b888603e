//! Options as the user gave them ([`RawOptions`]) and as the library uses them ([`Options`]):
//! validated, defaults applied, credentials resolved from the environment, provider built.
//! Everything here runs before any I/O, so a bad option never costs a request.

use crate::provider::{self, Provider};
use crate::{Error, ErrorCode, RetryPolicy};
use secrecy::SecretString;
use url::Url;

/// Option names the JS API accepts (camelCase, as users write them).
pub const KNOWN_OPTIONS: &[&str] = &[
    "provider",
    "accessKey",
    "secretKey",
    "username",
    "password",
    "apiKey",
    "shopDomain",
    "environment",
    "baseUrl",
    "caCert",
    "timeoutMs",
    "exchangeTimeoutMs",
    "maxRetries",
    "maxRetryDelayMs",
    "refreshWindowMs",
];

/// Options as received. Credentials are secrets from the moment they exist in Rust.
#[derive(Debug, Default)]
pub struct RawOptions {
    pub provider: Option<String>,
    pub access_key: Option<SecretString>,
    pub secret_key: Option<SecretString>,
    pub username: Option<SecretString>,
    pub password: Option<SecretString>,
    pub api_key: Option<SecretString>,
    pub shop_domain: Option<String>,
    pub environment: Option<String>,
    pub base_url: Option<String>,
    pub ca_cert: Option<String>,
    pub timeout_ms: Option<f64>,
    pub exchange_timeout_ms: Option<f64>,
    pub max_retries: Option<f64>,
    pub max_retry_delay_ms: Option<f64>,
    pub refresh_window_ms: Option<f64>,
}

/// Which of a vendor's documented deployments to use when no `baseUrl` is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Production,
    Staging,
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
}

impl Options {
    pub const DEFAULT_TIMEOUT_MS: u64 = 10_000;
    /// Two stalled attempts at the default `timeoutMs`, and well inside the ~30 s that load
    /// balancers and API gateways give the request that is waiting for the token.
    pub const DEFAULT_EXCHANGE_TIMEOUT_MS: u64 = 20_000;
    pub const DEFAULT_REFRESH_WINDOW_MS: u64 = 5 * 60 * 1000;

    /// Validate `raw`, reading unset credentials through `env` (a lookup of environment
    /// variables; injected so that the core reads no process state of its own).
    pub fn resolve(raw: RawOptions, env: &dyn Fn(&str) -> Option<String>) -> Result<Self, Error> {
        // Messages may quote a mistaken value (an unknown provider name, say); never a credential
        // put in the wrong option.
        let secrets: Vec<SecretString> = [
            &raw.access_key,
            &raw.secret_key,
            &raw.username,
            &raw.password,
            &raw.api_key,
        ]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
        Self::resolve_unscrubbed(raw, env)
            .map_err(|e| e.scrubbed(&secrets.iter().collect::<Vec<_>>()))
    }

    fn resolve_unscrubbed(
        raw: RawOptions,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, Error> {
        let environment = match raw.environment.as_deref() {
            None | Some("production") => Environment::Production,
            Some("staging") => Environment::Staging,
            Some(other) => {
                return Err(Error::invalid_options(format!(
                    "environment must be 'production' or 'staging', not '{}'",
                    printable(other)
                )))
            }
        };
        let Some(name) = raw.provider.as_deref() else {
            return Err(Error::invalid_options(format!(
                "provider is required: one of {}",
                provider::known_ids()
            )));
        };
        let spec = provider::find(name)?;
        let base_url = match raw.base_url.as_deref() {
            Some(url) => parse_base_url(url)?,
            None => parse_base_url(spec.base_url(environment))?,
        };
        let ca_cert = match raw.ca_cert.clone() {
            Some(pem) if !pem.contains("-----BEGIN CERTIFICATE-----") => {
                return Err(Error::invalid_options(
                    "caCert must be PEM text containing at least one '-----BEGIN CERTIFICATE-----' block",
                ))
            }
            other => other,
        };
        let timeout_ms = integer(
            "timeoutMs",
            raw.timeout_ms,
            1,
            600_000,
            Self::DEFAULT_TIMEOUT_MS,
        )?;
        let exchange_timeout_ms = integer(
            "exchangeTimeoutMs",
            raw.exchange_timeout_ms,
            1,
            3_600_000,
            Self::DEFAULT_EXCHANGE_TIMEOUT_MS,
        )?;
        let max_retries = integer(
            "maxRetries",
            raw.max_retries,
            0,
            10,
            RetryPolicy::DEFAULT_MAX_RETRIES.into(),
        )?;
        let max_retry_delay_ms = integer(
            "maxRetryDelayMs",
            raw.max_retry_delay_ms,
            0,
            3_600_000,
            RetryPolicy::DEFAULT_MAX_RETRY_DELAY_MS,
        )?;
        let refresh_window_ms = integer(
            "refreshWindowMs",
            raw.refresh_window_ms,
            0,
            24 * 3_600_000,
            Self::DEFAULT_REFRESH_WINDOW_MS,
        )?;
        let provider = (spec.build)(provider::Config {
            base_url,
            raw: &raw,
            env,
        })?;
        Ok(Self {
            provider,
            timeout_ms,
            exchange_timeout_ms,
            retry: RetryPolicy::new(max_retries as u32, max_retry_delay_ms),
            ca_cert,
            refresh_window_ms,
        })
    }
}

/// Check a base URL: `https:` only, no embedded credentials, a trailing `/` so that endpoint
/// paths join under it (`…/v2` + `authenticate` → `…/v2/authenticate`).
pub fn parse_base_url(text: &str) -> Result<Url, Error> {
    // The text itself is not repeated: a mistaken value may hold credentials.
    let mut url = Url::parse(text.trim())
        .map_err(|e| Error::invalid_options(format!("baseUrl is not a valid URL ({e})")))?;
    if url.scheme() != "https" {
        return Err(Error::new(
            ErrorCode::InsecureUrl,
            format!(
                "baseUrl must use https: (got '{}:'); vendor-auth never sends credentials over an unencrypted connection",
                url.scheme()
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
    Ok(url)
}

fn integer(name: &str, value: Option<f64>, min: u64, max: u64, default: u64) -> Result<u64, Error> {
    let Some(v) = value else { return Ok(default) };
    if v.fract() != 0.0 || !(min as f64..=max as f64).contains(&v) {
        return Err(Error::invalid_options(format!(
            "{name} must be a whole number from {min} to {max}, not {v}"
        )));
    }
    Ok(v as u64)
}

/// A user-supplied non-secret value, shortened and stripped of control characters for messages.
pub(crate) fn printable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn vendy() -> RawOptions {
        RawOptions {
            provider: Some("vendy".into()),
            access_key: Some("ak_example".into()),
            secret_key: Some("sk_example".into()),
            ..Default::default()
        }
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
        let mut raw = vendy();
        raw.environment = Some("staging".into());
        let o = Options::resolve(raw, &no_env).unwrap();
        assert_eq!(
            o.provider.base_url().as_str(),
            "https://api.staging.vendy.money/"
        );
        let mut raw = vendy();
        raw.base_url = Some("https://127.0.0.1:8443/v2".into());
        let o = Options::resolve(raw, &no_env).unwrap();
        assert_eq!(o.provider.base_url().as_str(), "https://127.0.0.1:8443/v2/");
    }

    #[test]
    fn a_credential_given_in_the_wrong_option_is_not_quoted_back() {
        let mut raw = vendy();
        raw.provider = Some("ak_example".into()); // the access key, pasted into `provider`
        let e = Options::resolve(raw, &no_env).unwrap_err();
        assert!(!e.message().contains("ak_example"), "{}", e.message());
    }

    #[test]
    fn plain_http_is_refused_as_insecure() {
        let mut raw = vendy();
        raw.base_url = Some("http://127.0.0.1:8080".into());
        let e = Options::resolve(raw, &no_env).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InsecureUrl);
        assert!(e.message().contains("https"));
    }

    #[test]
    fn bad_values_are_invalid_options_naming_the_option() {
        type Case = (fn(&mut RawOptions), &'static str);
        let cases: Vec<Case> = vec![
            (|r| r.provider = None, "provider is required"),
            (
                |r| r.provider = Some("acme".into()),
                "unknown provider 'acme'",
            ),
            (|r| r.environment = Some("dev".into()), "environment"),
            (|r| r.timeout_ms = Some(0.0), "timeoutMs"),
            (|r| r.timeout_ms = Some(1.5), "timeoutMs"),
            (|r| r.exchange_timeout_ms = Some(0.0), "exchangeTimeoutMs"),
            (|r| r.max_retries = Some(-1.0), "maxRetries"),
            (|r| r.max_retry_delay_ms = Some(f64::NAN), "maxRetryDelayMs"),
            (|r| r.ca_cert = Some("not pem".into()), "caCert"),
            (|r| r.base_url = Some("::".into()), "not a valid URL"),
            (
                |r| r.base_url = Some("https://u:pw@h:99999".into()),
                "not a valid URL",
            ),
            (
                |r| r.base_url = Some("https://u:p@host".into()),
                "credentials",
            ),
        ];
        for (mutate, needle) in cases {
            let mut raw = vendy();
            mutate(&mut raw);
            let e = Options::resolve(raw, &no_env).unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidOptions, "{needle}");
            assert!(!e.message().contains(":pw@"), "{}", e.message());
            assert!(e.message().contains(needle), "{} !~ {needle}", e.message());
        }
    }
}
