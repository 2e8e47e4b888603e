//! The native build's side of Node's conventions (decided in `src/conventions.rs`): the real
//! process environment and file system, read on the JS thread when a client is created (and the
//! `SSL_CERT_FILE` / `SSL_CERT_DIR` roots when its pool is built), and how a rustls error says
//! that a certificate is not trusted.

use crate::conventions::{Conventions, ExtraCa, ExtraCaReader, FileStat, Files, Vars, NOT_REGULAR};
use std::error::Error as _;
use std::io::Read as _;
use std::sync::Mutex;

/// The variables of the conventions as they are now (a value that is not Unicode is unset).
pub fn vars() -> Vars {
    Vars::read(|name| std::env::var(name).ok(), cfg!(windows))
}

/// What the environment decides now, and what `NODE_EXTRA_CA_CERTS` adds (its file parsed again
/// only when it changed since the last reading, in any client).
pub fn read() -> (Conventions, ExtraCa) {
    static EXTRA_CA: Mutex<ExtraCaReader> = Mutex::new(ExtraCaReader::new());
    let conventions = Conventions::decide(&vars());
    let extra = match &conventions.extra_ca_file {
        Some(path) => {
            let mut reader = EXTRA_CA.lock().unwrap_or_else(|poison| poison.into_inner());
            reader.read(path, &StdFiles)
        }
        None => ExtraCa::default(),
    };
    (conventions, extra)
}

/// The file system, through `std::fs`.
pub struct StdFiles;

impl Files for StdFiles {
    fn stat(&self, path: &str) -> Option<FileStat> {
        let meta = std::fs::metadata(path).ok()?;
        let modified = meta
            .modified()
            .ok()?
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        #[cfg(unix)]
        let (id, changed) = {
            use std::os::unix::fs::MetadataExt;
            let id = format!("{}:{}", meta.dev(), meta.ino());
            (Some(id), format!("{}.{}", meta.ctime(), meta.ctime_nsec()))
        };
        #[cfg(not(unix))]
        let (id, changed) = (None, String::new());
        Some(FileStat {
            is_file: meta.is_file(),
            version: format!(
                "{} {modified} {changed} {}",
                meta.len(),
                id.as_deref().unwrap_or("")
            ),
            id,
        })
    }

    fn read(&self, path: &str, limit: u64) -> Result<Vec<u8>, String> {
        let regular = |meta: std::io::Result<std::fs::Metadata>| match meta {
            Ok(meta) if meta.is_file() => Ok(()),
            Ok(_) => Err(NOT_REGULAR.to_owned()),
            Err(e) => Err(e.to_string()),
        };
        // Looked at before it is opened (opening a FIFO waits for a writer), and again once
        // open (the path may have been replaced in between).
        regular(std::fs::metadata(path))?;
        let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
        regular(file.metadata())?;
        let mut bytes = Vec::new();
        file.take(limit.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| e.to_string())?;
        Ok(bytes)
    }

    fn list(&self, dir: &str) -> Option<Vec<String>> {
        let entries = std::fs::read_dir(dir).ok()?;
        let paths = entries.filter_map(|entry| Some(entry.ok()?.path().to_str()?.to_owned()));
        Some(paths.collect())
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

    fn temp_file(name: &str, contents: &[u8]) -> String {
        let path = std::env::temp_dir().join(format!(
            "vendor-auth-conventions-{}-{name}",
            std::process::id()
        ));
        std::fs::write(&path, contents).unwrap();
        path.to_str().unwrap().to_owned()
    }

    #[test]
    fn a_missing_extra_ca_file_is_named_with_the_reason_std_gives() {
        let path = "/nonexistent/vendor-auth-ca.pem";
        let extra = ExtraCaReader::default().read(path, &StdFiles);
        let why = extra.ignored.unwrap();
        assert!(why.contains("NODE_EXTRA_CA_CERTS=/nonexistent/vendor-auth-ca.pem"));
        assert!(
            why.contains("could not be read: No such file or directory"),
            "{why}"
        );
    }

    #[test]
    fn a_rewrite_of_the_same_size_is_a_new_version() {
        let path = temp_file("rewritten.pem", b"not a certificate\n");
        let mut reader = ExtraCaReader::default();
        let first = reader.read(&path, &StdFiles);
        assert!(first.ignored.unwrap().contains("no PEM certificate"));
        assert_eq!(reader.read(&path, &StdFiles).reading, first.reading);
        // As long, not UTF-8: only the file's identity (mtime, ctime, inode) tells it changed.
        std::fs::write(&path, b"\xffot a certificate\n").unwrap();
        let second = reader.read(&path, &StdFiles);
        std::fs::remove_file(&path).unwrap();
        assert!(second.ignored.unwrap().contains("not PEM text"));
    }

    #[cfg(unix)]
    #[test]
    fn a_device_a_fifo_and_a_folder_are_refused_unread_and_a_file_read_to_its_limit() {
        // Regression: /dev/zero was read until memory ran out, and a FIFO waited for a writer.
        let fifo = std::env::temp_dir().join(format!(
            "vendor-auth-conventions-{}-fifo",
            std::process::id()
        ));
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.is_ok_and(|s| s.success()), "mkfifo made a FIFO");
        let fifo = fifo.to_str().unwrap().to_owned();
        for path in ["/dev/zero", "/tmp", &fifo] {
            let read = StdFiles.read(path, 10);
            let extra = ExtraCaReader::default().read(path, &StdFiles);
            assert_eq!(read, Err(NOT_REGULAR.to_owned()), "{path}");
            let why = extra.ignored.unwrap();
            assert!(why.contains("it is not a regular file"), "{path}: {why}");
        }
        std::fs::remove_file(&fifo).unwrap();
        let path = temp_file("limit.pem", &[b'x'; 100]);
        assert_eq!(StdFiles.read(&path, 10).unwrap().len(), 11);
        assert_eq!(StdFiles.read(&path, 1000).unwrap().len(), 100);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_folder_lists_its_entries_as_paths() {
        let dir = std::env::temp_dir().join(format!(
            "vendor-auth-conventions-{}-dir",
            std::process::id()
        ));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("a.pem"), b"").unwrap();
        let dir = dir.to_str().unwrap().to_owned();
        let mut entries = StdFiles.list(&dir).unwrap();
        entries.sort();
        let stats: Vec<_> = entries
            .iter()
            .map(|p| StdFiles.stat(p).unwrap().is_file)
            .collect();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(entries, [format!("{dir}/a.pem"), format!("{dir}/sub")]);
        assert_eq!(stats, [true, false]);
        assert_eq!(StdFiles.list("/nonexistent/vendor-auth"), None);
    }
}
