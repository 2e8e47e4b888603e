//! One token exchange as a state machine: which request to send, and after each outcome whether
//! to send another (a retry, or the fall back from refresh to authenticate), after what delay, or
//! to stop. The driver (the native transport, or a `fetch` one) owns sockets, sleeping, the clock
//! and randomness; *whether* to exchange at all is the [`crate::Lifecycle`]'s call.

use crate::{
    Error, ErrorCode, HttpRequest, HttpResponse, Mode, Provider, RetryPolicy, Session, Timing,
};

/// What the driver does next.
#[derive(Debug)]
pub enum Step {
    /// Retry: send `request` after waiting `delay_ms` (which full jitter may make 0).
    Retry { request: HttpRequest, delay_ms: u64 },
    /// The refresh endpoint refused, or kept failing until its retries were spent: send this
    /// authentication request now (not a retry).
    Fallback(HttpRequest),
    /// A new session.
    Done(Session),
    /// Give up with this error.
    Failed(Error),
}

/// An exchange in progress. It owns what it needs (a copy of the session offered to the refresh
/// endpoint), so a driver may keep it across awaits; the provider is passed to each call (the
/// same one every time).
#[derive(Debug)]
pub struct Exchange {
    mode: Mode,
    policy: RetryPolicy,
    /// Present while trying the refresh endpoint with this still-valid session.
    refreshing: Option<Session>,
    retries: u32,
    /// No retry is scheduled past this time (ms since the epoch): the whole exchange's bound.
    deadline_ms: u64,
}

impl Exchange {
    /// Start an exchange. With `current` (a session that is still valid) and a vendor that has a
    /// refresh endpoint, the refresh endpoint is tried first. A background exchange makes one
    /// attempt per endpoint; no retry is planned to start at or after `deadline_ms`.
    pub fn new(
        mode: Mode,
        policy: RetryPolicy,
        current: Option<Session>,
        deadline_ms: u64,
    ) -> Self {
        Self {
            mode,
            policy: match mode {
                Mode::Foreground => policy,
                Mode::Background => policy.once(),
            },
            refreshing: current,
            retries: 0,
            deadline_ms,
        }
    }

    /// The first request to send.
    pub fn start(&mut self, provider: &dyn Provider) -> HttpRequest {
        if let Some(request) = self
            .refreshing
            .as_ref()
            .and_then(|s| provider.refresh_request(s))
        {
            return request;
        }
        self.refreshing = None;
        provider.authenticate_request()
    }

    /// Whether the exchange is on the refresh endpoint (for logs).
    pub fn is_refreshing(&self) -> bool {
        self.refreshing.is_some()
    }

    /// Feed the outcome of the last request: the response, or the transport's error (`NETWORK`,
    /// `TIMEOUT`, an oversized body as `INVALID_RESPONSE`). `timing` says when it was sent and
    /// arrived and what the vendor's clock said; `jitter` is uniform in `[0, 1)`.
    pub fn on_outcome(
        &mut self,
        provider: &dyn Provider,
        outcome: Result<HttpResponse, Error>,
        timing: &Timing,
        jitter: f64,
    ) -> Step {
        let result = outcome.and_then(|res| provider.parse_response(&res, timing));
        let error = match result {
            Ok(mut session) => {
                if let Some(previous) = &self.refreshing {
                    // The refresh answer omits what the first one said (scope, permissions…).
                    session.metadata.fill_from(&previous.metadata);
                }
                return Step::Done(session);
            }
            // The refresh request carried the current token; a vendor may echo it back.
            Err(error) => match &self.refreshing {
                Some(session) => error.scrubbed(&[&session.token]),
                None => error,
            },
        };
        if self.refreshing.is_some() && !error.is_retryable() {
            // The refresh endpoint refused (401 "Invalid or expired token", or anything else a
            // retry cannot fix): fall back to a full authentication, which is not a retry.
            return self.fall_back(provider);
        }
        let last = error.clone();
        match self.policy.decide(self.retries, error, jitter) {
            Ok(delay_ms) if timing.received_at_ms.saturating_add(delay_ms) >= self.deadline_ms => {
                let message = format!(
                    "{} (not retried: waiting {delay_ms} ms would pass the bound on the whole exchange, exchangeTimeoutMs)",
                    last.message()
                );
                Step::Failed(last.with_message(message))
            }
            Ok(delay_ms) => {
                self.retries += 1;
                let request = match &self.refreshing {
                    Some(session) => provider.refresh_request(session),
                    None => None,
                }
                .unwrap_or_else(|| provider.authenticate_request());
                Step::Retry { request, delay_ms }
            }
            // A foreground refresh whose retries are spent on server or network failures: the
            // authentication endpoint may still work (it is often served apart). Not after a
            // 429: the vendor asked us to wait, whichever endpoint.
            Err(error)
                if self.refreshing.is_some()
                    && self.mode == Mode::Foreground
                    && error.is_retryable()
                    && error.code() != ErrorCode::RateLimited =>
            {
                self.fall_back(provider)
            }
            Err(error) => Step::Failed(error),
        }
    }

    fn fall_back(&mut self, provider: &dyn Provider) -> Step {
        self.refreshing = None;
        self.retries = 0;
        Step::Fallback(provider.authenticate_request())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ErrorCode, Options, RawOptions};

    const NOW: u64 = 1_700_000_000_000;
    const FAR: u64 = u64::MAX;

    fn pv() -> Options {
        Options::resolve(
            RawOptions::new()
                .with("provider", "puppetvendors")
                .with("apiKey", "vk_test_abc")
                .with("maxRetries", 2.0),
            &|_| None,
        )
        .unwrap()
    }

    fn ok_body(token: &str) -> HttpResponse {
        HttpResponse::new(
            200,
            format!(
                r#"{{"success":true,"data":{{"token":"{token}","expiresIn":3600,"permissions":["orders:read"]}}}}"#
            ),
        )
    }

    fn path(step: &Step) -> String {
        match step {
            Step::Retry { request, .. } | Step::Fallback(request) => request.url.path().to_owned(),
            other => panic!("expected a request, got {other:?}"),
        }
    }

    #[test]
    fn retries_transient_failures_then_succeeds() {
        let o = pv();
        let mut ex = Exchange::new(Mode::Foreground, o.retry, None, FAR);
        assert_eq!(ex.start(&*o.provider).url.path(), "/v2/authenticate");
        let step = ex.on_outcome(
            &*o.provider,
            Ok(HttpResponse::new(503, "")),
            &Timing::at(NOW),
            0.5,
        );
        assert!(
            matches!(step, Step::Retry { delay_ms: 125, .. }),
            "{step:?}"
        );
        let step = ex.on_outcome(
            &*o.provider,
            Err(Error::new(ErrorCode::Timeout, "t")),
            &Timing::at(NOW),
            0.5,
        );
        assert!(
            matches!(step, Step::Retry { delay_ms: 250, .. }),
            "{step:?}"
        );
        assert!(matches!(
            ex.on_outcome(&*o.provider, Ok(ok_body("tok-1")), &Timing::at(NOW), 0.5),
            Step::Done(_)
        ));
    }

    #[test]
    fn a_zero_jitter_retry_is_still_a_retry() {
        // Regression: a 0 ms full-jitter backoff was taken for (and logged as) a refresh fallback.
        let o = pv();
        let mut ex = Exchange::new(Mode::Foreground, o.retry, None, FAR);
        ex.start(&*o.provider);
        let step = ex.on_outcome(
            &*o.provider,
            Ok(HttpResponse::new(429, "")),
            &Timing::at(NOW),
            0.0,
        );
        assert!(matches!(step, Step::Retry { delay_ms: 0, .. }), "{step:?}");
    }

    #[test]
    fn gives_up_after_max_retries() {
        let o = pv();
        let mut ex = Exchange::new(Mode::Foreground, o.retry, None, FAR);
        ex.start(&*o.provider);
        for _ in 0..2 {
            assert!(matches!(
                ex.on_outcome(
                    &*o.provider,
                    Ok(HttpResponse::new(500, "")),
                    &Timing::at(NOW),
                    0.0
                ),
                Step::Retry { .. }
            ));
        }
        match ex.on_outcome(
            &*o.provider,
            Ok(HttpResponse::new(500, "")),
            &Timing::at(NOW),
            0.0,
        ) {
            Step::Failed(e) => {
                assert_eq!((e.code(), e.status()), (ErrorCode::ServerError, Some(500)))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unauthorized_is_final_at_once() {
        let o = pv();
        let mut ex = Exchange::new(Mode::Foreground, o.retry, None, FAR);
        ex.start(&*o.provider);
        let step = ex.on_outcome(
            &*o.provider,
            Ok(HttpResponse::new(401, "{}")),
            &Timing::at(NOW),
            0.0,
        );
        assert!(matches!(step, Step::Failed(ref e) if e.code() == ErrorCode::Unauthorized));
    }

    #[test]
    fn refresh_falls_back_to_authenticate_on_401_and_keeps_metadata() {
        let (o, first) = pv_session();
        let mut ex = Exchange::new(Mode::Foreground, o.retry, Some(first.clone()), FAR);
        let req = ex.start(&*o.provider);
        assert_eq!(req.url.path(), "/v2/refresh-token");
        assert!(req
            .headers
            .iter()
            .any(|h| h.name() == "x-access-token" && h.value() == "tok-1"));
        let step = ex.on_outcome(
            &*o.provider,
            Ok(HttpResponse::new(401, r#"{"success":false}"#)),
            &Timing::at(NOW),
            0.0,
        );
        assert!(matches!(step, Step::Fallback(_)), "{step:?}");
        assert_eq!(path(&step), "/v2/authenticate");
        assert!(!ex.is_refreshing());

        let mut ex = Exchange::new(Mode::Foreground, o.retry, Some(first.clone()), FAR);
        ex.start(&*o.provider);
        let refreshed = HttpResponse::new(
            200,
            r#"{"success":true,"data":{"token":"tok-2","expiresIn":60}}"#,
        );
        let Step::Done(s) = ex.on_outcome(&*o.provider, Ok(refreshed), &Timing::at(NOW), 0.0)
        else {
            panic!()
        };
        assert_eq!(
            s.metadata.list("permissions"),
            Some(&["orders:read".to_owned()][..])
        );
        assert_eq!(s.expires_at_ms, NOW + 60_000);
    }

    #[test]
    fn a_token_echoed_by_the_refresh_endpoint_is_scrubbed_from_the_error() {
        let o = Options::resolve(
            RawOptions::new()
                .with("provider", "puppetvendors")
                .with("apiKey", "vk_test_abc")
                .with("maxRetries", 0.0),
            &|_| None,
        )
        .unwrap();
        let Step::Done(first) = Exchange::new(Mode::Foreground, o.retry, None, FAR).on_outcome(
            &*o.provider,
            Ok(ok_body("opaque-token-1234")),
            &Timing::at(NOW),
            0.0,
        ) else {
            panic!()
        };
        // In the background a failed refresh is reported, not fallen back from.
        let mut ex = Exchange::new(Mode::Background, o.retry, Some(first.clone()), FAR);
        ex.start(&*o.provider);
        let echo = HttpResponse::new(500, "bad token opaque-token-1234");
        let Step::Failed(e) = ex.on_outcome(&*o.provider, Ok(echo), &Timing::at(NOW), 0.0) else {
            panic!()
        };
        assert!(
            !e.message().contains("opaque-token-1234"),
            "{}",
            e.message()
        );
        assert_eq!(e.vendor_message(), Some("bad token [redacted]"));
    }

    fn pv_session() -> (Options, Session) {
        let o = pv();
        let Step::Done(first) = Exchange::new(Mode::Foreground, o.retry, None, FAR).on_outcome(
            &*o.provider,
            Ok(ok_body("tok-1")),
            &Timing::at(NOW),
            0.0,
        ) else {
            panic!()
        };
        (o, first)
    }

    #[test]
    fn a_foreground_refresh_that_keeps_failing_falls_back_once_its_retries_are_spent() {
        let (o, first) = pv_session();
        let mut ex = Exchange::new(Mode::Foreground, o.retry, Some(first.clone()), FAR);
        assert_eq!(ex.start(&*o.provider).url.path(), "/v2/refresh-token");
        for _ in 0..2 {
            let step = ex.on_outcome(
                &*o.provider,
                Ok(HttpResponse::new(503, "")),
                &Timing::at(NOW),
                0.0,
            );
            assert_eq!(path(&step), "/v2/refresh-token");
        }
        let step = ex.on_outcome(
            &*o.provider,
            Ok(HttpResponse::new(503, "")),
            &Timing::at(NOW),
            0.0,
        );
        assert!(matches!(step, Step::Fallback(_)), "{step:?}");
        assert_eq!(path(&step), "/v2/authenticate");
        // The authentication gets its own retries.
        let step = ex.on_outcome(
            &*o.provider,
            Ok(HttpResponse::new(503, "")),
            &Timing::at(NOW),
            0.0,
        );
        assert!(matches!(step, Step::Retry { .. }), "{step:?}");
        assert_eq!(path(&step), "/v2/authenticate");
    }

    #[test]
    fn a_background_refresh_makes_one_attempt_and_does_not_fall_back_on_a_5xx() {
        let (o, first) = pv_session();
        let mut ex = Exchange::new(Mode::Background, o.retry, Some(first.clone()), FAR);
        ex.start(&*o.provider);
        let step = ex.on_outcome(
            &*o.provider,
            Ok(HttpResponse::new(503, "")),
            &Timing::at(NOW),
            0.0,
        );
        assert!(
            matches!(step, Step::Failed(ref e) if e.status() == Some(503)),
            "{step:?}"
        );
    }

    #[test]
    fn no_retry_is_planned_past_the_exchange_deadline() {
        let o = pv();
        let mut ex = Exchange::new(Mode::Foreground, o.retry, None, NOW + 1_000);
        ex.start(&*o.provider);
        let limited = HttpResponse::new(429, "").with_header("Retry-After", "2");
        let Step::Failed(e) = ex.on_outcome(&*o.provider, Ok(limited), &Timing::at(NOW), 0.0)
        else {
            panic!()
        };
        assert_eq!(e.code(), ErrorCode::RateLimited);
        assert_eq!(e.retry_after_ms(), Some(2_000));
        assert!(e.message().contains("exchangeTimeoutMs"), "{}", e.message());
    }

    #[test]
    fn a_vendor_clock_an_hour_off_changes_nothing() {
        let o = pv();
        for offset in [-3_600_000i64, 0, 3_600_000] {
            let mut ex = Exchange::new(Mode::Foreground, o.retry, None, FAR);
            ex.start(&*o.provider);
            let vendor_now = (NOW as i64 + offset) as u64;
            let token = crate::expiry::tests::jwt_with_exp(vendor_now / 1000 + 3_600);
            let date = crate::expiry::format_http_date(vendor_now);
            let res = HttpResponse::new(
                200,
                format!(r#"{{"success":true,"data":{{"token":"{token}","expiresIn":3600}}}}"#),
            )
            .with_header("Date", &date);
            let timing = Timing::of_answer(NOW - 100, NOW, res.header("date"));
            let Step::Done(s) = ex.on_outcome(&*o.provider, Ok(res), &timing, 0.0) else {
                panic!("offset {offset}")
            };
            // expiresIn counts from when the request left; the JWT's exp is anchored via Date.
            assert!(
                s.expires_at_ms.abs_diff(NOW - 100 + 3_600_000) <= 1_000,
                "offset {offset}: {} vs {}",
                s.expires_at_ms,
                NOW - 100 + 3_600_000
            );
        }
    }

    #[test]
    fn a_transient_refresh_failure_retries_the_refresh() {
        let (o, first) = pv_session();
        let mut ex = Exchange::new(Mode::Foreground, o.retry, Some(first.clone()), FAR);
        ex.start(&*o.provider);
        let step = ex.on_outcome(
            &*o.provider,
            Ok(HttpResponse::new(502, "")),
            &Timing::at(NOW),
            0.0,
        );
        assert_eq!(path(&step), "/v2/refresh-token");
    }
}
