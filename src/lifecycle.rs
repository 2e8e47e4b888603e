//! The token lifecycle: the one owner of *when*. Sans-IO like the rest of the core: every
//! function takes the time, nothing here reads a clock or sends a request.
//!
//! It decides whether the current token is fresh, due for a background refresh or unusable (and
//! the margins and windows behind that), how background refreshes back off, whether the refresh
//! endpoint may be used, and which failures are remembered so that a vendor that refused us or
//! asked us to wait is not asked again meanwhile. A driver (the native one, or a `fetch` one)
//! keeps one [`Lifecycle`] per client: it asks [`Lifecycle::plan`] before anything that is not
//! the hot path, runs the exchange the plan allows, and reports the result with
//! [`Lifecycle::succeeded`] / [`Lifecycle::failed`]. The JS hot path keeps only the number a plan
//! gives it (`until_ms`) and the current header.

use crate::expiry::format_http_date;
use crate::store::SharedRateLimit;
use crate::{Error, ErrorCode, Session};

/// A token this close to expiry is not handed out (at most 10% of its lifetime): it could expire
/// on its way to the vendor's API.
pub const SAFETY_MARGIN_MS: u64 = 10_000;
/// The refresh endpoint is offered a token only while it has more than this left (at most half
/// the safety margin): less could expire on the way.
const REFRESH_MIN_REMAINING_MS: u64 = 5_000;
/// Background refreshes that fail back off with full jitter from 1 s, doubling, up to 60 s.
const BACKGROUND_BACKOFF_BASE_MS: u64 = 1_000;
const BACKGROUND_BACKOFF_MAX_MS: u64 = 60_000;
/// After a refusal (401/403) no request goes out for 1 s, doubling on each repeat, up to 60 s.
const COOLDOWN_BASE_MS: u64 = 1_000;
const COOLDOWN_MAX_MS: u64 = 60_000;

/// Who is waiting for an exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Callers are waiting: the full retry policy applies.
    Foreground,
    /// A refresh ahead of expiry while the current token is still served: one attempt; the
    /// lifecycle schedules the next try.
    Background,
}

/// The moments that matter for one token, on our clock (ms since the epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Times {
    pub expires_at_ms: u64,
    /// From here on a background refresh is due.
    pub refresh_at_ms: u64,
    /// From here on the token is no longer handed out.
    pub usable_until_ms: u64,
}

impl Times {
    /// The times of a token expiring at `expires_at_ms`, received at `now_ms`. The refresh window
    /// is at most half the lifetime (a longer one would make a short-lived token "due" most of
    /// its life) and never shorter than the safety margin.
    pub fn new(expires_at_ms: u64, now_ms: u64, refresh_window_ms: u64) -> Self {
        if expires_at_ms == Session::NEVER {
            // A permanent credential: never due, never unusable.
            return Self {
                expires_at_ms,
                refresh_at_ms: Session::NEVER,
                usable_until_ms: Session::NEVER,
            };
        }
        let lifetime = expires_at_ms.saturating_sub(now_ms);
        let margin = SAFETY_MARGIN_MS.min(lifetime / 10);
        let window = margin.max(refresh_window_ms.min(lifetime / 2));
        Self {
            expires_at_ms,
            refresh_at_ms: expires_at_ms - window,
            usable_until_ms: expires_at_ms - margin,
        }
    }
}

/// What to do at a given moment, for a caller that is not on the hot path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Hand out the current token; nothing needs deciding before `until_ms`.
    Serve { until_ms: u64 },
    /// Hand out the current token and start one background refresh; nothing needs deciding
    /// before `until_ms` (unless the refresh ends first).
    Refresh { until_ms: u64 },
    /// No usable token: callers wait for one foreground exchange.
    Exchange,
    /// A remembered failure: reject at once, no request.
    Reject(Error),
}

impl Plan {
    /// The plan's name as it crosses to JS (`plan().action` on every build).
    pub const fn action(&self) -> &'static str {
        match self {
            Self::Serve { .. } => "serve",
            Self::Refresh { .. } => "refresh",
            Self::Exchange => "exchange",
            Self::Reject(_) => "reject",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BlockKind {
    /// The vendor asked us to wait (`429` or `503` with `Retry-After`).
    RateLimit,
    /// The vendor refused the credentials (401/403): a cool-down.
    Refusal,
}

#[derive(Debug, Clone)]
struct Block {
    kind: BlockKind,
    until_ms: u64,
    error: Error,
}

impl Block {
    /// The remembered error as callers get it at `now_ms`.
    fn error_at(&self, now_ms: u64) -> Error {
        let left = self.until_ms.saturating_sub(now_ms);
        let secs = left.div_ceil(1000);
        match self.kind {
            BlockKind::RateLimit => {
                let message = format!(
                    "{} [remembered: no request is sent until then, {secs} s left]",
                    self.error.message()
                );
                self.error
                    .clone()
                    .with_message(message)
                    .with_retry_after_ms(Some(left))
            }
            BlockKind::Refusal => {
                let message = format!(
                    "{} [remembered: no request is sent for {secs} s after a refusal; invalidate() ends the wait]",
                    self.error.message()
                );
                self.error.clone().with_message(message)
            }
        }
    }
}

/// One client's token state and policy.
#[derive(Debug)]
pub struct Lifecycle {
    refresh_window_ms: u64,
    current: Option<(Session, Times)>,
    background_failures: u32,
    next_background_at_ms: u64,
    block: Option<Block>,
    /// Refusals in a row (the cool-down doubles with each).
    refusals: u32,
    /// The current session is a permanent credential: served for ever, never dropped.
    permanent: bool,
}

impl Lifecycle {
    pub fn new(refresh_window_ms: u64) -> Self {
        Self {
            refresh_window_ms,
            current: None,
            background_failures: 0,
            next_background_at_ms: 0,
            block: None,
            refusals: 0,
            permanent: false,
        }
    }

    /// A lifecycle that serves `session`, a permanent credential (`expires_at_ms` =
    /// [`Session::NEVER`], such as Vendy's scheme `'basic'`), from the start and for ever: every
    /// plan is `Serve { until_ms: u64::MAX }`, no exchange is ever due, and `invalidate` keeps it
    /// (there is nothing to fetch again).
    pub fn permanent(session: Session) -> Self {
        let mut lifecycle = Self::new(0);
        lifecycle.succeeded(session, 0);
        lifecycle.permanent = true;
        lifecycle
    }

    /// The permanent credential this lifecycle serves, if it is one.
    pub fn permanent_session(&self) -> Option<(&Session, &Times)> {
        self.current().filter(|_| self.permanent)
    }

    /// What a caller that is not on the hot path should do at `now_ms`.
    pub fn plan(&self, now_ms: u64) -> Plan {
        let block = self.block.as_ref().filter(|b| now_ms < b.until_ms);
        if let Some((_, times)) = &self.current {
            if now_ms < times.usable_until_ms {
                if now_ms < times.refresh_at_ms {
                    return Plan::Serve {
                        until_ms: times.refresh_at_ms,
                    };
                }
                // Due: refresh unless backing off or a remembered failure says wait.
                let wait_until = self
                    .next_background_at_ms
                    .max(block.map_or(0, |b| b.until_ms));
                if now_ms < wait_until {
                    return Plan::Serve {
                        until_ms: wait_until.min(times.usable_until_ms),
                    };
                }
                return Plan::Refresh {
                    until_ms: times.usable_until_ms,
                };
            }
        }
        match block {
            Some(block) => Plan::Reject(block.error_at(now_ms)),
            None => Plan::Exchange,
        }
    }

    /// The current session, if the refresh endpoint may still be offered it at `now_ms`: a
    /// token about to expire could die in flight, so it must have some of its margin left.
    pub fn refreshable(&self, now_ms: u64) -> Option<&Session> {
        self.current
            .as_ref()
            .filter(|(_, t)| {
                let margin = t.expires_at_ms - t.usable_until_ms;
                let needed = REFRESH_MIN_REMAINING_MS.min(margin / 2);
                t.expires_at_ms.saturating_sub(now_ms) > needed
            })
            .map(|(session, _)| session)
    }

    /// The current session and its times.
    pub fn current(&self) -> Option<(&Session, &Times)> {
        self.current.as_ref().map(|(s, t)| (s, t))
    }

    /// A new token arrived at `now_ms`: it becomes current, and every backoff and remembered
    /// failure ends.
    pub fn succeeded(&mut self, session: Session, now_ms: u64) -> Times {
        let times = Times::new(session.expires_at_ms, now_ms, self.refresh_window_ms);
        self.current = Some((session, times));
        self.background_failures = 0;
        self.next_background_at_ms = 0;
        self.block = None;
        self.refusals = 0;
        times
    }

    /// An exchange failed at `now_ms` with `error`. Returns lines for the debug log: what a
    /// failed background refresh means, and when a failure starts being remembered (once per
    /// cool-down or rate limit, never per caller). `jitter` is uniform in `[0, 1)`.
    pub fn failed(&mut self, error: &Error, mode: Mode, now_ms: u64, jitter: f64) -> Vec<String> {
        let retry_after = error.retry_after_ms();
        let mut log = Vec::new();
        match (error.code(), retry_after) {
            (ErrorCode::RateLimited | ErrorCode::ServerError, Some(wait)) => {
                let until_ms = now_ms.saturating_add(wait);
                self.block = Some(Block {
                    kind: BlockKind::RateLimit,
                    until_ms,
                    error: error.clone(),
                });
                log.push(format!(
                    "{} (HTTP {}): no token request until {}",
                    error.code(),
                    error.status().unwrap_or(0),
                    format_http_date(until_ms)
                ));
            }
            (ErrorCode::Unauthorized | ErrorCode::Forbidden, _) => {
                self.refusals = self.refusals.saturating_add(1);
                let cooldown = COOLDOWN_BASE_MS
                    .saturating_mul(1 << (self.refusals - 1).min(16))
                    .min(COOLDOWN_MAX_MS);
                self.block = Some(Block {
                    kind: BlockKind::Refusal,
                    until_ms: now_ms.saturating_add(cooldown),
                    error: error.clone(),
                });
                log.push(format!(
                    "{}: no token request for {cooldown} ms (cool-down {} in a row)",
                    error.code(),
                    self.refusals
                ));
            }
            _ => {}
        }
        if mode == Mode::Background && error.code() != ErrorCode::Closed {
            self.background_failures = self.background_failures.saturating_add(1);
            let ceiling = BACKGROUND_BACKOFF_BASE_MS
                .saturating_mul(1 << (self.background_failures - 1).min(16))
                .min(BACKGROUND_BACKOFF_MAX_MS);
            let backoff = (ceiling as f64 * jitter.clamp(0.0, 1.0)) as u64;
            let delay = backoff.max(retry_after.unwrap_or(0));
            self.next_background_at_ms = now_ms.saturating_add(delay);
            if self.current.is_some() {
                log.push(format!(
                    "background refresh failed ({}); serving the current token, next try in {delay} ms",
                    error.code()
                ));
            }
        }
        log
    }

    /// The rate limit remembered at `now_ms`, if any (to share it with other processes).
    pub fn rate_limit(&self, now_ms: u64) -> Option<SharedRateLimit> {
        self.block
            .as_ref()
            .filter(|b| b.kind == BlockKind::RateLimit && now_ms < b.until_ms)
            .map(|b| SharedRateLimit {
                until_ms: b.until_ms,
                error: b.error.clone(),
            })
    }

    /// Remember a rate limit another process got (read from the shared store), as if this one
    /// had got it: no request until then. A later remembered wait is kept. Returns a line for
    /// the debug log when it starts being remembered.
    pub fn remember_rate_limit(&mut self, limit: SharedRateLimit, now_ms: u64) -> Option<String> {
        let later = self
            .block
            .as_ref()
            .filter(|b| now_ms < b.until_ms)
            .is_none_or(|b| b.until_ms < limit.until_ms);
        if limit.until_ms <= now_ms || !later {
            return None;
        }
        let line = format!(
            "{} (HTTP {}, shared by another process): no token request until {}",
            limit.error.code(),
            limit.error.status().unwrap_or(0),
            format_http_date(limit.until_ms)
        );
        self.block = Some(Block {
            kind: BlockKind::RateLimit,
            until_ms: limit.until_ms,
            error: limit.error,
        });
        Some(line)
    }

    /// Hold background refreshes off until `until_ms` (another process holds the shared refresh
    /// lock: keep serving the current token and look again then).
    pub fn defer_background(&mut self, until_ms: u64) {
        self.next_background_at_ms = self.next_background_at_ms.max(until_ms);
    }

    /// End a refusal cool-down (the credentials changed: the refusal was the old value's). The
    /// current token and a rate limit stay.
    pub fn end_refusal(&mut self) {
        self.refusals = 0;
        if self
            .block
            .as_ref()
            .is_some_and(|b| b.kind == BlockKind::Refusal)
        {
            self.block = None;
        }
    }

    /// Forget the current token and end a refusal cool-down (the caller says something changed).
    /// A rate limit stays: the vendor asked us to wait, whatever the token. Returns whether the
    /// token was dropped: a permanent credential is kept (a new exchange could not change it).
    pub fn invalidate(&mut self) -> bool {
        if self.permanent {
            return false;
        }
        self.current = None;
        self.background_failures = 0;
        self.next_background_at_ms = 0;
        self.end_refusal();
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SessionMetadata, TokenHeader};
    use proptest::prelude::*;

    const NOW: u64 = 1_700_000_000_000;
    const HOUR: u64 = 3_600_000;

    fn session(expires_at_ms: u64) -> Session {
        Session {
            provider: "vendy",
            token: "tok".into(),
            expires_at_ms,
            header: TokenHeader::Bearer,
            metadata: SessionMetadata::default(),
        }
    }

    fn with_token(lifetime: u64) -> Lifecycle {
        let mut l = Lifecycle::new(300_000);
        l.succeeded(session(NOW + lifetime), NOW);
        l
    }

    fn refused() -> Error {
        Error::new(ErrorCode::Unauthorized, "refused").with_status(401)
    }

    fn limited(ms: u64) -> Error {
        Error::new(ErrorCode::RateLimited, "slow down")
            .with_status(429)
            .with_retry_after_ms(Some(ms))
    }

    #[test]
    fn times_follow_the_documented_margins_and_windows() {
        // An hour: margin 10 s, window 5 min.
        let t = Times::new(NOW + HOUR, NOW, 300_000);
        assert_eq!(t.usable_until_ms, NOW + HOUR - 10_000);
        assert_eq!(t.refresh_at_ms, NOW + HOUR - 300_000);
        // A minute: margin 6 s (10%), window 30 s (half the lifetime).
        let t = Times::new(NOW + 60_000, NOW, 300_000);
        assert_eq!(t.usable_until_ms, NOW + 54_000);
        assert_eq!(t.refresh_at_ms, NOW + 30_000);
        // A zero window still refreshes before the margin.
        let t = Times::new(NOW + HOUR, NOW, 0);
        assert_eq!(t.refresh_at_ms, t.usable_until_ms);
    }

    #[test]
    fn no_token_means_one_exchange() {
        assert_eq!(Lifecycle::new(300_000).plan(NOW), Plan::Exchange);
    }

    #[test]
    fn a_fresh_token_is_served_until_the_window_then_refreshed_then_unusable() {
        let l = with_token(HOUR);
        let t = *l.current().unwrap().1;
        assert_eq!(
            l.plan(NOW + 1),
            Plan::Serve {
                until_ms: t.refresh_at_ms
            }
        );
        assert_eq!(
            l.plan(t.refresh_at_ms),
            Plan::Refresh {
                until_ms: t.usable_until_ms
            }
        );
        assert!(l.refreshable(t.refresh_at_ms).is_some());
        assert_eq!(l.plan(t.usable_until_ms), Plan::Exchange);
        // Inside the margin the refresh endpoint is still offered the token while it has 5 s.
        assert!(l.refreshable(t.usable_until_ms).is_some());
        assert!(l.refreshable(t.expires_at_ms - 5_001).is_some());
        assert!(l.refreshable(t.expires_at_ms - 5_000).is_none());
    }

    #[test]
    fn a_failed_background_refresh_backs_off_and_keeps_serving() {
        let mut l = with_token(HOUR);
        let t = *l.current().unwrap().1;
        let at = t.refresh_at_ms;
        let network = Error::new(ErrorCode::Network, "down");
        let log = l.failed(&network, Mode::Background, at, 0.5);
        assert_eq!(
            log,
            ["background refresh failed (NETWORK); serving the current token, next try in 500 ms"]
        );
        assert_eq!(l.plan(at), Plan::Serve { until_ms: at + 500 });
        assert!(matches!(l.plan(at + 500), Plan::Refresh { .. }));
        // The second failure's ceiling is 2 s.
        l.failed(&network, Mode::Background, at + 500, 0.999);
        assert_eq!(
            l.plan(at + 500),
            Plan::Serve {
                until_ms: at + 500 + 1998
            }
        );
        // A new token clears the backoff.
        l.succeeded(session(NOW + 2 * HOUR), at + 600);
        assert!(matches!(l.plan(at + 600), Plan::Serve { .. }));
    }

    #[test]
    fn a_foreground_failure_without_retry_after_is_not_remembered() {
        let mut l = Lifecycle::new(300_000);
        let e = Error::new(ErrorCode::ServerError, "boom").with_status(500);
        assert!(l.failed(&e, Mode::Foreground, NOW, 0.5).is_empty());
        assert_eq!(l.plan(NOW), Plan::Exchange);
    }

    #[test]
    fn a_rate_limit_is_remembered_with_the_remaining_wait() {
        let mut l = Lifecycle::new(300_000);
        let log = l.failed(&limited(120_000), Mode::Foreground, NOW, 0.5);
        assert_eq!(log.len(), 1, "{log:?}");
        let Plan::Reject(e) = l.plan(NOW + 20_000) else {
            panic!("{:?}", l.plan(NOW + 20_000))
        };
        assert_eq!(e.code(), ErrorCode::RateLimited);
        assert_eq!(e.retry_after_ms(), Some(100_000));
        assert!(e.message().contains("100 s left"), "{}", e.message());
        assert_eq!(l.plan(NOW + 120_000), Plan::Exchange);
        // invalidate() does not lift it: the vendor asked us to wait.
        l.invalidate();
        assert!(matches!(l.plan(NOW + 1), Plan::Reject(_)));
    }

    #[test]
    fn a_503_with_retry_after_is_remembered_too() {
        let mut l = Lifecycle::new(300_000);
        let e = Error::new(ErrorCode::ServerError, "maintenance")
            .with_status(503)
            .with_retry_after_ms(Some(60_000));
        l.failed(&e, Mode::Foreground, NOW, 0.5);
        assert!(
            matches!(l.plan(NOW + 59_999), Plan::Reject(ref e) if e.code() == ErrorCode::ServerError)
        );
    }

    #[test]
    fn a_rate_limit_keeps_serving_a_valid_token_and_holds_the_refresh() {
        let mut l = with_token(HOUR);
        let t = *l.current().unwrap().1;
        l.failed(&limited(120_000), Mode::Background, t.refresh_at_ms, 0.0);
        assert_eq!(
            l.plan(t.refresh_at_ms + 1),
            Plan::Serve {
                until_ms: t.refresh_at_ms + 120_000
            }
        );
    }

    #[test]
    fn refusals_cool_down_doubling_up_to_a_minute_and_invalidate_ends_it() {
        let mut l = Lifecycle::new(300_000);
        let mut now = NOW;
        for expected in [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000] {
            assert_eq!(l.failed(&refused(), Mode::Foreground, now, 0.5).len(), 1);
            assert!(
                matches!(l.plan(now + expected - 1), Plan::Reject(ref e) if e.code() == ErrorCode::Unauthorized)
            );
            now += expected;
            assert_eq!(l.plan(now), Plan::Exchange);
        }
        l.failed(&refused(), Mode::Foreground, now, 0.5);
        l.invalidate();
        assert_eq!(l.plan(now), Plan::Exchange);
        // and the doubling starts over
        l.failed(&refused(), Mode::Foreground, now, 0.5);
        assert_eq!(l.plan(now + 1_000), Plan::Exchange);
    }

    #[test]
    fn a_permanent_credential_is_served_for_ever_and_survives_invalidate() {
        let mut l = Lifecycle::permanent(session(Session::NEVER));
        let forever = Plan::Serve { until_ms: u64::MAX };
        for now in [0, NOW, NOW + 400 * 86_400_000, u64::MAX - 1] {
            assert_eq!(l.plan(now), forever);
        }
        assert!(!l.invalidate());
        assert_eq!(l.plan(NOW), forever);
        assert!(l.permanent_session().is_some());
        // Nothing remembered can hold it back either.
        l.failed(&refused(), Mode::Foreground, NOW, 0.5);
        assert_eq!(l.plan(NOW), forever);
        // An ordinary lifecycle drops its token.
        let mut l = with_token(HOUR);
        assert!(l.permanent_session().is_none());
        assert!(l.invalidate());
        assert_eq!(l.plan(NOW), Plan::Exchange);
    }

    #[test]
    fn a_success_ends_a_cool_down() {
        let mut l = Lifecycle::new(300_000);
        l.failed(&refused(), Mode::Foreground, NOW, 0.5);
        l.succeeded(session(NOW + HOUR), NOW + 10);
        assert!(matches!(l.plan(NOW + 11), Plan::Serve { .. }));
    }

    #[test]
    fn a_shared_rate_limit_rejects_at_once_and_is_shared_on() {
        let mut other = Lifecycle::new(300_000);
        other.failed(&limited(60_000), Mode::Foreground, NOW, 0.5);
        let shared = other.rate_limit(NOW + 1).unwrap();
        assert_eq!(shared.until_ms, NOW + 60_000);
        assert!(other.rate_limit(NOW + 60_000).is_none());
        let mut l = Lifecycle::new(300_000);
        assert!(l.remember_rate_limit(shared.clone(), NOW + 10).is_some());
        let Plan::Reject(e) = l.plan(NOW + 20_000) else {
            panic!("{:?}", l.plan(NOW + 20_000))
        };
        assert_eq!(e.code(), ErrorCode::RateLimited);
        assert_eq!(e.retry_after_ms(), Some(40_000));
        // Once known, the same or an earlier one is not logged again; an expired one is ignored.
        assert!(l.remember_rate_limit(shared.clone(), NOW + 11).is_none());
        let mut fresh = Lifecycle::new(300_000);
        assert!(fresh.remember_rate_limit(shared, NOW + 60_000).is_none());
        assert_eq!(fresh.plan(NOW + 60_000), Plan::Exchange);
    }

    #[test]
    fn a_deferred_background_refresh_keeps_serving_until_then() {
        let mut l = with_token(HOUR);
        let t = *l.current().unwrap().1;
        l.defer_background(t.refresh_at_ms + 500);
        assert_eq!(
            l.plan(t.refresh_at_ms),
            Plan::Serve {
                until_ms: t.refresh_at_ms + 500
            }
        );
        assert!(matches!(
            l.plan(t.refresh_at_ms + 500),
            Plan::Refresh { .. }
        ));
    }

    proptest! {
        /// Whatever the token's lifetime and the window, the order is always
        /// refresh_at ≤ usable_until ≤ expires_at, and a served token is never past its margin.
        #[test]
        fn times_are_ordered(lifetime in 1u64..(400 * 86_400_000), window in 0u64..86_400_000, at in 0u64..(400 * 86_400_000)) {
            let t = Times::new(NOW + lifetime, NOW, window);
            prop_assert!(t.refresh_at_ms <= t.usable_until_ms);
            prop_assert!(t.usable_until_ms <= t.expires_at_ms);
            prop_assert!(t.refresh_at_ms >= NOW + lifetime / 2);
            let mut l = Lifecycle::new(window);
            l.succeeded(session(NOW + lifetime), NOW);
            match l.plan(NOW + at) {
                Plan::Serve { until_ms } | Plan::Refresh { until_ms } => {
                    prop_assert!(NOW + at < t.usable_until_ms);
                    prop_assert!(until_ms <= t.usable_until_ms);
                    prop_assert!(until_ms > NOW + at || until_ms == t.usable_until_ms);
                }
                Plan::Exchange => prop_assert!(NOW + at >= t.usable_until_ms),
                Plan::Reject(e) => prop_assert!(false, "nothing remembered, got {e:?}"),
            }
        }

        /// A remembered failure never sends a caller to the vendor before its time, and never
        /// outlives it.
        #[test]
        fn remembered_failures_hold_exactly_their_time(wait in 1u64..3_600_000, refusals in 1usize..12, probe in 0u64..7_200_000) {
            let mut l = Lifecycle::new(300_000);
            l.failed(&limited(wait), Mode::Foreground, NOW, 0.5);
            match l.plan(NOW + probe) {
                Plan::Reject(e) => {
                    prop_assert!(probe < wait);
                    prop_assert_eq!(e.retry_after_ms(), Some(wait - probe));
                }
                Plan::Exchange => prop_assert!(probe >= wait),
                other => prop_assert!(false, "{other:?}"),
            }
            let mut l = Lifecycle::new(300_000);
            let mut cooldown = 0;
            for i in 0..refusals {
                l.failed(&refused(), Mode::Foreground, NOW, 0.5);
                cooldown = (1_000u64 << i).min(60_000);
            }
            prop_assert_eq!(matches!(l.plan(NOW + probe), Plan::Reject(_)), probe < cooldown);
        }
    }
}
