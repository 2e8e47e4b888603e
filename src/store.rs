//! Sealing for the shared token store: what many processes keep in one store (Redis) so that one
//! of them exchanges and the others read the result. Sans-IO like the rest of the core: the
//! driver supplies the random nonce and does the store I/O; this module only derives keys and
//! seals or opens values.
//!
//! - One HKDF-SHA256 over the credential material gives two independent outputs, told apart by
//!   their `info` labels: the store key id (public: it names the entry) and the AEAD key
//!   (secret: it never leaves this module). The material is the provider id plus the
//!   authenticate request as it would be sent: URL, headers and body. That covers the base URL,
//!   every credential and whatever else selects the token (PuppetVendors' `shopDomain`), so two
//!   clients share an entry exactly when they would trade the same thing for a token.
//! - Values are sealed with XChaCha20-Poly1305 (24-byte random nonces: no counter to keep across
//!   processes), with the kind of value and the key id as associated data, so a sealed value
//!   moved to another entry or another kind does not open. Reading the store is not enough to use
//!   a token; writing it is not enough to plant one.

use crate::{Error, ErrorCode, Provider, Session, SessionMetadata};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::fmt;
use zeroize::Zeroizing;

/// Bytes of random nonce the driver supplies for each sealed value.
pub const NONCE_LEN: usize = 24;
/// Prefix of every sealed value: the format version.
const VERSION: &str = "v1.";
const SALT: &[u8] = b"vendor-auth token store v1";
/// PBKDF2-HMAC-SHA256 rounds before the HKDF: as slow as the key id can be without showing on a
/// cold start (derived once per client, at its first store use). Measured here: 4 096 rounds took
/// 1 ms on the native build but 16 ms on the WebAssembly one (its compact soft SHA-256), which
/// shows on an edge cold start; 1 024 take about 0.25 ms and 4 ms. Each guessed key then costs an
/// attacker ~2 000 SHA-256 blocks instead of 4; vendors' keys being long and random is what
/// actually protects them (README, Security model).
const STRETCH_ROUNDS: u32 = 1_024;
const INFO_KEY_ID: &[u8] = b"vendor-auth/store/key-id";
const INFO_AEAD_KEY: &[u8] = b"vendor-auth/store/aead-key";
/// Longest sealed value opened (a token is at most 16 KiB; metadata is small).
const MAX_SEALED_LEN: usize = 64 * 1024;

/// What a value is, bound into its associated data.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Session,
    RateLimit,
    Lock,
}

impl Kind {
    fn label(self) -> &'static [u8] {
        match self {
            Self::Session => b"session",
            Self::RateLimit => b"rate-limit",
            Self::Lock => b"lock",
        }
    }
}

/// The keys of one credential's store entries. `Debug` shows the key id only.
pub struct StoreSeal {
    key_id: String,
    cipher: XChaCha20Poly1305,
}

impl fmt::Debug for StoreSeal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreSeal")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// A session read back from the store, not yet checked (the driver adopts it through
/// [`Session::seeded`], which checks it like a vendor answer).
#[derive(Clone)]
pub struct StoredSession {
    pub token: SecretString,
    pub expires_at_ms: u64,
    pub metadata: SessionMetadata,
}

impl fmt::Debug for StoredSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredSession")
            .field("token", &"[redacted]")
            .field("expires_at_ms", &self.expires_at_ms)
            .finish_non_exhaustive()
    }
}

/// A rate limit one process got and all of them keep until `until_ms`.
#[derive(Debug, Clone)]
pub struct SharedRateLimit {
    pub until_ms: u64,
    pub error: Error,
}

#[derive(Serialize, Deserialize)]
struct SessionBody<'a> {
    #[serde(borrow)]
    token: std::borrow::Cow<'a, str>,
    expires_at_ms: u64,
    /// The fields the vendor declares (a JSON object by their names).
    #[serde(default, skip_serializing_if = "SessionMetadata::is_empty")]
    metadata: SessionMetadata,
}

#[derive(Serialize, Deserialize)]
struct RateLimitBody {
    until_ms: u64,
    /// `true`: RATE_LIMITED; `false`: SERVER_ERROR (a 503 with Retry-After).
    rate_limited: bool,
    status: Option<u16>,
    message: String,
    vendor_message: Option<String>,
    vendor_code: Option<String>,
}

/// A lock's value: who holds it, and until when (by the holder's clock). Sealed, so that a value
/// nobody with the credential wrote is known for what it is (squatted) and never waited for.
#[derive(Serialize, Deserialize)]
struct LockBody<'a> {
    owner: &'a str,
    until_ms: u64,
}

impl StoreSeal {
    /// A lock value for `owner` (a random id) that lasts until `until_ms`, sealed under `nonce`.
    pub fn seal_lock(&self, owner: &str, until_ms: u64, nonce: &[u8; NONCE_LEN]) -> String {
        let plain =
            serde_json::to_vec(&LockBody { owner, until_ms }).expect("plain data serializes");
        self.seal(Kind::Lock, &plain, nonce)
    }

    /// Until when a lock value says it lasts; `None` when it does not open (not written with
    /// these credentials: a squatter's, or another format).
    pub fn open_lock(&self, sealed: &str) -> Option<u64> {
        let plain = self.open(Kind::Lock, sealed)?;
        let body: LockBody<'_> = serde_json::from_slice(&plain).ok()?;
        Some(body.until_ms)
    }

    /// Derive the key id and the sealing key of `provider`'s credentials.
    pub fn new(provider: &dyn Provider) -> Self {
        let request = provider.authenticate_request();
        let mut material = Zeroizing::new(Vec::with_capacity(256));
        let mut push = |bytes: &[u8]| {
            material.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
            material.extend_from_slice(bytes);
        };
        push(provider.id().as_bytes());
        push(request.url.as_str().as_bytes());
        for header in &request.headers {
            push(header.name().as_bytes());
            push(header.value().as_bytes());
        }
        push(request.body.expose_secret());
        // The key id is public (anyone who can list the store's keys sees it): stretch the
        // material first, so that testing a guessed key against it costs STRETCH_ROUNDS hashes.
        let mut stretched = Zeroizing::new([0u8; 32]);
        pbkdf2::pbkdf2_hmac::<Sha256>(&material, SALT, STRETCH_ROUNDS, stretched.as_mut());
        let hkdf = Hkdf::<Sha256>::new(Some(SALT), stretched.as_ref());
        let mut id = [0u8; 18];
        let mut key = Zeroizing::new([0u8; 32]);
        // Both lengths are far below HKDF-SHA256's limit of 255 × 32 bytes.
        hkdf.expand(INFO_KEY_ID, &mut id)
            .expect("18 bytes is a valid HKDF length");
        hkdf.expand(INFO_AEAD_KEY, key.as_mut())
            .expect("32 bytes is a valid HKDF length");
        let cipher = XChaCha20Poly1305::new(key.as_ref().into());
        Self {
            key_id: format!(
                "{}:{}:{}",
                provider.id(),
                provider.base_url(),
                URL_SAFE_NO_PAD.encode(id)
            ),
            cipher,
        }
    }

    /// The name of this credential's entries: provider, base URL and a keyed hash of the
    /// credential material (never the credential). The driver adds its prefix and suffixes.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// `session` sealed under `nonce` (random, from the driver), as text.
    pub fn seal_session(&self, session: &Session, nonce: &[u8; NONCE_LEN]) -> String {
        let body = SessionBody {
            token: session.token.expose_secret().into(),
            expires_at_ms: session.expires_at_ms,
            metadata: session.metadata.clone(),
        };
        let plain = Zeroizing::new(serde_json::to_vec(&body).expect("plain data serializes"));
        self.seal(Kind::Session, &plain, nonce)
    }

    /// Open a sealed session; `None` when it does not open (another key, a flipped bit, another
    /// format or kind).
    pub fn open_session(&self, sealed: &str) -> Option<StoredSession> {
        let plain = self.open(Kind::Session, sealed)?;
        let body: SessionBody<'_> = serde_json::from_slice(&plain).ok()?;
        Some(StoredSession {
            token: SecretString::from(body.token.into_owned()),
            expires_at_ms: body.expires_at_ms,
            metadata: body.metadata,
        })
    }

    /// A remembered rate limit sealed under `nonce` (authenticated: nobody without the
    /// credential can stop the fleet by writing one).
    pub fn seal_rate_limit(&self, limit: &SharedRateLimit, nonce: &[u8; NONCE_LEN]) -> String {
        let e = &limit.error;
        let body = RateLimitBody {
            until_ms: limit.until_ms,
            rate_limited: e.code() == ErrorCode::RateLimited,
            status: e.status(),
            message: e.message().into(),
            vendor_message: e.vendor_message().map(Into::into),
            vendor_code: e.vendor_code().map(Into::into),
        };
        let plain = serde_json::to_vec(&body).expect("plain data serializes");
        self.seal(Kind::RateLimit, &plain, nonce)
    }

    /// Open a sealed rate limit of `provider`'s (`None` when it does not open).
    pub fn open_rate_limit(&self, sealed: &str, provider: &'static str) -> Option<SharedRateLimit> {
        let plain = self.open(Kind::RateLimit, sealed)?;
        let body: RateLimitBody = serde_json::from_slice(&plain).ok()?;
        let code = if body.rate_limited {
            ErrorCode::RateLimited
        } else {
            ErrorCode::ServerError
        };
        let mut error = Error::new(
            code,
            format!(
                "{} (seen by another process sharing the token store)",
                body.message
            ),
        )
        .with_provider(provider)
        .with_vendor(body.vendor_message, body.vendor_code);
        if let Some(status) = body.status {
            error = error.with_status(status);
        }
        Some(SharedRateLimit {
            until_ms: body.until_ms,
            error,
        })
    }

    fn aad(&self, kind: Kind) -> Vec<u8> {
        let mut aad = Vec::with_capacity(VERSION.len() + 16 + self.key_id.len());
        aad.extend_from_slice(VERSION.as_bytes());
        aad.extend_from_slice(kind.label());
        aad.push(0);
        aad.extend_from_slice(self.key_id.as_bytes());
        aad
    }

    fn seal(&self, kind: Kind, plain: &[u8], nonce: &[u8; NONCE_LEN]) -> String {
        let aad = self.aad(kind);
        let sealed = self
            .cipher
            .encrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: plain,
                    aad: &aad,
                },
            )
            .expect("XChaCha20-Poly1305 seals any message this size");
        let mut bytes = Vec::with_capacity(NONCE_LEN + sealed.len());
        bytes.extend_from_slice(nonce);
        bytes.extend_from_slice(&sealed);
        format!("{VERSION}{}", URL_SAFE_NO_PAD.encode(bytes))
    }

    fn open(&self, kind: Kind, sealed: &str) -> Option<Zeroizing<Vec<u8>>> {
        if sealed.len() > MAX_SEALED_LEN {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(sealed.strip_prefix(VERSION)?).ok()?;
        if bytes.len() < NONCE_LEN + 16 {
            return None;
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let aad = self.aad(kind);
        self.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .ok()
            .map(Zeroizing::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::{Options, RawOptions};
    use crate::{FieldValue, TokenHeader};
    use proptest::prelude::*;

    const PV_KEY: &str = "vk_test_STORECHECK_0123456789";
    const TOKEN: &str = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJzdG9yZSJ9.STORE-TOKEN-SIGNATURE-abcdef";

    fn pv(shop: Option<&str>, base: &str) -> StoreSeal {
        let raw = RawOptions::new()
            .with("provider", "puppetvendors")
            .with("apiKey", PV_KEY)
            .with("baseUrl", base);
        let raw = match shop {
            Some(shop) => raw.with("shopDomain", shop),
            None => raw,
        };
        let options = Options::resolve(raw, &|_| None).unwrap();
        StoreSeal::new(&*options.provider)
    }

    fn vendy(access: &str, secret: &str) -> StoreSeal {
        let raw = RawOptions::new()
            .with("provider", "vendy")
            .with("accessKey", access)
            .with("secretKey", secret);
        let options = Options::resolve(raw, &|_| None).unwrap();
        StoreSeal::new(&*options.provider)
    }

    fn session(token: &str, expires_at_ms: u64) -> Session {
        Session {
            provider: "puppetvendors",
            token: token.to_owned().into(),
            expires_at_ms,
            header: TokenHeader::Raw("x-access-token"),
            metadata: {
                let mut m = SessionMetadata::default();
                m.insert("scope", FieldValue::Text("vendor".into()));
                m.insert("permissions", FieldValue::List(vec!["orders:read".into()]));
                m.insert("shopDomain", FieldValue::Text("s.myshopify.com".into()));
                m.insert("mode", FieldValue::Text("test".into()));
                m.insert("vendorId", FieldValue::Text("v1".into()));
                m
            },
        }
    }

    const BASE: &str = "https://api.puppetvendors.com/v2";

    #[test]
    fn the_key_id_names_provider_and_base_url_and_hides_the_credential() {
        let seal = pv(None, BASE);
        let id = seal.key_id();
        assert!(
            id.starts_with("puppetvendors:https://api.puppetvendors.com/v2/:"),
            "{id}"
        );
        assert!(!id.contains(PV_KEY) && !id.contains("STORECHECK"), "{id}");
        assert!(!format!("{seal:?}").contains("STORECHECK"));
        // Stable for the same credentials, different for anything that selects another token.
        assert_eq!(id, pv(None, BASE).key_id());
        assert_ne!(id, pv(Some("a.myshopify.com"), BASE).key_id());
        assert_ne!(
            id,
            pv(None, "https://staging-api.puppetvendors.com").key_id()
        );
        assert_ne!(vendy("ak", "sk").key_id(), vendy("ak", "sk2").key_id());
        assert_ne!(vendy("ak", "sk").key_id(), vendy("sk", "ak").key_id());
    }

    #[test]
    fn a_sealed_session_opens_to_the_same_session() {
        let seal = pv(None, BASE);
        let s = session(TOKEN, 1_800_000_000_000);
        let sealed = seal.seal_session(&s, &[7; NONCE_LEN]);
        assert!(sealed.starts_with("v1."));
        let opened = seal.open_session(&sealed).unwrap();
        assert_eq!(opened.token.expose_secret(), TOKEN);
        assert_eq!(opened.expires_at_ms, s.expires_at_ms);
        assert_eq!(opened.metadata, s.metadata);
        assert!(!format!("{opened:?}").contains("STORE-TOKEN"));
    }

    #[test]
    fn a_session_does_not_open_under_another_credential_kind_or_version() {
        let seal = pv(None, BASE);
        let sealed = seal.seal_session(&session(TOKEN, 1), &[1; NONCE_LEN]);
        assert!(pv(Some("a.myshopify.com"), BASE)
            .open_session(&sealed)
            .is_none());
        assert!(seal.open_rate_limit(&sealed, "puppetvendors").is_none());
        assert!(seal
            .open_session(&sealed.replacen("v1.", "v2.", 1))
            .is_none());
        assert!(seal.open_session("").is_none());
        assert!(seal.open_session("v1.").is_none());
        assert!(seal.open_session("v1.!!!").is_none());
    }

    #[test]
    fn a_rate_limit_round_trips_with_its_code_and_status() {
        let seal = vendy("ak", "sk");
        let error = Error::new(ErrorCode::RateLimited, "slow down")
            .with_status(429)
            .with_vendor(Some("Too many".into()), Some("RATE_LIMITED".into()));
        let sealed = seal.seal_rate_limit(
            &SharedRateLimit {
                until_ms: 42,
                error,
            },
            &[3; NONCE_LEN],
        );
        let opened = seal.open_rate_limit(&sealed, "vendy").unwrap();
        assert_eq!(opened.until_ms, 42);
        assert_eq!(opened.error.code(), ErrorCode::RateLimited);
        assert_eq!(opened.error.status(), Some(429));
        assert_eq!(opened.error.vendor_code(), Some("RATE_LIMITED"));
        assert!(opened.error.message().starts_with("slow down"));
        assert!(seal.open_session(&sealed).is_none());
    }

    proptest! {
        /// open(seal(x)) = x; any single flipped bit makes it not open; the sealed text never
        /// holds the token or the credential (nor a recognisable piece of either).
        #[test]
        fn sealing_round_trips_authenticates_and_hides(
            token in "[A-Za-z0-9._-]{20,200}",
            expires in 1u64..4_000_000_000_000,
            nonce in proptest::array::uniform24(any::<u8>()),
            flip in any::<prop::sample::Index>(),
            bit in 0u8..8,
        ) {
            let seal = pv(None, BASE);
            let s = session(&token, expires);
            let sealed = seal.seal_session(&s, &nonce);
            let opened = seal.open_session(&sealed).unwrap();
            prop_assert_eq!(opened.token.expose_secret(), token.as_str());
            prop_assert_eq!(opened.expires_at_ms, expires);
            for piece in [&token[..], PV_KEY] {
                for window in piece.as_bytes().windows(12) {
                    let window = std::str::from_utf8(window).unwrap();
                    prop_assert!(!sealed.contains(window));
                }
            }
            let mut bytes = URL_SAFE_NO_PAD.decode(&sealed[3..]).unwrap();
            let i = flip.index(bytes.len());
            bytes[i] ^= 1 << bit;
            let tampered = format!("v1.{}", URL_SAFE_NO_PAD.encode(&bytes));
            prop_assert!(seal.open_session(&tampered).is_none());
        }
    }
}
