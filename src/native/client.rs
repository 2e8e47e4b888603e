//! The native driver: runs the core's [`Exchange`] state machine with a real clock, timers,
//! randomness and the HTTPS transport, and keeps the client's [`Lifecycle`] (the core's policy of
//! when to exchange, and the current session for the refresh endpoint).
//!
//! This side owns the credentials (they never go back to JS) and the lifecycle state; the JS side
//! keeps only the current header and the number the last [`Plan`] gave it for its hot path.

use super::transport;
use crate::{
    trace, Error, Exchange, Lifecycle, Mode, Options, Plan, Session, SessionMetadata, Step,
    StoreSeal, StoredSession, Times, Timing, NONCE_LEN,
};
use secrecy::SecretString;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::watch;

/// Where debug log lines go as they happen (never holds a secret).
pub type LogSink = Box<dyn Fn(String) + Send + Sync>;

pub struct Client {
    options: Options,
    /// The HTTPS client (shared per `caCert`), set up on the first exchange: a client served
    /// from `initialSession` or the shared store never pays for loading the platform's roots.
    http: OnceLock<transport::Http>,
    /// What the HTTPS client takes from the environment, as it was at creation.
    pool_env: transport::PoolEnv,
    /// Held only to read or update the policy state: never across a request.
    lifecycle: Mutex<Lifecycle>,
    closed: watch::Sender<bool>,
    log: Option<LogSink>,
    /// The shared store's key id and sealing key, derived on first use (only with a store).
    seal: OnceLock<StoreSeal>,
}

impl Client {
    pub fn new(options: Options, log: Option<LogSink>) -> Result<Self, Error> {
        // Checked now (before any I/O, as INVALID_OPTIONS); the client is built when first used.
        transport::check_ca_cert(options.ca_cert.as_deref())?;
        let http = OnceLock::new();
        let pool_env = transport::PoolEnv::read();
        let lifecycle = options.new_lifecycle();
        if let (Some((session, _)), Some(log)) = (lifecycle.permanent_session(), &log) {
            log(trace::permanent(session.provider));
        }
        Ok(Self {
            options,
            http,
            pool_env,
            lifecycle: Mutex::new(lifecycle),
            closed: watch::Sender::new(false),
            log,
            seal: OnceLock::new(),
        })
    }

    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The session the lifecycle holds now, if any (from the start: a permanent credential).
    pub fn current(&self) -> Option<(Session, Times)> {
        self.lifecycle().current().map(|(s, t)| (s.clone(), *t))
    }

    /// A permanent credential's session, if this client serves one.
    fn permanent(&self) -> Option<(Session, Times)> {
        self.lifecycle()
            .permanent_session()
            .map(|(s, t)| (s.clone(), *t))
    }

    /// What a caller off the hot path should do at `now_ms` (the core's decision).
    pub fn plan(&self, now_ms: u64) -> Plan {
        self.lifecycle().plan(now_ms)
    }

    /// Take a session the application kept (`initialSession`) as the current one. A permanent
    /// credential stays: there is no exchange for a kept session to skip.
    pub fn adopt(
        &self,
        token: SecretString,
        expires_at_ms: u64,
        metadata: SessionMetadata,
    ) -> Result<(Session, Times), Error> {
        if let Some(permanent) = self.permanent() {
            return Ok(permanent);
        }
        let now = now_ms();
        let session = self
            .options
            .provider
            .seeded_session(token, expires_at_ms, metadata, now)?;
        let times = self.lifecycle().succeeded(session.clone(), now);
        Ok((session, times))
    }

    fn seal(&self) -> &StoreSeal {
        self.seal
            .get_or_init(|| StoreSeal::new(&*self.options.provider))
    }

    /// The shared store's name for this client's credentials (no secret in it).
    pub fn store_key(&self) -> &str {
        self.seal().key_id()
    }

    /// The current session sealed for the shared store, with how long it lives (ms). Never a
    /// permanent credential: it is no token to share, and it would outlive every store entry.
    pub fn seal_session(&self, nonce: &[u8; NONCE_LEN]) -> Option<(String, u64)> {
        let now = now_ms();
        let lifecycle = self.lifecycle();
        if lifecycle.permanent_session().is_some() {
            return None;
        }
        let (session, times) = lifecycle.current()?;
        let ttl = times.expires_at_ms.checked_sub(now).filter(|&ms| ms > 0)?;
        Some((self.seal().seal_session(session, nonce), ttl))
    }

    /// A session from the shared store, opened (not yet checked nor adopted).
    pub fn open_session(&self, sealed: &str) -> Option<StoredSession> {
        self.seal().open_session(sealed)
    }

    /// The remembered rate limit sealed for the shared store, with how long it lasts (ms).
    pub fn seal_rate_limit(&self, nonce: &[u8; NONCE_LEN]) -> Option<(String, u64)> {
        let now = now_ms();
        let limit = self.lifecycle().rate_limit(now)?;
        let ttl = limit.until_ms - now;
        Some((self.seal().seal_rate_limit(&limit, nonce), ttl))
    }

    /// Remember a rate limit read from the shared store; whether it opened and still holds.
    pub fn adopt_rate_limit(&self, sealed: &str) -> bool {
        let provider = self.options.provider.id();
        let Some(limit) = self.seal().open_rate_limit(sealed, provider) else {
            return false;
        };
        let now = now_ms();
        if limit.until_ms <= now {
            return false;
        }
        let line = self.lifecycle().remember_rate_limit(limit, now);
        if let Some(line) = line {
            self.log(format!("{provider} {line}"));
        }
        true
    }

    /// Hold background refreshes off for `ms` (another process is refreshing).
    pub fn defer_refresh(&self, ms: u64) {
        let until = now_ms().saturating_add(ms);
        self.lifecycle().defer_background(until);
    }

    /// Drop the current session and end a refusal cool-down. Returns whether a session was
    /// dropped (a permanent credential is kept).
    pub fn invalidate(&self) -> bool {
        self.lifecycle().invalidate()
    }

    /// Stop: exchanges in flight end at once with `CLOSED`, later ones too.
    pub fn close(&self) {
        self.closed.send_replace(true);
        self.invalidate();
    }

    /// Get a new session (through the refresh endpoint where the vendor has one and the current
    /// session is still usable, else by authenticating), within `exchangeTimeoutMs` in all, and
    /// record the result in the lifecycle.
    pub async fn exchange(&self, mode: Mode) -> Result<(Session, Times), Error> {
        let provider = self.options.provider.id();
        let mut closed = self.closed.subscribe();
        if *closed.borrow() {
            return Err(Error::closed(provider));
        }
        if let Some(permanent) = self.permanent() {
            // Nothing to exchange: the credential is the header.
            return Ok(permanent);
        }
        let started = now_ms();
        let current = self.lifecycle().refreshable(started).cloned();
        let budget = self.options.exchange_timeout_ms;
        let run = tokio::time::timeout(
            Duration::from_millis(budget),
            self.run(mode, current, started.saturating_add(budget)),
        );
        let result = tokio::select! {
            result = run => result.unwrap_or_else(|_| Err(Error::exchange_timeout(provider, budget))),
            _ = closed.wait_for(|closed| *closed) => return Err(Error::closed(provider)),
        };
        let now = now_ms();
        let mut lifecycle = self.lifecycle();
        match result {
            Ok(session) => {
                let times = lifecycle.succeeded(session.clone(), now);
                Ok((session, times))
            }
            Err(error) => {
                let lines = lifecycle.failed(&error, mode, now, jitter());
                drop(lifecycle);
                for line in lines {
                    self.log(format!("{provider} {line}"));
                }
                Err(error)
            }
        }
    }

    async fn run(
        &self,
        mode: Mode,
        current: Option<Session>,
        deadline_ms: u64,
    ) -> Result<Session, Error> {
        let options = &self.options;
        let provider = &*options.provider;
        let id = provider.id();
        let timeout = Duration::from_millis(options.timeout_ms);
        let mut exchange = Exchange::new(mode, options.retry, current, deadline_ms);
        let mut request = exchange.start(provider);
        loop {
            self.log(trace::sending(id, &request, exchange.is_refreshing()));
            // The wall clock once; durations from the monotonic one.
            let sent_at = now_ms();
            let clock = Instant::now();
            let outcome = match self.http() {
                Ok(http) => transport::send(http, &request, timeout, id).await,
                Err(e) => Err(e),
            };
            let elapsed = clock.elapsed().as_millis() as u64;
            let date = outcome.as_ref().ok().and_then(|res| res.header("date"));
            let timing = Timing::of_answer(sent_at, sent_at + elapsed, date);
            self.log(trace::outcome(id, &outcome, elapsed, &timing));
            let step = exchange.on_outcome(provider, outcome, &timing, jitter());
            if let Some(line) = trace::step(id, &step) {
                self.log(line);
            }
            match step {
                Step::Retry {
                    request: next,
                    delay_ms,
                } => {
                    tokio::time::sleep(Duration::from_millis(delay_ms)).await;
                    request = next;
                }
                Step::Fallback(next) => request = next,
                Step::Done(session) => return Ok(session),
                Step::Failed(error) => return Err(error),
            }
        }
    }

    fn http(&self) -> Result<&transport::Http, Error> {
        if let Some(http) = self.http.get() {
            return Ok(http);
        }
        let http = transport::client_for(self.options.ca_cert.as_deref(), &self.pool_env)?;
        if let (Some(log), Some(why)) = (&self.log, http.extra_ca_ignored()) {
            log(format!("{} {why}", self.options.provider.id()));
        }
        Ok(self.http.get_or_init(|| http))
    }

    fn log(&self, line: String) {
        if let Some(log) = &self.log {
            log(line);
        }
    }

    fn lifecycle(&self) -> MutexGuard<'_, Lifecycle> {
        // Held only for a few field reads/writes; a poisoned lock still holds a valid value.
        self.lifecycle
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

impl Client {
    /// The error of a call on a closed client.
    pub fn closed_error(provider: &'static str) -> Error {
        Error::closed(provider)
    }
}

/// Milliseconds since the Unix epoch (wall clock: expiries are wall-clock times).
pub fn now_ms() -> u64 {
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
