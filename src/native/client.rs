//! The driver: runs the core's [`Exchange`] state machine with a real clock, timers, randomness
//! and the HTTPS transport, and keeps the current session for the refresh endpoint.
//!
//! The JS side keeps the hot-path copy of the header and decides *when* to call in here; this
//! side owns the credentials (they never go back to JS) and performs exchanges.

use super::transport;
use crate::{expiry, token_preview, Error, ErrorCode, Exchange, Options, Session, Step};
use secrecy::ExposeSecret;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::watch;

/// A session this close to expiry is not offered to the refresh endpoint (it could die in flight).
const REFRESH_MIN_REMAINING_MS: u64 = 5_000;

/// Whether an exchange may wait and retry, or makes a single attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Callers are waiting: the full retry policy applies.
    Foreground,
    /// A refresh ahead of expiry while a valid token is still served: one attempt, so no timer
    /// inside Rust keeps the process alive; the JS side schedules the next try with backoff.
    Background,
}

/// One line of the opt-in debug log (never holds a secret).
pub type LogLine = String;

pub struct Client {
    options: Options,
    http: reqwest::Client,
    current: Mutex<Option<Session>>,
    closed: watch::Sender<bool>,
}

impl Client {
    pub fn new(options: Options) -> Result<Self, Error> {
        let http = transport::client_for(options.ca_cert.as_deref())?;
        Ok(Self {
            options,
            http,
            current: Mutex::new(None),
            closed: watch::Sender::new(false),
        })
    }

    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Drop the current session: the next exchange authenticates from scratch.
    pub fn invalidate(&self) {
        *self.lock() = None;
    }

    /// Stop: exchanges in flight end at once with `CLOSED`, later ones too.
    pub fn close(&self) {
        self.closed.send_replace(true);
        self.invalidate();
    }

    /// Get a new session, through the refresh endpoint where the vendor has one and the current
    /// session is still valid, else by authenticating.
    pub async fn exchange(&self, mode: Mode, log: &mut Vec<LogLine>) -> Result<Session, Error> {
        let provider = self.options.provider.id();
        let mut closed = self.closed.subscribe();
        if *closed.borrow() {
            return Err(closed_error(provider));
        }
        let current = self
            .lock()
            .clone()
            .filter(|s| s.expires_at_ms > now_ms() + REFRESH_MIN_REMAINING_MS);
        let run = self.run(mode, current.as_ref(), log);
        let result = tokio::select! {
            result = run => result,
            _ = closed.wait_for(|closed| *closed) => Err(closed_error(provider)),
        };
        if let Ok(session) = &result {
            *self.lock() = Some(session.clone());
        }
        result
    }

    async fn run(
        &self,
        mode: Mode,
        current: Option<&Session>,
        log: &mut Vec<LogLine>,
    ) -> Result<Session, Error> {
        let options = &self.options;
        let provider = &*options.provider;
        let policy = match mode {
            Mode::Foreground => options.retry,
            Mode::Background => options.retry.once(),
        };
        let timeout = Duration::from_millis(options.timeout_ms);
        let mut exchange = Exchange::new(provider, policy, current);
        let mut request = exchange.start();
        loop {
            log.push(format!(
                "{} POST {}{}",
                provider.id(),
                request.url,
                if exchange.is_refreshing() {
                    " (refresh)"
                } else {
                    ""
                }
            ));
            let started = now_ms();
            let outcome = transport::send(&self.http, &request, timeout, provider.id()).await;
            let received_at = now_ms();
            match &outcome {
                Ok(res) => log.push(format!(
                    "{} answered HTTP {} in {} ms",
                    provider.id(),
                    res.status,
                    received_at - started
                )),
                Err(e) => log.push(format!(
                    "{} request failed ({}): {}",
                    provider.id(),
                    e.code(),
                    e.message()
                )),
            }
            match exchange.on_outcome(outcome, received_at, jitter()) {
                Step::Retry {
                    request: next,
                    delay_ms,
                } => {
                    log.push(format!("{} retry in {delay_ms} ms", provider.id()));
                    tokio::time::sleep(Duration::from_millis(delay_ms)).await;
                    request = next;
                }
                Step::Fallback(next) => {
                    log.push(format!(
                        "{} refresh refused; authenticating instead",
                        provider.id()
                    ));
                    request = next;
                }
                Step::Done(session) => {
                    log.push(format!(
                        "{} new token {} expires at {}",
                        provider.id(),
                        token_preview(session.token.expose_secret()),
                        expiry::format_http_date(session.expires_at_ms)
                    ));
                    return Ok(session);
                }
                Step::Failed(error) => return Err(error),
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Session>> {
        // Held only to clone or replace a session; a poisoned lock still holds a valid value.
        self.current
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

fn closed_error(provider: &'static str) -> Error {
    Error::new(
        ErrorCode::Closed,
        "the client was closed; create a new one to get tokens again",
    )
    .with_provider(provider)
}

/// Milliseconds since the Unix epoch (the one clock read of the library).
fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Uniform in `[0, 1)` for backoff jitter. `RandomState` is seeded randomly per process and
/// advances per instance: enough for spreading retries, and no extra dependency.
fn jitter() -> f64 {
    let bits = RandomState::new().hash_one(now_ms());
    (bits >> 11) as f64 / (1u64 << 53) as f64
}
