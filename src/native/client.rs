//! The native driver loop: performs the core [`Driver`]'s steps with the HTTPS transport and
//! tokio's timers. It decides nothing: which request, how long to wait, when to give up and what
//! the result means are the core's. It only supplies what the core leaves to a runtime: the
//! clock (the caller's time at the start of a call, advanced by a monotonic clock), timers,
//! randomness, and bytes on the wire.
//!
//! This side owns the credentials (they never go back to JS) and the lifecycle state (inside the
//! driver); the JS side keeps only the current header and the time the last plan gave it.

use super::transport;
use crate::{Driver, Error, ExchangeTrace, Failure, Mode, Next, Session, Times};
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Where debug log lines go as they happen (never holds a secret).
pub type LogSink = Box<dyn Fn(String) + Send + Sync>;

pub struct Client {
    /// Held only for one step of the core (a few field reads and writes): never across a
    /// request or a wait.
    driver: Mutex<Driver>,
    /// The HTTPS client (shared per `caCert`), set up on the first exchange: a client served
    /// from `initialSession` or the shared store never pays for loading the platform's roots.
    http: OnceLock<transport::Http>,
    /// What the HTTPS client takes from the environment, as it was at creation.
    pool_env: transport::PoolEnv,
    closed: watch::Sender<bool>,
    log: Option<LogSink>,
}

/// The caller's clock during one call: its time (ms since the epoch) at the start, advanced by
/// the monotonic clock. A test that drives the JS clock drives the client's.
#[derive(Clone, Copy)]
struct Clock {
    start_ms: u64,
    started: Instant,
}

impl Clock {
    fn at(now_ms: u64) -> Self {
        Self {
            start_ms: now_ms,
            started: Instant::now(),
        }
    }

    fn now(&self) -> u64 {
        self.start_ms + self.started.elapsed().as_millis() as u64
    }
}

impl Client {
    pub fn new(driver: Driver, log: Option<LogSink>) -> Result<Self, Error> {
        if let Some(options) = driver.options() {
            // Checked now (before any I/O, as INVALID_OPTIONS); the client is built when used.
            transport::check_ca_cert(options.ca_cert.as_deref())?;
        }
        let client = Self {
            driver: Mutex::new(driver),
            http: OnceLock::new(),
            pool_env: transport::PoolEnv::read(),
            closed: watch::Sender::new(false),
            log,
        };
        client.log_all(client.driver().start_log());
        Ok(client)
    }

    /// Look for missing credentials again (see [`Driver::resolve`]); the error that stands.
    pub fn resolve(&self, env: &dyn Fn(&str) -> Option<String>) -> Option<Error> {
        let mut driver = self.driver();
        if !driver.pending() {
            return None;
        }
        if let Some(error) = driver.resolve(env) {
            return Some(error);
        }
        let ca_cert = driver.options().and_then(|o| o.ca_cert.as_deref());
        if let Err(error) = transport::check_ca_cert(ca_cert) {
            return Some(error);
        }
        let lines = driver.start_log();
        drop(driver);
        self.log_all(lines);
        None
    }

    /// The core driver, for one step (a short lock that no exchange holds while it waits).
    pub fn driver(&self) -> MutexGuard<'_, Driver> {
        // A poisoned lock still holds a valid value: every step leaves the driver consistent.
        self.driver
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Stop: exchanges in flight end at once with `CLOSED`, later ones too.
    pub fn close(&self) {
        self.driver().close();
        self.closed.send_replace(true);
    }

    /// Run one exchange to its end, starting at the caller's time `now_ms`: the core's steps,
    /// performed. Closing the client ends it at once with `CLOSED`. With what it did, for tracing.
    pub async fn exchange(
        &self,
        mode: Mode,
        now_ms: u64,
    ) -> (Result<(Session, Times), Error>, ExchangeTrace) {
        let clock = Clock::at(now_ms);
        let mut closed = self.closed.subscribe();
        let mut log = Vec::new();
        let (mut run, mut next) = self.driver().begin(mode, clock.now(), &mut log);
        loop {
            self.log_all(std::mem::take(&mut log));
            next = match next {
                Next::Done(result) => return (result, run.trace()),
                Next::Wait(ms) => {
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_millis(ms)) => {}
                        _ = closed.wait_for(|closed| *closed) => {}
                    }
                    // A closed driver ends the run here with CLOSED.
                    self.driver().resume(&mut run, clock.now(), &mut log)
                }
                Next::Send {
                    request,
                    timeout_ms,
                } => {
                    let provider = self.driver().provider();
                    let sent_at = clock.now();
                    let started = Instant::now();
                    let send = async {
                        let http = self.http(provider)?;
                        let timeout = Duration::from_millis(timeout_ms);
                        transport::send(http, &request, timeout, provider).await
                    };
                    let outcome = tokio::select! {
                        outcome = send => Some(outcome),
                        _ = closed.wait_for(|closed| *closed) => None,
                    };
                    let elapsed = started.elapsed().as_millis() as u64;
                    let mut driver = self.driver();
                    match outcome {
                        Some(outcome) => {
                            driver.received(&mut run, outcome, sent_at, elapsed, jitter(), &mut log)
                        }
                        None => {
                            let aborted = Failure::Aborted;
                            driver.failed(&mut run, aborted, "", sent_at, elapsed, 0.0, &mut log)
                        }
                    }
                }
            };
        }
    }

    fn http(&self, provider: &'static str) -> Result<&transport::Http, Error> {
        if let Some(http) = self.http.get() {
            return Ok(http);
        }
        let ca_cert = self.driver().options().and_then(|o| o.ca_cert.clone());
        let http = transport::client_for(ca_cert.as_deref(), &self.pool_env)?;
        if let Some(why) = http.extra_ca_ignored() {
            self.log_all([format!("{provider} {why}")]);
        }
        Ok(self.http.get_or_init(|| http))
    }

    pub fn log_all(&self, lines: impl IntoIterator<Item = String>) {
        if let Some(log) = &self.log {
            for line in lines {
                log(line);
            }
        }
    }
}

/// Uniform in `[0, 1)` for backoff jitter. `RandomState` is seeded randomly per process and
/// advances per instance: enough for spreading retries, and no extra dependency.
fn jitter() -> f64 {
    let bits = RandomState::new().hash_one(Instant::now());
    (bits >> 11) as f64 / (1u64 << 53) as f64
}
