//! Node's conventions for the Node fallback (`lib/wasm/https-transport.js`), decided by the core
//! (`src/conventions.rs`) as for the native build: JS gives the variables and the file system,
//! and opens the connection decided here (direct or through a CONNECT tunnel) with the roots
//! decided here.

use crate::conventions::{
    certificate_pem, proxy_failed, through_proxy, Conventions, ExtraCa, ExtraCaReader, FileStat,
    Files, Vars, VARIABLES,
};
use std::sync::Mutex;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// The variables of [`VARIABLES`] that are set, as own entries of an object.
    pub type Variables;

    #[wasm_bindgen(method, structural, indexing_getter)]
    fn get(this: &Variables, name: &str) -> Option<String>;

    /// The file system: `stat(path)` (links followed) gives `{ isFile, id, version }` or
    /// `undefined`; `read(path, limit)` the bytes of a regular file, at most `limit + 1` of them,
    /// or throws why as a string (refusing, without waiting, what is not a regular file);
    /// `list(dir)` the paths of its entries, each after a NUL (which no path holds), or
    /// `undefined`.
    pub type NodeFiles;

    #[wasm_bindgen(method)]
    fn stat(this: &NodeFiles, path: &str) -> Option<NodeStat>;

    #[wasm_bindgen(method, catch)]
    fn read(this: &NodeFiles, path: &str, limit: f64) -> Result<Vec<u8>, JsValue>;

    #[wasm_bindgen(method)]
    fn list(this: &NodeFiles, dir: &str) -> Option<String>;

    pub type NodeStat;

    #[wasm_bindgen(method, getter, js_name = isFile)]
    fn is_file(this: &NodeStat) -> bool;

    #[wasm_bindgen(method, getter)]
    fn id(this: &NodeStat) -> Option<String>;

    #[wasm_bindgen(method, getter)]
    fn version(this: &NodeStat) -> String;
}

impl Files for NodeFiles {
    fn stat(&self, path: &str) -> Option<FileStat> {
        let stat = NodeFiles::stat(self, path)?;
        Some(FileStat {
            is_file: stat.is_file(),
            id: stat.id(),
            version: stat.version(),
        })
    }

    fn read(&self, path: &str, limit: u64) -> Result<Vec<u8>, String> {
        NodeFiles::read(self, path, limit as f64).map_err(|why| why.as_string().unwrap_or_default())
    }

    fn list(&self, dir: &str) -> Option<Vec<String>> {
        let paths = NodeFiles::list(self, dir)?;
        Some(paths.split('\0').skip(1).map(str::to_owned).collect())
    }
}

/// `NODE_EXTRA_CA_CERTS` as last read by any client of this instance.
static EXTRA_CA: Mutex<ExtraCaReader> = Mutex::new(ExtraCaReader::new());

/// The names of the variables to copy from the process environment, separated by commas.
#[wasm_bindgen(js_name = conventionVariables)]
pub fn variables() -> String {
    VARIABLES.join(",")
}

/// A failure to get through a proxy, in the words of both builds (see [`proxy_failed`]).
#[wasm_bindgen(js_name = proxyFailed)]
pub fn proxy_failed_text(name: &str, authority: &str, host: &str, why: &str) -> String {
    proxy_failed(name, authority, host, why)
}

/// What the environment decides for one client (read when it is created).
#[wasm_bindgen]
pub struct NodeConventions {
    conventions: Conventions,
    extra: ExtraCa,
}

/// A proxy as JS tunnels through it. (Its credentials are in `authorization` and `key`.)
#[derive(serde::Serialize)]
struct WireProxy {
    /// Tells pools apart (the proxy's URL and credentials: never shown).
    key: String,
    /// How messages name it, without credentials.
    name: String,
    scheme: String,
    host: String,
    port: u16,
    /// For CONNECT's `Proxy-Authorization`.
    #[serde(skip_serializing_if = "Option::is_none")]
    authorization: Option<String>,
    /// What follows the detail of a failure through it.
    through: String,
}

#[wasm_bindgen]
impl NodeConventions {
    /// The conventions of `variables` now (`windows`: folder lists are `;`-separated), with
    /// `NODE_EXTRA_CA_CERTS` read through `files` (again only when the file changed).
    #[wasm_bindgen(constructor)]
    pub fn new(variables: &Variables, windows: bool, files: &NodeFiles) -> NodeConventions {
        let vars = Vars::read(|name| variables.get(name), windows);
        let conventions = Conventions::decide(&vars);
        let extra = match &conventions.extra_ca_file {
            Some(path) => {
                let mut reader = EXTRA_CA.lock().unwrap_or_else(|poison| poison.into_inner());
                reader.read(path, files)
            }
            None => ExtraCa::default(),
        };
        NodeConventions { conventions, extra }
    }

    /// What the roots depend on besides `caCert` (the reading of `NODE_EXTRA_CA_CERTS`, the
    /// files that replace the system's roots): clients with the same key and `caCert` share a
    /// pool.
    #[wasm_bindgen(getter, js_name = trustKey)]
    pub fn trust_key(&self) -> String {
        let reading = self.extra.pem.as_ref().map_or(0, |_| self.extra.reading);
        match &self.conventions.system_roots {
            // NUL, which no path holds, between them: no two sets of paths read the same.
            Some(paths) => {
                let file = paths
                    .file
                    .as_deref()
                    .map_or("-".into(), |f| format!("+{f}"));
                format!("{reading}\0{file}\0{}", paths.dirs.join("\0"))
            }
            None => reading.to_string(),
        }
    }

    /// Why `NODE_EXTRA_CA_CERTS` added nothing, when it names a file.
    #[wasm_bindgen(getter)]
    pub fn note(&self) -> Option<String> {
        self.extra.ignored.clone()
    }

    /// The PEM text of `NODE_EXTRA_CA_CERTS`, when it adds roots.
    #[wasm_bindgen(getter, js_name = extraRoots)]
    pub fn extra_roots(&self) -> Option<String> {
        self.extra.pem.as_deref().map(str::to_owned)
    }

    /// Whether `SSL_CERT_FILE` / `SSL_CERT_DIR` replace the system's roots ([`Self::system_roots`]).
    #[wasm_bindgen(getter, js_name = replacesSystemRoots)]
    pub fn replaces_system_roots(&self) -> bool {
        self.conventions.system_roots.is_some()
    }

    /// The roots that replace the system's, read now through `files`, as PEM text.
    #[wasm_bindgen(js_name = systemRoots)]
    pub fn system_roots(&self, files: &NodeFiles) -> String {
        let Some(paths) = &self.conventions.system_roots else {
            return String::new();
        };
        let certificates = paths.certificates(files);
        certificates
            .iter()
            .map(|der| certificate_pem(der))
            .collect()
    }

    /// Whether any request goes through a proxy.
    #[wasm_bindgen(getter)]
    pub fn proxied(&self) -> bool {
        self.conventions.proxies.any()
    }

    /// The proxy a request to `url` goes through, as JSON, or `undefined` for none.
    #[wasm_bindgen(js_name = proxyFor)]
    pub fn proxy_for(&self, url: &str) -> Option<String> {
        let url = url::Url::parse(url).ok()?;
        let proxy = self.conventions.proxies.proxy_for(&url)?;
        let authorization = proxy.authorization();
        let name = proxy.name();
        let wire = WireProxy {
            key: format!(
                "{}\n{}",
                proxy.url(),
                authorization.as_deref().unwrap_or("")
            ),
            through: through_proxy(&name),
            name,
            scheme: proxy.scheme().to_owned(),
            host: proxy.hostname().to_owned(),
            port: proxy.port_or_default(),
            authorization,
        };
        serde_json::to_string(&wire).ok()
    }
}
