//! Where a client may send its token (`client.fetch()`): the origins it has reason to trust.
//!
//! - the vendor's documented API origin for the client's `environment`,
//! - the origin of its `baseUrl`,
//! - any loopback origin, but only when `baseUrl` is itself loopback (local servers and tests),
//! - the origins the user lists in `allowedOrigins` (`https:`, or `http:` on loopback).
//!
//! Anything else is refused before any request is made, with a message that names
//! `allowedOrigins`. What a redirect may carry is the fetch layer's rule (only the origin asked
//! for); this module answers "may the token go to this URL at all".

use crate::{Error, ErrorCode};
use url::{Host, Url};

/// Longest `allowedOrigins` list accepted (a client talks to a handful of hosts).
const MAX_ALLOWED: usize = 64;

/// The origins a client may send its token to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedOrigins {
    /// ASCII serializations (`https://host[:port]`, as WHATWG URL's `origin` gives them).
    origins: Vec<String>,
    /// Whether every loopback origin is trusted (`baseUrl` is loopback).
    loopback: bool,
}

impl TrustedOrigins {
    /// The trusted origins for a client whose vendor documents `documented` (its API base for the
    /// chosen environment), whose `baseUrl` is `base_url`, with the user's `allowed` list
    /// (checked: each entry an origin, `https:` or loopback `http:`).
    pub fn new(documented: &Url, base_url: &Url, allowed: &[String]) -> Result<Self, Error> {
        if allowed.len() > MAX_ALLOWED {
            return Err(Error::invalid_options(format!(
                "allowedOrigins lists {} origins; at most {MAX_ALLOWED} are accepted",
                allowed.len()
            )));
        }
        let mut origins = vec![origin_of(documented), origin_of(base_url)];
        for (i, entry) in allowed.iter().enumerate() {
            origins.push(
                parse_allowed(entry)
                    .map_err(|why| Error::invalid_options(format!("allowedOrigins[{i}] {why}")))?,
            );
        }
        origins.dedup();
        Ok(Self {
            origins,
            loopback: is_loopback(base_url),
        })
    }

    /// Whether the token may be sent to `url` (a URL as `fetch` resolved it): `Ok`, or an
    /// `INSECURE_URL` error saying why not and what to do.
    pub fn check(&self, url: &str) -> Result<(), Error> {
        let url = Url::parse(url).map_err(|e| {
            Error::new(
                ErrorCode::InsecureUrl,
                format!("client.fetch() could not read the URL ({e})"),
            )
        })?;
        let loopback = is_loopback(&url);
        match url.scheme() {
            "https" => {}
            "http" if loopback => {}
            scheme => {
                return Err(Error::new(
                    ErrorCode::InsecureUrl,
                    format!(
                        "client.fetch() sends the token only over https: (plain http only to loopback), not to a {scheme}: URL"
                    ),
                ));
            }
        }
        let origin = origin_of(&url);
        if self.origins.contains(&origin) || (loopback && self.loopback) {
            return Ok(());
        }
        Err(Error::new(
            ErrorCode::InsecureUrl,
            format!(
                "client.fetch() sends the token only to the vendor's API ({}) and the origins in the allowedOrigins option; {origin} is neither: add it to allowedOrigins if it should get the token",
                self.origins.join(", ")
            ),
        ))
    }

    /// The trusted origins, in order (the documented one first).
    pub fn origins(&self) -> &[String] {
        &self.origins
    }
}

/// `url`'s origin as WHATWG URL serializes it (`https://host`, the port only when not default).
fn origin_of(url: &Url) -> String {
    url.origin().ascii_serialization()
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// One `allowedOrigins` entry as an origin, or why it is not one.
fn parse_allowed(entry: &str) -> Result<String, String> {
    let url =
        Url::parse(entry).map_err(|e| format!("is not an origin such as https://host ({e})"))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        scheme => {
            return Err(format!(
                "must be an https: origin (http: only for loopback), not {scheme}:"
            ));
        }
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain credentials (user:password@)".to_owned());
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "must be an origin only (scheme, host and port), such as {}",
            origin_of(&url)
        ));
    }
    Ok(origin_of(&url))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    fn vendy(base: &str, allowed: &[&str]) -> Result<TrustedOrigins, Error> {
        let allowed: Vec<String> = allowed.iter().map(|s| (*s).to_owned()).collect();
        TrustedOrigins::new(&url("https://api.vendy.money/"), &url(base), &allowed)
    }

    #[test]
    fn the_vendor_api_and_base_url_are_trusted_and_nothing_else() {
        let t = vendy("https://proxy.example.com/vendy/", &[]).unwrap();
        assert!(t.check("https://api.vendy.money/v1/orders").is_ok());
        assert!(t.check("https://proxy.example.com/other").is_ok());
        let e = t.check("https://cdn.example.net/file").unwrap_err();
        assert_eq!(e.code(), ErrorCode::InsecureUrl);
        assert!(e.message().contains("allowedOrigins"), "{}", e.message());
        assert!(
            e.message().contains("https://cdn.example.net"),
            "{}",
            e.message()
        );
        // Another port or scheme is another origin.
        assert!(t.check("https://api.vendy.money:8443/").is_err());
        assert!(t.check("http://api.vendy.money/").is_err());
    }

    #[test]
    fn allowed_origins_extend_the_set_and_are_checked() {
        let t = vendy(
            "https://api.vendy.money",
            &["https://files.vendy.money", "http://localhost:8080"],
        )
        .unwrap();
        assert!(t.check("https://files.vendy.money/a?b").is_ok());
        assert!(t.check("http://localhost:8080/x").is_ok());
        assert!(t.check("http://localhost:8081/x").is_err());
        for (bad, why) in [
            ("http://files.example.com", "https: origin"),
            ("https://files.example.com/path", "origin only"),
            ("https://u:p@files.example.com", "credentials"),
            ("files.example.com", "not an origin"),
            ("ftp://files.example.com", "https: origin"),
        ] {
            let e = vendy("https://api.vendy.money", &[bad]).unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidOptions, "{bad}");
            assert!(e.message().contains("allowedOrigins[0]"), "{}", e.message());
            assert!(e.message().contains(why), "{bad}: {}", e.message());
        }
        let many: Vec<String> = (0..65)
            .map(|i| format!("https://h{i}.example.com"))
            .collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert!(vendy("https://api.vendy.money", &many).is_err());
    }

    #[test]
    fn loopback_is_trusted_only_when_base_url_is_loopback() {
        let t = vendy("https://127.0.0.1:9443/", &[]).unwrap();
        assert!(t.check("https://127.0.0.1:9999/x").is_ok());
        assert!(t.check("http://localhost:3000/x").is_ok());
        assert!(t.check("http://[::1]:3000/x").is_ok());
        let t = vendy("https://api.vendy.money/", &[]).unwrap();
        assert!(t.check("https://127.0.0.1:9999/x").is_err());
        assert!(t.check("http://127.0.0.1:9999/x").is_err());
    }

    #[test]
    fn plain_http_elsewhere_and_other_schemes_are_refused_as_insecure() {
        let t = vendy("https://127.0.0.1:9443/", &[]).unwrap();
        for bad in [
            "http://192.0.2.2/steal",
            "ws://127.0.0.1/",
            "file:///etc/passwd",
            "nonsense",
        ] {
            assert_eq!(
                t.check(bad).unwrap_err().code(),
                ErrorCode::InsecureUrl,
                "{bad}"
            );
        }
    }
}
