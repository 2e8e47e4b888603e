//! Node's conventions for proxies and trust, decided once for every runtime.
//!
//! Sans-IO like the rest of the core: a runtime reads the [`VARIABLES`] from its real process
//! environment ([`Vars`]), and files through its own [`Files`] (look at a path, read a file,
//! list a folder), which the rules here ask for what the variables name. What the native build
//! (reqwest) and the Node fallback (`node:https`) get back:
//! - [`Proxies`]: the proxy a URL goes through (`HTTPS_PROXY` / `https_proxy`, else `ALL_PROXY` /
//!   `all_proxy`; none at all under CGI, i.e. with `REQUEST_METHOD` set) unless `NO_PROXY` /
//!   `no_proxy` sends it direct (curl's rules), with the variable that named it and a name
//!   without its credentials. The rules are hyper-util's `Matcher::from_env`, which reqwest
//!   followed before this module existed, down to how a value is read as a URI (see the tests
//!   against it).
//! - trust: the PEM roots `NODE_EXTRA_CA_CERTS` adds ([`ExtraCaReader`]: the file is parsed again
//!   only when it changed; one that cannot be read or holds no certificate is ignored, as Node
//!   ignores it, with a note saying why), and the roots `SSL_CERT_FILE` / `SSL_CERT_DIR` put in
//!   place of the system's ([`CertPaths`], read as rustls-native-certs reads them). Only regular
//!   files of at most [`MAX_CA_FILE_BYTES`] are read: a device (`/dev/zero`) never ends and a
//!   FIFO waits for a writer.
//! - the words a runtime uses for a failure through a proxy ([`proxy_failed`],
//!   [`through_proxy`]).

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use std::sync::Arc;
use url::Url;

/// The variables a runtime reads for these conventions.
pub const VARIABLES: [&str; 10] = [
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
    "REQUEST_METHOD",
    "NODE_EXTRA_CA_CERTS",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
];

// Where each variable is in VARIABLES (an upper-case name comes before its lower-case form).
const HTTPS_PROXY: usize = 0;
const ALL_PROXY: usize = 2;
const NO_PROXY: usize = 4;
const REQUEST_METHOD: usize = 6;
const NODE_EXTRA_CA_CERTS: usize = 7;
const SSL_CERT_FILE: usize = 8;
const SSL_CERT_DIR: usize = 9;

/// The values of [`VARIABLES`] in a process environment (a variable that is not set, or not
/// Unicode, has none), and how the platform separates the folders of a list.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Vars {
    values: [Option<String>; VARIABLES.len()],
    windows: bool,
}

impl Vars {
    /// Read each of [`VARIABLES`] with `get`. `windows`: folder lists are separated by `;` (and
    /// may quote), not `:`.
    pub fn read(get: impl Fn(&str) -> Option<String>, windows: bool) -> Self {
        Self {
            values: VARIABLES.map(get),
            windows,
        }
    }

    fn get(&self, i: usize) -> Option<&str> {
        self.values[i].as_deref()
    }

    /// The first of a variable and its lower-case form that is set (even if empty), as
    /// hyper-util's `get_first_env`: its name and value.
    fn first_set(&self, upper: usize) -> Option<(&'static str, &str)> {
        (upper..upper + 2).find_map(|i| Some((VARIABLES[i], self.get(i)?)))
    }
}

/// What the variables decide for one client, before any file is read.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Conventions {
    pub proxies: Proxies,
    /// The file `NODE_EXTRA_CA_CERTS` names (read with an [`ExtraCaReader`]).
    pub extra_ca_file: Option<String>,
    /// What replaces the system's roots (`SSL_CERT_FILE` / `SSL_CERT_DIR`), when set.
    pub system_roots: Option<CertPaths>,
}

impl Conventions {
    pub fn decide(vars: &Vars) -> Self {
        Self {
            proxies: Proxies::decide(vars),
            extra_ca_file: vars
                .get(NODE_EXTRA_CA_CERTS)
                .filter(|path| !path.is_empty())
                .map(str::to_owned),
            system_roots: CertPaths::decide(vars),
        }
    }
}

// ===== proxies =====

/// The proxy of the environment and the hosts that go direct: see [`Proxies::proxy_for`].
/// (No `Debug`: a proxy may hold credentials.)
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Proxies {
    proxy: Option<Proxy>,
    no_proxy: NoProxy,
}

impl Proxies {
    fn decide(vars: &Vars) -> Self {
        if vars.get(REQUEST_METHOD).is_some() {
            // CGI: a client's `Proxy:` header would set HTTP_PROXY (httpoxy), so none are read.
            return Self::default();
        }
        let read = |upper| {
            let (variable, value) = vars.first_set(upper)?;
            Proxy::parse(value, variable)
        };
        let proxy = read(HTTPS_PROXY).or_else(|| read(ALL_PROXY));
        let no_proxy = match (&proxy, vars.first_set(NO_PROXY)) {
            (Some(_), Some((_, rules))) => NoProxy::parse(rules),
            _ => NoProxy::default(),
        };
        Self { proxy, no_proxy }
    }

    /// Whether any URL goes through a proxy.
    pub fn any(&self) -> bool {
        self.proxy.is_some()
    }

    /// The `Proxy-Authorization` value of the proxy (the one every proxied URL goes through),
    /// when it has credentials.
    pub fn authorization(&self) -> Option<String> {
        self.proxy.as_ref()?.authorization()
    }

    /// The proxy a request to `url` goes through: none for a host `NO_PROXY` names, nor for
    /// anything but `https:` (the only scheme sent).
    pub fn proxy_for(&self, url: &Url) -> Option<&Proxy> {
        let proxy = self.proxy.as_ref()?;
        let host = url.host()?;
        (url.scheme() == "https" && !self.no_proxy.contains(host)).then_some(proxy)
    }
}

/// A proxy named by a variable. (No `Debug`: it may hold credentials.)
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    variable: &'static str,
    /// `http`, `https`, `socks4`, `socks4a`, `socks5` or `socks5h`.
    scheme: String,
    /// `host[:port]` as written (what follows the first `@`, if any).
    authority: String,
    /// The user and password, percent-decoded, when the value holds them.
    credentials: Option<(String, Option<String>)>,
}

impl Proxy {
    /// A proxy variable's value read as hyper-util's `parse_env_uri` reads it (a missing scheme
    /// is `http`, a path is dropped, an unknown scheme names no proxy), or `None`. A value whose
    /// host is no host a URL can have (empty, `[not-ipv6]`, `a]`) names no proxy either.
    fn parse(value: &str, variable: &'static str) -> Option<Self> {
        let (scheme, authority) = uri::scheme_and_authority(value)?;
        let scheme = match scheme {
            None => "http",
            Some(s @ ("http" | "https" | "socks4" | "socks4a" | "socks5" | "socks5h")) => s,
            Some(_) => return None,
        };
        let (credentials, host_port) = match authority.split_once('@') {
            Some((userinfo, host_port)) => {
                let (user, pass) = match userinfo.split_once(':') {
                    Some((user, pass)) => (user, Some(pass)),
                    None => (userinfo, None),
                };
                (
                    Some((percent_decode(user), pass.map(percent_decode))),
                    host_port,
                )
            }
            None => (None, authority),
        };
        if uri::authority_end(host_port.as_bytes()) != Some(host_port.len()) {
            return None;
        }
        let proxy = Self {
            variable,
            scheme: scheme.to_owned(),
            authority: host_port.to_owned(),
            credentials,
        };
        // Its URL must read back (as reqwest reads it) with a host, or no connection could reach
        // it: an empty host, brackets around no IPv6 address, a host of 64 KiB.
        let reachable = !proxy.host().is_empty()
            && Url::parse(&proxy.url())
                .is_ok_and(|url| url.has_host() && url.as_str().len() <= uri::MAX_LEN);
        reachable.then_some(proxy)
    }

    /// The variable that named it.
    pub fn variable(&self) -> &'static str {
        self.variable
    }

    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// Its host as written (an IPv6 address in brackets), as http's `Authority::host`.
    pub fn host(&self) -> &str {
        let host_port = self.authority.rsplit('@').next().unwrap_or_default();
        if host_port.starts_with('[') {
            host_port.find(']').map_or(host_port, |i| &host_port[..=i])
        } else {
            host_port.split(':').next().unwrap_or_default()
        }
    }

    /// Its host without the brackets of an IPv6 address (to connect to).
    pub fn hostname(&self) -> &str {
        let host = self.host();
        host.strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host)
    }

    /// Its port, when written (and a port number).
    pub fn port(&self) -> Option<u16> {
        let i = self.authority.rfind(':')?;
        self.authority[i + 1..].parse().ok()
    }

    /// The port to connect to: written, or the scheme's.
    pub fn port_or_default(&self) -> u16 {
        self.port().unwrap_or(match self.scheme.as_str() {
            "http" => 80,
            "https" => 443,
            _ => 1080,
        })
    }

    /// How messages name it: `scheme://host[:port] (from VARIABLE)`, never with its credentials.
    pub fn name(&self) -> String {
        let port = self.port().map(|p| format!(":{p}")).unwrap_or_default();
        format!(
            "{}://{}{port} (from {})",
            self.scheme,
            self.host(),
            self.variable
        )
    }

    /// Its URL without its credentials (those go in [`Proxy::authorization`]), for a client that
    /// takes one.
    pub fn url(&self) -> String {
        let port = self.port().map(|p| format!(":{p}")).unwrap_or_default();
        format!("{}://{}{port}", self.scheme, self.host())
    }

    /// The `Proxy-Authorization` value for an HTTP(S) proxy's CONNECT, when it has credentials.
    pub fn authorization(&self) -> Option<String> {
        let (user, pass) = self.credentials.as_ref()?;
        if !self.scheme.starts_with("http") {
            return None;
        }
        let pair = format!("{user}:{}", pass.as_deref().unwrap_or_default());
        Some(format!("Basic {}", STANDARD.encode(pair)))
    }
}

/// A failure to get through the proxy named `name` ([`Proxy::name`]) to `host` (`authority`:
/// `host:port`, an IPv6 host in brackets), in the words every runtime uses.
pub fn proxy_failed(name: &str, authority: &str, host: &str, why: &str) -> String {
    format!(
        "could not get through the proxy {name} to {authority}: {why}. Check the proxy, or exclude {host} with NO_PROXY"
    )
}

/// What follows the detail of any other failure of a request through the proxy named `name`.
pub fn through_proxy(name: &str) -> String {
    format!(" (through the proxy {name})")
}

/// `%XX` decoded (anything else as it is), then read as UTF-8 with replacements.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            (b, ..) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `NO_PROXY`: hosts and domains (curl's rules), IP addresses and networks that go direct.
#[derive(Clone, Default, PartialEq, Eq, Debug)]
struct NoProxy {
    /// Addresses (a prefix as long as the address) and networks.
    ips: Vec<(Ip, u32)>,
    domains: Vec<String>,
}

/// An IP address (as a number).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ip {
    V4(u32),
    V6(u128),
}

impl NoProxy {
    /// A comma-separated list, as hyper-util's `NoProxy::from_string` reads it: an entry that is
    /// an IP network (`10.0.0.0/8`, as the `ipnet` crate reads one) or address (as std reads
    /// one) is one, anything else a domain (`*` is every domain, never an IP; a port is never
    /// matched).
    fn parse(rules: &str) -> Self {
        let mut no = Self::default();
        for rule in rules.split(',').map(str::trim) {
            if let Some(net) = ip_network(rule).or_else(|| ip_address(rule, false)) {
                no.ips.push(net);
            } else if !rule.is_empty() {
                no.domains.push(rule.to_owned());
            }
        }
        no
    }

    /// Whether `host` (a URL's) goes direct.
    fn contains(&self, host: url::Host<&str>) -> bool {
        let ip = match host {
            url::Host::Domain(domain) => {
                return self.domains.iter().any(|rule| domain_matches(rule, domain))
            }
            url::Host::Ipv4(ip) => Ip::V4(ip.into()),
            url::Host::Ipv6(ip) => Ip::V6(ip.into()),
        };
        self.ips.iter().any(|&(net, prefix)| match (net, ip) {
            (Ip::V4(net), Ip::V4(ip)) => (net ^ ip).checked_shr(32 - prefix).unwrap_or(0) == 0,
            (Ip::V6(net), Ip::V6(ip)) => (net ^ ip).checked_shr(128 - prefix).unwrap_or(0) == 0,
            _ => false,
        })
    }
}

/// `address/prefix` as `ipnet` reads it (octets may have leading zeros, a prefix 2 digits for
/// IPv4 and 3 for IPv6, up to the address's length).
fn ip_network(rule: &str) -> Option<(Ip, u32)> {
    let (address, prefix) = rule.split_once('/')?;
    let (ip, bits) = ip_address(address, true)?;
    let digits = if bits == 32 { 2 } else { 3 };
    let ok =
        !prefix.is_empty() && prefix.len() <= digits && prefix.bytes().all(|b| b.is_ascii_digit());
    let prefix: u32 = prefix.parse().ok().filter(|&p| ok && p <= bits)?;
    Some((ip, prefix))
}

/// An IP address as std reads one (`lenient`: as `ipnet` reads the address of a network, where
/// an IPv4 octet may have leading zeros), and its length in bits.
fn ip_address(text: &str, lenient: bool) -> Option<(Ip, u32)> {
    match ipv4(text, lenient) {
        Some(v4) => Some((Ip::V4(v4), 32)),
        None => ipv6(text, lenient).map(|v6| (Ip::V6(v6), 128)),
    }
}

/// Four decimal octets of 1 to 3 digits (a leading zero only when `lenient`, or alone).
fn ipv4(text: &str, lenient: bool) -> Option<u32> {
    let mut octets = text.split('.');
    let mut ip = 0;
    for _ in 0..4 {
        let octet = octets.next()?;
        let digits =
            !octet.is_empty() && octet.len() <= 3 && octet.bytes().all(|b| b.is_ascii_digit());
        if !digits || (!lenient && octet.len() > 1 && octet.starts_with('0')) {
            return None;
        }
        ip = ip << 8 | octet.parse::<u8>().ok()? as u32;
    }
    octets.next().is_none().then_some(ip)
}

/// Eight groups of 1 to 4 hex digits, the last two of which may be an IPv4 address; `::` once
/// stands for one or more groups of zeros.
fn ipv6(text: &str, lenient: bool) -> Option<u128> {
    /// The groups of `part` (none when empty), an IPv4 address last only if `v4`.
    fn groups(part: &str, v4: bool, lenient: bool, out: &mut Vec<u16>) -> Option<()> {
        if part.is_empty() {
            return Some(());
        }
        let mut items = part.split(':').peekable();
        while let Some(item) = items.next() {
            if v4 && items.peek().is_none() && item.contains('.') {
                let ip = ipv4(item, lenient)?;
                out.extend([(ip >> 16) as u16, ip as u16]);
            } else if !item.is_empty() && item.len() <= 4 {
                out.push(
                    u16::from_str_radix(item, 16)
                        .ok()
                        .filter(|_| !item.starts_with('+'))?,
                );
            } else {
                return None;
            }
        }
        Some(())
    }
    let (mut head, mut tail) = (Vec::new(), Vec::new());
    let gap = match text.split_once("::") {
        None => {
            groups(text, true, lenient, &mut head)?;
            head.len() == 8
        }
        Some((before, after)) => {
            groups(before, false, lenient, &mut head)?;
            groups(after, true, lenient, &mut tail)?;
            head.len() + tail.len() <= 7
        }
    };
    if !gap {
        return None;
    }
    head.resize(8 - tail.len(), 0);
    head.extend(tail);
    Some(
        head.iter()
            .fold(0, |ip, &group| ip << 16 | u128::from(group)),
    )
}

/// hyper-util's `DomainMatcher::contains` (curl's CURLOPT_NOPROXY rules): the domain itself,
/// with or without the rule's leading dot, or any subdomain of it; `*` matches every domain.
fn domain_matches(rule: &str, domain: &str) -> bool {
    if rule.eq_ignore_ascii_case(domain)
        || rule
            .strip_prefix('.')
            .is_some_and(|r| r.eq_ignore_ascii_case(domain))
    {
        return true;
    }
    let suffix = domain
        .len()
        .checked_sub(rule.len())
        .and_then(|i| domain.get(i..));
    if suffix.is_some_and(|s| s.eq_ignore_ascii_case(rule)) {
        // A subdomain: the rule starts with a dot, or a dot comes right before it.
        return rule.starts_with('.')
            || domain.as_bytes().get(domain.len() - rule.len() - 1) == Some(&b'.');
    }
    rule == "*"
}

/// How the `http` crate reads a URI (`Uri::from_str`), as far as a proxy variable needs: its
/// scheme and authority, or `None` where it refuses the text (or has no authority).
mod uri {
    /// What `http` accepts in an authority (besides `%`, checked apart).
    fn uri_char(b: u8) -> bool {
        b.is_ascii_alphanumeric() || b"!#$&'()*+,-./:;=?@[]_~".contains(&b)
    }

    fn scheme_char(b: u8) -> bool {
        b.is_ascii_alphanumeric() || b"+-.:~".contains(&b)
    }

    pub(super) const MAX_LEN: usize = u16::MAX as usize - 1;
    const MAX_SCHEME_LEN: usize = 64;

    /// The scheme (without `://`; `http` and `https` in lower case) and the authority of `s`.
    pub(super) fn scheme_and_authority(s: &str) -> Option<(Option<&str>, &str)> {
        let b = s.as_bytes();
        if b.is_empty() || b.len() > MAX_LEN {
            return None;
        }
        if b.len() == 1 {
            // "/" and "*" have no authority; anything else is one.
            return match b[0] {
                b'/' | b'*' => None,
                _ => (authority_end(b)? == 1).then_some((None, s)),
            };
        }
        if b[0] == b'/' {
            return None;
        }
        let (scheme, rest) = match scheme_len(b)? {
            // http's own two, in any case, read as theirs.
            Some(4) if b[..4].eq_ignore_ascii_case(b"http") => (Some("http"), &s[7..]),
            Some(5) if b[..5].eq_ignore_ascii_case(b"https") => (Some("https"), &s[8..]),
            Some(n) => (Some(&s[..n]), &s[n + 3..]),
            None => (None, s),
        };
        let end = authority_end(rest.as_bytes())?;
        if scheme.is_none() {
            return (end == rest.len()).then_some((None, rest));
        }
        if end == 0 || !path_and_query_ok(&rest.as_bytes()[end..]) {
            return None;
        }
        Some((scheme, &rest[..end]))
    }

    /// `Scheme2::parse`: `Ok(Some(n))` for a scheme of `n` bytes followed by `://`, `Ok(None)`
    /// for none, `Err` (here `None`) for one too long.
    fn scheme_len(b: &[u8]) -> Option<Option<usize>> {
        if b.len() >= 7 && b[..7].eq_ignore_ascii_case(b"http://") {
            return Some(Some(4));
        }
        if b.len() >= 8 && b[..8].eq_ignore_ascii_case(b"https://") {
            return Some(Some(5));
        }
        if b.len() > 3 {
            for (i, &c) in b.iter().enumerate() {
                if !scheme_char(c) {
                    break;
                }
                if c == b':' {
                    if b.len() < i + 3 || &b[i + 1..i + 3] != b"//" {
                        break;
                    }
                    if i > MAX_SCHEME_LEN {
                        return None;
                    }
                    return Some(Some(i));
                }
            }
        }
        Some(None)
    }

    /// `validate_authority_bytes`: where the authority at the start of `s` ends (at the first
    /// `/`, `?` or `#`), or `None` where `http` refuses it.
    pub(super) fn authority_end(s: &[u8]) -> Option<usize> {
        if s.is_empty() {
            return None;
        }
        let (mut colons, mut start_bracket, mut end_bracket, mut percent) =
            (0, false, false, false);
        let mut end = s.len();
        let mut at = s.len();
        for (i, &b) in s.iter().enumerate() {
            if matches!(b, b'/' | b'?' | b'#') {
                end = i;
                break;
            }
            if !uri_char(b) {
                if b != b'%' {
                    return None;
                }
                percent = true;
            } else if b == b':' {
                if colons >= 8 {
                    return None;
                }
                colons += 1;
            } else if b == b'[' {
                if percent || start_bracket {
                    return None;
                }
                start_bracket = true;
            } else if b == b']' {
                if !start_bracket || end_bracket {
                    return None;
                }
                end_bracket = true;
                colons = 0;
                percent = false;
            } else if b == b'@' {
                at = i;
                colons = 0;
                percent = false;
            }
        }
        let bad =
            start_bracket != end_bracket || colons > 1 || (end > 0 && at == end - 1) || percent;
        (!bad).then_some(end)
    }

    /// `scan_path_and_query` on what follows an authority (empty is fine).
    fn path_and_query_ok(b: &[u8]) -> bool {
        let path_char = |c: u8| matches!(c, 0x21 | 0x24..=0x3B | 0x3D | 0x40..=0x5F | 0x61..=0x7A | 0x7C | 0x7E | 0x80..=0xFF | b'"' | b'{' | b'}');
        let query_char = |c: u8| matches!(c, 0x21 | 0x24..=0x3B | 0x3D | 0x3F..=0x7E | 0x80..=0xFF);
        if b.is_empty() {
            return true;
        }
        if !matches!(b[0], b'/' | b'?' | b'#') {
            return false;
        }
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'#' => return true,
                b'?' => {
                    return b[i + 1..]
                        .iter()
                        .take_while(|&&c| c != b'#')
                        .all(|&c| query_char(c))
                }
                c if path_char(c) => i += 1,
                _ => return false,
            }
        }
        true
    }
}

// ===== files =====

/// The largest CA file read (`NODE_EXTRA_CA_CERTS`, `SSL_CERT_FILE`, each file of
/// `SSL_CERT_DIR`): a bundle of every public root is about 220 KB; a larger file is no CA file.
pub const MAX_CA_FILE_BYTES: u64 = 1 << 20;

/// Why a path that is not a regular file is not read (also a runtime's words for it).
pub const NOT_REGULAR: &str = "it is not a regular file";

/// Why a CA file gave no bytes.
enum CaFileError {
    /// Larger than [`MAX_CA_FILE_BYTES`] (only that much and one byte more was read).
    TooLarge,
    /// What the runtime said.
    Unreadable(String),
}

/// The bytes of the CA file at `path`, when it is a regular file of at most
/// [`MAX_CA_FILE_BYTES`].
fn read_ca_file(files: &dyn Files, path: &str) -> Result<Vec<u8>, CaFileError> {
    let bytes = files
        .read(path, MAX_CA_FILE_BYTES)
        .map_err(CaFileError::Unreadable)?;
    if bytes.len() as u64 > MAX_CA_FILE_BYTES {
        return Err(CaFileError::TooLarge);
    }
    Ok(bytes)
}

/// What a runtime tells of a path (links followed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileStat {
    /// A regular file.
    pub is_file: bool,
    /// The same for every path of one file (device and inode), where the platform has it.
    pub id: Option<String>,
    /// What changes when the file is rewritten or replaced (size, modification and change
    /// times, inode).
    pub version: String,
}

/// A runtime's file system, as these conventions use it.
pub trait Files {
    /// `path` now, or `None` when it cannot be looked at.
    fn stat(&self, path: &str) -> Option<FileStat>;
    /// The bytes of the regular file at `path`, at most `limit + 1` of them (so that a longer
    /// file can be told), or why they could not be read. What is not a regular file (a device,
    /// a FIFO, a folder) is refused without waiting on it.
    fn read(&self, path: &str, limit: u64) -> Result<Vec<u8>, String>;
    /// The paths of the entries of the folder `dir`, or `None` when it cannot be listed.
    fn list(&self, dir: &str) -> Option<Vec<String>>;
}

// ===== NODE_EXTRA_CA_CERTS =====

/// What `NODE_EXTRA_CA_CERTS` contributes: its PEM text, or why it contributes nothing.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ExtraCa {
    /// The file's text (PEM with at least one certificate), when usable; shared, as every client
    /// made while the file is unchanged holds it (a bundle can be a few hundred KB).
    pub pem: Option<Arc<str>>,
    /// Set when the variable names a file that was ignored: which, and why.
    pub ignored: Option<String>,
    /// Which reading of the file this is (a new number each time it is parsed, 0 for none).
    pub reading: u64,
}

impl ExtraCa {
    /// Judge the file at `path` from what reading it gave.
    fn judge(path: &str, read: Result<Vec<u8>, CaFileError>) -> Self {
        let ignored = |why: String| Self {
            ignored: Some(format!(
                "NODE_EXTRA_CA_CERTS={path} was ignored, as Node ignores it: {why}"
            )),
            ..Self::default()
        };
        let text = match read.map(String::from_utf8) {
            Ok(Ok(text)) => text,
            Ok(Err(_)) => return ignored("not PEM text".into()),
            Err(CaFileError::TooLarge) => {
                let why = format!(
                    "it is larger than {} MiB, more than any bundle of CA certificates",
                    MAX_CA_FILE_BYTES >> 20
                );
                return Self::refused(path, &why);
            }
            Err(CaFileError::Unreadable(e)) => return ignored(format!("could not be read: {e}")),
        };
        let mut certificates = 0;
        for section in pem_sections(text.as_bytes()) {
            match section {
                Ok(Some(_)) => certificates += 1,
                Ok(None) => {}
                Err(e) => return ignored(format!("not readable as PEM certificates: {e}")),
            }
        }
        if certificates == 0 || !text.contains("-----BEGIN CERTIFICATE-----") {
            return ignored("it holds no PEM certificate".into());
        }
        Self {
            pem: Some(text.into()),
            ..Self::default()
        }
    }

    /// A file that is not read at all (not a regular file, or too large); Node itself would
    /// wait on a FIFO, and read a device for ever.
    fn refused(path: &str, why: &str) -> Self {
        Self {
            ignored: Some(format!(
                "NODE_EXTRA_CA_CERTS={path} was ignored: {why} (only a regular file of at most {} MiB is read)",
                MAX_CA_FILE_BYTES >> 20
            )),
            ..Self::default()
        }
    }
}

/// Reads `NODE_EXTRA_CA_CERTS`, parsing the file again only when it changed since the last
/// reading (a bundle of ~150 roots took ~1 ms to check natively and ~25 ms in the Node fallback,
/// on every client and `authenticate()`). One per process (or wasm instance).
#[derive(Default)]
pub struct ExtraCaReader {
    /// The path and [`FileStat`] of the last reading that could be looked at, and what it gave.
    last: Option<((String, FileStat), ExtraCa)>,
    readings: u64,
}

impl ExtraCaReader {
    pub const fn new() -> Self {
        Self {
            last: None,
            readings: 0,
        }
    }

    /// What the file at `path` contributes now.
    pub fn read(&mut self, path: &str, files: &dyn Files) -> ExtraCa {
        // A file that cannot be looked at is read (and named) as before, never kept.
        let identity = files.stat(path).map(|stat| (path.to_owned(), stat));
        if let (Some(identity), Some((seen, extra))) = (&identity, &self.last) {
            if identity == seen {
                return extra.clone();
            }
        }
        self.readings += 1;
        let judged = match &identity {
            Some((_, stat)) if !stat.is_file => ExtraCa::refused(path, NOT_REGULAR),
            _ => ExtraCa::judge(path, read_ca_file(files, path)),
        };
        let extra = ExtraCa {
            reading: self.readings,
            ..judged
        };
        if let Some(identity) = identity {
            self.last = Some((identity, extra.clone()));
        }
        extra
    }
}

// ===== SSL_CERT_FILE / SSL_CERT_DIR =====

/// The file and folders whose certificates replace the system's roots.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertPaths {
    pub file: Option<String>,
    pub dirs: Vec<String>,
}

impl CertPaths {
    /// As rustls-native-certs reads the variables: `SSL_CERT_FILE` when set (even empty),
    /// `SSL_CERT_DIR` as a list of folders (empty entries skipped); neither: the system's roots.
    fn decide(vars: &Vars) -> Option<Self> {
        let file = vars.get(SSL_CERT_FILE).map(str::to_owned);
        let dirs = vars
            .get(SSL_CERT_DIR)
            .map(|dirs| split_paths(dirs, vars.windows))
            .unwrap_or_default();
        (file.is_some() || !dirs.is_empty()).then_some(Self { file, dirs })
    }

    /// The certificates (DER) of the file and of every regular file in the folders (links
    /// followed, each file once), as rustls-native-certs reads them: what cannot be listed,
    /// looked at or read adds nothing, and a damaged PEM section is skipped. (rustls-native-certs
    /// also sorts them and drops repeats, which changes nothing that is trusted.) Unlike
    /// rustls-native-certs, a file that is not a regular file or is larger than
    /// [`MAX_CA_FILE_BYTES`] adds nothing either, and is never waited on.
    pub fn certificates(&self, files: &dyn Files) -> Vec<Vec<u8>> {
        let mut seen = Vec::new();
        let mut paths = Vec::new();
        if let Some(file) = &self.file {
            let stat = files.stat(file);
            if stat.as_ref().is_none_or(|stat| stat.is_file) {
                seen.extend(stat.and_then(|stat| stat.id));
                paths.push(file.clone());
            }
        }
        for dir in &self.dirs {
            for path in files.list(dir).unwrap_or_default() {
                let Some(stat) = files.stat(&path) else {
                    continue;
                };
                if !stat.is_file || stat.id.as_ref().is_some_and(|id| seen.contains(id)) {
                    continue;
                }
                seen.extend(stat.id);
                paths.push(path);
            }
        }
        let mut certificates = Vec::new();
        for bytes in paths
            .iter()
            .filter_map(|path| read_ca_file(files, path).ok())
        {
            certificates.extend(pem_sections(&bytes).filter_map(|section| section.ok().flatten()));
        }
        certificates
    }
}

/// `std::env::split_paths`: `:`-separated, or `;`-separated on Windows, where double quotes
/// (removed) protect a `;`. Empty entries are dropped.
fn split_paths(list: &str, windows: bool) -> Vec<String> {
    let paths: Vec<String> = if windows {
        let mut paths = vec![String::new()];
        let mut quoted = false;
        for c in list.chars() {
            match c {
                '"' => quoted = !quoted,
                ';' if !quoted => paths.push(String::new()),
                c => paths.last_mut().expect("never empty").push(c),
            }
        }
        paths
    } else {
        list.split(':').map(str::to_owned).collect()
    };
    paths.into_iter().filter(|p| !p.is_empty()).collect()
}

// ===== PEM =====

/// A certificate (DER) as a PEM block.
pub fn certificate_pem(der: &[u8]) -> String {
    let base64 = STANDARD.encode(der);
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in base64.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    pem
}

/// The sections of PEM text as rustls-pki-types reads them (what reqwest and
/// rustls-native-certs use): each certificate's DER (`Some`), another known section (`None`),
/// or what is wrong with a section, after which reading goes on at the next line.
fn pem_sections(text: &[u8]) -> impl Iterator<Item = Result<Option<Vec<u8>>, String>> + '_ {
    let mut lines = text
        .split(|&b| b == b'\n' || b == b'\r')
        .filter(|line| !line.is_empty());
    std::iter::from_fn(move || {
        // The label of the section being read, whether it is one rustls-pki-types knows (and
        // decodes), and its base64 so far.
        let mut section: Option<(&[u8], bool)> = None;
        let mut base64 = Vec::new();
        loop {
            let Some(line) = lines.next() else {
                return section.map(|(label, _)| {
                    Err(format!(
                        "section end \"-----END {}-----\" missing",
                        String::from_utf8_lossy(label)
                    ))
                });
            };
            if let Some(rest) = line.strip_prefix(b"-----BEGIN ") {
                let mut trailer = 0;
                let mut pos = line.len();
                for (i, &b) in line.iter().enumerate().rev() {
                    match b {
                        b'-' => {
                            trailer += 1;
                            pos = i;
                        }
                        b' ' => continue,
                        _ => break,
                    }
                }
                if trailer != 5 {
                    return Some(Err("illegal section start".into()));
                }
                let label = &rest[..pos - b"-----BEGIN ".len()];
                let known = matches!(
                    label,
                    b"CERTIFICATE"
                        | b"PUBLIC KEY"
                        | b"RSA PRIVATE KEY"
                        | b"PRIVATE KEY"
                        | b"EC PRIVATE KEY"
                        | b"X509 CRL"
                        | b"CERTIFICATE REQUEST"
                        | b"ECHCONFIG"
                );
                section = Some((label, known));
                continue;
            }
            if let Some((label, known)) = section {
                let end = line
                    .strip_prefix(b"-----END ")
                    .and_then(|rest| rest.strip_prefix(label))
                    .is_some_and(|rest| rest.starts_with(b"-----"));
                if end {
                    if !known {
                        section = None;
                        base64.clear();
                        continue;
                    }
                    return Some(match base64_decode(&base64) {
                        Some(der) => Ok((label == b"CERTIFICATE").then_some(der)),
                        None => Err("a section is not base64".into()),
                    });
                }
                base64.extend_from_slice(line);
            }
        }
    })
}

/// rustls-pki-types' base64 decoding: whitespace skipped, `=` only to complete the last block
/// of four, the bits past the last whole byte ignored.
fn base64_decode(input: &[u8]) -> Option<Vec<u8>> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const PEM: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    let text: Vec<u8> = input
        .iter()
        .copied()
        .filter(|b| !matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' '))
        .collect();
    let data = text.iter().position(|&b| b == b'=').unwrap_or(text.len());
    let pads = text.len() - data;
    let padding_ok =
        pads == 0 || (pads <= 2 && text.len() % 4 == 0 && text[data..].iter().all(|&b| b == b'='));
    PEM.decode(&text[..data]).ok().filter(|_| padding_ok)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::cell::RefCell;
    use std::collections::HashMap;

    fn vars(pairs: &[(&str, &str)]) -> Vars {
        Vars::read(
            |name| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| (*v).to_owned())
            },
            false,
        )
    }

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    /// The name of the proxy `https://{host}/` goes through with `pairs` set, if any.
    fn proxy_name(pairs: &[(&str, &str)], host: &str) -> Option<String> {
        let proxies = Conventions::decide(&vars(pairs)).proxies;
        proxies
            .proxy_for(&url(&format!("https://{host}/auth")))
            .map(Proxy::name)
    }

    // ----- proxies -----

    #[test]
    fn a_proxy_is_named_without_its_credentials() {
        let pairs = [
            ("HTTPS_PROXY", "http://user:hunter2@proxy.internal:3128"),
            ("NO_PROXY", "localhost, .example.org"),
        ];
        assert_eq!(
            proxy_name(&pairs, "api.vendy.money").as_deref(),
            Some("http://proxy.internal:3128 (from HTTPS_PROXY)")
        );
        assert_eq!(proxy_name(&pairs, "api.example.org"), None);
        let proxies = Conventions::decide(&vars(&pairs)).proxies;
        let proxy = proxies.proxy_for(&url("https://api.vendy.money/")).unwrap();
        assert_eq!(proxy.url(), "http://proxy.internal:3128");
        assert_eq!(
            proxy.authorization().as_deref(),
            Some("Basic dXNlcjpodW50ZXIy")
        );
        assert_eq!(
            (proxy.hostname(), proxy.port_or_default()),
            ("proxy.internal", 3128)
        );
    }

    #[test]
    fn https_proxy_then_all_proxy_the_first_set_of_each_pair() {
        let host = "api.vendy.money";
        let name = |pairs: &[(&str, &str)]| proxy_name(pairs, host);
        assert_eq!(name(&[]), None);
        assert_eq!(
            name(&[("https_proxy", "http://a:1"), ("ALL_PROXY", "http://b:2")]).unwrap(),
            "http://a:1 (from https_proxy)"
        );
        assert_eq!(
            name(&[("HTTPS_PROXY", "http://a:1"), ("https_proxy", "http://c:3")]).unwrap(),
            "http://a:1 (from HTTPS_PROXY)"
        );
        assert_eq!(
            name(&[("all_proxy", "b:2")]).unwrap(),
            "http://b:2 (from all_proxy)"
        );
        // Set but empty, the upper-case variable hides the lower-case one (as hyper-util reads
        // them); the pair below is still read.
        assert_eq!(
            name(&[
                ("HTTPS_PROXY", ""),
                ("https_proxy", "http://c:3"),
                ("ALL_PROXY", "http://b:2")
            ])
            .unwrap(),
            "http://b:2 (from ALL_PROXY)"
        );
        // A value that names no proxy falls back to ALL_PROXY, which is then the one named.
        assert_eq!(
            name(&[("HTTPS_PROXY", "ftp://a:1"), ("ALL_PROXY", "http://b:2")]).unwrap(),
            "http://b:2 (from ALL_PROXY)"
        );
        // HTTP_PROXY is for http: URLs, which are never sent.
        assert_eq!(name(&[("HTTP_PROXY", "http://a:1")]), None);
    }

    #[test]
    fn no_proxy_at_all_under_cgi() {
        let pairs = [("HTTPS_PROXY", "http://a:1"), ("REQUEST_METHOD", "GET")];
        assert_eq!(proxy_name(&pairs, "api.vendy.money"), None);
        assert!(!Conventions::decide(&vars(&pairs)).proxies.any());
    }

    #[test]
    fn proxy_values_as_hyper_util_reads_them() {
        let name = |value: &str| {
            Proxy::parse(value, "HTTPS_PROXY").map(|p| p.name().replace(" (from HTTPS_PROXY)", ""))
        };
        for (value, expected) in [
            ("proxy:3128", Some("http://proxy:3128")),
            ("proxy", Some("http://proxy")),
            (
                "HTTP://Proxy:3128/ignored/path?q#f",
                Some("http://Proxy:3128"),
            ),
            ("https://proxy", Some("https://proxy")),
            ("socks5://proxy:1080", Some("socks5://proxy:1080")),
            ("socks5h://proxy", Some("socks5h://proxy")),
            ("SOCKS5://proxy", None),
            ("ftp://proxy", None),
            ("http://[::1]:3128", Some("http://[::1]:3128")),
            ("http://[::1]", Some("http://[::1]")),
            ("user:pw@proxy:1", Some("http://proxy:1")),
            ("http://proxy:99999", Some("http://proxy")),
            ("proxy:3128/", None),
            ("http://pro xy", None),
            ("http://proxy:1:2", None),
            ("http://user@", None),
            ("http://", None),
            ("", None),
            ("/", None),
            (":3128", None),
            ("http://[proxy]:1", None),
        ] {
            assert_eq!(name(value).as_deref(), expected, "{value}");
        }
    }

    #[test]
    fn proxy_credentials_are_percent_decoded_for_the_header_and_left_out_of_the_url() {
        let proxy = Proxy::parse("http://us%40er:p%3Ass@proxy:1", "HTTPS_PROXY").unwrap();
        let basic = proxy.authorization().unwrap();
        let pair = STANDARD
            .decode(basic.strip_prefix("Basic ").unwrap())
            .unwrap();
        assert_eq!(pair, b"us@er:p:ss");
        assert_eq!(proxy.url(), "http://proxy:1");
        assert!(!proxy.name().contains("us"));
        // No password: "user:".
        let proxy = Proxy::parse("http://user@proxy:1", "HTTPS_PROXY").unwrap();
        assert_eq!(
            proxy.authorization().unwrap(),
            format!("Basic {}", STANDARD.encode("user:"))
        );
        // A SOCKS proxy takes no Basic header.
        let proxy = Proxy::parse("socks5://user:pw@proxy", "HTTPS_PROXY").unwrap();
        assert_eq!(
            (proxy.authorization(), proxy.port_or_default()),
            (None, 1080)
        );
    }

    #[test]
    fn no_proxy_by_curls_rules() {
        let goes_direct = |rules: &str, host: &str| {
            let pairs = [("HTTPS_PROXY", "http://proxy:1"), ("NO_PROXY", rules)];
            proxy_name(&pairs, host).is_none()
        };
        for (rules, host, direct) in [
            ("*", "api.vendy.money", true),
            // `*` is every domain, not every IP.
            ("*", "127.0.0.1", false),
            ("example.org", "example.org", true),
            ("example.org", "api.example.org", true),
            ("example.org", "badexample.org", false),
            (".example.org", "example.org", true),
            (".example.org", "api.example.org", true),
            ("EXAMPLE.org", "api.example.org", true),
            ("org", "example.org", true),
            (" localhost , other", "localhost", true),
            ("api.example.org", "example.org", false),
            // A port is never matched (the rule is a domain that no host equals).
            ("example.org:443", "example.org", false),
            ("127.0.0.1", "127.0.0.1", true),
            ("127.0.0.1", "127.0.0.2", false),
            ("10.0.0.0/8", "10.1.2.3", true),
            ("10.0.0.0/8", "11.1.2.3", false),
            ("10.1.2.3/8", "10.200.0.1", true),
            ("::1", "[::1]", true),
            ("fd00::/8", "[fd12::1]", true),
            ("fd00::/8", "[fe80::1]", false),
            // Brackets in a rule make it a domain, which an IP never matches.
            ("[::1]", "[::1]", false),
            ("127.0.0.1", "[::ffff:127.0.0.1]", false),
            ("", "example.org", false),
            (",,", "example.org", false),
        ] {
            assert_eq!(
                goes_direct(rules, host),
                direct,
                "NO_PROXY={rules:?} host {host}"
            );
        }
        // The lower-case variable is read when the upper-case one is not set.
        let pairs = [
            ("HTTPS_PROXY", "http://proxy:1"),
            ("no_proxy", "example.org"),
        ];
        assert_eq!(proxy_name(&pairs, "example.org"), None);
        let pairs = [
            ("HTTPS_PROXY", "http://proxy:1"),
            ("NO_PROXY", ""),
            ("no_proxy", "example.org"),
        ];
        assert!(proxy_name(&pairs, "example.org").is_some());
    }

    #[test]
    fn failure_words_name_the_proxy_never_its_credentials() {
        let proxy = Proxy::parse("http://u:secret@127.0.0.1:9", "https_proxy").unwrap();
        let text = proxy_failed(
            &proxy.name(),
            "127.0.0.1:443",
            "127.0.0.1",
            "connection refused",
        );
        assert_eq!(
            text,
            "could not get through the proxy http://127.0.0.1:9 (from https_proxy) to 127.0.0.1:443: connection refused. Check the proxy, or exclude 127.0.0.1 with NO_PROXY"
        );
        assert_eq!(
            through_proxy(&proxy.name()),
            " (through the proxy http://127.0.0.1:9 (from https_proxy))"
        );
        assert!(!text.contains("secret"));
    }

    // ----- files -----

    /// A file in memory: whether it is a regular file, its id, its contents.
    type FakeFile = (bool, Option<String>, Vec<u8>);

    /// Files in memory: path -> file, folders -> entries; counts reads.
    #[derive(Default)]
    struct FakeFiles {
        files: RefCell<HashMap<String, FakeFile>>,
        dirs: HashMap<String, Vec<String>>,
        reads: RefCell<usize>,
        version: RefCell<u64>,
    }

    impl FakeFiles {
        fn file(self, path: &str, contents: &[u8]) -> Self {
            let file = (true, Some(path.to_owned()), contents.to_vec());
            self.files.borrow_mut().insert(path.into(), file);
            self
        }

        fn dir(mut self, path: &str, entries: &[&str]) -> Self {
            let entries = entries.iter().map(|e| (*e).to_owned()).collect();
            self.dirs.insert(path.into(), entries);
            let dir = (false, Some(path.to_owned()), Vec::new());
            self.files.borrow_mut().insert(path.into(), dir);
            self
        }

        fn link(self, path: &str, to: &str) -> Self {
            let target = self.files.borrow()[to].clone();
            self.files.borrow_mut().insert(path.into(), target);
            self
        }

        fn rewrite(&self, path: &str, contents: &[u8]) {
            self.files.borrow_mut().get_mut(path).unwrap().2 = contents.to_vec();
            *self.version.borrow_mut() += 1;
        }
    }

    impl Files for FakeFiles {
        fn stat(&self, path: &str) -> Option<FileStat> {
            let files = self.files.borrow();
            let (is_file, id, contents) = files.get(path)?;
            Some(FileStat {
                is_file: *is_file,
                id: id.clone(),
                version: format!("{}:{}", contents.len(), self.version.borrow()),
            })
        }

        fn read(&self, path: &str, limit: u64) -> Result<Vec<u8>, String> {
            *self.reads.borrow_mut() += 1;
            match self.files.borrow().get(path) {
                Some((true, _, contents)) => {
                    let end = contents.len().min(limit as usize + 1);
                    Ok(contents[..end].to_vec())
                }
                Some(_) => Err(NOT_REGULAR.into()),
                None => Err("No such file or directory".into()),
            }
        }

        fn list(&self, dir: &str) -> Option<Vec<String>> {
            let entries = self.dirs.get(dir)?;
            Some(entries.iter().map(|e| format!("{dir}/{e}")).collect())
        }
    }

    /// SEQUENCE { SEQUENCE {} , INTEGER n }: the shape of a certificate.
    fn der(n: u8) -> Vec<u8> {
        vec![0x30, 0x05, 0x30, 0x00, 0x02, 0x01, n]
    }

    // ----- NODE_EXTRA_CA_CERTS -----

    #[test]
    fn extra_ca_file_is_named_by_the_variable_when_set_and_not_empty() {
        let decide = |pairs: &[(&str, &str)]| Conventions::decide(&vars(pairs)).extra_ca_file;
        assert_eq!(decide(&[]), None);
        assert_eq!(decide(&[("NODE_EXTRA_CA_CERTS", "")]), None);
        assert_eq!(
            decide(&[("NODE_EXTRA_CA_CERTS", "/etc/ca.pem")]).as_deref(),
            Some("/etc/ca.pem")
        );
    }

    #[test]
    fn a_missing_extra_ca_file_is_ignored_and_named() {
        let extra = ExtraCaReader::default().read("/nonexistent/ca.pem", &FakeFiles::default());
        assert_eq!(extra.pem, None);
        assert_eq!(
            extra.ignored.as_deref(),
            Some("NODE_EXTRA_CA_CERTS=/nonexistent/ca.pem was ignored, as Node ignores it: could not be read: No such file or directory")
        );
    }

    #[test]
    fn an_extra_ca_file_is_ignored_without_certificates_or_with_a_damaged_one() {
        let pem = certificate_pem(&der(1));
        for (contents, why) in [
            (
                b"not a certificate\n".to_vec(),
                "it holds no PEM certificate",
            ),
            (b"\xffnot text".to_vec(), "not PEM text"),
            (
                b"-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n".to_vec(),
                "it holds no PEM certificate",
            ),
            (
                format!("{pem}-----BEGIN CERTIFICATE-----\nMII").into_bytes(),
                "not readable as PEM certificates: section end",
            ),
            (
                format!("{pem}-----BEGIN CERTIFICATE-----\nM*A=\n-----END CERTIFICATE-----\n")
                    .into_bytes(),
                "not readable as PEM certificates: a section is not base64",
            ),
        ] {
            let files = FakeFiles::default().file("/ca.pem", &contents);
            let extra = ExtraCaReader::default().read("/ca.pem", &files);
            assert_eq!(extra.pem, None);
            let note = extra.ignored.unwrap();
            assert!(
                note.starts_with("NODE_EXTRA_CA_CERTS=/ca.pem was ignored, as Node ignores it: "),
                "{note}"
            );
            assert!(note.contains(why), "{note} !~ {why}");
        }
        // Text around the blocks, and other known blocks, are fine.
        let text =
            format!("# bundle\n{pem}-----BEGIN X509 CRL-----\nMAA=\n-----END X509 CRL-----\n{pem}");
        let files = FakeFiles::default().file("/ca.pem", text.as_bytes());
        let extra = ExtraCaReader::default().read("/ca.pem", &files);
        assert_eq!(
            (extra.pem.as_deref(), extra.ignored),
            (Some(text.as_str()), None)
        );
    }

    #[test]
    fn an_extra_ca_file_that_is_not_a_regular_file_or_over_a_mib_is_never_read() {
        // Regression: NODE_EXTRA_CA_CERTS=/dev/zero was read until memory ran out, and a FIFO
        // waited for ever.
        let pem = certificate_pem(&der(1));
        let mut huge = pem.clone().into_bytes();
        huge.resize(MAX_CA_FILE_BYTES as usize + 1, b'\n');
        let mut largest = pem.clone().into_bytes();
        largest.resize(MAX_CA_FILE_BYTES as usize, b'\n');
        let files = FakeFiles::default()
            .file("/huge.pem", &huge)
            .file("/largest.pem", &largest)
            .dir("/dev", &[]);
        files.files.borrow_mut().insert(
            "/dev/zero".into(),
            (false, Some("/dev/zero".into()), b"never read".to_vec()),
        );
        let mut reader = ExtraCaReader::default();
        let zero = reader.read("/dev/zero", &files);
        assert_eq!(*files.reads.borrow(), 0, "a device is not opened");
        assert_eq!(zero.pem, None);
        assert_eq!(
            zero.ignored.as_deref(),
            Some("NODE_EXTRA_CA_CERTS=/dev/zero was ignored: it is not a regular file (only a regular file of at most 1 MiB is read)")
        );
        let big = reader.read("/huge.pem", &files);
        assert_eq!(big.pem, None);
        assert_eq!(
            big.ignored.as_deref(),
            Some("NODE_EXTRA_CA_CERTS=/huge.pem was ignored: it is larger than 1 MiB, more than any bundle of CA certificates (only a regular file of at most 1 MiB is read)")
        );
        let ok = reader.read("/largest.pem", &files);
        assert_eq!((ok.pem.is_some(), ok.ignored), (true, None));
        // What the runtime reads fails the same way (a file replaced after it was looked at).
        let raced = ExtraCa::judge("/dev/zero", read_ca_file(&files, "/dev/zero"));
        assert!(raced.ignored.unwrap().contains("it is not a regular file"));
    }

    #[test]
    fn an_extra_ca_file_is_parsed_again_only_when_it_changed() {
        let files = FakeFiles::default().file("/ca.pem", b"not a certificate\n");
        let mut reader = ExtraCaReader::default();
        let first = reader.read("/ca.pem", &files);
        assert!(first
            .ignored
            .as_deref()
            .unwrap()
            .contains("no PEM certificate"));
        assert_eq!(reader.read("/ca.pem", &files), first);
        assert_eq!(*files.reads.borrow(), 1, "read once while unchanged");
        // As long, not UTF-8: only the file's version tells it changed.
        files.rewrite("/ca.pem", b"\xffot a certificate\n");
        let second = reader.read("/ca.pem", &files);
        assert!(second.ignored.unwrap().contains("not PEM text"));
        assert!(second.reading > first.reading);
        // A file that cannot be looked at is read every time (and never kept).
        let missing = reader.read("/missing.pem", &files);
        assert_ne!(reader.read("/missing.pem", &files).reading, missing.reading);
    }

    // ----- SSL_CERT_FILE / SSL_CERT_DIR -----

    #[test]
    fn ssl_cert_variables_replace_the_system_roots_as_rustls_native_certs_reads_them() {
        let decide = |pairs: &[(&str, &str)], windows: bool| {
            let vars = Vars::read(
                |name| {
                    pairs
                        .iter()
                        .find(|(n, _)| *n == name)
                        .map(|(_, v)| (*v).to_owned())
                },
                windows,
            );
            Conventions::decide(&vars).system_roots
        };
        let paths = |file: Option<&str>, dirs: &[&str]| {
            Some(CertPaths {
                file: file.map(str::to_owned),
                dirs: dirs.iter().map(|d| (*d).to_owned()).collect(),
            })
        };
        assert_eq!(decide(&[], false), None);
        assert_eq!(decide(&[("SSL_CERT_DIR", "")], false), None);
        assert_eq!(decide(&[("SSL_CERT_DIR", "::")], false), None);
        assert_eq!(
            decide(&[("SSL_CERT_FILE", "")], false),
            paths(Some(""), &[])
        );
        assert_eq!(
            decide(
                &[("SSL_CERT_FILE", "/a.pem"), ("SSL_CERT_DIR", "/d1::/d2")],
                false
            ),
            paths(Some("/a.pem"), &["/d1", "/d2"])
        );
        assert_eq!(
            decide(&[("SSL_CERT_DIR", r#"C:\a;"C:\b;c";;D:\"#)], true),
            paths(None, &[r"C:\a", r"C:\b;c", r"D:\"])
        );
    }

    #[test]
    fn system_roots_are_every_certificate_of_each_regular_file_once() {
        let pem = |n: u8| certificate_pem(&der(n));
        let files = FakeFiles::default()
            .file("/roots.pem", format!("{}{}", pem(1), pem(2)).as_bytes())
            .dir(
                "/d",
                &[
                    "a.pem",
                    "link.pem",
                    "same.pem",
                    "sub",
                    "junk",
                    "damaged.pem",
                    "gone",
                ],
            )
            .file("/d/a.pem", pem(3).as_bytes())
            .link("/d/link.pem", "/d/a.pem")
            .link("/d/same.pem", "/roots.pem")
            .dir("/d/sub", &["deeper.pem"])
            .file("/d/sub/deeper.pem", pem(9).as_bytes())
            .file("/d/junk", b"no certificates here")
            .file(
                "/d/damaged.pem",
                format!(
                    "-----BEGIN CERTIFICATE-----\n*\n-----END CERTIFICATE-----\n{}",
                    pem(4)
                )
                .as_bytes(),
            );
        let paths = CertPaths {
            file: Some("/roots.pem".into()),
            dirs: vec!["/d".into(), "/unreadable".into()],
        };
        assert_eq!(paths.certificates(&files), [1, 2, 3, 4].map(der));
        let reads = *files.reads.borrow();
        // roots.pem, a.pem, junk, damaged.pem: the links to files already read are skipped.
        assert_eq!(reads, 4);
    }

    #[test]
    fn system_roots_skip_what_is_not_a_regular_file_or_is_over_a_mib() {
        let pem = |n: u8| certificate_pem(&der(n));
        let mut huge = pem(2).into_bytes();
        huge.resize(MAX_CA_FILE_BYTES as usize + 1, b'\n');
        let files = FakeFiles::default()
            .dir("/d", &["a.pem", "huge.pem", "fifo"])
            .file("/d/a.pem", pem(1).as_bytes())
            .file("/d/huge.pem", &huge);
        files.files.borrow_mut().insert(
            "/d/fifo".into(),
            (false, Some("/d/fifo".into()), pem(3).into_bytes()),
        );
        let dir = CertPaths {
            file: None,
            dirs: vec!["/d".into()],
        };
        assert_eq!(dir.certificates(&files), [der(1)]);
        for file in ["/d/fifo", "/d/huge.pem"] {
            let reads = *files.reads.borrow();
            let paths = CertPaths {
                file: Some(file.into()),
                dirs: Vec::new(),
            };
            assert_eq!(paths.certificates(&files), Vec::<Vec<u8>>::new(), "{file}");
            let opened = *files.reads.borrow() - reads;
            assert_eq!(opened, usize::from(file == "/d/huge.pem"), "{file}");
        }
    }

    #[test]
    fn certificate_pem_reads_back() {
        for n in [0usize, 1, 47, 48, 49, 300] {
            let der: Vec<u8> = (0..n).map(|i| i as u8).collect();
            let pem = certificate_pem(&der);
            assert!(pem.lines().all(|l| l.len() <= 64));
            let sections: Vec<_> = pem_sections(pem.as_bytes()).collect();
            assert_eq!(sections, vec![Ok(Some(der))]);
        }
    }

    // ----- the same as the libraries the native build used -----

    /// A proxy as the tests compare it: scheme, host, port and `Proxy-Authorization` value.
    type Seen = (String, String, Option<u16>, Option<Vec<u8>>);

    /// What hyper-util makes of `value` as the `https:` proxy, where it makes one.
    fn hyper_util_proxy(value: &str) -> Option<Seen> {
        let matcher = hyper_util::client::proxy::matcher::Matcher::builder()
            .https(value)
            .build();
        let dst: http::Uri = "https://api.vendy.money/auth".parse().unwrap();
        let intercept = matcher.intercept(&dst)?;
        let uri = intercept.uri();
        Some((
            uri.scheme_str()?.to_owned(),
            uri.host()?.to_owned(),
            uri.port_u16(),
            intercept.basic_auth().map(|v| v.as_bytes().to_vec()),
        ))
    }

    fn core_proxy(value: &str) -> Option<Seen> {
        let proxy = Proxy::parse(value, "HTTPS_PROXY")?;
        Some((
            proxy.scheme().to_owned(),
            proxy.host().to_owned(),
            proxy.port(),
            proxy.authorization().map(String::into_bytes),
        ))
    }

    /// What reqwest makes of the URL [`Proxy::url`] gives its custom proxy (`Proxy::custom`
    /// parses it as a `Url`, adds SOCKS's port, and reads it back with hyper-util), with the
    /// header [`Proxy::authorization`] gives it, so that the native build sends where and what
    /// hyper-util sent before.
    fn through_reqwest(proxy: &Proxy) -> Option<Seen> {
        let mut url = Url::parse(&proxy.url()).ok().filter(Url::has_host)?;
        if url.port().is_none() && url.scheme().starts_with("socks") {
            url.set_port(Some(1080)).unwrap();
        }
        let matcher = hyper_util::client::proxy::matcher::Matcher::builder()
            .all(String::from(url))
            .build();
        let dst: http::Uri = "https://api.vendy.money/auth".parse().unwrap();
        let intercept = matcher.intercept(&dst)?;
        let uri = intercept.uri();
        let scheme = uri.scheme_str()?.to_owned();
        let port = uri
            .port_u16()
            .unwrap_or(if scheme == "https" { 443 } else { 80 });
        let auth = proxy.authorization().map(String::into_bytes);
        Some((scheme, uri.host()?.to_owned(), Some(port), auth))
    }

    fn same_proxy_as_hyper_util(value: &str) {
        let core = core_proxy(value);
        if let Some(proxy) = Proxy::parse(value, "HTTPS_PROXY") {
            // The same host as a URL writes it (lower case, IPv4 in full), the same port.
            let url = Url::parse(&format!("{}://{}", proxy.scheme(), proxy.host())).unwrap();
            let host = url.host_str().unwrap().to_owned();
            let port = Some(proxy.port_or_default());
            let auth = proxy.authorization().map(String::into_bytes);
            let expected = Some((proxy.scheme().to_owned(), host, port, auth));
            let url = proxy.url();
            assert_eq!(through_reqwest(&proxy), expected, "{value:?} as {url:?}");
        }
        match hyper_util_proxy(value) {
            // Named a proxy no connection could reach: none here.
            Some((scheme, host, ..))
                if host.is_empty()
                    || Url::parse(&format!("{scheme}://{host}"))
                        .map_or(true, |url| url.as_str().len() > 65534) =>
            {
                assert!(core.is_none(), "{value:?}")
            }
            theirs => assert_eq!(core, theirs, "{value:?}"),
        }
    }

    fn same_no_proxy_as_hyper_util(rules: &str, host: &str) {
        let Ok(url) = Url::parse(&format!("https://{host}/auth")) else {
            return;
        };
        let matcher = hyper_util::client::proxy::matcher::Matcher::builder()
            .https("http://proxy:1")
            .no(rules)
            .build();
        let theirs = url
            .as_str()
            .parse::<http::Uri>()
            .ok()
            .and_then(|dst| matcher.intercept(&dst))
            .is_none();
        let ours = NoProxy::parse(rules).contains(url.host().unwrap());
        assert_eq!(ours, theirs, "NO_PROXY={rules:?} host {host:?}");
    }

    fn proxy_value() -> impl Strategy<Value = String> {
        let scheme = prop::sample::select(vec![
            "",
            "http://",
            "HTTP://",
            "Https://",
            "https://",
            "socks5://",
            "socks4a://",
            "SOCKS5://",
            "ftp://",
            "://",
            "h:/",
            "x+y.z://",
        ]);
        let userinfo = prop::option::of("[a-zA-Z0-9%:@!$;=._~-]{0,8}");
        let host = prop_oneof![
            Just("proxy".to_owned()),
            Just("Proxy.Internal".to_owned()),
            Just("127.0.0.1".to_owned()),
            Just("[::1]".to_owned()),
            Just("[fe80::1%25eth0]".to_owned()),
            Just("[zz]".to_owned()),
            Just(String::new()),
            "[a-z0-9.!*'()_~%\\[\\]:@-]{0,10}",
        ];
        let port = prop::option::of(prop_oneof![
            (0u32..70000).prop_map(|p| p.to_string()),
            Just(String::new()),
            Just("+80".to_owned()),
            "[0-9a-z:]{0,3}",
        ]);
        let rest = prop::sample::select(vec![
            "", "/", "/path", "/x?y=1#z", "?q", "#f", "/ bad", "/{}\"", "?a b", "/\u{e9}",
        ]);
        (scheme, userinfo, host, port, rest).prop_map(|(scheme, userinfo, host, port, rest)| {
            let userinfo = userinfo.map(|u| format!("{u}@")).unwrap_or_default();
            let port = port.map(|p| format!(":{p}")).unwrap_or_default();
            format!("{scheme}{userinfo}{host}{port}{rest}")
        })
    }

    fn no_proxy_rule() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(vec![
                "*",
                ".example.org",
                "example.org",
                "EXAMPLE.ORG",
                "org",
                "api.example.org",
                "example.org:443",
                "localhost",
                "127.0.0.1",
                "127.0.0.0/8",
                "10.1.2.3/8",
                "010.0.0.1",
                "10.0.0.0/08",
                "10.0.0.0/33",
                "::1",
                "[::1]",
                "fd00::/8",
                "::ffff:127.0.0.1",
                "fe80::/10",
                "1.2.3.4/32",
                "0.0.0.0/0",
                "::/0",
                " ",
                "",
            ])
            .prop_map(str::to_owned),
            "[a-z0-9.*:/\\[\\]-]{0,12}",
        ]
    }

    fn host() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(vec![
                "example.org",
                "api.example.org",
                "badexample.org",
                "org",
                "localhost",
                "127.0.0.1",
                "10.200.3.4",
                "[::1]",
                "[fd12::1]",
                "[::ffff:127.0.0.1]",
                "api.vendy.money",
                "1.2.3.4",
            ])
            .prop_map(str::to_owned),
            "[a-z0-9.-]{1,12}",
        ]
    }

    #[test]
    fn proxy_values_read_as_hyper_util_reads_them() {
        for value in [
            "proxy:3128",
            "http://a@b@proxy:1",
            "http://[a@b]:1",
            "u%41@host",
            "a@b%41@c",
            "x",
            "%",
            "@",
            ":",
            "*",
            "?",
            "http://proxy:+80",
            "http://proxy:",
            "http://:80",
            "http://[::1",
            "http://::1]",
            "http://[::1]:80:90",
            "socks5://proxy",
            "aaaa://",
            "abcd:/x",
            "http:/proxy",
            "localhost",
            "http://user:p%zzw@proxy",
            "http://us%C3%A9r:pw@proxy",
            "http://u:%ff@proxy",
            "a_b://proxy",
            "a%[::1]",
            "u%@[::1]:1",
            "http://a%[::1]",
            "http://proxy/<>",
            "http://proxy/<",
            "http://proxy/a|b",
            "http://proxy?<",
            "http://proxy/\\",
            "http://proxy/^`",
            "http://pro\u{e9}xy",
            "p\u{e9}://proxy",
        ] {
            same_proxy_as_hyper_util(value);
        }
        // The longest scheme http takes, and one byte more.
        for len in [64, 65] {
            same_proxy_as_hyper_util(&format!("{}://proxy", "a".repeat(len)));
        }
        // The longest value http takes, and one byte more.
        for len in [65534, 65535] {
            same_proxy_as_hyper_util(&format!("http://{}", "a".repeat(len - 7)));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        #[test]
        fn any_proxy_value_is_read_as_hyper_util_reads_it(value in proxy_value()) {
            same_proxy_as_hyper_util(&value);
        }

        #[test]
        fn any_text_is_read_as_hyper_util_reads_it(value in "[a-zA-Z0-9:/@\\[\\]%?#.!*+ {}\"<>|^`\\\\_~=;,$&'()\u{e9}-]{0,16}") {
            same_proxy_as_hyper_util(&value);
        }

        #[test]
        fn any_ip_text_is_read_as_std_and_ipnet_read_it(text in "[0-9a-fA-F.:/+]{0,20}") {
            same_ip_as_std_and_ipnet(&text);
        }

        #[test]
        fn any_ip_is_read_as_std_and_ipnet_read_it(v6 in any::<u128>(), prefix in 0u8..140, zeros in 0usize..3) {
            let v4 = v6 as u32;
            let texts = [
                std::net::Ipv4Addr::from(v4).to_string(),
                std::net::Ipv6Addr::from(v6).to_string(),
                format!("{}/{prefix}", std::net::Ipv4Addr::from(v4)),
                format!("{}/{prefix:0zeros$}", std::net::Ipv6Addr::from(v6)),
                format!("::ffff:{}", std::net::Ipv4Addr::from(v4)),
                std::net::Ipv4Addr::from(v4).octets().map(|o| format!("{o:0zeros$}")).join("."),
            ];
            for text in texts {
                same_ip_as_std_and_ipnet(&text);
            }
        }

        #[test]
        fn no_proxy_matches_as_hyper_util_matches(
            rules in prop::collection::vec(no_proxy_rule(), 0..4),
            sep in prop::sample::select(vec![",", ", ", " ,"]),
            host in host(),
        ) {
            same_no_proxy_as_hyper_util(&rules.join(sep), &host);
        }
    }

    /// What std and ipnet make of `text` as an IP address and as an IP network.
    fn same_ip_as_std_and_ipnet(text: &str) {
        let std = match text.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V4(ip)) => Some((Ip::V4(ip.into()), 32)),
            Ok(std::net::IpAddr::V6(ip)) => Some((Ip::V6(ip.into()), 128)),
            Err(_) => None,
        };
        assert_eq!(ip_address(text, false), std, "{text:?} as an address");
        let ipnet = match text.parse::<ipnet::IpNet>() {
            Ok(ipnet::IpNet::V4(net)) => Some((Ip::V4(net.addr().into()), net.prefix_len().into())),
            Ok(ipnet::IpNet::V6(net)) => Some((Ip::V6(net.addr().into()), net.prefix_len().into())),
            Err(_) => None,
        };
        assert_eq!(ip_network(text), ipnet, "{text:?} as a network");
    }

    #[test]
    fn ip_addresses_and_networks_read_as_std_and_ipnet_read_them() {
        for text in [
            "127.0.0.1",
            "010.0.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "256.0.0.1",
            "1.2.3",
            "1.2.3.4.5",
            "+1.2.3.4",
            "1.2.3.4 ",
            "::",
            "::1",
            "1::",
            "1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7:8:9",
            "1:2:3:4:5:6:7::",
            "::1:2:3:4:5:6:7",
            "::1:2:3:4:5:6:7:8",
            "1::2::3",
            ":::",
            "1:::2",
            ":1::",
            "::ffff:1.2.3.4",
            "::ffff:01.2.3.4",
            "1:2:3:4:5:6:1.2.3.4",
            "1:2:3:4:5:6:7:1.2.3.4",
            "1.2.3.4::",
            "1:2:3:4:5:6::1.2.3.4",
            "::+1",
            "12345::",
            "fFfF::",
            "g::",
            "10.0.0.0/8",
            "010.0.0.0/08",
            "10.0.0.0/33",
            "10.0.0.0/032",
            "10.0.0.0/",
            "10.0.0.0/+8",
            "::/0",
            "::/128",
            "::/129",
            "::/0128",
            "fd00::/8",
            "::ffff:010.0.0.1/104",
            "1.2.3.4/8/8",
            "/8",
            "",
        ] {
            same_ip_as_std_and_ipnet(text);
        }
    }

    /// What rustls-pki-types (reqwest's `Certificate::from_pem_bundle`, rustls-native-certs)
    /// makes of `text`: each certificate, or an error, in order.
    fn pki_types_certificates(text: &[u8]) -> Vec<Result<Vec<u8>, ()>> {
        use rustls_pki_types::pem::PemObject;
        let slice: Vec<_> = rustls_pki_types::CertificateDer::pem_slice_iter(text)
            .map(|r| r.map(|c| c.to_vec()).map_err(drop))
            .collect();
        let reader: Vec<_> = rustls_pki_types::CertificateDer::pem_reader_iter(text)
            .map(|r| r.map(|c| c.to_vec()).map_err(drop))
            .collect();
        assert_eq!(slice, reader, "the two readers agree");
        slice
    }

    fn ours(text: &[u8]) -> Vec<Result<Vec<u8>, ()>> {
        pem_sections(text)
            .filter_map(|s| match s {
                Ok(Some(der)) => Some(Ok(der)),
                Ok(None) => None,
                Err(_) => Some(Err(())),
            })
            .collect()
    }

    fn pem_text() -> impl Strategy<Value = Vec<u8>> {
        let line = prop_oneof![
            Just(b"-----BEGIN CERTIFICATE-----".to_vec()),
            Just(b"-----END CERTIFICATE-----".to_vec()),
            Just(b"-----BEGIN PRIVATE KEY-----".to_vec()),
            Just(b"-----END PRIVATE KEY-----".to_vec()),
            Just(b"-----BEGIN THING-----".to_vec()),
            Just(b"-----END THING-----".to_vec()),
            Just(b"-----BEGIN CERTIFICATE----".to_vec()),
            Just(b"-----BEGIN CERTIFICATE--- --  ".to_vec()),
            Just(b"-----END CERTIFICATE-----trailing".to_vec()),
            prop::collection::vec(any::<u8>(), 0..6).prop_map(|d| STANDARD.encode(d).into_bytes()),
            "[A-Za-z0-9+/= \t]{0,12}".prop_map(String::into_bytes),
            prop::collection::vec(any::<u8>(), 0..4),
        ];
        let newline = prop::sample::select(vec![&b"\n"[..], b"\r\n", b"\r", b""]);
        prop::collection::vec((line, newline), 0..10).prop_map(|lines| {
            lines
                .into_iter()
                .flat_map(|(line, newline)| line.into_iter().chain(newline.iter().copied()))
                .collect()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        #[test]
        fn pem_is_read_as_rustls_pki_types_reads_it(text in pem_text()) {
            prop_assert_eq!(ours(&text), pki_types_certificates(&text));
        }

        #[test]
        fn any_base64_block_is_decoded_as_rustls_pki_types_decodes_it(body in "[A-Za-z0-9+/= \t]{0,24}") {
            let text = format!("-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n");
            prop_assert_eq!(ours(text.as_bytes()), pki_types_certificates(text.as_bytes()));
        }

        #[test]
        fn base64_of_any_bytes_reads_back(bytes in prop::collection::vec(any::<u8>(), 0..100)) {
            prop_assert_eq!(base64_decode(STANDARD.encode(&bytes).as_bytes()), Some(bytes));
        }
    }
}
