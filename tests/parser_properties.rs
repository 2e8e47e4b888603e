//! Property tests on every response parser: whatever bytes, status and headers a vendor (or
//! anything between us and it) sends, parsing never panics, and the result is either a usable
//! session or a typed error. A 2xx that cannot be used is always `INVALID_RESPONSE`.

use proptest::prelude::*;
use secrecy::ExposeSecret;
use vendor_auth::{
    parse_http_date_ms, parse_retry_after_ms, ErrorCode, HttpResponse, Options, Provider,
    RawOptions, Timing, MAX_TOKEN_LIFETIME_MS,
};

const NOW: u64 = 1_700_000_000_000;

fn providers() -> Vec<Box<dyn Provider>> {
    let vendy = RawOptions::new()
        .with("provider", "vendy")
        .with("accessKey", "ak-prop")
        .with("secretKey", "sk-prop");
    let pv = RawOptions::new()
        .with("provider", "puppetvendors")
        .with("apiKey", "vk_test_prop");
    [vendy, pv]
        .into_iter()
        .map(|raw| Options::resolve(raw, &|_| None).unwrap().provider)
        .collect()
}

/// JSON-ish bodies: mostly near-valid answers with fields of random types, plus raw noise.
fn body() -> impl Strategy<Value = Vec<u8>> {
    let value = prop_oneof![
        Just("null".to_owned()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| format!("{f:?}")),
        "[a-zA-Z0-9._ \\-]{0,40}".prop_map(|s| format!("\"{s}\"")),
        Just("\"Thu, 06 Jul 2023 22:35:51 GMT\"".to_owned()),
        Just("\"Wed, 01 Jan 2025 00:00:00 GMT\"".to_owned()),
        Just("[\"orders:read\", 1]".to_owned()),
        Just("{}".to_owned()),
    ];
    let answer = (value.clone(), value.clone(), value.clone(), value).prop_map(|(t, e, i, p)| {
        format!(
            r#"{{"success":true,"token":{t},"expiryTime":{e},"data":{{"token":{t},"expiresIn":{i},"permissions":{p},"vendorId":{i}}}}}"#
        )
        .into_bytes()
    });
    prop_oneof![answer, proptest::collection::vec(any::<u8>(), 0..512)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_answers_never_panic_and_give_a_session_or_a_typed_error(
        status in prop_oneof![Just(200u16), Just(201), 100u16..600],
        body in body(),
        retry_after in proptest::option::of("[ -~]{0,40}"),
    ) {
        for provider in providers() {
            let mut res = HttpResponse::new(status, body.clone());
            if let Some(value) = &retry_after {
                res = res.with_header("Retry-After", value);
            }
            match provider.parse_response(&res, &Timing::at(NOW)) {
                Ok(session) => {
                    prop_assert!((200..300).contains(&status));
                    prop_assert!(session.expires_at_ms > NOW);
                    prop_assert!(session.expires_at_ms - NOW <= MAX_TOKEN_LIFETIME_MS);
                    let token = session.token.expose_secret();
                    prop_assert!(!token.is_empty() && token.bytes().all(|b| b.is_ascii_graphic()));
                }
                Err(e) if (200..300).contains(&status) => {
                    prop_assert_eq!(e.code(), ErrorCode::InvalidResponse);
                }
                Err(e) => {
                    prop_assert_eq!(e.status(), Some(status));
                    // Credentials never come back in a message, even when a body echoes them.
                    prop_assert!(!e.message().contains("sk-prop") && !e.message().contains("vk_test_prop"));
                }
            }
        }
    }

    #[test]
    fn date_and_retry_after_parsers_never_panic(text in "\\PC{0,64}", now in any::<u64>()) {
        let _ = parse_http_date_ms(&text);
        let _ = parse_retry_after_ms(&text, now);
    }

    #[test]
    fn echoed_credentials_are_scrubbed_from_vendor_messages(prefix in "[a-z ]{0,20}", status in 400u16..600) {
        for provider in providers() {
            let body = format!(r#"{{"message":"{prefix} sk-prop vk_test_prop ak-prop"}}"#);
            let e = provider.parse_response(&HttpResponse::new(status, body), &Timing::at(NOW)).unwrap_err();
            let own: &[&str] = if provider.id() == "vendy" { &["ak-prop", "sk-prop"] } else { &["vk_test_prop"] };
            for secret in own {
                prop_assert!(!e.message().contains(secret));
                prop_assert!(!e.vendor_message().unwrap_or_default().contains(secret));
            }
        }
    }
}
