//! Vendy: `POST {base}/auth` with `AccessKey`/`SecretKey` headers (or, for legacy accounts,
//! HTTP Basic with the registered e-mail and password); answers `{ token, expiryTime }` where
//! `expiryTime` is an HTTP-date. Tokens travel as `Authorization: Bearer`. No refresh endpoint:
//! a new token means a new exchange.
//!
//! Scheme `'basic'` (Vendy's newest docs): no exchange at all; every API request carries the
//! permanent keys as `Authorization: Basic base64(accessKey:secretKey)`. The provider hands that
//! header out as a session that never expires.

use super::{Config, Provider, Spec};
use crate::answer::{json_type, token_field};
use crate::expiry::{jwt_exp_ms, parse_http_date_ms, resolve_expiry};
use crate::http::header_safe;
use crate::schema::OptionSpec;
use crate::{Error, Header, HttpRequest, Session, SessionMetadata, Timing, TokenHeader};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};
use url::Url;

const ACCESS_KEY: OptionSpec = OptionSpec::secret(
    "accessKey",
    "Vendy access key (the dashboard's Settings > API page); printable ASCII, as it travels in a header.",
)
.env("VENDY_ACCESS_KEY");
const SECRET_KEY: OptionSpec = OptionSpec::secret(
    "secretKey",
    "Vendy secret key; printable ASCII, as it travels in a header.",
)
.env("VENDY_SECRET_KEY");
const USERNAME: OptionSpec = OptionSpec::secret(
    "username",
    "Vendy legacy login: the registered e-mail, sent as HTTP Basic to POST /auth (no ':').",
);
const PASSWORD: OptionSpec =
    OptionSpec::secret("password", "Vendy legacy login: the password.");
const SCHEME: OptionSpec = OptionSpec::choice(
    "scheme",
    &["token", "basic"],
    "How Vendy's keys are used: 'token' trades them for a short-lived JWT sent as Bearer; 'basic' sends the permanent keys themselves on every request as HTTP Basic, with no exchange and no expiry.",
);

pub(super) const SPEC: Spec = Spec {
    id: "vendy",
    name: "Vendy",
    about: "Vendy takes accessKey and secretKey (traded for a JWT, or sent as they are with scheme 'basic'), or a legacy username and password",
    production_url: "https://api.vendy.money",
    staging_url: "https://api.staging.vendy.money",
    options: &[ACCESS_KEY, SECRET_KEY, USERNAME, PASSWORD, SCHEME],
    fields: &[],
    build,
};

#[derive(Debug)]
enum Credentials {
    /// The current scheme: the dashboard's Settings > API keys, traded for a JWT.
    Keys {
        access_key: SecretString,
        secret_key: SecretString,
    },
    /// The legacy scheme: registered e-mail and password as HTTP Basic.
    Password {
        username: SecretString,
        password: SecretString,
    },
    /// Scheme `'basic'`: the keys themselves on every request, as HTTP Basic (base64 of
    /// `accessKey:secretKey`).
    Permanent { basic: SecretString },
}

#[derive(Debug)]
struct Vendy {
    base_url: Url,
    credentials: Credentials,
}

/// base64 of `user:password`, as HTTP Basic carries it.
fn basic(user: &SecretString, password: &SecretString) -> SecretString {
    let pair = format!("{}:{}", user.expose_secret(), password.expose_secret());
    STANDARD.encode(pair).into()
}

fn build(config: Config<'_>) -> Result<Box<dyn Provider>, Error> {
    let permanent = config.choice(&SCHEME) == "basic";
    let legacy = config.given(&USERNAME) || config.given(&PASSWORD);
    let credentials = if legacy {
        if permanent {
            return Err(Error::invalid_options(
                "scheme 'basic' sends accessKey and secretKey on every request; username/password are the legacy login, which trades them for a token (scheme 'token')",
            ));
        }
        if config.given(&ACCESS_KEY) || config.given(&SECRET_KEY) {
            return Err(Error::invalid_options(
                "give Vendy either accessKey/secretKey or username/password (legacy), not both",
            ));
        }
        let username = config.secret(&USERNAME)?;
        let password = config.secret(&PASSWORD)?;
        match (username, password) {
            // HTTP Basic splits user and password at the first ':' (RFC 7617).
            (Some(username), Some(_)) if username.expose_secret().contains(':') => {
                return Err(Error::invalid_options(
                    "username must not contain ':' (HTTP Basic would split the login there); it is the registered e-mail",
                ))
            }
            (Some(username), Some(password)) => Credentials::Password { username, password },
            _ => {
                return Err(Error::invalid_options(
                    "Vendy's legacy login needs both username (the registered e-mail) and password",
                ))
            }
        }
    } else {
        let access = config.secret(&ACCESS_KEY)?;
        let secret = config.secret(&SECRET_KEY)?;
        match (access, secret) {
            (Some(access_key), Some(secret_key)) => {
                header_safe(&access_key, "accessKey (or VENDY_ACCESS_KEY)", "AccessKey")?;
                header_safe(&secret_key, "secretKey (or VENDY_SECRET_KEY)", "SecretKey")?;
                if permanent {
                    if access_key.expose_secret().contains(':') {
                        return Err(Error::invalid_options(
                            "accessKey (or VENDY_ACCESS_KEY) has a ':', which scheme 'basic' cannot send: HTTP Basic splits the key pair at the first ':'",
                        ));
                    }
                    Credentials::Permanent {
                        basic: basic(&access_key, &secret_key),
                    }
                } else {
                    Credentials::Keys {
                        access_key,
                        secret_key,
                    }
                }
            }
            (access, _) => {
                let missing = if access.is_none() {
                    "accessKey"
                } else {
                    "secretKey"
                };
                return Err(Error::missing_credentials(format!(
                    "Vendy needs accessKey and secretKey: {missing} is missing (pass it as an option or set VENDY_ACCESS_KEY / VENDY_SECRET_KEY)"
                )));
            }
        }
    };
    Ok(Box::new(Vendy {
        base_url: config.base_url,
        credentials,
    }))
}

impl Provider for Vendy {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn base_url(&self) -> &Url {
        &self.base_url
    }

    fn token_header(&self) -> TokenHeader {
        match self.credentials {
            Credentials::Permanent { .. } => TokenHeader::Basic,
            Credentials::Keys { .. } | Credentials::Password { .. } => TokenHeader::Bearer,
        }
    }

    fn credentials_hint(&self) -> &'static str {
        match self.credentials {
            Credentials::Keys { .. } => "Check accessKey and secretKey (VENDY_ACCESS_KEY / VENDY_SECRET_KEY) against the dashboard's Settings > API page, and that the account is activated.",
            Credentials::Password { .. } => "Check username (the registered e-mail) and password, and that the account is activated.",
            Credentials::Permanent { .. } => "Check accessKey and secretKey (VENDY_ACCESS_KEY / VENDY_SECRET_KEY): with scheme 'basic' they are sent as they are on every request.",
        }
    }

    /// With scheme `'basic'` no exchange is made; the request describes the credential (the
    /// Basic header) for scrubbing.
    fn authenticate_request(&self) -> HttpRequest {
        let url = self
            .base_url
            .join("auth")
            .expect("a fixed relative path joins");
        let request = HttpRequest::post_json(url, b"{}".to_vec());
        let authorization = |basic: &SecretString| {
            Header::Sensitive("Authorization", TokenHeader::Basic.value(basic))
        };
        match &self.credentials {
            Credentials::Keys {
                access_key,
                secret_key,
            } => request
                .header(Header::Sensitive("AccessKey", access_key.clone()))
                .header(Header::Sensitive("SecretKey", secret_key.clone())),
            Credentials::Password { username, password } => {
                request.header(authorization(&basic(username, password)))
            }
            Credentials::Permanent { basic } => request.header(authorization(basic)),
        }
    }

    fn permanent_session(&self) -> Option<Session> {
        match &self.credentials {
            Credentials::Permanent { basic } => Some(Session {
                provider: SPEC.id,
                token: basic.clone(),
                expires_at_ms: Session::NEVER,
                header: TokenHeader::Basic,
                metadata: SessionMetadata::default(),
            }),
            Credentials::Keys { .. } | Credentials::Password { .. } => None,
        }
    }

    fn parse_session(&self, body: &Map<String, Value>, timing: &Timing) -> Result<Session, Error> {
        let token = token_field(SPEC.id, body, "token")?;
        let stated = match body.get("expiryTime") {
            // An HTTP-date on the vendor's clock.
            Some(Value::String(date)) => {
                Some(timing.to_local(parse_http_date_ms(date).ok_or_else(|| {
                    Error::invalid_response(SPEC.id, "'expiryTime' is not an HTTP-date")
                })?))
            }
            None | Some(Value::Null) => None,
            Some(other) => {
                return Err(Error::invalid_response(
                    SPEC.id,
                    format!(
                        "'expiryTime' is {}, not an HTTP-date string",
                        json_type(other)
                    ),
                ))
            }
        };
        // Vendy's docs and sample disagree on the lifetime, so nothing is assumed: with no
        // expiryTime the JWT's own `exp` must say it.
        let stated = stated
            .or_else(|| jwt_exp_ms(token.expose_secret()).map(|exp| timing.to_local(exp)))
            .ok_or_else(|| {
                Error::invalid_response(SPEC.id, "no 'expiryTime' and the token carries no 'exp'")
            })?;
        let expires_at_ms = resolve_expiry(SPEC.id, stated, token.expose_secret(), timing)?;
        Ok(Session {
            provider: SPEC.id,
            token,
            expires_at_ms,
            header: self.token_header(),
            metadata: SessionMetadata::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expiry::tests::jwt_with_exp;
    use crate::{ErrorCode, HttpResponse, Options, RawOptions};

    const NOW: u64 = 1_688_077_751_000; // 2023-06-29 22:29:11 UTC

    fn provider(
        raw: RawOptions,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Box<dyn Provider>, Error> {
        Options::resolve(raw.with("provider", "vendy"), env).map(|o| o.provider)
    }

    fn keys() -> Box<dyn Provider> {
        provider(
            RawOptions::new()
                .with("accessKey", "AK-1234")
                .with("secretKey", "SK-5678"),
            &|_| None,
        )
        .unwrap()
    }

    #[test]
    fn authenticate_request_sends_key_headers_and_empty_json() {
        let req = keys().authenticate_request();
        assert_eq!(req.method(), "POST");
        assert_eq!(req.url.as_str(), "https://api.vendy.money/auth");
        assert_eq!(req.body.expose_secret(), b"{}");
        let get = |n: &str| {
            req.headers
                .iter()
                .find(|h| h.name() == n)
                .map(|h| (h.value().to_owned(), h.is_sensitive()))
        };
        assert_eq!(get("AccessKey"), Some(("AK-1234".into(), true)));
        assert_eq!(get("SecretKey"), Some(("SK-5678".into(), true)));
        assert_eq!(
            get("content-type"),
            Some(("application/json".into(), false))
        );
    }

    #[test]
    fn legacy_login_is_http_basic() {
        let p = provider(
            RawOptions::new()
                .with("username", "merchant@example.com")
                .with("password", "pw"),
            &|_| None,
        )
        .unwrap();
        let req = p.authenticate_request();
        let auth = req
            .headers
            .iter()
            .find(|h| h.name() == "Authorization")
            .unwrap();
        assert_eq!(
            auth.value(),
            format!("Basic {}", STANDARD.encode("merchant@example.com:pw"))
        );
    }

    #[test]
    fn an_echoed_basic_credential_is_scrubbed_in_every_form() {
        let p = provider(
            RawOptions::new()
                .with("username", "merchant@example.com")
                .with("password", "pw-Secret-42"),
            &|_| None,
        )
        .unwrap();
        let b64 = STANDARD.encode("merchant@example.com:pw-Secret-42");
        for echo in [
            format!("got Authorization: Basic {b64}"),
            format!("got {}", b64.replace('=', "%3D")),
            "got merchant%40example.com%3Apw-Secret-42".to_owned(),
        ] {
            let body = serde_json::json!({ "message": echo }).to_string();
            let e = p
                .parse_response(&HttpResponse::new(401, body), &Timing::at(NOW))
                .unwrap_err();
            let shown = format!("{} | {:?}", e.message(), e.vendor_message());
            for leak in [b64.trim_end_matches('='), "pw-Secret-42", "merchant"] {
                assert!(!shown.contains(leak), "{leak} in {shown}");
            }
            assert!(shown.contains("[redacted]"), "{shown}");
        }
    }

    #[test]
    fn the_legacy_login_refuses_empty_values_and_a_colon_in_the_username() {
        for (username, password, why) in [
            ("", "pw", "username is empty"),
            ("merchant@example.com", "", "password is empty"),
            ("merchant@example.com", "   ", "password is empty"),
            ("a:b@example.com", "pw", "must not contain ':'"),
        ] {
            let e = provider(
                RawOptions::new()
                    .with("username", username)
                    .with("password", password),
                &|_| None,
            )
            .unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidOptions);
            assert!(e.message().contains(why), "{}", e.message());
        }
    }

    #[test]
    fn keys_that_cannot_travel_in_a_header_are_refused_before_any_request() {
        let env = |name: &str| (name == "VENDY_SECRET_KEY").then(|| "SK-caf\u{e9}".to_owned());
        let e = provider(
            RawOptions::new().with("accessKey", "AK-1234"),
            &env,
        )
        .unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidOptions);
        assert!(
            e.message().contains("VENDY_SECRET_KEY") && e.message().contains("non-ASCII"),
            "{}",
            e.message()
        );
        // A legacy login travels base64-encoded, so a UTF-8 password is fine there.
        assert!(provider(
            RawOptions::new()
                .with("username", "m\u{fc}ller@example.com")
                .with("password", "p\u{e4}ss"),
            &|_| None,
        )
        .is_ok());
    }

    #[test]
    fn credentials_default_from_the_environment() {
        let env = |name: &str| match name {
            "VENDY_ACCESS_KEY" => Some("AK-env".to_owned()),
            "VENDY_SECRET_KEY" => Some("SK-env".to_owned()),
            _ => None,
        };
        let req = provider(RawOptions::new(), &env)
            .unwrap()
            .authenticate_request();
        assert_eq!(req.headers[2].value(), "AK-env");
        let e = provider(RawOptions::new(), &|_| None).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidOptions);
        assert!(
            e.message().contains("accessKey is missing"),
            "{}",
            e.message()
        );
    }

    #[test]
    fn parses_the_documented_answer_taking_the_earlier_expiry() {
        let token = jwt_with_exp(1_688_682_551);
        let body = format!(r#"{{"token":"{token}","expiryTime":"Thu, 06 Jul 2023 22:35:51 GMT"}}"#);
        let s = keys()
            .parse_response(&HttpResponse::new(200, body), &Timing::at(NOW))
            .unwrap();
        assert_eq!(s.expires_at_ms, 1_688_682_551_000);
        assert_eq!(s.header.name(), "Authorization");
        assert_eq!(s.header_value().expose_secret(), format!("Bearer {token}"));
    }

    #[test]
    fn answer_problems_are_invalid_responses_that_say_what_was_wrong() {
        let p = keys();
        for (body, why) in [
            ("not json", "not JSON"),
            ("[]", "JSON an array"),
            (
                r#"{"expiryTime":"Thu, 06 Jul 2023 22:35:51 GMT"}"#,
                "'token' is missing",
            ),
            (
                r#"{"token":"opaque","expiryTime":"tomorrow"}"#,
                "not an HTTP-date",
            ),
            (r#"{"token":"opaque","expiryTime":1}"#, "a number"),
            (r#"{"token":"opaque"}"#, "no 'expiryTime'"),
            (
                r#"{"token":"opaque","expiryTime":"Thu, 06 Jul 2000 22:35:51 GMT"}"#,
                "already expired",
            ),
        ] {
            let e = p
                .parse_response(&HttpResponse::new(200, body), &Timing::at(NOW))
                .unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidResponse, "{body}");
            assert!(e.message().contains(why), "{} !~ {why}", e.message());
        }
    }

    #[test]
    fn documented_errors_map_to_codes_with_the_vendor_message() {
        let p = keys();
        let e = p
            .parse_response(
                &HttpResponse::new(401, r#"{"message":"incorrect password"}"#),
                &Timing::at(NOW),
            )
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::Unauthorized);
        assert_eq!(e.status(), Some(401));
        assert_eq!(e.vendor_message(), Some("incorrect password"));
        assert!(e.message().contains("VENDY_ACCESS_KEY"), "{}", e.message());
        let e = p
            .parse_response(
                &HttpResponse::new(400, r#"{"message":"data invalid"}"#),
                &Timing::at(NOW),
            )
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::BadRequest);
    }

    #[test]
    fn an_echoed_secret_is_scrubbed_from_the_vendor_message() {
        let e = keys()
            .parse_response(
                &HttpResponse::new(401, r#"{"message":"bad key SK-5678"}"#),
                &Timing::at(NOW),
            )
            .unwrap_err();
        assert_eq!(e.vendor_message(), Some("bad key [redacted]"));
        assert!(!e.message().contains("SK-5678"));
    }

    fn basic(env: &dyn Fn(&str) -> Option<String>) -> Result<Box<dyn Provider>, Error> {
        provider(
            RawOptions::new()
                .with("scheme", "basic")
                .with("accessKey", "AK-1234")
                .with("secretKey", "SK-5678:x"),
            env,
        )
    }

    #[test]
    fn scheme_basic_is_a_permanent_basic_header_with_no_exchange() {
        let p = basic(&|_| None).unwrap();
        let s = p.permanent_session().expect("a permanent session");
        let b64 = STANDARD.encode("AK-1234:SK-5678:x");
        assert_eq!(s.header.name(), "Authorization");
        assert_eq!(s.header_value().expose_secret(), format!("Basic {b64}"));
        assert_eq!(s.expires(), None);
        assert_eq!(s.preview(), "…");
        assert!(s.metadata.is_empty());
        // Every form of the keys is scrubbed from what a vendor could echo.
        let secrets: Vec<String> = p
            .secrets()
            .iter()
            .map(|s| s.expose_secret().to_owned())
            .collect();
        for form in [b64.as_str(), "AK-1234", "SK-5678:x", "AK-1234:SK-5678:x"] {
            assert!(secrets.iter().any(|s| s == form), "{form} not in {secrets:?}");
        }
        // The token scheme (the default) has none.
        assert!(keys().permanent_session().is_none());
        assert_eq!(keys().token_header(), TokenHeader::Bearer);
    }

    #[test]
    fn a_client_lifecycle_serves_scheme_basic_for_ever_from_the_start() {
        use crate::Plan;
        let options = |scheme: &str| {
            let raw = RawOptions::new()
                .with("provider", "vendy")
                .with("scheme", scheme)
                .with("accessKey", "AK-1234")
                .with("secretKey", "SK-5678");
            Options::resolve(raw, &|_| None).unwrap()
        };
        let lifecycle = options("basic").new_lifecycle();
        assert_eq!(lifecycle.plan(NOW), Plan::Serve { until_ms: u64::MAX });
        assert!(lifecycle.permanent_session().is_some());
        assert_eq!(options("token").new_lifecycle().plan(NOW), Plan::Exchange);
    }

    #[test]
    fn scheme_basic_reads_the_keys_from_the_environment_and_defers_when_missing() {
        let env = |name: &str| match name {
            "VENDY_ACCESS_KEY" => Some("AK-env".to_owned()),
            "VENDY_SECRET_KEY" => Some("SK-env".to_owned()),
            _ => None,
        };
        let raw = || RawOptions::new().with("scheme", "basic");
        let s = provider(raw(), &env).unwrap().permanent_session().unwrap();
        assert_eq!(s.token.expose_secret(), STANDARD.encode("AK-env:SK-env"));
        let e = provider(raw(), &|_| None).unwrap_err();
        assert!(e.is_missing_credentials(), "{e:?}");
        assert!(e.message().contains("VENDY_ACCESS_KEY"), "{}", e.message());
    }

    #[test]
    fn scheme_basic_refuses_the_legacy_login_and_a_colon_in_the_access_key() {
        for (raw, why) in [
            (
                RawOptions::new()
                    .with("scheme", "basic")
                    .with("username", "m@example.com")
                    .with("password", "pw"),
                "username/password are the legacy login",
            ),
            (
                RawOptions::new()
                    .with("scheme", "basic")
                    .with("accessKey", "AK:1")
                    .with("secretKey", "SK"),
                "has a ':'",
            ),
        ] {
            let e = provider(raw, &|_| None).unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidOptions);
            assert!(e.message().contains(why), "{}", e.message());
            assert!(!e.message().contains("AK:1"), "{}", e.message());
        }
    }
}
