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
#[derive(Debug, Default, Clone)]
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
        // Messages never quote an option value that could be a credential; as a second line,
        // every credential known here (options and the environment alike) is scrubbed from them.
        let mut secrets: Vec<SecretString> = [
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
        secrets.extend(provider::credentials_in_env(env));
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
                // The value is not quoted: it may be a credential put into the wrong option.
                return Err(Error::invalid_options(format!(
                    "environment must be 'production' or 'staging' (the value given, {} characters long, is neither)",
                    other.chars().count()
                )));
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
        if let Some(pem) = &raw.ca_cert {
            crate::pem::check_ca_cert(pem)?;
        }
        let ca_cert = raw.ca_cert.clone();
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

fn integer(name: &str, value: Option<f64>, min: u64, max: u64, default: u64) -> Result<u64, Error> {
    let Some(v) = value else { return Ok(default) };
    if v.fract() != 0.0 || !(min as f64..=max as f64).contains(&v) {
        return Err(Error::invalid_options(format!(
            "{name} must be a whole number from {min} to {max}, not {v}"
        )));
    }
    Ok(v as u64)
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
    fn a_credential_from_the_environment_put_into_another_option_is_not_quoted_back() {
        // `environment: process.env.PUPPETVENDORS_API_KEY`, `provider: process.env.VENDY_SECRET_KEY`
        let env = |name: &str| match name {
            "PUPPETVENDORS_API_KEY" => Some("vk_live_FROM_ENV_123456".to_owned()),
            "VENDY_SECRET_KEY" => Some("vendy-sk-FROM-ENV-98765".to_owned()),
            _ => None,
        };
        let mut raw = vendy();
        raw.environment = Some("vk_live_FROM_ENV_123456".into());
        let e = Options::resolve(raw, &env).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidOptions);
        assert!(!e.message().contains("FROM_ENV"), "{}", e.message());
        assert!(e.message().contains("environment"), "{}", e.message());
        let mut raw = vendy();
        raw.provider = Some("vendy-sk-FROM-ENV-98765".into());
        let e = Options::resolve(raw, &env).unwrap_err();
        assert!(!e.message().contains("FROM-ENV"), "{}", e.message());
        // An unconfigured value is not quoted either (it could be any secret).
        let mut raw = vendy();
        raw.environment = Some("hunter2-db-password".into());
        let e = Options::resolve(raw, &no_env).unwrap_err();
        assert!(!e.message().contains("hunter2"), "{}", e.message());
    }

    #[test]
    fn an_overlong_base_url_is_invalid_before_any_io() {
        let mut raw = vendy();
        raw.base_url = Some(format!("https://127.0.0.1:8443/{}", "a".repeat(70_000)));
        let e = Options::resolve(raw, &no_env).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidOptions);
        assert!(e.message().contains("at most 2048"), "{}", e.message());
        // Percent-encoding during parsing counts too.
        let mut raw = vendy();
        raw.base_url = Some(format!("https://127.0.0.1:8443/{}", "\u{e9}".repeat(400)));
        let e = Options::resolve(raw, &no_env).unwrap_err();
        assert!(e.message().contains("at most 2048"), "{}", e.message());
        let mut raw = vendy();
        raw.base_url = Some(format!("https://127.0.0.1:8443/{}", "a".repeat(2000)));
        assert!(Options::resolve(raw, &no_env).is_ok());
    }

    #[test]
    fn an_unknown_scheme_is_not_quoted() {
        let mut raw = vendy();
        raw.base_url = Some("secretuser:secretpass".into());
        let e = Options::resolve(raw, &no_env).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InsecureUrl);
        assert!(!e.message().contains("secretuser"), "{}", e.message());
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
            (|r| r.provider = Some("acme".into()), "unknown provider"),
            (|r| r.environment = Some("dev".into()), "environment"),
            (|r| r.timeout_ms = Some(0.0), "timeoutMs"),
            (|r| r.timeout_ms = Some(1.5), "timeoutMs"),
            (|r| r.exchange_timeout_ms = Some(0.0), "exchangeTimeoutMs"),
            (|r| r.max_retries = Some(-1.0), "maxRetries"),
            (|r| r.max_retry_delay_ms = Some(f64::NAN), "maxRetryDelayMs"),
            (|r| r.ca_cert = Some("not pem".into()), "caCert"),
            (
                |r| {
                    r.ca_cert = Some(
                        "-----BEGIN PRIVATE KEY-----\nMIGHAgEA\n-----END PRIVATE KEY-----\n".into(),
                    )
                },
                "caCert holds a private key",
            ),
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
