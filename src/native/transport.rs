//! Sending the core's request descriptions over HTTPS.
//!
//! One `reqwest::Client` (and so one connection pool) per distinct `caCert`, shared by every
//! exchange and every `AuthClient` that uses it. Redirects are never followed, plain HTTP is
//! refused by the client itself as a second line behind option checking, and TLS verification
//! has no off switch: the platform's roots plus any `caCert` roots.

use crate::{Error, ErrorCode, HttpRequest, HttpResponse, MAX_BODY_BYTES};
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

/// `caCert` as PEM certificates, or `INVALID_OPTIONS` (cheap: no client is built).
pub fn check_ca_cert(ca_cert: Option<&str>) -> Result<(), Error> {
    ca_cert.map_or(Ok(()), |pem| parse_ca_cert(pem).map(drop))
}

fn parse_ca_cert(pem: &str) -> Result<Vec<reqwest::Certificate>, Error> {
    reqwest::Certificate::from_pem_bundle(pem.as_bytes()).map_err(|e| {
        Error::invalid_options(format!("caCert could not be read as PEM certificates: {e}"))
    })
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
        builder = builder.tls_certs_merge(parse_ca_cert(pem)?);
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
    let mut builder = client.post(request.url.clone()).timeout(timeout);
    for header in &request.headers {
        let mut value = HeaderValue::from_str(header.value()).map_err(|_| {
            Error::invalid_options(format!(
                "the value for the {} header has characters not allowed in HTTP headers (check the credential options for stray newlines or non-ASCII characters)",
                header.name()
            ))
        })?;
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
    let too_large = || {
        Error::invalid_response(
            provider,
            format!("the body is larger than {} KiB", MAX_BODY_BYTES / 1024),
        )
        .with_status(status)
    };
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
    let host = e
        .url()
        .map(|u| {
            format!(
                "{}:{}",
                u.host_str().unwrap_or("?"),
                u.port_or_known_default().unwrap_or(443)
            )
        })
        .unwrap_or_else(|| "the vendor".into());
    let detail = chain(&e);
    let error = if e.is_timeout() {
        Error::new(
            ErrorCode::Timeout,
            format!(
                "no complete answer from {host} within timeoutMs = {} ms",
                timeout.as_millis()
            ),
        )
    } else if detail.contains("certificate") || detail.contains("Certificate") {
        Error::new(
            ErrorCode::Network,
            format!(
                "TLS with {host} failed: {detail}. The server's certificate is not trusted; if it uses a private CA, pass that CA as caCert (verification cannot be turned off)"
            ),
        )
        .permanent()
    } else if e.is_connect() {
        Error::new(
            ErrorCode::Network,
            format!("could not connect to {host}: {detail}"),
        )
    } else {
        Error::new(
            ErrorCode::Network,
            format!("the connection to {host} failed: {detail}"),
        )
    };
    error.with_provider(provider)
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
