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

/// Remove every occurrence of the given secrets from a vendor-supplied text before it goes into
/// an error (vendors sometimes echo the key they rejected). Also caps its length.
pub fn scrub(text: &str, secrets: &[&SecretString]) -> String {
    const MAX_CHARS: usize = 300;
    let mut out = text.to_owned();
    for secret in secrets {
        let s = secret.expose_secret();
        // Very short values would redact ordinary words; credentials are never that short.
        if s.len() >= 4 {
            out = out.replace(s, "[redacted]");
        }
    }
    if out.chars().count() > MAX_CHARS {
        out = out.chars().take(MAX_CHARS).collect::<String>() + "…";
    }
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
