//! Sending the core's request descriptions over HTTPS.
//!
//! One `reqwest::Client` (and so one connection pool) per distinct set of extra roots (`caCert`
//! plus the file `NODE_EXTRA_CA_CERTS` names, by their PEM text) and of Node's conventions as the
//! environment set them, shared by every exchange and every `AuthClient` that uses it. Redirects
//! are never followed, plain HTTP is refused by the client itself as a second line behind option
//! checking, and TLS verification has no off switch: the platform's roots (or those
//! `SSL_CERT_FILE` / `SSL_CERT_DIR` put in their place) plus any extra roots. Which proxy a
//! request goes through is the core's decision (`src/conventions.rs`), given to reqwest as a
//! custom proxy: reqwest reads no variable itself.

use super::conventions::{self, StdFiles};
use crate::conventions::{proxy_failed, through_proxy, Conventions, ExtraCa, Proxies};
use crate::{
    body_too_large, host_of, Error, ErrorCode, HttpRequest, HttpResponse, TransportFailure,
    MAX_BODY_BYTES,
};
use reqwest::header::{HeaderName, HeaderValue};
use secrecy::ExposeSecret;
use std::error::Error as _;
use std::sync::{Arc, LazyLock, Mutex, Once};
use std::time::Duration;

/// Pools kept at once; more distinct keys than this evict the oldest.
const MAX_POOLS: usize = 8;

/// What a pool is built from: its extra roots by PEM text (`caCert`, then the file
/// `NODE_EXTRA_CA_CERTS` names) and what the environment decided (proxies, system roots).
type PoolKey = (Option<String>, Option<Arc<str>>, Conventions);

/// `(key, pool)` pairs, oldest first.
type Pools = Vec<(PoolKey, Http)>;

static POOLS: LazyLock<Mutex<Pools>> = LazyLock::new(|| Mutex::new(Vec::new()));

/// A shared connection pool, and what it was built with (for error messages).
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    proxies: Proxies,
    /// Why `NODE_EXTRA_CA_CERTS` was ignored when this client was created, if it was.
    extra_ca_ignored: Option<String>,
}

impl Http {
    /// Why `NODE_EXTRA_CA_CERTS` added no roots for this client, when it names a file.
    pub fn extra_ca_ignored(&self) -> Option<&str> {
        self.extra_ca_ignored.as_deref()
    }

    /// How to reword the error made of `e` (a failure to reach `url`) where Node's conventions
    /// explain it: a connection that failed on the way through a proxy names the proxy, and an
    /// untrusted certificate says that `NODE_EXTRA_CA_CERTS` was ignored.
    fn explain(&self, e: &reqwest::Error, url: &url::Url) -> impl FnOnce(Error) -> Error {
        let proxy = self.proxies.proxy_for(url);
        let message = if conventions::is_untrusted_certificate(e) {
            self.extra_ca_ignored
                .as_ref()
                .map(|why| Extra::Append(format!(". {why}")))
        } else if e.is_connect() {
            proxy.map(|proxy| {
                let host = url.host_str().unwrap_or("?");
                let port = url.port_or_known_default().unwrap_or(443);
                let to = format!("{host}:{port}");
                Extra::Replace(proxy_failed(&proxy.name(), &to, host, &chain(e)))
            })
        } else {
            proxy.map(|proxy| Extra::Append(through_proxy(&proxy.name())))
        };
        move |error: Error| match message {
            Some(Extra::Append(text)) => {
                let message = format!("{}{text}", error.message());
                error.with_message(message)
            }
            Some(Extra::Replace(text)) => error.with_message(text),
            None => error,
        }
    }
}

/// What [`Http::explain`] does to a message.
enum Extra {
    Append(String),
    Replace(String),
}

/// What a pool takes from the environment (the proxies and system roots it decides, the roots
/// `NODE_EXTRA_CA_CERTS` names), read at client creation even though the pool is set up at the
/// first exchange: Node reads `NODE_EXTRA_CA_CERTS` once, and so does a client.
/// (No `Debug`: proxy variables may hold a proxy's credentials.)
#[derive(Clone)]
pub struct PoolEnv {
    conventions: Conventions,
    extra: ExtraCa,
}

impl PoolEnv {
    /// The environment as it is now.
    pub fn read() -> Self {
        let (conventions, extra) = conventions::read();
        Self { conventions, extra }
    }
}

/// The shared pool for `caCert` plus the roots `NODE_EXTRA_CA_CERTS` named, with the
/// environment as it was when the client was created (`env`).
pub fn client_for(ca_cert: Option<&str>, env: &PoolEnv) -> Result<Http, Error> {
    let key: PoolKey = (
        ca_cert.map(str::to_owned),
        env.extra.pem.clone(),
        env.conventions.clone(),
    );
    let mut pools = POOLS.lock().unwrap_or_else(|poison| poison.into_inner());
    if let Some((_, http)) = pools.iter().find(|(k, _)| *k == key) {
        // The same pool, with this reading's note (an ignored file leaves the key as without it).
        return Ok(Http {
            extra_ca_ignored: env.extra.ignored.clone(),
            ..http.clone()
        });
    }
    let http = build_client(ca_cert, env)?;
    if pools.len() >= MAX_POOLS {
        pools.remove(0);
    }
    pools.push((key, http.clone()));
    Ok(http)
}

/// `caCert` as PEM certificates, or `INVALID_OPTIONS` (cheap: no client is built).
pub fn check_ca_cert(ca_cert: Option<&str>) -> Result<(), Error> {
    ca_cert.map_or(Ok(()), |pem| parse_ca_cert(pem).map(drop))
}

fn parse_ca_cert(pem: &str) -> Result<Vec<reqwest::Certificate>, Error> {
    // The options check has already refused keys and damaged blocks; this is what is left.
    reqwest::Certificate::from_pem_bundle(pem.as_bytes()).map_err(|e| {
        Error::invalid_options(format!(
            "caCert could not be read as PEM certificates: {}",
            chain(&e)
        ))
    })
}

fn build_client(ca_cert: Option<&str>, env: &PoolEnv) -> Result<Http, Error> {
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
        .pool_idle_timeout(Duration::from_secs(90))
        // Nothing from the environment: the proxy is the core's decision, below.
        .no_proxy();
    let proxies = env.conventions.proxies.clone();
    if proxies.any() {
        let decided = proxies.clone();
        let mut proxy =
            reqwest::Proxy::custom(move |url| decided.proxy_for(url).map(|proxy| proxy.url()));
        // The proxy's credentials as the core encodes them (never in a URL).
        if let Some(Ok(mut value)) = proxies.authorization().map(HeaderValue::try_from) {
            value.set_sensitive(true);
            proxy = proxy.custom_http_auth(value);
        }
        builder = builder.proxy(proxy);
    }
    let mut extra = Vec::new();
    if let Some(pem) = ca_cert {
        extra.extend(parse_ca_cert(pem)?);
    }
    if let Some(pem) = &env.extra.pem {
        // Checked when read: a file that does not parse was ignored there.
        extra.extend(reqwest::Certificate::from_pem_bundle(pem.as_bytes()).unwrap_or_default());
    }
    builder = match &env.conventions.system_roots {
        None => builder.tls_certs_merge(extra),
        Some(paths) => {
            // SSL_CERT_FILE / SSL_CERT_DIR instead of the platform's roots (as the platform
            // verifier reads them, a certificate that cannot be a root is skipped).
            let roots: Vec<_> = paths
                .certificates(&StdFiles)
                .into_iter()
                .filter(|der| {
                    let der = rustls::pki_types::CertificateDer::from(der.as_slice());
                    rustls::RootCertStore::empty().add(der).is_ok()
                })
                .filter_map(|der| reqwest::Certificate::from_der(&der).ok())
                .collect();
            if roots.is_empty() && extra.is_empty() {
                return Err(Error::new(
                    ErrorCode::Network,
                    "could not set up HTTPS (is a CA certificate store installed?): no CA certificates were loaded from SSL_CERT_FILE / SSL_CERT_DIR",
                ));
            }
            builder.tls_certs_only(roots.into_iter().chain(extra))
        }
    };
    let client = builder.build().map_err(|e| match ca_cert {
        // Building only fails on the roots: with caCert, those are the ones given.
        Some(_) => Error::invalid_options(format!(
            "caCert holds a certificate that cannot be used as a trusted root: {}",
            chain(&e)
        )),
        None => Error::new(
            ErrorCode::Network,
            format!(
                "could not set up HTTPS (is a CA certificate store installed?): {}",
                chain(&e)
            ),
        ),
    })?;
    Ok(Http {
        client,
        proxies,
        extra_ca_ignored: env.extra.ignored.clone(),
    })
}

/// Send `request`, reading at most [`MAX_BODY_BYTES`] of the answer, all within `timeout`.
pub async fn send(
    http: &Http,
    request: &HttpRequest,
    timeout: Duration,
    provider: &'static str,
) -> Result<HttpResponse, Error> {
    request.check_headers()?;
    let mut builder = http.client.post(request.url.clone()).timeout(timeout);
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
    let map = |e: reqwest::Error| {
        let explain = http.explain(&e, &request.url);
        explain(transport_error(e, timeout, provider))
    };

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
    } else if let Some(tls) = tls_failure(&e) {
        match tls {
            TlsFailure::Certificate => TransportFailure::Untrusted,
            TlsFailure::NoHttp1 => TransportFailure::NoHttp1,
        }
    } else if e.is_connect() {
        TransportFailure::Connect
    } else {
        TransportFailure::Other
    };
    let host = e.url().map_or_else(|| "the vendor".into(), host_of);
    kind.error(&host, &detail, timeout.as_millis() as u64, provider)
}

/// TLS failures that the same request will meet again, found by type in the source chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TlsFailure {
    /// The server's certificate is not trusted (ours to judge, or the peer's alert about it).
    Certificate,
    /// The server refused every protocol offered by ALPN (we offer only HTTP/1.1), or picked one
    /// not offered: an HTTP/2-only server.
    NoHttp1,
}

fn tls_failure(e: &reqwest::Error) -> Option<TlsFailure> {
    use rustls::{AlertDescription as Alert, Error as Tls, PeerMisbehaved};
    let error = rustls_error(e)?;
    match error {
        Tls::InvalidCertificate(_)
        | Tls::NoCertificatesPresented
        | Tls::UnsupportedNameType
        | Tls::AlertReceived(
            Alert::BadCertificate
            | Alert::UnsupportedCertificate
            | Alert::CertificateUnknown
            | Alert::CertificateExpired
            | Alert::CertificateRevoked
            | Alert::UnknownCA,
        ) => Some(TlsFailure::Certificate),
        Tls::NoApplicationProtocol
        | Tls::AlertReceived(Alert::NoApplicationProtocol)
        | Tls::PeerMisbehaved(PeerMisbehaved::SelectedUnofferedApplicationProtocol) => {
            Some(TlsFailure::NoHttp1)
        }
        _ => None,
    }
}

/// The `rustls::Error` somewhere in the source chain. `io::Error::source()` skips the error it
/// wraps (it returns that error's own source), and the connector nests `io::Error`s, so wrapped
/// errors are looked into with `get_ref` before following `source`.
fn rustls_error(e: &reqwest::Error) -> Option<&rustls::Error> {
    let mut error: &(dyn std::error::Error + 'static) = e.source()?;
    loop {
        if let Some(tls) = error.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        let wrapped = error
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref);
        error = match wrapped {
            Some(inner) => inner,
            None => error.source()?,
        };
    }
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
