//! Keeping secrets out of everything a person may read.

use secrecy::{ExposeSecret, SecretString};

/// Characters of a token shown in previews (JWTs all start `eyJ`, so this identifies nothing).
const PREVIEW_CHARS: usize = 6;

/// A short, non-secret preview of a token for logs and `inspect`: `eyJhbG…` (never the whole).
pub fn token_preview(token: &str) -> String {
    let head: String = token.chars().take(PREVIEW_CHARS).collect();
    if token.chars().count() <= PREVIEW_CHARS * 2 {
        // Too short for a prefix to be harmless: show nothing of it.
        return "…".into();
    }
    format!("{head}…")
}

/// Remove every occurrence of the given secrets, and anything shaped like a JWT, from a
/// vendor-supplied text before it goes into an error (vendors sometimes echo the key or token
/// they rejected). Then strip control characters and cap the length, in that order, so that a
/// cut can never leave most of a secret behind.
pub fn scrub(text: &str, secrets: &[&SecretString]) -> String {
    const MAX_CHARS: usize = 300;
    let mut out = redact_jwts(text);
    for secret in secrets {
        let s = secret.expose_secret();
        // Very short values would redact ordinary words; credentials are never that short.
        if s.len() >= 4 {
            out = out.replace(s, "[redacted]");
        }
    }
    out.retain(|c| !c.is_control());
    if out.chars().count() > MAX_CHARS {
        out = out.chars().take(MAX_CHARS).collect::<String>() + "…";
    }
    out
}

/// Replace JWT-shaped runs (`eyJ…` header, `.`, payload, `.`, signature) with a preview.
fn redact_jwts(text: &str) -> String {
    let is_b64 = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("eyJ") {
        out.push_str(&rest[..start]);
        let candidate = &rest[start..];
        let end = candidate
            .find(|c: char| !(is_b64(c) || c == '.'))
            .unwrap_or(candidate.len());
        let run = &candidate[..end];
        if run.split('.').count() >= 3 {
            out.push_str("eyJ…[redacted]");
        } else {
            out.push_str(run);
        }
        rest = &candidate[end.max(3)..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preview_shows_only_a_prefix() {
        assert_eq!(token_preview("eyJhbGciOiJIUzI1NiJ9.payload.sig"), "eyJhbG…");
        assert_eq!(token_preview("short"), "…");
    }

    #[test]
    fn scrub_redacts_jwt_shaped_text_and_keeps_the_rest() {
        let text = "bad token eyJhbGciOi.eyJleHAiOjF9.c2ln-_x, try eyJ alone";
        assert_eq!(scrub(text, &[]), "bad token eyJ…[redacted], try eyJ alone");
    }

    #[test]
    fn a_secret_straddling_the_length_cap_is_still_removed() {
        // Regression: text used to be shortened before scrubbing, leaving most of the key.
        let key: SecretString = "vk_test_0123456789abcdef".into();
        let text = format!("{}{}", "x".repeat(290), "vk_test_0123456789abcdef");
        let out = scrub(&text, &[&key]);
        assert!(!out.contains("vk_test_0123"), "{out}");
    }

    #[test]
    fn scrub_removes_echoed_secrets_and_caps_length() {
        let key: SecretString = "vk_test_abcdef".into();
        assert_eq!(
            scrub("Invalid API key vk_test_abcdef", &[&key]),
            "Invalid API key [redacted]"
        );
        let long = "x".repeat(1000);
        assert_eq!(scrub(&long, &[]).chars().count(), 301);
    }
}
