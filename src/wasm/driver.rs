//! The driver behind the wasm binding: the core's [`Lifecycle`] and [`Exchange`], run one step at
//! a time by JS, which owns `fetch`, timers, the clock and randomness (it passes the time and the
//! jitter in). The shape follows the native driver (`src/native/client.rs`): the same lifecycle
//! calls, the same debug lines ([`trace`]), the same errors.
//!
//! Plain Rust (no `wasm-bindgen` here), so `cargo test` checks it on the host.

use crate::{
    body_too_large, host_of, trace, Error, Exchange, HttpRequest, HttpResponse, Lifecycle, Mode,
    Options, Plan, Session, SessionMetadata, Step, Times, Timing, TransportFailure, MAX_BODY_BYTES,
};
use secrecy::SecretString;

/// One client's state: options (with the credentials), the lifecycle, and whether it is closed.
#[derive(Debug)]
pub struct Driver {
    options: Options,
    lifecycle: Lifecycle,
    closed: bool,
}

/// One exchange in flight.
#[derive(Debug)]
pub struct Run {
    mode: Mode,
    exchange: Exchange,
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
}

/// What JS does next.
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

/// How a transport failed, as JS reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    Transport(TransportFailure),
    /// The caller (a closed client) aborted the request.
    Aborted,
}

impl Driver {
    pub fn new(options: Options) -> Self {
        let lifecycle = options.new_lifecycle();
        Self {
            options,
            lifecycle,
            closed: false,
        }
    }

    /// The debug lines of its creation (a permanent credential says so).
    pub fn start_log(&self) -> Vec<String> {
        self.lifecycle
            .permanent_session()
            .map(|(session, _)| trace::permanent(session.provider))
            .into_iter()
            .collect()
    }

    fn id(&self) -> &'static str {
        self.options.provider.id()
    }

    /// What a caller off the hot path should do at `now_ms`.
    pub fn plan(&self, now_ms: u64) -> Plan {
        self.lifecycle.plan(now_ms)
    }

    /// The session the lifecycle holds now, if any (from the start: a permanent credential).
    pub fn current(&self) -> Option<(Session, Times)> {
        self.lifecycle.current().map(|(s, t)| (s.clone(), *t))
    }

    /// A permanent credential's session, if this client serves one.
    fn permanent(&self) -> Option<(Session, Times)> {
        self.lifecycle
            .permanent_session()
            .map(|(s, t)| (s.clone(), *t))
    }

    /// Take a session the application kept (`initialSession`) as the current one, checked like a
    /// vendor's answer (as the native driver does). A permanent credential stays.
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
        let session =
            self.options
                .provider
                .seeded_session(token, expires_at_ms, metadata, now_ms)?;
        let times = self.lifecycle.succeeded(session.clone(), now_ms);
        Ok((session, times))
    }

    /// Drop the current session and end a refusal cool-down. Returns whether a session was
    /// dropped (a permanent credential is kept).
    pub fn invalidate(&mut self) -> bool {
        self.lifecycle.invalidate()
    }

    /// Refuse new exchanges; runs in flight end with `CLOSED` at their next step.
    pub fn close(&mut self) {
        self.closed = true;
        self.lifecycle.invalidate();
    }

    /// Start an exchange at `now_ms`: through the refresh endpoint where the vendor has one and
    /// the current session may still be offered, else by authenticating.
    pub fn begin(&mut self, mode: Mode, now_ms: u64, log: &mut Vec<String>) -> (Run, Next) {
        let deadline_ms = now_ms.saturating_add(self.options.exchange_timeout_ms);
        let current = self.lifecycle.refreshable(now_ms).cloned();
        let mut run = Run {
            mode,
            exchange: Exchange::new(mode, self.options.retry, current, deadline_ms),
            deadline_ms,
            pending: None,
            bounded_by_deadline: false,
            host: String::new(),
            done: false,
        };
        if self.closed {
            run.done = true;
            return (run, Next::Done(Err(Error::closed(self.id()))));
        }
        if let Some(permanent) = self.permanent() {
            // Nothing to exchange: the credential is the header.
            run.done = true;
            return (run, Next::Done(Ok(permanent)));
        }
        run.pending = Some(run.exchange.start(&*self.options.provider));
        let next = self.resume(&mut run, now_ms, log);
        (run, next)
    }

    /// After a [`Next::Wait`]: the request to send now.
    pub fn resume(&mut self, run: &mut Run, now_ms: u64, log: &mut Vec<String>) -> Next {
        if let Some(done) = self.closed_or_done(run) {
            return done;
        }
        let Some(request) = run.pending.take() else {
            return self.finish(run, Err(Error::closed(self.id())), now_ms, 0.0, log);
        };
        let left = run.deadline_ms.saturating_sub(now_ms).max(1);
        run.bounded_by_deadline = left < self.options.timeout_ms;
        run.host = host_of(&request.url);
        log.push(trace::sending(
            self.id(),
            &request,
            run.exchange.is_refreshing(),
        ));
        if let Err(error) = request.check_headers() {
            // As the native transport: the attempt fails before anything is sent.
            return self.step(run, Err(error), Timing::at(now_ms), 0, 0.0, log);
        }
        Next::Send {
            request,
            timeout_ms: left.min(self.options.timeout_ms),
        }
    }

    /// The answer to the request in flight: `status`, `headers`, and the body as read, which JS
    /// stops reading a little past [`MAX_BODY_BYTES`] (`complete` false: there was more).
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
        let kind = match failure {
            Failure::Aborted => return self.finish(run, Err(Error::closed(id)), now, jitter, log),
            Failure::Transport(TransportFailure::Timeout) if run.bounded_by_deadline => {
                let error = Error::exchange_timeout(id, self.options.exchange_timeout_ms);
                return self.finish(run, Err(error), now, jitter, log);
            }
            Failure::Transport(kind) => kind,
        };
        let error = kind.error(&run.host, detail, self.options.timeout_ms, id);
        let timing = Timing::of_answer(sent_at_ms, now, None);
        self.step(run, Err(error), timing, elapsed_ms, jitter, log)
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
        if let Some(done) = self.closed_or_done(run) {
            return done;
        }
        let id = self.id();
        let now = timing.received_at_ms;
        log.push(trace::outcome(id, &outcome, elapsed_ms, &timing));
        let step = run
            .exchange
            .on_outcome(&*self.options.provider, outcome, &timing, jitter);
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

    /// A closed client ends every run with `CLOSED`, and a finished run stays finished.
    fn closed_or_done(&self, run: &mut Run) -> Option<Next> {
        if self.closed || run.done {
            run.done = true;
            return Some(Next::Done(Err(Error::closed(self.id()))));
        }
        None
    }

    /// Record the result in the lifecycle (as the native driver does), once.
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
        match result {
            Ok(session) => {
                let times = self.lifecycle.succeeded(session.clone(), now_ms);
                Next::Done(Ok((session, times)))
            }
            Err(error) => {
                let lines = self.lifecycle.failed(&error, run.mode, now_ms, jitter);
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
        Driver::new(Options::resolve(raw, &|_| None).unwrap())
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
