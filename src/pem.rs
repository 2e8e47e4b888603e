//! Checking `caCert` before any I/O, so that a wrong file gets a message saying what is wrong
//! with it (a private key, a certificate request, a cut-off block…) instead of a TLS set-up
//! failure later. Nothing of the PEM's content is ever quoted: it may be a private key.

use crate::Error;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

const CERTIFICATE: &str = "CERTIFICATE";

/// Accept PEM text whose blocks are all X.509 certificates (at least one). Text outside the
/// blocks (comments, subject lines of a bundle) is ignored.
pub(crate) fn check_ca_cert(pem: &str) -> Result<(), Error> {
    let mut certificates = 0;
    let mut rest = pem;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + "-----BEGIN ".len()..];
        let Some(label_end) = after.find("-----") else {
            return Err(invalid("has a '-----BEGIN' line that is cut off"));
        };
        let label = &after[..label_end];
        let body_and_rest = &after[label_end + "-----".len()..];
        let end_line = format!("-----END {label}-----");
        let Some(body_end) = body_and_rest.find(&end_line) else {
            return Err(invalid(format!(
                "has a {} block without its '-----END' line (cut off?)",
                describe(label)
            )));
        };
        let body = &body_and_rest[..body_end];
        rest = &body_and_rest[body_end + end_line.len()..];
        if label.contains("PRIVATE KEY") {
            return Err(invalid(format!(
                "holds a private key ({} block), not a certificate: pass the CA's certificate ('-----BEGIN CERTIFICATE-----') and keep private keys out of the application's configuration",
                describe(label)
            )));
        }
        if label != CERTIFICATE {
            return Err(invalid(format!(
                "holds a {} block; only '-----BEGIN CERTIFICATE-----' blocks (the CA's certificate) are accepted",
                describe(label)
            )));
        }
        certificates += 1;
        check_certificate(body, certificates)?;
    }
    if certificates == 0 {
        return Err(Error::invalid_options(
            "caCert must be PEM text containing at least one '-----BEGIN CERTIFICATE-----' block",
        ));
    }
    Ok(())
}

fn invalid(what: impl std::fmt::Display) -> Error {
    Error::invalid_options(format!("caCert {what}"))
}

/// A block's label for messages: standard labels are quoted, anything else is not.
fn describe(label: &str) -> String {
    let standard = !label.is_empty()
        && label.len() <= 40
        && label
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b' ');
    if standard {
        format!("a '-----BEGIN {label}-----'")
    } else {
        "an unknown".into()
    }
}

/// The body of the `n`th CERTIFICATE block must be base64 of a DER X.509 certificate: a SEQUENCE
/// spanning all of it whose first element is a SEQUENCE (the to-be-signed part). A private key
/// (PKCS#1, PKCS#8 or SEC1) starts with an INTEGER there instead.
fn check_certificate(body: &str, n: usize) -> Result<(), Error> {
    let text: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let Ok(der) = STANDARD.decode(&text) else {
        return Err(invalid(format!(
            "certificate #{n} is not valid base64 (damaged or cut off?)"
        )));
    };
    match der_sequence(&der) {
        Some(inner) if inner.first() == Some(&0x30) => Ok(()),
        Some(inner) if inner.first() == Some(&0x02) => Err(invalid(format!(
            "certificate #{n} is not a certificate: its content looks like a private key relabelled as one"
        ))),
        _ => Err(invalid(format!(
            "certificate #{n} does not hold an X.509 certificate (damaged or cut off?)"
        ))),
    }
}

/// The content of a DER SEQUENCE that spans exactly `der`.
fn der_sequence(der: &[u8]) -> Option<&[u8]> {
    let (&tag, rest) = der.split_first()?;
    let (&first, rest) = rest.split_first()?;
    if tag != 0x30 {
        return None;
    }
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, &rest[n..])
    };
    (rest.len() == len).then_some(rest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    fn pem(label: &str, der: &[u8]) -> String {
        format!(
            "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
            STANDARD.encode(der)
        )
    }

    /// SEQUENCE { SEQUENCE {} , INTEGER 0 }: the shape of a certificate, not a real one.
    const CERT_SHAPE: &[u8] = &[0x30, 0x05, 0x30, 0x00, 0x02, 0x01, 0x00];
    /// SEQUENCE { INTEGER 0, SEQUENCE {} }: the shape of a PKCS#8 private key.
    const KEY_SHAPE: &[u8] = &[0x30, 0x05, 0x02, 0x01, 0x00, 0x30, 0x00];

    fn message(pem: &str) -> String {
        let e = check_ca_cert(pem).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidOptions);
        e.message().to_owned()
    }

    #[test]
    fn certificate_blocks_pass_and_text_around_them_is_ignored() {
        let bundle = format!(
            "# my CA\nsubject=CN=x\n{}{}",
            pem("CERTIFICATE", CERT_SHAPE),
            pem("CERTIFICATE", CERT_SHAPE)
        );
        assert!(check_ca_cert(&bundle).is_ok());
    }

    #[test]
    fn a_private_key_is_named_as_such_and_never_quoted() {
        for label in [
            "PRIVATE KEY",
            "RSA PRIVATE KEY",
            "EC PRIVATE KEY",
            "ENCRYPTED PRIVATE KEY",
        ] {
            let key = pem(label, KEY_SHAPE);
            let m = message(&key);
            assert!(m.contains("caCert holds a private key"), "{m}");
            assert!(!m.contains(&STANDARD.encode(KEY_SHAPE)), "{m}");
            // Also next to a valid certificate: a key has no business in caCert.
            let m = message(&format!("{}{key}", pem("CERTIFICATE", CERT_SHAPE)));
            assert!(m.contains("private key"), "{m}");
        }
        let m = message(&pem("CERTIFICATE", KEY_SHAPE));
        assert!(m.contains("looks like a private key"), "{m}");
    }

    #[test]
    fn other_damage_says_what_is_wrong() {
        for (text, why) in [
            ("not pem".to_owned(), "at least one"),
            (
                pem("CERTIFICATE REQUEST", CERT_SHAPE),
                "'-----BEGIN CERTIFICATE REQUEST-----'",
            ),
            (pem("secret stuff", CERT_SHAPE), "an unknown block"),
            (
                "-----BEGIN CERTIFICATE-----\nMIIB".to_owned(),
                "without its '-----END'",
            ),
            ("-----BEGIN CERTIF".to_owned(), "cut off"),
            (
                "-----BEGIN CERTIFICATE-----\nnot*base64\n-----END CERTIFICATE-----".to_owned(),
                "#1 is not valid base64",
            ),
            (
                pem("CERTIFICATE", &[]),
                "#1 does not hold an X.509 certificate",
            ),
            (pem("CERTIFICATE", &CERT_SHAPE[..4]), "does not hold"),
        ] {
            let m = message(&text);
            assert!(m.contains(why), "{m} !~ {why}");
        }
    }
}
