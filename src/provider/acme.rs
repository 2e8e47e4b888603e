//! Acme: a vendor that exists only in tests (`cfg(test)`). It proves that a vendor is this one
//! file plus its line in the registry: its options (with an environment default and a secret),
//! its session fields, its requests and its answers are declared and read here, and the generic
//! option layer, the exchange state machine and the lifecycle take it from there.
//!
//! An OAuth-style client-credentials exchange: `POST {base}/oauth/token` with JSON
//! `{ grant_type, client_id, client_secret, audience }` answers
//! `{ access_token, expires_in, account_id, scopes }`; tokens travel as `X-Acme-Token`.

use super::{Config, Provider, Spec};
use crate::answer::{lifetime_field, read_fields, token_field};
use crate::expiry::resolve_expiry;
use crate::schema::OptionSpec;
use crate::session::FieldSpec;
use crate::{Error, HttpRequest, Session, Timing, TokenHeader};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};
use url::Url;

const CLIENT_ID: OptionSpec =
    OptionSpec::text("clientId", "Acme client id.").env("ACME_CLIENT_ID");
const CLIENT_SECRET: OptionSpec =
    OptionSpec::secret("clientSecret", "Acme client secret.").env("ACME_CLIENT_SECRET");
const AUDIENCE: OptionSpec = OptionSpec::choice(
    "audience",
    &["orders", "payouts"],
    "Which Acme API the token is for.",
);

pub(super) const SPEC: Spec = Spec {
    id: "acme",
    name: "Acme",
    about: "Acme trades clientId and clientSecret for a token",
    production_url: "https://api.acme.test",
    staging_url: "https://sandbox.acme.test",
    options: &[CLIENT_ID, CLIENT_SECRET, AUDIENCE],
    fields: &[
        FieldSpec::id("accountId", "The Acme account.").in_answer("account_id"),
        FieldSpec::list("scopes", "What the token may do."),
    ],
    build,
};

const HEADER: TokenHeader = TokenHeader::Raw("X-Acme-Token");

#[derive(Debug)]
struct Acme {
    base_url: Url,
    client_id: String,
    client_secret: SecretString,
    audience: &'static str,
}

fn build(config: Config<'_>) -> Result<Box<dyn Provider>, Error> {
    let client_id = config.text(&CLIENT_ID).ok_or_else(|| {
        Error::missing_credentials("Acme needs clientId: pass it as an option or set ACME_CLIENT_ID")
    })?;
    Ok(Box::new(Acme {
        base_url: config.base_url.clone(),
        client_id,
        client_secret: config.required_secret(&CLIENT_SECRET)?,
        audience: config.choice(&AUDIENCE),
    }))
}

impl Provider for Acme {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn base_url(&self) -> &Url {
        &self.base_url
    }

    fn token_header(&self) -> TokenHeader {
        HEADER
    }

    fn credentials_hint(&self) -> &'static str {
        "Check clientId and clientSecret (ACME_CLIENT_ID / ACME_CLIENT_SECRET)."
    }

    fn authenticate_request(&self) -> HttpRequest {
        let url = self
            .base_url
            .join("oauth/token")
            .expect("a fixed relative path joins");
        let body = serde_json::json!({
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self.client_secret.expose_secret(),
            "audience": self.audience,
        });
        let bytes = serde_json::to_vec(&body).expect("plain JSON serializes");
        HttpRequest::post_json(url, bytes).secret_in_body(self.client_secret.clone())
    }

    fn parse_session(&self, body: &Map<String, Value>, timing: &Timing) -> Result<Session, Error> {
        let token = token_field(SPEC.id, body, "access_token")?;
        let stated = lifetime_field(SPEC.id, body, "expires_in", timing)?
            .ok_or_else(|| Error::invalid_response(SPEC.id, "'expires_in' is missing"))?;
        Ok(Session {
            provider: SPEC.id,
            expires_at_ms: resolve_expiry(SPEC.id, stated, token.expose_secret(), timing)?,
            token,
            header: HEADER,
            metadata: read_fields(SPEC.id, SPEC.fields, body)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        option_schema, ErrorCode, Exchange, HttpResponse, Lifecycle, Mode, Options, Plan, RawOptions,
        Step,
    };

    const NOW: u64 = 1_700_000_000_000;
    const SECRET: &str = "acme-cs-FROM-ENV-31337";

    fn env(name: &str) -> Option<String> {
        (name == "ACME_CLIENT_SECRET").then(|| SECRET.to_owned())
    }

    fn acme() -> RawOptions {
        RawOptions::new()
            .with("provider", "acme")
            .with("clientId", "client-7")
    }

    #[test]
    fn its_options_go_through_the_generic_layer_with_their_environment_default() {
        let o = Options::resolve(acme().with("timeoutMs", 5_000.0), &env).unwrap();
        assert_eq!((o.provider.id(), o.timeout_ms), ("acme", 5_000));
        let req = o.provider.authenticate_request();
        assert_eq!(req.url.as_str(), "https://api.acme.test/oauth/token");
        let body: Value = serde_json::from_slice(req.body.expose_secret()).unwrap();
        assert_eq!(body["client_secret"], SECRET);
        assert_eq!(body["audience"], "orders", "the choice's default");
        assert!(!format!("{req:?}").contains(SECRET));
        assert!(o
            .provider
            .secrets()
            .iter()
            .any(|s| s.expose_secret() == SECRET));
        let o = Options::resolve(acme().with("audience", "payouts"), &env).unwrap();
        let body: Value =
            serde_json::from_slice(o.provider.authenticate_request().body.expose_secret())
                .unwrap();
        assert_eq!(body["audience"], "payouts");
    }

    #[test]
    fn its_options_are_checked_and_refused_by_the_generic_layer() {
        let cases = [
            (acme().with("audience", SECRET), &env as &dyn Fn(&str) -> Option<String>, "audience must be 'orders' or 'payouts'"),
            (acme().with("clientSecret", " "), &env, "clientSecret is empty; pass the credential or leave the option out to use ACME_CLIENT_SECRET"),
            (acme().with("apiKey", "vk_test_x"), &env, "apiKey is an option of PuppetVendors, not of Acme"),
            (acme().with("scheme", "basic"), &env, "scheme is an option of Vendy, not of Acme"),
            (
                RawOptions::new().with("provider", "vendy").with("audience", "orders"),
                &env,
                "audience is an option of Acme, not of Vendy: Vendy takes accessKey",
            ),
        ];
        for (raw, env, why) in cases {
            let e = Options::resolve(raw, env).unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidOptions, "{why}");
            assert!(e.message().contains(why), "{} !~ {why}", e.message());
            // Its secret, from its declared environment variable, is never quoted.
            assert!(!e.message().contains("FROM-ENV"), "{}", e.message());
        }
        let e = Options::resolve(acme(), &|_| None).unwrap_err();
        assert!(e.is_missing_credentials());
        assert!(e.message().contains("ACME_CLIENT_SECRET"), "{}", e.message());
    }

    #[test]
    fn the_schema_exports_its_options_and_fields() {
        let s = option_schema();
        let secret = s
            .options
            .iter()
            .find(|o| o.name == "clientSecret")
            .unwrap();
        assert_eq!(
            (secret.provider, secret.secret, secret.env),
            (Some("acme"), true, Some("ACME_CLIENT_SECRET"))
        );
        let provider = s.options.iter().find(|o| o.name == "provider").unwrap();
        assert!(provider.values.contains(&"acme"));
        let acme = s.providers.iter().find(|p| p.id == "acme").unwrap();
        let fields: Vec<_> = acme.fields.iter().map(|f| (f.name, f.js_type)).collect();
        assert_eq!(fields, [("accountId", "string"), ("scopes", "string[]")]);
    }

    #[test]
    fn an_exchange_runs_through_the_state_machine_into_the_lifecycle() {
        let o = Options::resolve(acme(), &env).unwrap();
        let provider = &*o.provider;
        let mut exchange = Exchange::new(Mode::Foreground, o.retry, None, u64::MAX);
        assert_eq!(exchange.start(provider).url.path(), "/oauth/token");
        // A 503 is retried with the same request.
        let step = exchange.on_outcome(provider, Ok(HttpResponse::new(503, "")), &Timing::at(NOW), 0.5);
        let Step::Retry { request, .. } = step else {
            panic!("{step:?}")
        };
        assert_eq!(request.url.path(), "/oauth/token");
        let answer = r#"{"access_token":"acme-token-123456789","expires_in":3600,"account_id":42,"scopes":["read"]}"#;
        let step = exchange.on_outcome(provider, Ok(HttpResponse::new(200, answer)), &Timing::at(NOW), 0.5);
        let Step::Done(session) = step else {
            panic!("{step:?}")
        };
        assert_eq!(session.expires_at_ms, NOW + 3_600_000);
        assert_eq!(session.header.name(), "X-Acme-Token");
        assert_eq!(session.metadata.text("accountId"), Some("42"));
        assert_eq!(session.metadata.list("scopes"), Some(&["read".to_owned()][..]));
        let mut lifecycle = Lifecycle::new(o.refresh_window_ms);
        let times = lifecycle.succeeded(session, NOW);
        assert_eq!(
            lifecycle.plan(NOW + 1),
            Plan::Serve {
                until_ms: times.refresh_at_ms
            }
        );
        // A refusal that echoes the secret: scrubbed, with Acme's hint.
        let mut exchange = Exchange::new(Mode::Foreground, o.retry, None, u64::MAX);
        exchange.start(provider);
        let echo = format!(r#"{{"message":"bad client_secret {SECRET}"}}"#);
        let step = exchange.on_outcome(provider, Ok(HttpResponse::new(401, echo)), &Timing::at(NOW), 0.5);
        let Step::Failed(e) = step else {
            panic!("{step:?}")
        };
        assert_eq!(e.code(), ErrorCode::Unauthorized);
        assert_eq!(e.vendor_message(), Some("bad client_secret [redacted]"));
        assert!(e.message().contains("ACME_CLIENT_SECRET"), "{}", e.message());
    }
}
