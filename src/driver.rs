//! The one driver of every build: a client's credentials, its [`Lifecycle`] and its exchanges
//! ([`Exchange`]), run one step at a time. Sans-IO: the caller owns the clock, timers, randomness
//! and the transport, and passes the time and the jitter in. Each step returns what to do next
//! ([`Next`]: send this request, wait this long, or done), so that the native binding (a small
//! tokio loop over reqwest) and the wasm binding (JS with `fetch` or `node:https`) only perform
//! steps; neither decides anything.
//!
//! It also holds what both builds share around an exchange: credentials that are missing at
//! construction and looked for again at first use, `initialSession` (`adopt`), `close()`, and the
//! shared store's sealing (key, sealed sessions and rate limits).

use crate::coordinator::StoreHealth;
use crate::{
    body_too_large, host_of, trace, Error, ErrorCode, Exchange, HttpRequest, HttpResponse,
    Lifecycle, Mode, Options, Plan, RawOptions, Session, SessionMetadata, Step, StoreSeal,
    StoredSession, Times, Timing, TransportFailure, MAX_BODY_BYTES, NONCE_LEN,
};
use secrecy::{ExposeSecret, SecretString};

/// One client's state: its options (with the credentials) and lifecycle once the credentials
/// are known, and whether it is closed.
#[derive(Debug)]
pub struct Driver {
    provider: &'static str,
    state: State,
    closed: bool,
    /// The shared store's health as this client saw it (src/coordinator.rs).
    store: StoreHealth,
    /// What this client has held and dropped, so that the shared store cannot roll it back.
    held: Held,
    /// The options as given (credentials given as functions are set in them at each exchange:
    /// [`Driver::set_credentials`]); `None` for a driver made from resolved options.
    raw: Option<RawOptions>,
}

/// The tokens invalidated (refused by the API, or dropped by the caller) are never adopted again
/// from the shared store, and nothing is adopted that expires no later than a session this client
/// already held: a replayed older sealed value cannot roll a warm client back.
#[derive(Debug, Default)]
struct Held {
    /// The last [`Held::KEPT`] tokens invalidated (secrets; only compared).
    dropped: Vec<SecretString>,
    /// The latest expiry of a session this client held and dropped.
    latest_expiry_ms: u64,
}

impl Held {
    const KEPT: usize = 8;

    fn drop_session(&mut self, token: SecretString, expires_at_ms: u64) {
        if self.dropped.len() == Self::KEPT {
            self.dropped.remove(0);
        }
        self.dropped.push(token);
        self.latest_expiry_ms = self.latest_expiry_ms.max(expires_at_ms);
    }
}

#[derive(Debug)]
enum State {
    Ready(Box<Ready>),
    /// Credentials missing at construction: the options as given, and the error that stands.
    Pending {
        raw: RawOptions,
        error: Error,
    },
}

#[derive(Debug)]
struct Ready {
    options: Options,
    lifecycle: Lifecycle,
    /// The shared store's key id and sealing key, derived on first use (only with a store).
    seal: Option<StoreSeal>,
}

impl Ready {
    fn new(options: Options) -> Self {
        let lifecycle = options.new_lifecycle();
        Self {
            options,
            lifecycle,
            seal: None,
        }
    }

    fn seal(&mut self) -> &StoreSeal {
        let provider = &*self.options.provider;
        self.seal.get_or_insert_with(|| StoreSeal::new(provider))
    }
}

/// One exchange in flight.
#[derive(Debug)]
pub struct Run {
    mode: Mode,
    /// `None` for a run that was over before it began.
    exchange: Option<Exchange>,
    /// The bound on the whole exchange (ms since the epoch): `exchangeTimeoutMs` from its start.
    deadline_ms: u64,
    /// The next request, once a retry's wait is over.
    pending: Option<HttpRequest>,
    /// Whether the attempt in flight is bounded by the exchange's deadline rather than by
    /// `timeoutMs` (so that its time-out is reported as the whole exchange's).
    bounded_by_deadline: bool,
    /// Where the request in flight went (for failure messages).
    host: String,
    done: bool,
    /// What the run did, for tracing (`diagnostics_channel` in Node).
    trace: ExchangeTrace,
}

/// What one exchange did, as tracers see it: never a secret.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExchangeTrace {
    /// Requests sent (attempts, retries and a fall back from the refresh endpoint included).
    pub requests: u32,
    /// The last request went to the vendor's refresh endpoint (else its authenticate endpoint).
    pub refresh: bool,
    /// The HTTP status of the last answer, if there was one.
    pub status: Option<u16>,
}

impl Run {
    /// What this run did so far.
    pub fn trace(&self) -> ExchangeTrace {
        self.trace
    }
}

/// What the binding does next.
#[derive(Debug)]
pub enum Next {
    /// Send this request, and give up on it after `timeout_ms`.
    Send {
        request: HttpRequest,
        timeout_ms: u64,
    },
    /// Wait this long, then ask again ([`Driver::resume`]).
    Wait(u64),
    /// The exchange is over: a session (with the times the hot path needs) or the error.
    Done(Result<(Session, Times), Error>),
}

/// How a transport failed, as a transport that does not classify its failures reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    Transport(TransportFailure),
    /// The caller (a closed client) aborted the request.
    Aborted,
}

impl Driver {
    /// A driver for `raw` options, reading unset credentials through `env`. Every bad option
    /// fails here (before any I/O), except missing credentials: the driver then stays *pending*
    /// until [`Driver::resolve`] finds them at first use (a module-level client in a build
    /// without secrets).
    pub fn new(raw: RawOptions, env: &dyn Fn(&str) -> Option<String>) -> Result<Self, Error> {
        match Options::resolve(raw.clone(), env) {
            Ok(options) => Ok(Self {
                raw: Some(raw),
                ..Self::ready(options)
            }),
            Err(error) if error.is_missing_credentials() => {
                let name = raw.provider().unwrap_or_default();
                let provider = crate::provider::find(name)?.id;
                Ok(Self {
                    provider,
                    state: State::Pending {
                        raw: raw.clone(),
                        error,
                    },
                    closed: false,
                    store: StoreHealth::default(),
                    held: Held::default(),
                    raw: Some(raw),
                })
            }
            Err(error) => Err(error),
        }
    }

    /// A driver over resolved options.
    pub fn ready(options: Options) -> Self {
        Self {
            provider: options.provider.id(),
            state: State::Ready(Box::new(Ready::new(options))),
            closed: false,
            store: StoreHealth::default(),
            held: Held::default(),
            raw: None,
        }
    }

    /// The provider id.
    pub fn provider(&self) -> &'static str {
        self.provider
    }

    /// Whether the credentials are still to be found (see [`Driver::resolve`]).
    pub fn pending(&self) -> bool {
        matches!(self.state, State::Pending { .. })
    }

    /// Look for missing credentials again through `env`. Returns the error that still stands,
    /// or `None` once the driver is ready (its options are then [`Driver::options`]).
    pub fn resolve(&mut self, env: &dyn Fn(&str) -> Option<String>) -> Option<Error> {
        let State::Pending { raw, error } = &mut self.state else {
            return None;
        };
        if self.closed {
            return Some(error.clone());
        }
        match Options::resolve(raw.clone(), env) {
            Ok(options) => {
                self.state = State::Ready(Box::new(Ready::new(options)));
                None
            }
            Err(e) => {
                *error = e.clone();
                Some(e)
            }
        }
    }

    /// Credentials the application gives at exchange time (options given as functions, asked
    /// again before each exchange): `(name, value)` pairs of this vendor's credential options,
    /// with `env` for the others. Returns whether any value changed. A change takes effect at
    /// once: the next exchange uses it, the shared store's key follows it, and a refusal
    /// cool-down ends (it belonged to the refused value; an unchanged value keeps it). A
    /// permanent credential (Vendy's scheme `'basic'`) becomes the new one.
    pub fn set_credentials(
        &mut self,
        values: &[(String, SecretString)],
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<bool, Error> {
        if self.closed {
            return Err(Error::closed(self.provider));
        }
        let Some(raw) = self.raw.as_mut() else {
            return Err(Error::invalid_options(
                "credentials cannot be changed on this client",
            ));
        };
        let spec = crate::provider::find(self.provider)?;
        let mut changed = false;
        for (name, value) in values {
            let option = spec.option(name).filter(|o| o.credential).ok_or_else(|| {
                Error::invalid_options(format!(
                    "'{name}' is not one of {}'s credential options",
                    spec.name
                ))
            })?;
            let before = match option.secret {
                true => raw.values().secret(option).map(ExposeSecret::expose_secret),
                false => raw.values().text(option),
            };
            changed |= before != Some(value.expose_secret());
            raw.set(name, value.expose_secret().into())?;
        }
        match &mut self.state {
            State::Pending { raw: pending, .. } => {
                *pending = raw.clone();
                Ok(changed)
            }
            State::Ready(_) if !changed => Ok(false),
            State::Ready(ready) => {
                let options = Options::resolve(raw.clone(), env)?;
                let permanent = options.provider.permanent_session().is_some()
                    || ready.lifecycle.permanent_session().is_some();
                if permanent {
                    **ready = Ready::new(options);
                } else {
                    ready.options = options;
                    ready.seal = None;
                    ready.lifecycle.end_refusal();
                }
                Ok(true)
            }
        }
    }

    /// The resolved options (`None` while pending).
    pub fn options(&self) -> Option<&Options> {
        match &self.state {
            State::Ready(ready) => Some(&ready.options),
            State::Pending { .. } => None,
        }
    }

    /// `exchangeTimeoutMs` as resolved (also while pending: validated already).
    pub fn exchange_timeout_ms(&self) -> u64 {
        match &self.state {
            State::Ready(ready) => ready.options.exchange_timeout_ms,
            State::Pending { raw, .. } => raw.integer(&crate::schema::EXCHANGE_TIMEOUT_MS),
        }
    }

    /// The ready state, or the error that stands (missing credentials, or closed).
    fn ready_mut(&mut self) -> Result<&mut Ready, Error> {
        match &mut self.state {
            State::Ready(ready) => Ok(ready),
            State::Pending { error, .. } => Err(error.clone()),
        }
    }

    fn lifecycle(&self) -> Option<&Lifecycle> {
        match &self.state {
            State::Ready(ready) => Some(&ready.lifecycle),
            State::Pending { .. } => None,
        }
    }

    /// The debug lines of its creation or resolution (a permanent credential says so).
    pub fn start_log(&self) -> Vec<String> {
        self.lifecycle()
            .and_then(Lifecycle::permanent_session)
            .map(|(session, _)| trace::permanent(session.provider))
            .into_iter()
            .collect()
    }

    fn id(&self) -> &'static str {
        self.provider
    }

    /// What a caller off the hot path should do at `now_ms`. A pending driver always needs an
    /// exchange (which reports the missing credentials).
    pub fn plan(&self, now_ms: u64) -> Plan {
        self.lifecycle().map_or(Plan::Exchange, |l| l.plan(now_ms))
    }

    /// The session the lifecycle holds now, if any (from the start: a permanent credential).
    pub fn current(&self) -> Option<(Session, Times)> {
        self.lifecycle()?.current().map(|(s, t)| (s.clone(), *t))
    }

    /// A permanent credential's session, if this client serves one.
    fn permanent(&self) -> Option<(Session, Times)> {
        self.lifecycle()?
            .permanent_session()
            .map(|(s, t)| (s.clone(), *t))
    }

    /// Take a session the application kept (`initialSession`) as the current one at `now_ms`,
    /// checked like a vendor's answer. A permanent credential stays: there is no exchange for a
    /// kept session to skip.
    pub fn adopt(
        &mut self,
        token: SecretString,
        expires_at_ms: u64,
        metadata: SessionMetadata,
        now_ms: u64,
    ) -> Result<(Session, Times), Error> {
        if let Some(permanent) = self.permanent() {
            return Ok(permanent);
        }
        let ready = self.ready_mut()?;
        let session =
            ready
                .options
                .provider
                .seeded_session(token, expires_at_ms, metadata, now_ms)?;
        let times = ready.lifecycle.succeeded(session.clone(), now_ms);
        Ok((session, times))
    }

    /// Drop the current session and end a refusal cool-down. Returns whether a session was
    /// dropped (a permanent credential is kept; a pending driver has nothing to keep).
    pub fn invalidate(&mut self) -> bool {
        if self.closed {
            return false;
        }
        match &mut self.state {
            State::Ready(ready) => {
                let current = ready
                    .lifecycle
                    .current()
                    .map(|(s, _)| (s.token.clone(), s.expires_at_ms));
                let dropped = ready.lifecycle.invalidate();
                if let (true, Some((token, expires_at_ms))) = (dropped, current) {
                    self.held.drop_session(token, expires_at_ms);
                }
                dropped
            }
            State::Pending { .. } => true,
        }
    }

    /// Whether `client.fetch()` may send the token to `url` (see [`crate::TrustedOrigins`]). A
    /// pending driver has no token yet: its first exchange will say what is missing.
    pub fn check_origin(&self, url: &str) -> Result<(), Error> {
        match &self.state {
            State::Ready(ready) => ready.options.trusted.check(url),
            State::Pending { .. } => Ok(()),
        }
    }

    /// Whether a session from the shared store may replace what this client holds: not a token
    /// it invalidated, not one that expires earlier than a session it dropped (a replayed older
    /// value; tokens issued in the same second share an expiry), and newer than the current one.
    pub(crate) fn may_adopt_stored(&self, token: &str, expires_at_ms: u64) -> bool {
        if self.held.dropped.iter().any(|t| t.expose_secret() == token) {
            return false;
        }
        if expires_at_ms < self.held.latest_expiry_ms {
            return false;
        }
        match self.current() {
            Some((current, _)) => {
                expires_at_ms > current.expires_at_ms && current.token.expose_secret() != token
            }
            None => true,
        }
    }

    /// Whether `close()` was called.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    pub(crate) fn store_health(&self) -> &StoreHealth {
        &self.store
    }

    pub(crate) fn store_health_mut(&mut self) -> &mut StoreHealth {
        &mut self.store
    }

    /// Refuse new exchanges; runs in flight end with `CLOSED` at their next step.
    pub fn close(&mut self) {
        self.closed = true;
        match &mut self.state {
            State::Ready(ready) => {
                ready.lifecycle.invalidate();
            }
            // Never resolved: nothing in flight, and nothing may start.
            State::Pending { error, .. } => *error = Error::closed(self.provider),
        }
    }

    /// The shared store's name for these credentials: provider, base URL and a keyed hash of
    /// the credentials (HKDF-SHA256), never a credential.
    pub(crate) fn store_key(&mut self) -> Result<String, Error> {
        Ok(self.ready_mut()?.seal().key_id().to_owned())
    }

    /// The current session sealed for the shared store under `nonce`, with how long it lives
    /// (ms) at `now_ms`. Never a permanent credential: it is no token to share, and it would
    /// outlive every store entry.
    pub(crate) fn seal_session(
        &mut self,
        nonce: &[u8; NONCE_LEN],
        now_ms: u64,
    ) -> Result<Option<(String, u64)>, Error> {
        let ready = self.ready_mut()?;
        if ready.lifecycle.permanent_session().is_some() {
            return Ok(None);
        }
        let Some((session, times)) = ready.lifecycle.current() else {
            return Ok(None);
        };
        let Some(ttl) = times.expires_at_ms.checked_sub(now_ms).filter(|&ms| ms > 0) else {
            return Ok(None);
        };
        let session = session.clone();
        Ok(Some((ready.seal().seal_session(&session, nonce), ttl)))
    }

    /// A session from the shared store, opened (not yet checked nor adopted); `None` when it
    /// does not open (another key, a changed byte).
    pub(crate) fn open_session(&mut self, sealed: &str) -> Option<StoredSession> {
        self.ready_mut().ok()?.seal().open_session(sealed)
    }

    /// A lock value for the shared store: `owner`, until `until_ms`, sealed under `nonce`.
    pub(crate) fn seal_lock(
        &mut self,
        owner: &str,
        until_ms: u64,
        nonce: &[u8; NONCE_LEN],
    ) -> Result<String, Error> {
        Ok(self.ready_mut()?.seal().seal_lock(owner, until_ms, nonce))
    }

    /// Until when a lock value read from the store lasts; `None` when it does not open.
    pub(crate) fn open_lock(&mut self, sealed: &str) -> Option<u64> {
        self.ready_mut().ok()?.seal().open_lock(sealed)
    }

    /// The remembered rate limit sealed for the shared store, with how long it lasts (ms).
    pub(crate) fn seal_rate_limit(
        &mut self,
        nonce: &[u8; NONCE_LEN],
        now_ms: u64,
    ) -> Result<Option<(String, u64)>, Error> {
        let ready = self.ready_mut()?;
        let Some(limit) = ready.lifecycle.rate_limit(now_ms) else {
            return Ok(None);
        };
        let ttl = limit.until_ms - now_ms;
        Ok(Some((ready.seal().seal_rate_limit(&limit, nonce), ttl)))
    }

    /// Remember a rate limit read from the shared store at `now_ms`; whether it opened and still
    /// holds.
    pub(crate) fn adopt_rate_limit(
        &mut self,
        sealed: &str,
        now_ms: u64,
        log: &mut Vec<String>,
    ) -> bool {
        let provider = self.provider;
        let Ok(ready) = self.ready_mut() else {
            return false;
        };
        let Some(limit) = ready.seal().open_rate_limit(sealed, provider) else {
            return false;
        };
        if limit.until_ms <= now_ms {
            return false;
        }
        if let Some(line) = ready.lifecycle.remember_rate_limit(limit, now_ms) {
            log.push(format!("{provider} {line}"));
        }
        true
    }

    /// Hold background refreshes off for `ms` from `now_ms` (another process is refreshing).
    pub(crate) fn defer_refresh(&mut self, ms: u64, now_ms: u64) {
        if let Ok(ready) = self.ready_mut() {
            ready.lifecycle.defer_background(now_ms.saturating_add(ms));
        }
    }

    /// Start an exchange at `now_ms`: through the refresh endpoint where the vendor has one and
    /// the current session may still be offered, else by authenticating. A closed driver, a
    /// pending one (missing credentials) and a permanent credential are done at once.
    pub fn begin(&mut self, mode: Mode, now_ms: u64, log: &mut Vec<String>) -> (Run, Next) {
        let mut run = Run {
            mode,
            exchange: None,
            deadline_ms: now_ms,
            pending: None,
            bounded_by_deadline: false,
            host: String::new(),
            done: true,
            trace: ExchangeTrace::default(),
        };
        if self.closed {
            return (run, Next::Done(Err(Error::closed(self.id()))));
        }
        if let Some(permanent) = self.permanent() {
            // Nothing to exchange: the credential is the header.
            return (run, Next::Done(Ok(permanent)));
        }
        let ready = match self.ready_mut() {
            Ok(ready) => ready,
            Err(error) => return (run, Next::Done(Err(error))),
        };
        let options = &ready.options;
        run.deadline_ms = now_ms.saturating_add(options.exchange_timeout_ms);
        let current = ready.lifecycle.refreshable(now_ms).cloned();
        let mut exchange = Exchange::new(mode, options.retry, current, run.deadline_ms);
        run.pending = Some(exchange.start(&*options.provider));
        run.exchange = Some(exchange);
        run.done = false;
        let next = self.resume(&mut run, now_ms, log);
        (run, next)
    }

    /// After a [`Next::Wait`]: the request to send now.
    pub fn resume(&mut self, run: &mut Run, now_ms: u64, log: &mut Vec<String>) -> Next {
        let Some((id, options)) = self.in_flight(run) else {
            return Next::Done(Err(Error::closed(self.id())));
        };
        let Some(request) = run.pending.take() else {
            return self.finish(run, Err(Error::closed(id)), now_ms, 0.0, log);
        };
        let left = run.deadline_ms.saturating_sub(now_ms).max(1);
        run.bounded_by_deadline = left < options.timeout_ms;
        let timeout_ms = left.min(options.timeout_ms);
        run.host = host_of(&request.url);
        let refreshing = run.exchange.as_ref().is_some_and(Exchange::is_refreshing);
        run.trace.requests += 1;
        run.trace.refresh = refreshing;
        log.push(trace::sending(id, &request, refreshing));
        if let Err(error) = request.check_headers() {
            // The attempt fails before anything is sent.
            return self.step(run, Err(error), Timing::at(now_ms), 0, 0.0, log);
        }
        Next::Send {
            request,
            timeout_ms,
        }
    }

    /// The answer to the request in flight: `status`, `headers`, and the body as read, which the
    /// transport stops reading a little past [`MAX_BODY_BYTES`] (`complete` false: there was
    /// more).
    #[allow(clippy::too_many_arguments)]
    pub fn answered(
        &mut self,
        run: &mut Run,
        response: HttpResponse,
        complete: bool,
        sent_at_ms: u64,
        elapsed_ms: u64,
        jitter: f64,
        log: &mut Vec<String>,
    ) -> Next {
        let id = self.id();
        let date = response.header("date").map(str::to_owned);
        let timing = Timing::of_answer(sent_at_ms, sent_at_ms + elapsed_ms, date.as_deref());
        let outcome = judge_size(response, complete, id);
        self.step(run, outcome, timing, elapsed_ms, jitter, log)
    }

    /// The request in flight failed without an answer.
    #[allow(clippy::too_many_arguments)]
    pub fn failed(
        &mut self,
        run: &mut Run,
        failure: Failure,
        detail: &str,
        sent_at_ms: u64,
        elapsed_ms: u64,
        jitter: f64,
        log: &mut Vec<String>,
    ) -> Next {
        let id = self.id();
        let now = sent_at_ms + elapsed_ms;
        let Failure::Transport(kind) = failure else {
            return self.finish(run, Err(Error::closed(id)), now, jitter, log);
        };
        let timeout_ms = self.options().map_or(0, |o| o.timeout_ms);
        let error = kind.error(&run.host, detail, timeout_ms, id);
        self.received(run, Err(error), sent_at_ms, elapsed_ms, jitter, log)
    }

    /// The outcome of the request in flight from a transport that reads answers itself (caps
    /// the body, judges its size) and classifies its failures into errors (the native one).
    pub fn received(
        &mut self,
        run: &mut Run,
        outcome: Result<HttpResponse, Error>,
        sent_at_ms: u64,
        elapsed_ms: u64,
        jitter: f64,
        log: &mut Vec<String>,
    ) -> Next {
        let id = self.id();
        let now = sent_at_ms + elapsed_ms;
        if let Err(error) = &outcome {
            if error.code() == ErrorCode::Timeout && run.bounded_by_deadline {
                // The attempt was cut short by the whole exchange's deadline.
                let budget = self.exchange_timeout_ms();
                let error = Error::exchange_timeout(id, budget);
                return self.finish(run, Err(error), now, jitter, log);
            }
        }
        let date = outcome.as_ref().ok().and_then(|r| r.header("date"));
        let timing = Timing::of_answer(sent_at_ms, now, date);
        self.step(run, outcome, timing, elapsed_ms, jitter, log)
    }

    fn step(
        &mut self,
        run: &mut Run,
        outcome: Result<HttpResponse, Error>,
        timing: Timing,
        elapsed_ms: u64,
        jitter: f64,
        log: &mut Vec<String>,
    ) -> Next {
        let Some((id, options)) = self.in_flight(run) else {
            return Next::Done(Err(Error::closed(self.id())));
        };
        let now = timing.received_at_ms;
        run.trace.status = outcome.as_ref().ok().map(|r| r.status);
        log.push(trace::outcome(id, &outcome, elapsed_ms, &timing));
        let Some(exchange) = run.exchange.as_mut() else {
            return self.finish(run, Err(Error::closed(id)), now, jitter, log);
        };
        let step = exchange.on_outcome(&*options.provider, outcome, &timing, jitter);
        log.extend(trace::step(id, &step));
        match step {
            Step::Retry { request, delay_ms } => {
                run.pending = Some(request);
                Next::Wait(delay_ms)
            }
            Step::Fallback(request) => {
                run.pending = Some(request);
                self.resume(run, now, log)
            }
            Step::Done(session) => self.finish(run, Ok(session), now, jitter, log),
            Step::Failed(error) => self.finish(run, Err(error), now, jitter, log),
        }
    }

    /// The provider id and the options of a run that may go on; a closed driver ends every run
    /// with `CLOSED`, and a finished run stays finished.
    fn in_flight(&self, run: &mut Run) -> Option<(&'static str, &Options)> {
        match self.options() {
            Some(options) if !self.closed && !run.done => Some((self.id(), options)),
            _ => {
                run.done = true;
                None
            }
        }
    }

    /// Record the result in the lifecycle, once.
    fn finish(
        &mut self,
        run: &mut Run,
        result: Result<Session, Error>,
        now_ms: u64,
        jitter: f64,
        log: &mut Vec<String>,
    ) -> Next {
        run.done = true;
        run.pending = None;
        let id = self.id();
        if self.closed {
            return Next::Done(Err(Error::closed(id)));
        }
        let ready = match self.ready_mut() {
            Ok(ready) => ready,
            Err(error) => return Next::Done(Err(error)),
        };
        match result {
            Ok(session) => {
                let times = ready.lifecycle.succeeded(session.clone(), now_ms);
                Next::Done(Ok((session, times)))
            }
            Err(error) => {
                let lines = ready.lifecycle.failed(&error, run.mode, now_ms, jitter);
                log.extend(lines.into_iter().map(|line| format!("{id} {line}")));
                Next::Done(Err(error))
            }
        }
    }
}

/// An error answer is judged by its status (a huge 503 page is still a 503): only cut at the
/// cap. A success answer past the cap cannot be a token answer.
fn judge_size(
    mut response: HttpResponse,
    complete: bool,
    id: &'static str,
) -> Result<HttpResponse, Error> {
    let declared_too_large = response
        .header("content-length")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .is_some_and(|len| len > MAX_BODY_BYTES as u64);
    let too_large = !complete || response.body.len() > MAX_BODY_BYTES || declared_too_large;
    if too_large && response.is_success() {
        return Err(body_too_large(id, response.status));
    }
    response.body.truncate(MAX_BODY_BYTES);
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ErrorCode, RawOptions};

    const NOW: u64 = 1_700_000_000_000;

    fn driver(max_retries: f64) -> Driver {
        let raw = RawOptions::new()
            .with("provider", "puppetvendors")
            .with("apiKey", "vk_test_abc")
            .with("maxRetries", max_retries)
            .with("timeoutMs", 1_000.0)
            .with("exchangeTimeoutMs", 2_500.0);
        Driver::new(raw, &|_| None).unwrap()
    }

    fn ok() -> HttpResponse {
        HttpResponse::new(
            200,
            r#"{"success":true,"data":{"token":"tok-1-abcdefghijklmn","expiresIn":3600}}"#,
        )
    }

    fn send_timeout(next: &Next) -> u64 {
        match next {
            Next::Send { timeout_ms, .. } => *timeout_ms,
            other => panic!("expected a request, got {other:?}"),
        }
    }

    #[test]
    fn rotated_credentials_take_effect_at_once_and_end_only_their_own_refusal() {
        let key = |v: &str| vec![("apiKey".to_owned(), SecretString::from(v))];
        let mut d = driver(0.0);
        let store_key = d.store_key().unwrap();
        // The key is refused: a cool-down.
        let mut log = Vec::new();
        let (mut run, _) = d.begin(Mode::Foreground, NOW, &mut log);
        d.answered(
            &mut run,
            HttpResponse::new(401, "{}"),
            true,
            NOW,
            5,
            0.5,
            &mut log,
        );
        assert!(matches!(d.plan(NOW + 1), Plan::Reject(e) if e.code() == ErrorCode::Unauthorized));
        // The same value again keeps it; a new one ends it and changes the store's key.
        assert!(!d.set_credentials(&key("vk_test_abc"), &|_| None).unwrap());
        assert!(matches!(d.plan(NOW + 2), Plan::Reject(_)));
        assert!(d
            .set_credentials(&key("vk_test_rotated"), &|_| None)
            .unwrap());
        assert_eq!(d.plan(NOW + 3), Plan::Exchange);
        assert_ne!(d.store_key().unwrap(), store_key);
        let (_, next) = d.begin(Mode::Foreground, NOW + 4, &mut log);
        let Next::Send { request, .. } = next else {
            panic!()
        };
        let body = String::from_utf8(request.body.expose_secret().to_vec()).unwrap();
        assert!(body.contains("vk_test_rotated"), "the new key is sent");
        let shop = vec![(
            "shopDomain".to_owned(),
            SecretString::from("my-store.myshopify.com"),
        )];
        assert!(
            d.set_credentials(&shop, &|_| None).unwrap(),
            "the shop selects the key"
        );
        // Not a credential option of this vendor: refused, nothing changed.
        let e = d
            .set_credentials(&[("accessKey".into(), SecretString::from("x"))], &|_| None)
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidOptions);
        d.close();
        assert_eq!(
            d.set_credentials(&key("k"), &|_| None).unwrap_err().code(),
            ErrorCode::Closed
        );
    }

    #[test]
    fn a_pending_driver_is_completed_by_credentials_given_later() {
        let raw = RawOptions::new().with("provider", "puppetvendors");
        let mut d = Driver::new(raw, &|_| None).unwrap();
        assert!(d.pending());
        let key = vec![("apiKey".to_owned(), SecretString::from("vk_test_later"))];
        d.set_credentials(&key, &|_| None).unwrap();
        assert_eq!(d.resolve(&|_| None).map(|e| e.code()), None);
        assert!(!d.pending());
    }

    #[test]
    fn an_exchange_records_its_session_in_the_lifecycle() {
        let mut d = driver(2.0);
        let mut log = Vec::new();
        assert_eq!(d.plan(NOW), Plan::Exchange);
        let (mut run, next) = d.begin(Mode::Foreground, NOW, &mut log);
        assert_eq!(send_timeout(&next), 1_000);
        let next = d.answered(&mut run, ok(), true, NOW, 20, 0.5, &mut log);
        let Next::Done(Ok((session, times))) = next else {
            panic!("{next:?}")
        };
        assert_eq!(session.expires_at_ms, NOW + 3_600_000);
        assert_eq!(
            d.plan(NOW + 30),
            Plan::Serve {
                until_ms: times.refresh_at_ms
            }
        );
        assert!(log[0].starts_with("puppetvendors POST https://"), "{log:?}");
        assert!(log[1].contains("answered HTTP 200 in 20 ms"), "{log:?}");
        assert!(log[2].contains("new token"), "{log:?}");
        assert!(!log.join("\n").contains("tok-1-abcdefghijklmn"));
    }

    #[test]
    fn a_retry_waits_then_resumes_with_the_next_request() {
        let mut d = driver(2.0);
        let mut log = Vec::new();
        let (mut run, _) = d.begin(Mode::Foreground, NOW, &mut log);
        let next = d.answered(
            &mut run,
            HttpResponse::new(503, ""),
            true,
            NOW,
            5,
            0.0,
            &mut log,
        );
        assert!(matches!(next, Next::Wait(0)), "{next:?}");
        assert_eq!(send_timeout(&d.resume(&mut run, NOW + 10, &mut log)), 1_000);
        // Near the end of exchangeTimeoutMs the attempt gets what is left, and its time-out is
        // the whole exchange's.
        let next = d.failed(
            &mut run,
            Failure::Transport(TransportFailure::Timeout),
            "",
            NOW + 10,
            1_000,
            0.0,
            &mut log,
        );
        assert!(matches!(next, Next::Wait(_)), "{next:?}");
        assert_eq!(
            send_timeout(&d.resume(&mut run, NOW + 2_000, &mut log)),
            500
        );
        let next = d.failed(
            &mut run,
            Failure::Transport(TransportFailure::Timeout),
            "",
            NOW + 2_000,
            500,
            0.0,
            &mut log,
        );
        let Next::Done(Err(e)) = next else {
            panic!("{next:?}")
        };
        assert_eq!(e.code(), ErrorCode::Timeout);
        assert!(e.message().contains("exchangeTimeoutMs = 2500 ms"), "{e}");
    }

    #[test]
    fn an_oversized_success_is_refused_and_an_oversized_error_is_cut() {
        let mut d = driver(0.0);
        let mut log = Vec::new();
        let (mut run, _) = d.begin(Mode::Foreground, NOW, &mut log);
        let big = HttpResponse::new(200, vec![b' '; 10]);
        let Next::Done(Err(e)) = d.answered(&mut run, big, false, NOW, 1, 0.0, &mut log) else {
            panic!()
        };
        assert_eq!(
            (e.code(), e.status()),
            (ErrorCode::InvalidResponse, Some(200))
        );
        assert!(e.message().contains("64 KiB"));

        let (mut run, _) = d.begin(Mode::Foreground, NOW, &mut log);
        let page = HttpResponse::new(503, vec![b'x'; MAX_BODY_BYTES + 1]);
        let Next::Done(Err(e)) = d.answered(&mut run, page, false, NOW, 1, 0.0, &mut log) else {
            panic!()
        };
        assert_eq!((e.code(), e.status()), (ErrorCode::ServerError, Some(503)));
    }

    #[test]
    fn close_ends_runs_in_flight_with_closed_and_leaves_the_lifecycle_alone() {
        let mut d = driver(2.0);
        let mut log = Vec::new();
        let (mut run, _) = d.begin(Mode::Foreground, NOW, &mut log);
        d.close();
        let Next::Done(Err(e)) = d.answered(&mut run, ok(), true, NOW, 1, 0.0, &mut log) else {
            panic!()
        };
        assert_eq!(e.code(), ErrorCode::Closed);
        let (_, next) = d.begin(Mode::Foreground, NOW, &mut log);
        assert!(matches!(next, Next::Done(Err(ref e)) if e.code() == ErrorCode::Closed));
        assert_eq!(d.plan(NOW), Plan::Exchange);
    }

    #[test]
    fn an_untrusted_certificate_is_not_retried() {
        let mut d = driver(2.0);
        let mut log = Vec::new();
        let (mut run, _) = d.begin(Mode::Foreground, NOW, &mut log);
        let next = d.failed(
            &mut run,
            Failure::Transport(TransportFailure::Untrusted),
            "self-signed certificate in certificate chain",
            NOW,
            3,
            0.0,
            &mut log,
        );
        let Next::Done(Err(e)) = next else {
            panic!("{next:?}")
        };
        assert_eq!(e.code(), ErrorCode::Network);
        assert!(e.message().contains("caCert"), "{e}");
    }
}
