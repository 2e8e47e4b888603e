//! Property tests on `scrub`: whatever a vendor does to a secret it echoes back (invisible
//! characters inserted anywhere, letters in another case, base64 or percent-encoding, text
//! around it), the scrubbed text never contains the secret, compared without case.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use proptest::prelude::*;
use secrecy::SecretString;
use vendor_auth::scrub;

/// Characters an echo may hide inside a secret: C0 controls (NUL, ESC, DEL…), C1 controls and
/// format characters (zero-width space/non-joiner/joiner, word joiner, BOM, bidi marks).
fn invisible() -> impl Strategy<Value = char> {
    prop_oneof![
        Just('\u{0}'),
        Just('\u{1b}'),
        Just('\u{7f}'),
        Just('\t'),
        Just('\n'),
        Just('\u{85}'),
        Just('\u{200b}'),
        Just('\u{200c}'),
        Just('\u{200d}'),
        Just('\u{200e}'),
        Just('\u{2060}'),
        Just('\u{feff}'),
        Just('\u{ad}'),
        (0u32..0x20).prop_map(|c| char::from_u32(c).unwrap()),
    ]
}

/// `secret` with its letters' case flipped where `flips` says, and `insertions` (position as a
/// fraction, character) inserted.
fn disguise(secret: &str, flips: &[bool], insertions: &[(f64, char)]) -> String {
    let mut chars: Vec<char> = secret
        .chars()
        .zip(flips.iter().cycle())
        .map(|(c, &flip)| match (flip, c.is_ascii_lowercase()) {
            (false, _) => c,
            (true, true) => c.to_ascii_uppercase(),
            (true, false) => c.to_ascii_lowercase(),
        })
        .collect();
    for &(at, c) in insertions {
        let i = ((chars.len() as f64) * at) as usize;
        chars.insert(i.min(chars.len()), c);
    }
    chars.into_iter().collect()
}

/// The scrubbed text as a reader might compare it: invisible characters gone, lower case.
fn normalised(text: &str) -> String {
    text.chars()
        .filter(|c| {
            !c.is_control()
                && !matches!(
                    c,
                    '\u{200b}'..='\u{200f}' | '\u{2060}' | '\u{feff}' | '\u{ad}'
                )
        })
        .collect::<String>()
        .to_lowercase()
}

fn assert_clean(out: &str, secret: &str) -> Result<(), TestCaseError> {
    // A "secret" made of the marker's own letters would be found in the marker.
    let lower = secret.to_lowercase();
    if "[redacted]".contains(&lower) || lower.contains(['[', ']']) {
        return Ok(());
    }
    let out = normalised(out);
    prop_assert!(
        !out.contains(&secret.to_lowercase()),
        "the secret survived: {:?}",
        out
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn an_echoed_secret_never_survives_insertions_and_case_changes(
        secret in "[!-~]{8,40}",
        flips in proptest::collection::vec(any::<bool>(), 1..40),
        insertions in proptest::collection::vec((0.0f64..1.0, invisible()), 0..6),
        before in "\\PC{0,30}",
        after in "\\PC{0,30}",
    ) {
        let echo = format!("{before}{}{after}", disguise(&secret, &flips, &insertions));
        let key: SecretString = secret.clone().into();
        let out = scrub(&echo, &[&key]);
        assert_clean(&out, &secret)?;
        // The invisible characters are gone from what a person reads.
        let visible = !out.chars().any(|c| c.is_control() || c == '\u{200b}' || c == '\u{feff}');
        prop_assert!(visible, "invisible characters remain: {:?}", out);
    }

    #[test]
    fn a_unicode_secret_never_survives_insertions(
        secret in "\\PC{8,20}",
        insertions in proptest::collection::vec((0.0f64..1.0, invisible()), 0..6),
        before in "[ -~]{0,20}",
    ) {
        // Case changes aside (Unicode case mappings do not round-trip), any text works.
        prop_assume!(secret.chars().filter(|c| !c.is_control()).count() >= 8);
        let echo = format!("{before}{}", disguise(&secret, &[false], &insertions));
        let key: SecretString = secret.clone().into();
        assert_clean(&scrub(&echo, &[&key]), &secret)?;
    }

    #[test]
    fn an_encoded_echo_never_survives(
        secret in "[!-~]{8,40}",
        form in 0usize..4,
        insertion in proptest::option::of((0.0f64..1.0, invisible())),
    ) {
        let encoded = match form {
            0 => STANDARD.encode(&secret),
            1 => URL_SAFE_NO_PAD.encode(&secret),
            // Every byte percent-encoded, or only the reserved ones.
            2 => secret.bytes().map(|b| format!("%{b:02X}")).collect(),
            _ => secret
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c.to_string() } else { format!("%{:02x}", c as u32) })
                .collect(),
        };
        let echo = disguise(&encoded, &[false], insertion.as_slice());
        let key: SecretString = secret.clone().into();
        let out = scrub(&format!("echo: {echo}."), &[&key]);
        // Neither the encoded form nor (decoded back) the secret itself remains.
        assert_clean(&out, &encoded)?;
        assert_clean(&out, &secret)?;
        prop_assert!(out.contains("[redacted]"), "{}", out);
    }
}
