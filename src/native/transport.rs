//! Sending the core's request descriptions over HTTPS.
//!
//! One `reqwest::Client` (and so one connection pool) per distinct `caCert`, shared by every
//! exchange and every `AuthClient` that uses it. Redirects are never followed, plain HTTP is
//! refused by the client itself as a second line behind option checking, and TLS verification
//! has no off switch: the platform's roots plus any `caCert` roots.

use crate::{
    body_too_large, host_of, Error, ErrorCode, HttpRequest, HttpResponse, TransportFailure,
    MAX_BODY_BYTES,
};
use reqwest::header::{HeaderName, HeaderValue};
use secrecy::ExposeSecret;
use std::error::Error as _;
use std::sync::{LazyLock, Mutex, Once};
use std::time::Duration;

/// Pools kept at once; more distinct `caCert` values than this evict the oldest.
const MAX_POOLS: usize = 8;

/// `(caCert, client)` pairs, oldest first.
type Pools = Vec<(Option<String>, reqwest::Client)>;

static POOLS: LazyLock<Mutex<Pools>> = LazyLock::new(|| Mutex::new(Vec::new()));

/// The shared client for this set of extra roots.
pub fn client_for(ca_cert: Option<&str>) -> Result<reqwest::Client, Error> {
    let mut pools = POOLS.lock().unwrap_or_else(|poison| poison.into_inner());
    if let Some((_, client)) = pools.iter().find(|(ca, _)| ca.as_deref() == ca_cert) {
        return Ok(client.clone());
    }
    let client = build_client(ca_cert)?;
    if pools.len() >= MAX_POOLS {
        pools.remove(0);
    }
    pools.push((ca_cert.map(str::to_owned), client.clone()));
    Ok(client)
}

fn build_client(ca_cert: Option<&str>) -> Result<reqwest::Client, Error> {
    static CRYPTO: Once = Once::new();
    // reqwest is built with `rustls-no-provider`; ring is this addon's provider. An error here
    // only means another provider is already installed in this process, which is fine.
    CRYPTO.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .https_only(true)
        .user_agent(concat!("vendor-auth/", env!("CARGO_PKG_VERSION")))
        .pool_idle_timeout(Duration::from_secs(90));
    if let Some(pem) = ca_cert {
        let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes()).map_err(|e| {
            Error::invalid_options(format!("caCert could not be read as PEM certificates: {e}"))
        })?;
        builder = builder.tls_certs_merge(certs);
    }
    builder.build().map_err(|e| {
        Error::new(
            ErrorCode::Network,
            format!(
                "could not set up HTTPS (is a CA certificate store installed?): {}",
                chain(&e)
            ),
        )
    })
}

/// Send `request`, reading at most [`MAX_BODY_BYTES`] of the answer, all within `timeout`.
pub async fn send(
    client: &reqwest::Client,
    request: &HttpRequest,
    timeout: Duration,
    provider: &'static str,
) -> Result<HttpResponse, Error> {
    request.check_headers()?;
    let mut builder = client.post(request.url.clone()).timeout(timeout);
    for header in &request.headers {
        let mut value = HeaderValue::from_str(header.value())
            .expect("check_headers accepts only what HeaderValue accepts");
        // Never indexed by HPACK, and printed as "Sensitive" by http's Debug.
        value.set_sensitive(header.is_sensitive());
        let name = HeaderName::from_bytes(header.name().as_bytes())
            .expect("the core only uses valid header names");
        builder = builder.header(name, value);
    }
    let builder = builder.body(request.body.expose_secret().to_vec());
    let map = |e: reqwest::Error| transport_error(e, timeout, provider);

    let mut response = builder.send().await.map_err(map)?;
    let status = response.status().as_u16();
    // An error answer is judged by its status (a huge 503 page is still a 503, and retryable):
    // its body is only cut at the cap. A success answer that large cannot be a token answer.
    let success = response.status().is_success();
    let too_large = || body_too_large(provider, status);
    if success
        && response
            .content_length()
            .is_some_and(|len| len > MAX_BODY_BYTES as u64)
    {
        return Err(too_large());
    }
    let headers = response
        .headers()
        .iter()
        .filter_map(|(name, value)| {
            Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(map)? {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            // Dropping `response` closes the connection without reading the rest.
            if success {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk[..MAX_BODY_BYTES - body.len()]);
            break;
        }
        body.extend_from_slice(&chunk);
    }
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

fn transport_error(e: reqwest::Error, timeout: Duration, provider: &'static str) -> Error {
    let detail = chain(&e);
    let kind = if e.is_timeout() {
        TransportFailure::Timeout
    } else if detail.contains("certificate") || detail.contains("Certificate") {
        TransportFailure::Untrusted
    } else if e.is_connect() {
        TransportFailure::Connect
    } else {
        TransportFailure::Other
    };
    let host = e.url().map_or_else(|| "the vendor".into(), host_of);
    kind.error(&host, &detail, timeout.as_millis() as u64, provider)
}

/// An error and its causes as one line, without the URL (which carries no secret, but is noise).
fn chain(e: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source = e.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.iter().any(|p: &String| p.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    if parts.is_empty() {
        parts.push(e.to_string());
    }
    parts.join(": ")
}
