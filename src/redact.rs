//! Keeping secrets out of everything a person may read.
//!
//! [`scrub`] works on a *normalised view* of the text: characters a person cannot see (control
//! and format characters such as NUL, ESC or a zero-width space) are dropped and letters are
//! compared without case, and a second view also decodes `%XX` escapes. A secret found in either
//! view is cut out of the original text, whatever was inserted into it or however it was
//! encoded; only then are the invisible characters dropped from what is returned. Normalising
//! first and redacting second means no later step can re-form a secret.

use base64::engine::general_purpose::{
    GeneralPurpose, STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD,
};
use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};

/// Characters of a token shown in previews (JWTs all start `eyJ`, so this identifies nothing).
const PREVIEW_CHARS: usize = 6;
/// Longest text [`scrub`] returns (then an ellipsis).
const MAX_CHARS: usize = 300;
/// Very short values would redact ordinary words; credentials are never that short.
const MIN_SECRET_CHARS: usize = 4;
/// The shortest base64 run redacted. Letters are compared without case, so a short run is
/// easily an ordinary word: the 4-character secret `8^rA` one byte into the data encodes as
/// `…heck…`, and would cut "check" apart. Six characters carry 36 bits of the secret, more than
/// the 32 of the shortest raw secret (4 ASCII characters), and every secret of 5 bytes or more
/// gives at least six at every offset. (A 4-byte secret gives 4 or 5 at any offset: only its
/// raw form and its whole encoding, 6 or 8 characters, are redacted.)
const MIN_BASE64_CHARS: usize = 6;
const REDACTED: &str = "[redacted]";

/// A short, non-secret preview of a token for logs and `inspect`: `eyJhbG…` (never the whole).
pub fn token_preview(token: &str) -> String {
    let head: String = token.chars().take(PREVIEW_CHARS).collect();
    if token.chars().count() <= PREVIEW_CHARS * 2 {
        // Too short for a prefix to be harmless: show nothing of it.
        return "…".into();
    }
    format!("{head}…")
}

/// A user-supplied non-secret value, shortened and stripped of invisible characters for messages.
pub(crate) fn printable(text: &str) -> String {
    text.chars()
        .filter(|&c| !is_invisible(c))
        .take(80)
        .collect()
}

/// Remove from a vendor-supplied text every occurrence of the given secrets (also percent-encoded,
/// or base64-encoded at any offset inside longer data, with invisible characters inserted, in
/// any letter case) and anything shaped like a JWT, before it goes into an error (vendors
/// sometimes echo what they rejected). The result has no control or format characters and is
/// capped in length; the cap comes last, so that a cut can never leave most of a secret behind.
pub fn scrub(text: &str, secrets: &[&SecretString]) -> String {
    let needles = needles(secrets);
    let original: Vec<char> = text.chars().collect();
    let mut redacted = vec![false; original.len()];
    if !needles.is_empty() {
        let plain = View::plain(&original);
        let decoded = plain.percent_decoded();
        for view in [&plain, &decoded] {
            for needle in &needles {
                view.mark(needle, &mut redacted);
            }
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut in_run = false;
    for (c, hidden) in original.into_iter().zip(redacted) {
        if is_invisible(c) {
            continue; // also inside a redacted run, which it must not split
        }
        if hidden {
            if !in_run {
                out.push_str(REDACTED);
            }
        } else {
            out.push(c);
        }
        in_run = hidden;
    }
    let mut out = redact_jwts(&out);
    if out.chars().count() > MAX_CHARS {
        out = out.chars().take(MAX_CHARS).collect::<String>() + "…";
    }
    out
}

/// Characters a reader cannot see, which a vendor's echo may carry inside a secret: control
/// characters (C0, DEL, C1) and format or joining characters (zero-width space/joiners, BOM,
/// word joiner, bidi controls, soft hyphen, variation selectors, tag characters).
pub(crate) fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF0}'..='\u{FFFB}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0000}'..='\u{E0FFF}'
        )
}

/// Every form of every secret to look for, normalised like the views: the value itself, and its
/// base64 (standard and URL-safe): whole (with and without padding), and the run of characters
/// that stand for the secret alone at each of the three offsets it may have inside longer
/// encoded data (`base64(accessKey:secretKey)`, a JSON body). Percent-encoded forms need no
/// needle of their own: the decoded view finds them.
fn needles(secrets: &[&SecretString]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |form: &str, min_chars: usize| {
        let needle = fold(form);
        if needle.chars().count() >= min_chars && !out.contains(&needle) {
            out.push(needle);
        }
    };
    for secret in secrets {
        let raw = secret.expose_secret();
        add(raw, MIN_SECRET_CHARS);
        for engine in [&STANDARD, &URL_SAFE] {
            add(&engine.encode(raw), MIN_BASE64_CHARS);
        }
        for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
            add(&engine.encode(raw), MIN_BASE64_CHARS);
            for offset in 0..3 {
                add(
                    &base64_run(engine, raw.as_bytes(), offset),
                    MIN_BASE64_CHARS,
                );
            }
        }
    }
    out
}

/// The base64 characters that stand for `secret` alone when it starts `offset` (0, 1 or 2)
/// bytes past a multiple of three in the encoded data. Each character holds 6 bits; the ones
/// that also hold bits of the bytes before or after it (at most one each side) are left out, so
/// the run is the same whatever surrounds the secret. A secret of `n` bytes gives about
/// `4n/3 - 2` characters.
fn base64_run(engine: &GeneralPurpose, secret: &[u8], offset: usize) -> String {
    let mut data = vec![0; offset];
    data.extend_from_slice(secret);
    let encoded = engine.encode(&data);
    // The first character that starts inside the secret, and the end of the last one that
    // ends inside it.
    let first = (8 * offset).div_ceil(6);
    let end = 8 * data.len() / 6;
    encoded.get(first..end).unwrap_or_default().to_owned()
}

/// Visible characters only, lower-cased: how both needles and views are compared.
fn fold(text: &str) -> String {
    text.chars()
        .filter(|&c| !is_invisible(c))
        .flat_map(crate::compact::lowercase)
        .collect()
}

/// A normalised copy of (part of) the original text; every byte of it knows which original
/// characters it came from, so a match can be cut out of the original.
struct View {
    text: String,
    /// For each byte of `text`: the range of original character indices it stands for.
    origin: Vec<(usize, usize)>,
}

impl View {
    /// Invisible characters dropped, letters lower-cased.
    fn plain(original: &[char]) -> Self {
        let mut view = Self {
            text: String::with_capacity(original.len()),
            origin: Vec::with_capacity(original.len()),
        };
        for (i, &c) in original.iter().enumerate() {
            if !is_invisible(c) {
                for lower in crate::compact::lowercase(c) {
                    view.push(lower, (i, i + 1));
                }
            }
        }
        view
    }

    /// This view with `%XX` escapes decoded (runs of escapes as UTF-8), then normalised again.
    fn percent_decoded(&self) -> Self {
        let chars: Vec<(char, (usize, usize))> = self
            .text
            .char_indices()
            .map(|(b, c)| (c, self.origin[b]))
            .collect();
        let mut view = Self {
            text: String::with_capacity(self.text.len()),
            origin: Vec::with_capacity(self.text.len()),
        };
        let mut i = 0;
        while i < chars.len() {
            // A run of escapes: its bytes, and where each byte came from.
            let mut bytes = Vec::new();
            let mut spans = Vec::new();
            while let Some(byte) = escape_at(&chars, i) {
                bytes.push(byte);
                spans.push((chars[i].1 .0, chars[i + 2].1 .1));
                i += 3;
            }
            if bytes.is_empty() {
                view.push(chars[i].0, chars[i].1);
                i += 1;
                continue;
            }
            let mut at = 0;
            while at < bytes.len() {
                let (c, len) = decode_utf8(&bytes[at..]);
                let span = (spans[at].0, spans[at + len - 1].1);
                if !is_invisible(c) {
                    for lower in crate::compact::lowercase(c) {
                        view.push(lower, span);
                    }
                }
                at += len;
            }
        }
        view
    }

    fn push(&mut self, c: char, span: (usize, usize)) {
        self.text.push(c);
        self.origin.resize(self.text.len(), span);
    }

    /// Mark the original characters behind every (also overlapping) occurrence of `needle`.
    fn mark(&self, needle: &str, redacted: &mut [bool]) {
        let mut from = 0;
        while let Some(found) = self.text[from..].find(needle) {
            let start = from + found;
            let end = start + needle.len();
            let (first, _) = self.origin[start];
            let (_, last) = self.origin[end - 1];
            redacted[first..last].iter_mut().for_each(|r| *r = true);
            // Next search from the following character (matches may overlap).
            from = start + self.text[start..].chars().next().map_or(1, char::len_utf8);
        }
    }
}

/// The byte of a `%XX` escape starting at `i`, if there is one.
fn escape_at(chars: &[(char, (usize, usize))], i: usize) -> Option<u8> {
    let hex = |k: usize| chars.get(k).and_then(|(c, _)| c.to_digit(16));
    match chars.get(i) {
        Some(('%', _)) => Some((hex(i + 1)? * 16 + hex(i + 2)?) as u8),
        _ => None,
    }
}

/// The first UTF-8 character of `bytes` and its length; a byte that starts no valid character
/// stands for U+FFFD on its own.
fn decode_utf8(bytes: &[u8]) -> (char, usize) {
    for len in 1..=bytes.len().min(4) {
        if let Ok(s) = std::str::from_utf8(&bytes[..len]) {
            if let Some(c) = s.chars().next() {
                return (c, len);
            }
        }
    }
    ('\u{FFFD}', 1)
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

    fn key(s: &str) -> SecretString {
        s.into()
    }

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
        let k = key("vk_test_0123456789abcdef");
        let text = format!("{}{}", "x".repeat(290), "vk_test_0123456789abcdef");
        let out = scrub(&text, &[&k]);
        assert!(!out.contains("vk_test_0123"), "{out}");
    }

    #[test]
    fn scrub_removes_echoed_secrets_and_caps_length() {
        let k = key("vk_test_abcdef");
        assert_eq!(
            scrub("Invalid API key vk_test_abcdef", &[&k]),
            "Invalid API key [redacted]"
        );
        let long = "x".repeat(1000);
        assert_eq!(scrub(&long, &[]).chars().count(), 301);
    }

    #[test]
    fn an_invisible_character_inside_an_echoed_secret_does_not_reform_it() {
        // Regression: control characters were stripped *after* redaction, so "go\0od" escaped
        // the match and then became "good" again.
        let k = key("vk_test_good_key_1234");
        for inserted in [
            '\0', '\u{1b}', '\u{200b}', '\u{200d}', '\u{feff}', '\u{2060}',
        ] {
            let echo = format!("Invalid API key vk_test_go{inserted}od_key_1234!");
            assert_eq!(
                scrub(&echo, &[&k]),
                "Invalid API key [redacted]!",
                "{echo:?}"
            );
        }
        assert_eq!(
            scrub("key VK_TEST_GOOD_KEY_1234 refused", &[&k]),
            "key [redacted] refused"
        );
    }

    #[test]
    fn encoded_echoes_are_redacted() {
        let user_pass = key("merchant@example.com:pä ss/w+rd=");
        let k = key("vk_test_a/b+c=d?e&f");
        for (echo, secret) in [
            (
                STANDARD.encode("merchant@example.com:pä ss/w+rd="),
                &user_pass,
            ),
            (
                URL_SAFE_NO_PAD.encode("merchant@example.com:pä ss/w+rd="),
                &user_pass,
            ),
            (
                "merchant%40example.com%3Ap%C3%A4%20ss%2Fw%2Brd%3D".to_owned(),
                &user_pass,
            ),
            (
                "merchant%40example.com:p%c3%a4 ss/w+rd=".to_owned(),
                &user_pass,
            ),
            ("vk_test_a%2Fb%2Bc%3Dd%3Fe%26f".to_owned(), &k),
            (STANDARD.encode("vk_test_a/b+c=d?e&f"), &k),
            // base64, then percent-encoded (a query string carrying it)
            (
                STANDARD
                    .encode("vk_test_a/b+c=d?e&f")
                    .replace('=', "%3D")
                    .replace('+', "%2B"),
                &k,
            ),
        ] {
            let out = scrub(&format!("got <{echo}>"), &[secret]);
            assert_eq!(out, "got <[redacted]>", "{echo}");
        }
    }

    #[test]
    fn a_percent_sign_before_a_secret_does_not_hide_it() {
        // "%4" + "1abc…" decodes to "A" + "bc…" in the decoded view; the plain view still finds it.
        let k = key("1abcdefgh");
        assert_eq!(scrub("x%41abcdefgh", &[&k]), "x%4[redacted]");
    }

    #[test]
    fn overlapping_echoes_leave_no_tail() {
        let k = key("abcab");
        assert_eq!(scrub("abcabcab", &[&k]), "[redacted]");
    }

    #[test]
    fn a_credential_pair_in_base64_is_redacted_at_every_length_of_the_first() {
        // Regression: `base64(accessKey:secretKey)` puts the secret at an offset of
        // `accessKey.len() + 1`; only whole-secret encodings were looked for, so at two offsets
        // in three the secret's base64 stayed readable (and the access key's, unless its length
        // was a multiple of three).
        let secret = key("vendy-sk-LEAKCHECK-2d8e4b6a0c");
        let full = "vendy-ak-LEAKCHECK-7f3a9c1e5b";
        // Access keys of 27, 28 and 29 characters: the secret at offsets 28, 29 and 30.
        for length in [27, 28, 29] {
            let access = &full[..length];
            let access_key = key(access);
            let pair = format!("{access}:{}", secret.expose_secret());
            for encoded in [STANDARD.encode(&pair), URL_SAFE_NO_PAD.encode(&pair)] {
                let out = scrub(
                    &format!("bad credentials {encoded}."),
                    &[&access_key, &secret],
                );
                // At most the characters that mix the two keys' bits (around the ':') and the
                // last partial character are left, never a run of either key's base64.
                let kept: String = out
                    .trim_start_matches("bad credentials ")
                    .trim_end_matches('.')
                    .replace("[redacted]", " ");
                assert!(
                    kept.split(' ').all(|piece| piece.chars().count() <= 4),
                    "{length}: {out}"
                );
            }
        }
    }

    #[test]
    fn a_json_body_in_base64_is_redacted_at_every_offset_of_its_key() {
        // PuppetVendors' body `{"apiKey":"…"}`, echoed in base64 behind 0, 1 and 2 more bytes.
        let api_key = key("vk_test_LEAKCHECK_c4e6a8b0d2");
        for lead in ["", "x", "xy"] {
            let body = format!("{lead}{{\"apiKey\":\"{}\"}}", api_key.expose_secret());
            let encoded = STANDARD.encode(&body);
            let out = scrub(&format!("got {encoded}"), &[&api_key]);
            assert!(out.contains("[redacted]"), "{out}");
            for shift in 0..3 {
                for core in cores_of(api_key.expose_secret(), shift) {
                    assert!(!out.contains(&core[..8]), "{lead:?}: {out}");
                }
            }
        }
    }

    #[test]
    fn short_base64_runs_are_not_redacted() {
        // A 4-character secret leaves 4 or 5 characters of base64 at an offset; case-folded,
        // they can be an ordinary word: "8^rA" one byte in encodes as "…heck…". Runs under
        // MIN_BASE64_CHARS are left alone (its raw form is still redacted).
        let k = key("8^rA");
        assert_eq!(STANDARD.encode("x8^rA"), "eDheckE=");
        let text = "please check the request; 8^rA";
        assert_eq!(scrub(text, &[&k]), "please check the request; [redacted]");
        // Five characters are enough at every offset.
        let k = key("8^rAb");
        for lead in ["", "x", "xy"] {
            let echo = STANDARD.encode(format!("{lead}8^rAb"));
            let out = scrub(&format!("<{echo}>"), &[&k]);
            assert!(out.contains("[redacted]"), "{lead:?}: {out}");
        }
    }

    /// The base64 runs (standard and URL-safe) of `secret` starting `shift` bytes past a
    /// multiple of three, without the characters that hold bits of what surrounds it; computed
    /// here from a whole encoding, as a check on `needles`.
    fn cores_of(secret: &str, shift: usize) -> Vec<String> {
        let mut data = vec![0xffu8; shift];
        data.extend_from_slice(secret.as_bytes());
        let first = (8 * shift).div_ceil(6);
        let end = 8 * data.len() / 6;
        [STANDARD_NO_PAD.encode(&data), URL_SAFE_NO_PAD.encode(&data)]
            .into_iter()
            .map(|e| e[first..end].to_owned())
            .collect()
    }

    /// Which characters of `encoded` (the encoding of `prefix + secret + suffix`) hold bits of
    /// the secret alone: those that do not change when every bit around the secret is flipped,
    /// among the characters made of data bits only (not the last, partly zero-filled one).
    fn secret_only(
        engine: &base64::engine::GeneralPurpose,
        prefix: &[u8],
        secret: &[u8],
        suffix: &[u8],
    ) -> (String, std::ops::Range<usize>) {
        let flip = |b: &[u8]| b.iter().map(|x| !x).collect::<Vec<u8>>();
        let one = engine.encode([prefix, secret, suffix].concat());
        let two = engine.encode([&flip(prefix)[..], secret, &flip(suffix)].concat());
        let data_chars = 8 * (prefix.len() + secret.len() + suffix.len()) / 6;
        let same: Vec<usize> = (0..data_chars)
            .filter(|&i| one.as_bytes()[i] == two.as_bytes()[i])
            .collect();
        let range = match (same.first(), same.last()) {
            (Some(&a), Some(&b)) => a..b + 1,
            _ => 0..0,
        };
        assert_eq!(same.len(), range.len(), "one run");
        (one, range)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1024))]

        /// A secret of 5 characters or more, encoded in base64 (either alphabet, padded or not)
        /// behind any bytes and before any bytes: every character that depends on the secret
        /// alone is redacted, and nothing that holds bits of the bytes around it.
        #[test]
        fn base64_of_a_secret_is_redacted_at_any_offset(
            secret in "[ -~\u{e9}\u{20ac}\u{1F600}]{5,32}",
            prefix in proptest::collection::vec(proptest::num::u8::ANY, 0..13),
            suffix in proptest::collection::vec(proptest::num::u8::ANY, 0..13),
            engine in 0usize..4,
        ) {
            let engine = [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD][engine];
            let (encoded, only) = secret_only(engine, &prefix, secret.as_bytes(), &suffix);
            proptest::prop_assert!(only.len() >= MIN_BASE64_CHARS);
            let out = scrub(&format!("before {encoded} after"), &[&key(&secret)]);
            let middle = out
                .strip_prefix("before ")
                .and_then(|rest| rest.strip_suffix(" after"));
            proptest::prop_assert!(middle.is_some(), "{out}");
            let (head, tail) = middle.unwrap().split_once(REDACTED).unwrap_or(("", ""));
            // Kept before: exactly what holds bits of the prefix.
            proptest::prop_assert!(
                encoded.starts_with(head) && head.len() == only.start,
                "kept {head:?} before the secret ({only:?}) in {encoded}: {out}"
            );
            // Kept after: what holds bits of the suffix, but for at most the one character
            // that mixes them with the secret's last bits (a whole encoding of the secret
            // matches it when those bits of the suffix are zero); when the secret ends the data,
            // that character and the padding may go too.
            let cut = encoded.len() - tail.len();
            proptest::prop_assert!(
                encoded.ends_with(tail) && cut >= only.end && (cut - only.end <= 1 || suffix.is_empty()),
                "kept {tail:?} after the secret ({only:?}) in {encoded}: {out}"
            );
        }
    }

    #[test]
    fn text_without_secrets_loses_only_invisible_characters() {
        let k = key("vk_test_abcdef");
        assert_eq!(scrub("données\u{0}\u{200b} 100%", &[&k]), "données 100%");
        assert_eq!(scrub("%zz %4", &[&k]), "%zz %4");
    }
}
