//! The debug lines of an exchange, the same whichever driver runs it (native or wasm). None holds
//! a secret: URLs carry no credential, tokens appear as previews, errors are already scrubbed.

use crate::expiry::format_http_date;
use crate::{token_preview, Error, HttpRequest, HttpResponse, Step, Timing};
use secrecy::ExposeSecret;

/// A request is about to go out.
pub fn sending(provider: &str, request: &HttpRequest, refreshing: bool) -> String {
    let refresh = if refreshing { " (refresh)" } else { "" };
    format!("{provider} POST {}{refresh}", request.url)
}

/// What came back from a request that took `elapsed_ms`.
pub fn outcome(
    provider: &str,
    outcome: &Result<HttpResponse, Error>,
    elapsed_ms: u64,
    timing: &Timing,
) -> String {
    match outcome {
        Ok(res) => format!(
            "{provider} answered HTTP {} in {elapsed_ms} ms{}",
            res.status,
            match timing.vendor_offset_ms {
                0 => String::new(),
                ms => format!(" (vendor clock {ms:+} ms from ours)"),
            }
        ),
        Err(e) => format!("{provider} request failed ({}): {}", e.code(), e.message()),
    }
}

/// What the exchange decided after an outcome (nothing for a failure: the caller reports it).
pub fn step(provider: &str, step: &Step) -> Option<String> {
    match step {
        Step::Retry { delay_ms, .. } => Some(format!("{provider} retry in {delay_ms} ms")),
        Step::Fallback(_) => Some(format!(
            "{provider} refresh endpoint gave no token; authenticating instead"
        )),
        Step::Done(session) => Some(format!(
            "{provider} new token {} expires at {}",
            token_preview(session.token.expose_secret()),
            format_http_date(session.expires_at_ms)
        )),
        Step::Failed(_) => None,
    }
}

/// A client that serves a permanent credential (no exchange, no expiry), at its creation.
pub fn permanent(provider: &str) -> String {
    format!(
        "{provider} permanent credential: sent as it is on every request, no exchange, no expiry"
    )
}
