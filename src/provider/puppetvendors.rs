//! PuppetVendors (V2, vendor scope): `POST {base}/authenticate` with JSON `{ apiKey, shopDomain? }`
//! answers `{ success, data: { token, expiresIn, scope, permissions, shopDomain, mode, vendorId } }`;
//! `POST {base}/refresh-token` with `x-access-token` trades a still-valid token for a new one.
//! Tokens travel as `x-access-token: <token>`.

use super::{Config, Provider, Spec};
use crate::answer::{json_type, lifetime_field, read_fields, token_field};
use crate::expiry::{jwt_exp_ms, resolve_expiry};
use crate::schema::OptionSpec;
use crate::session::FieldSpec;
use crate::{Error, Header, HttpRequest, Session, Timing, TokenHeader};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};
use url::Url;

const API_KEY: OptionSpec = OptionSpec::secret(
    "apiKey",
    "PuppetVendors vendor key ('vk_live_…' or 'vk_test_…').",
)
.env("PUPPETVENDORS_API_KEY");
const SHOP_DOMAIN: OptionSpec = OptionSpec::text(
    "shopDomain",
    "PuppetVendors shop, for keys valid across several shops (a host name such as 'my-store.myshopify.com').",
)
.env("PUPPETVENDORS_SHOP_DOMAIN")
.credential();

pub(super) const SPEC: Spec = Spec {
    id: "puppetvendors",
    name: "PuppetVendors",
    about:
        "PuppetVendors trades apiKey (and optionally shopDomain) for a JWT, and has no other scheme",
    production_url: "https://api.puppetvendors.com/v2",
    staging_url: "https://staging-api.puppetvendors.com",
    options: &[API_KEY, SHOP_DOMAIN],
    fields: &[
        FieldSpec::text("scope", "The token's scope ('vendor')."),
        FieldSpec::list("permissions", "What the key may do, e.g. 'orders:read'."),
        FieldSpec::text("shopDomain", "The shop the token is for."),
        FieldSpec::text("mode", "'live' or 'test', from the key."),
        FieldSpec::id("vendorId", "The vendor the token acts as."),
    ],
    build,
};

const HEADER: TokenHeader = TokenHeader::Raw("x-access-token");

#[derive(Debug)]
struct PuppetVendors {
    base_url: Url,
    api_key: SecretString,
    shop_domain: Option<String>,
}

fn build(config: Config<'_>) -> Result<Box<dyn Provider>, Error> {
    let api_key = config.required_secret(&API_KEY)?;
    if !api_key.expose_secret().starts_with("vk_") {
        return Err(Error::invalid_options(format!(
            "apiKey must be a PuppetVendors vendor key starting with 'vk_' (the value given, {} characters long, does not)",
            api_key.expose_secret().chars().count()
        )));
    }
    let shop_domain = config.text(&SHOP_DOMAIN);
    if let Some(domain) = &shop_domain {
        let ok = !domain.is_empty()
            && domain.len() <= 253
            && domain
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
        if !ok {
            return Err(Error::invalid_options(
                "shopDomain must be a host name such as 'my-store.myshopify.com'",
            ));
        }
    }
    Ok(Box::new(PuppetVendors {
        base_url: config.base_url,
        api_key,
        shop_domain,
    }))
}

impl Provider for PuppetVendors {
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
        "Check apiKey (PUPPETVENDORS_API_KEY): it must not be revoked, the shop must be active, and shopDomain, if given, must be one the key is valid for."
    }

    fn authenticate_request(&self) -> HttpRequest {
        let url = self
            .base_url
            .join("authenticate")
            .expect("a fixed relative path joins");
        let mut body = serde_json::Map::new();
        body.insert("apiKey".into(), self.api_key.expose_secret().into());
        if let Some(domain) = &self.shop_domain {
            body.insert("shopDomain".into(), domain.clone().into());
        }
        let bytes = serde_json::to_vec(&body).expect("a map of strings serializes");
        HttpRequest::post_json(url, bytes).secret_in_body(self.api_key.clone())
    }

    fn refresh_request(&self, current: &Session) -> Option<HttpRequest> {
        let url = self
            .base_url
            .join("refresh-token")
            .expect("a fixed relative path joins");
        let request = HttpRequest::post_json(url, b"{}".to_vec())
            .header(Header::Sensitive(HEADER.name(), current.token.clone()));
        Some(request)
    }

    fn parse_session(&self, body: &Map<String, Value>, timing: &Timing) -> Result<Session, Error> {
        if body.get("success") == Some(&Value::Bool(false)) {
            return Err(Error::invalid_response(
                SPEC.id,
                "a 2xx answer says success: false",
            ));
        }
        let data = match body.get("data") {
            Some(Value::Object(data)) => data,
            None | Some(Value::Null) => {
                return Err(Error::invalid_response(SPEC.id, "'data' is missing"))
            }
            Some(other) => {
                return Err(Error::invalid_response(
                    SPEC.id,
                    format!("'data' is {}, not an object", json_type(other)),
                ))
            }
        };
        let token = token_field(SPEC.id, data, "token")?;
        let stated = lifetime_field(SPEC.id, data, "expiresIn", timing)?;
        let stated = stated
            .or_else(|| jwt_exp_ms(token.expose_secret()).map(|exp| timing.to_local(exp)))
            .ok_or_else(|| {
                Error::invalid_response(SPEC.id, "no 'expiresIn' and the token carries no 'exp'")
            })?;
        let expires_at_ms = resolve_expiry(SPEC.id, stated, token.expose_secret(), timing)?;
        Ok(Session {
            provider: SPEC.id,
            token,
            expires_at_ms,
            header: HEADER,
            metadata: read_fields(SPEC.id, SPEC.fields, data)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expiry::tests::jwt_with_exp;
    use crate::{ErrorCode, HttpResponse, Options, RawOptions};

    const NOW: u64 = 1_700_000_000_000;

    fn provider(api_key: &str, shop: Option<&str>) -> Result<Box<dyn Provider>, Error> {
        let raw = RawOptions::new()
            .with("provider", "puppetvendors")
            .with("apiKey", api_key);
        let raw = match shop {
            Some(shop) => raw.with("shopDomain", shop),
            None => raw,
        };
        Options::resolve(raw, &|_| None).map(|o| o.provider)
    }

    #[test]
    fn authenticate_request_is_json_with_the_key_and_optional_shop() {
        let req = provider("vk_test_abc", None)
            .unwrap()
            .authenticate_request();
        assert_eq!(
            req.url.as_str(),
            "https://api.puppetvendors.com/v2/authenticate"
        );
        assert_eq!(req.body.expose_secret(), br#"{"apiKey":"vk_test_abc"}"#);
        let req = provider("vk_live_abc", Some("my-store.myshopify.com"))
            .unwrap()
            .authenticate_request();
        let body: Value = serde_json::from_slice(req.body.expose_secret()).unwrap();
        assert_eq!(body["shopDomain"], "my-store.myshopify.com");
        assert!(!format!("{req:?}").contains("vk_live_abc"));
    }

    #[test]
    fn key_shape_and_shop_domain_are_checked_without_echoing_the_key() {
        let e = provider("sk_live_notakey", None).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidOptions);
        assert!(e.message().contains("'vk_'") && !e.message().contains("sk_live_notakey"));
        let e = provider("vk_test_abc", Some("bad domain!")).unwrap_err();
        assert!(e.message().contains("shopDomain"));
    }

    #[test]
    fn parses_the_full_v2_answer() {
        let token = jwt_with_exp(NOW / 1000 + 86_400);
        let body = format!(
            r#"{{"success":true,"data":{{"token":"{token}","expiresIn":86400,"scope":"vendor","permissions":["orders:read"],"shopDomain":"s.myshopify.com","mode":"test","vendorId":"v1"}}}}"#
        );
        let s = provider("vk_test_abc", None)
            .unwrap()
            .parse_response(&HttpResponse::new(200, body), &Timing::at(NOW))
            .unwrap();
        assert_eq!(s.expires_at_ms, NOW + 86_400_000);
        assert_eq!(s.header.name(), "x-access-token");
        assert_eq!(s.header_value().expose_secret(), token);
        assert_eq!(
            s.metadata.list("permissions"),
            Some(&["orders:read".to_owned()][..])
        );
        assert_eq!(s.metadata.text("mode"), Some("test"));
        assert_eq!(s.metadata.text("vendorId"), Some("v1"));
    }

    #[test]
    fn older_answers_without_permissions_still_parse() {
        let body = r#"{"success":true,"data":{"token":"opaque-token","expiresIn":60}}"#;
        let s = provider("vk_test_abc", None)
            .unwrap()
            .parse_response(&HttpResponse::new(200, body), &Timing::at(NOW))
            .unwrap();
        assert_eq!(s.expires_at_ms, NOW + 60_000);
        assert!(s.metadata.is_empty());
    }

    #[test]
    fn bad_answers_say_what_was_wrong() {
        let p = provider("vk_test_abc", None).unwrap();
        for (body, why) in [
            (r#"{"success":true}"#, "'data' is missing"),
            (r#"{"success":true,"data":[]}"#, "'data' is an array"),
            (
                r#"{"success":true,"data":{"token":"t-opaque","expiresIn":"86400"}}"#,
                "'expiresIn' is a string",
            ),
            (
                r#"{"success":true,"data":{"token":"t-opaque","expiresIn":-5}}"#,
                "positive number",
            ),
            (
                r#"{"success":true,"data":{"token":"t-opaque","expiresIn":60,"permissions":"all"}}"#,
                "'permissions' is a string",
            ),
            (
                r#"{"success":false,"data":{"token":"t-opaque","expiresIn":60}}"#,
                "success: false",
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
    fn documented_errors_keep_the_vendor_code_and_retry_after() {
        let p = provider("vk_test_abc", None).unwrap();
        let res = HttpResponse::new(
            429,
            r#"{"success":false,"error":{"message":"Too many authentication requests","code":"RATE_LIMITED"}}"#,
        )
        .with_header("Retry-After", "12");
        let e = p.parse_response(&res, &Timing::at(NOW)).unwrap_err();
        assert_eq!(e.code(), ErrorCode::RateLimited);
        assert_eq!(e.retry_after_ms(), Some(12_000));
        assert_eq!(e.vendor_code(), Some("RATE_LIMITED"));
        let res = HttpResponse::new(
            401,
            r#"{"success":false,"error":{"message":"API key revoked","code":"UNAUTHORIZED"}}"#,
        );
        let e = p.parse_response(&res, &Timing::at(NOW)).unwrap_err();
        assert_eq!(e.code(), ErrorCode::Unauthorized);
        assert!(
            e.message().contains("API key revoked")
                && e.message().contains("PUPPETVENDORS_API_KEY")
        );
    }
}
