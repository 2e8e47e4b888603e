//! Node's conventions for trust and proxies, read from the real process environment when a
//! connection pool is built (on the JS thread, at client creation):
//! - `NODE_EXTRA_CA_CERTS`: a PEM file of extra roots. Node reads it once at start-up; we read it
//!   at every client creation, so a file set or rewritten later counts too. Like Node, a file that
//!   cannot be read or holds no certificate is ignored (and said so in the debug log and in a
//!   later certificate error), never fatal.
//! - `HTTPS_PROXY` / `ALL_PROXY` / `NO_PROXY` (and lower-case forms): reqwest honours them by
//!   itself; this asks the same matcher which proxy a URL goes through, so that a failure to get
//!   through names the proxy rather than the vendor host.
//!
//! (`SSL_CERT_FILE` / `SSL_CERT_DIR` replace the system roots; rustls-native-certs reads them.)

use hyper_util::client::proxy::matcher::Matcher;
use std::error::Error as _;
use std::sync::Arc;

const EXTRA_CA_VAR: &str = "NODE_EXTRA_CA_CERTS";

/// Variables that reqwest (proxies) and rustls-native-certs (system roots) read when a pool is
/// built: a pool is reused only while they keep the values it was built with.
const POOL_VARIABLES: [&str; 10] = [
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
];

/// The values of the variables a pool is built from, read now (part of the pool's key).
pub fn pool_environment() -> Vec<Option<std::ffi::OsString>> {
    POOL_VARIABLES.iter().map(std::env::var_os).collect()
}

/// What `NODE_EXTRA_CA_CERTS` contributes: its PEM text, or why it contributes nothing.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ExtraCa {
    /// The file's text (PEM with at least one certificate), when usable; shared, as every client
    /// made while the file is unchanged holds it (a bundle can be a few hundred KB).
    pub pem: Option<Arc<str>>,
    /// Set when the variable names a file that was ignored: which, and why.
    pub ignored: Option<String>,
}

/// Read `NODE_EXTRA_CA_CERTS` now: the file is parsed again only when it changed since the last
/// reading (a bundle of ~150 roots took ~1 ms to parse, on every client and `authenticate()`).
pub fn node_extra_ca_certs() -> ExtraCa {
    match std::env::var_os(EXTRA_CA_VAR) {
        Some(path) if !path.is_empty() => read_extra_ca_cached(std::path::Path::new(&path)),
        _ => ExtraCa::default(),
    }
}

/// A file as it is on disk now: its path, and what changes when it is rewritten or replaced.
#[derive(PartialEq, Eq)]
struct FileIdentity {
    path: std::path::PathBuf,
    len: u64,
    modified: Option<std::time::SystemTime>,
    #[cfg(unix)]
    inode: (u64, u64, i64, i64),
}

impl FileIdentity {
    fn of(path: &std::path::Path) -> Option<Self> {
        let meta = std::fs::metadata(path).ok()?;
        Some(Self {
            path: path.to_owned(),
            len: meta.len(),
            modified: Some(meta.modified().ok()?),
            #[cfg(unix)]
            inode: {
                use std::os::unix::fs::MetadataExt;
                (meta.dev(), meta.ino(), meta.ctime(), meta.ctime_nsec())
            },
        })
    }
}

fn read_extra_ca_cached(path: &std::path::Path) -> ExtraCa {
    static LAST: std::sync::Mutex<Option<(FileIdentity, ExtraCa)>> = std::sync::Mutex::new(None);
    // A file that cannot be looked at is read (and named) as before, never cached.
    let Some(identity) = FileIdentity::of(path) else {
        return read_extra_ca(path);
    };
    let mut last = LAST.lock().unwrap_or_else(|poison| poison.into_inner());
    if let Some((seen, extra)) = last.as_ref() {
        if *seen == identity {
            return extra.clone();
        }
    }
    let extra = read_extra_ca(path);
    *last = Some((identity, extra.clone()));
    extra
}

fn read_extra_ca(path: &std::path::Path) -> ExtraCa {
    let ignored = |why: String| ExtraCa {
        pem: None,
        ignored: Some(format!(
            "{EXTRA_CA_VAR}={} was ignored, as Node ignores it: {why}",
            path.display()
        )),
    };
    let text = match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(_) => return ignored("not PEM text".into()),
        },
        Err(e) => return ignored(format!("could not be read: {e}")),
    };
    let certificates = reqwest::Certificate::from_pem_bundle(text.as_bytes()).map(|c| c.len());
    match certificates {
        Ok(n) if n > 0 && text.contains("-----BEGIN CERTIFICATE-----") => ExtraCa {
            pem: Some(text.into()),
            ignored: None,
        },
        Ok(_) => ignored("it holds no PEM certificate".into()),
        Err(e) => ignored(format!("not readable as PEM certificates: {e}")),
    }
}

/// The proxy settings reqwest took from the environment when it built the same pool.
#[derive(Clone)]
pub struct ProxyEnv {
    matcher: Arc<Matcher>,
    /// Which variable named the proxy for `https:` URLs.
    variable: Option<&'static str>,
}

impl ProxyEnv {
    /// Read the environment now (just before reqwest reads it for the client it builds).
    pub fn read() -> Self {
        let variable = ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
            .into_iter()
            .find(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()));
        Self {
            matcher: Arc::new(Matcher::from_system()),
            variable,
        }
    }

    /// The proxy `url` goes through, as `scheme://host:port` (never its credentials) and the
    /// variable that named it; `None` when it goes direct (no proxy set, or `NO_PROXY` matches).
    pub fn proxy_for(&self, url: &url::Url) -> Option<String> {
        let uri: ::http::Uri = url.as_str().parse().ok()?;
        let intercept = self.matcher.intercept(&uri)?;
        let proxy = intercept.uri();
        let scheme = proxy.scheme_str().unwrap_or("http");
        let host = proxy.host()?;
        let port = proxy
            .port_u16()
            .map(|p| format!(":{p}"))
            .unwrap_or_default();
        let from = self.variable.unwrap_or("the system proxy settings");
        Some(format!("{scheme}://{host}{port} (from {from})"))
    }
}

/// Whether `e` failed because the server's certificate is not trusted (found by the error's
/// type in its source chain, not by its text).
pub fn is_untrusted_certificate(e: &reqwest::Error) -> bool {
    let mut source = e.source();
    while let Some(cause) = source {
        if untrusted(cause) {
            return true;
        }
        source = cause.source();
    }
    false
}

/// A rustls certificate error, possibly inside `io::Error`s (which hide it from `source()`).
fn untrusted(error: &(dyn std::error::Error + 'static)) -> bool {
    if let Some(rustls::Error::InvalidCertificate(_)) = error.downcast_ref::<rustls::Error>() {
        return true;
    }
    match error
        .downcast_ref::<std::io::Error>()
        .and_then(|io| io.get_ref())
    {
        Some(inner) => untrusted(inner),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_file(name: &str, contents: &[u8]) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!(
            "vendor-auth-conventions-{}-{name}",
            std::process::id()
        ));
        std::fs::write(&path, contents).unwrap();
        path
    }

    #[test]
    fn a_missing_extra_ca_file_is_ignored_and_named() {
        let extra = read_extra_ca(std::path::Path::new("/nonexistent/vendor-auth-ca.pem"));
        assert_eq!(extra.pem, None);
        let why = extra.ignored.unwrap();
        assert!(why.contains("NODE_EXTRA_CA_CERTS=/nonexistent/vendor-auth-ca.pem"));
        assert!(why.contains("could not be read"));
    }

    #[test]
    fn an_extra_ca_file_without_certificates_is_ignored() {
        let path = temp_file("empty.pem", b"not a certificate\n");
        let extra = read_extra_ca(&path);
        std::fs::remove_file(&path).unwrap();
        assert_eq!(extra.pem, None);
        assert!(extra.ignored.unwrap().contains("no PEM certificate"));
    }

    #[test]
    fn a_cached_reading_follows_a_rewrite_of_the_same_size() {
        let path = temp_file("rewritten.pem", b"not a certificate\n");
        let first = read_extra_ca_cached(&path);
        assert!(first.ignored.unwrap().contains("no PEM certificate"));
        assert!(read_extra_ca_cached(&path)
            .ignored
            .unwrap()
            .contains("no PEM certificate"));
        // As long, not UTF-8: only the file's identity (mtime, ctime, inode) tells it changed.
        std::fs::write(&path, b"\xffot a certificate\n").unwrap();
        let second = read_extra_ca_cached(&path);
        std::fs::remove_file(&path).unwrap();
        assert!(second.ignored.unwrap().contains("not PEM text"));
    }

    #[test]
    fn a_proxy_is_named_without_its_credentials() {
        let proxies = ProxyEnv {
            matcher: Arc::new(
                Matcher::builder()
                    .https("http://user:hunter2@proxy.internal:3128")
                    .no("localhost, .example.org")
                    .build(),
            ),
            variable: Some("HTTPS_PROXY"),
        };
        let vendor = url::Url::parse("https://api.vendy.money/auth").unwrap();
        assert_eq!(
            proxies.proxy_for(&vendor).as_deref(),
            Some("http://proxy.internal:3128 (from HTTPS_PROXY)")
        );
        let excluded = url::Url::parse("https://api.example.org/auth").unwrap();
        assert_eq!(proxies.proxy_for(&excluded), None);
    }
}
