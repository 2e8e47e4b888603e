//! The shared token store's protocol (`tokenStore`: many processes, one token), sans-IO: it says
//! which store call to make ("read the session and the rate limit", "take the lock", "publish",
//! "release", "wait", "exchange"), and the runtime makes it (JS, with `storeTimeoutMs`) and
//! reports the answer. Every build runs this one protocol, so a fleet that mixes native and
//! WebAssembly processes shares one entry.
//!
//! The lifecycle still decides *when* (a store is asked only when the plan says exchange or
//! refresh, never on the hot path); this decides *how* a due token is obtained:
//!   1. read the store: a session newer than ours is adopted through the same path as
//!      `initialSession`; a shared rate limit is remembered, so the plan rejects at once (one 429
//!      stops the fleet);
//!   2. else take the lock (the owner a random id, the lock outliving one whole exchange), look
//!      again, exchange, publish the sealed session (or the rate limit), release;
//!   3. a caller that finds the lock taken waits (polling, bounded) for the holder's session and
//!      adopts it, or takes the lock once a dead holder's lock expired; a background refresh that
//!      finds it taken keeps serving its token and looks again a little later.
//!
//! Any store fault (a throw, a rejection, or no answer within `storeTimeoutMs`) means: exchange
//! on our own, say so (a debug line each time, and one `STORE_UNAVAILABLE` report until the
//! store answers again), and skip the store for a while.

use crate::{Driver, Error, ErrorCode, Plan, Session, Times, NONCE_LEN};
use secrecy::ExposeSecret;

/// After a store fault, exchange on our own for this long before asking the store again.
pub const STORE_FAULT_BACKOFF_MS: u64 = 2_000;
/// A background refresh that finds the lock taken looks again after this.
pub const DEFER_MS: u64 = 250;
/// Waiting for the lock holder: poll intervals, growing to the last one.
const POLL_MS: [u64; 6] = [5, 10, 20, 40, 80, 100];
/// The lock outlives its holder's exchange and three store calls by this much.
const LOCK_MARGIN_MS: u64 = 500;
/// A waiter gives up this long after the longest a live holder can hold the lock; also the clock
/// skew allowed between a lock's writer and its readers.
const WAIT_MARGIN_MS: u64 = 1_000;
/// The longest lifetime this library gives a lock, whatever its options (`exchangeTimeoutMs` and
/// `storeTimeoutMs` at their maxima): a lock that claims more was not written by a live holder.
pub const MAX_LOCK_LIFETIME_MS: u64 = 3_600_000 + 3 * 60_000 + LOCK_MARGIN_MS;

/// What a client remembers of its store between calls.
#[derive(Debug, Default)]
pub struct StoreHealth {
    /// After a fault, the store is skipped until then.
    skip_until_ms: u64,
    /// Reported as unavailable, and not yet answering again.
    degraded: bool,
}

/// A store call that failed: which call, and why (`threw (TypeError)`, `took over
/// storeTimeoutMs = 300 ms`, …; never a value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreFault {
    pub op: String,
    pub why: String,
}

/// What the runtime does next for one `obtain`.
#[derive(Debug)]
pub enum StoreStep {
    /// Read the three entries (at once): the sealed session, the sealed rate limit, the lock.
    Get {
        session_key: String,
        rate_limit_key: String,
        lock_key: String,
    },
    /// `lock(key, owner, ttlMs)`: whether it was taken (`owner` is a sealed lock value).
    Lock {
        key: String,
        owner: String,
        ttl_ms: u64,
    },
    /// `set(key, value, ttlMs)`.
    Set {
        key: String,
        value: String,
        ttl_ms: u64,
    },
    /// `release(key, owner)`: delete the lock if its value is still `owner` (ours, or a
    /// squatter's being cleared).
    Release { key: String, owner: String },
    /// Wait this long, then report back.
    Sleep(u64),
    /// Run one exchange of the driver (`background`: one attempt per endpoint), and report
    /// whether it gave a session.
    Exchange { background: bool },
    /// Over.
    Done(StoreEnd),
}

/// How an `obtain` ended.
#[derive(Debug)]
pub enum StoreEnd {
    /// A session from the store was adopted.
    Adopted(Session, Times),
    /// The result is the exchange's the runtime ran (a session or its error).
    Exchanged,
    /// Nothing new (a shared rate limit is now remembered, another process is refreshing, or
    /// the client closed): ask the plan again.
    Replan,
}

/// A step with what it produced on the way: debug lines, and a `STORE_UNAVAILABLE` to report
/// (as the client's `'error'` event) when the store just became unavailable.
#[derive(Debug)]
pub struct StoreNext {
    pub step: StoreStep,
    pub log: Vec<String>,
    pub report: Option<Error>,
}

/// Where an answer leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Read the store before anything else.
    Look,
    /// Tried the lock after the first read.
    Lock,
    /// Holding the lock: read once more (another holder may have published meanwhile).
    HoldLook,
    /// Holding the lock: exchanging, then publishing.
    HoldExchange,
    HoldPublish,
    /// Releasing the lock; the result is `held`.
    Release,
    /// Waiting for the holder: sleeping, reading, trying the lock.
    WaitSleep,
    WaitLook,
    WaitLock,
    /// Deleting a squatted lock (a value that does not open, or past any lifetime we give a
    /// lock); then reading again (`waiting`: as a waiter).
    Clear {
        waiting: bool,
    },
    /// Our own exchange, without the lock; `share`: publish its result (best effort).
    Own {
        share: bool,
    },
    OwnPublish,
    Done,
}

/// One `obtain` in flight.
#[derive(Debug)]
pub struct StoreRun {
    background: bool,
    /// The random id in our lock values.
    owner: String,
    /// The lock value we last wrote (sealed: owner and until when), released by value.
    lock_value: String,
    nonce: [u8; NONCE_LEN],
    /// Values sealed so far in this run (each under its own nonce, derived from `nonce`).
    sealed: u64,
    lock_ttl_ms: u64,
    phase: Phase,
    polls: usize,
    wait_until_ms: u64,
    /// A squatted lock was cleared once already.
    cleared: bool,
    /// The lock holder's result, once it has one (released before it is handed over).
    held: Option<StoreEnd>,
    keys: Keys,
}

#[derive(Debug, Clone)]
struct Keys {
    session: String,
    lock: String,
    rate_limit: String,
}

impl Driver {
    /// Start obtaining a token the store's way at `now_ms`. `owner` is a random id for the lock,
    /// `nonce` random bytes for sealing what this obtain publishes, `store_timeout_ms` the bound
    /// the runtime puts on each store call (the lock outlives three of them).
    pub fn store_begin(
        &mut self,
        background: bool,
        owner: String,
        nonce: [u8; NONCE_LEN],
        store_timeout_ms: u64,
        now_ms: u64,
    ) -> Result<(StoreRun, StoreNext), Error> {
        let id = self.store_key()?;
        let lock_ttl_ms = self
            .exchange_timeout_ms()
            .saturating_add(store_timeout_ms.saturating_mul(3))
            .saturating_add(LOCK_MARGIN_MS);
        let mut run = StoreRun {
            background,
            owner,
            lock_value: String::new(),
            nonce,
            sealed: 0,
            lock_ttl_ms,
            phase: Phase::Look,
            polls: 0,
            wait_until_ms: 0,
            cleared: false,
            held: None,
            keys: Keys {
                session: format!("{id}:session"),
                lock: format!("{id}:lock"),
                rate_limit: format!("{id}:rate-limit"),
            },
        };
        let mut next = StoreNext::pending();
        if now_ms < self.store_health().skip_until_ms {
            run.phase = Phase::Own { share: false };
            next.step = run.exchange();
        } else {
            next.step = run.get();
        }
        Ok((run, next))
    }

    /// The three entries as read (`None`: absent, empty or not text).
    pub fn store_got(
        &mut self,
        run: &mut StoreRun,
        session: Option<&str>,
        rate_limit: Option<&str>,
        lock: Option<&str>,
        now_ms: u64,
    ) -> StoreNext {
        let mut next = StoreNext::pending();
        self.store_healthy(&mut next.log);
        let adopted = session.and_then(|sealed| self.store_adopt(sealed, now_ms, &mut next.log));
        // After the session: adopting one ends every remembered failure.
        let limited =
            rate_limit.is_some_and(|sealed| self.adopt_rate_limit(sealed, now_ms, &mut next.log));
        let found = match adopted {
            Some((session, times)) => Some(StoreEnd::Adopted(session, times)),
            None => limited.then_some(StoreEnd::Replan),
        };
        next.step = match (run.phase, found) {
            (Phase::HoldLook, Some(end)) => run.release(end),
            (_, Some(end)) => run.done(end),
            (Phase::HoldLook, None) => {
                run.phase = Phase::HoldExchange;
                run.exchange()
            }
            (phase, None) => {
                let waiting = phase == Phase::WaitLook;
                match self.lock_state(lock, now_ms) {
                    LockState::Free => self.store_lock(run, waiting, now_ms),
                    LockState::Held { until_ms } => {
                        if waiting || !run.background {
                            // The holder's own word bounds the wait (with the skew allowance).
                            run.wait_until_ms = until_ms.saturating_add(WAIT_MARGIN_MS);
                        }
                        self.lock_taken(run, now_ms, &mut next.log)
                    }
                    LockState::Squatted(value) => self.squatted(run, value, waiting, &mut next.log),
                }
            }
        };
        next
    }

    /// What a lock value (as read) says.
    fn lock_state<'v>(&mut self, lock: Option<&'v str>, now_ms: u64) -> LockState<'v> {
        let Some(value) = lock else {
            return LockState::Free;
        };
        match self.open_lock(value) {
            Some(until_ms)
                if until_ms.saturating_add(WAIT_MARGIN_MS) > now_ms
                    && until_ms <= now_ms.saturating_add(MAX_LOCK_LIFETIME_MS) =>
            {
                LockState::Held { until_ms }
            }
            _ => LockState::Squatted(value),
        }
    }

    /// Take the lock with a fresh value of ours (it lasts the lock's lifetime from now).
    fn store_lock(&mut self, run: &mut StoreRun, waiting: bool, now_ms: u64) -> StoreStep {
        let until_ms = now_ms.saturating_add(run.lock_ttl_ms);
        let nonce = run.next_nonce();
        match self.seal_lock(&run.owner, until_ms, &nonce) {
            Ok(value) => {
                run.lock_value = value;
                run.lock(if waiting {
                    Phase::WaitLock
                } else {
                    Phase::Lock
                })
            }
            // A pending driver cannot get here (it has no store key); be safe all the same.
            Err(_) => {
                run.phase = Phase::Own { share: false };
                run.exchange()
            }
        }
    }

    /// A lock nobody with our credentials wrote, or past any lifetime we give one: never waited
    /// for. Delete it (by its exact value) and look again, once; if it is back, exchange on our own.
    fn squatted(
        &mut self,
        run: &mut StoreRun,
        value: &str,
        waiting: bool,
        log: &mut Vec<String>,
    ) -> StoreStep {
        if run.cleared {
            let line = "token store: the lock is squatted again; exchanging on our own";
            log.push(self.line(line));
            run.phase = Phase::Own { share: true };
            run.background = false;
            return run.exchange();
        }
        let line = "token store: the lock holds a value vendor-auth did not write (or one past any lock's lifetime); not waiting for it, deleting it";
        log.push(self.line(line));
        run.cleared = true;
        run.phase = Phase::Clear { waiting };
        StoreStep::Release {
            key: run.keys.lock.clone(),
            owner: value.to_owned(),
        }
    }

    /// The lock is held by a live holder (or was taken just before us): a background refresh
    /// keeps serving; a caller waits (polling) until `wait_until_ms`, then exchanges on its own.
    fn lock_taken(&mut self, run: &mut StoreRun, now_ms: u64, log: &mut Vec<String>) -> StoreStep {
        if run.phase == Phase::Look || run.phase == Phase::Lock {
            if run.background {
                self.defer_refresh(DEFER_MS, now_ms);
                let line = "token store: another process is refreshing; serving the current token";
                log.push(self.line(line));
                return run.done(StoreEnd::Replan);
            }
            if run.wait_until_ms == 0 {
                run.wait_until_ms = now_ms + run.lock_ttl_ms + WAIT_MARGIN_MS;
            }
        }
        if now_ms < run.wait_until_ms {
            run.phase = Phase::WaitSleep;
            let wait = POLL_MS[run.polls.min(POLL_MS.len() - 1)];
            run.polls += 1;
            return StoreStep::Sleep(wait);
        }
        log.push(self.line(
            "token store: no session from the lock holder in the time its lock allows; exchanging on our own",
        ));
        run.phase = Phase::Own { share: true };
        run.background = false;
        run.exchange()
    }

    /// The lock: taken or not.
    pub fn store_locked(&mut self, run: &mut StoreRun, taken: bool, now_ms: u64) -> StoreNext {
        let mut next = StoreNext::pending();
        if taken {
            if run.phase == Phase::WaitLock {
                next.log.push(self.line("token store: took over the lock"));
                // A waiter holds for callers who are waiting: the full retry policy.
                run.background = false;
            }
            run.phase = Phase::HoldLook;
            next.step = run.get();
            return next;
        }
        // Taken by another just now: its value is read with the next look.
        next.step = self.lock_taken(run, now_ms, &mut next.log);
        next
    }

    /// A `Sleep`, `Set` or `Release` is over (it answered, if it was a call).
    pub fn store_done(&mut self, run: &mut StoreRun) -> StoreNext {
        let mut next = StoreNext::pending();
        next.step = match run.phase {
            Phase::WaitSleep if self.is_closed() => run.done(StoreEnd::Replan),
            Phase::WaitSleep => {
                run.phase = Phase::WaitLook;
                run.get()
            }
            Phase::HoldPublish => run.release(StoreEnd::Exchanged),
            Phase::Release => run.hand_over(),
            Phase::OwnPublish => run.done(StoreEnd::Exchanged),
            Phase::Clear { waiting } => {
                run.phase = if waiting {
                    Phase::WaitLook
                } else {
                    Phase::Look
                };
                run.get()
            }
            _ => run.done(StoreEnd::Replan),
        };
        next
    }

    /// The exchange the runtime ran is over; `ok`: it gave a session.
    pub fn store_exchanged(&mut self, run: &mut StoreRun, ok: bool, now_ms: u64) -> StoreNext {
        let mut next = StoreNext::pending();
        next.step = match run.phase {
            Phase::HoldExchange => match self.store_publish(run, ok, now_ms) {
                Some(set) => {
                    run.phase = Phase::HoldPublish;
                    set
                }
                None => run.release(StoreEnd::Exchanged),
            },
            Phase::Own { share: true } if now_ms >= self.store_health().skip_until_ms => {
                match self.store_publish(run, ok, now_ms) {
                    Some(set) => {
                        run.phase = Phase::OwnPublish;
                        set
                    }
                    None => run.done(StoreEnd::Exchanged),
                }
            }
            // The exchange of a holder whose second read failed: release, then hand it over.
            Phase::Release => run.release(StoreEnd::Exchanged),
            _ => run.done(StoreEnd::Exchanged),
        };
        next
    }

    /// The store call in flight failed: exchange on our own (a holder still releases its lock).
    pub fn store_failed(
        &mut self,
        run: &mut StoreRun,
        fault: &StoreFault,
        now_ms: u64,
    ) -> StoreNext {
        let mut next = StoreNext::pending();
        self.store_fault(fault, now_ms, &mut next);
        next.step = match run.phase {
            // Holding, before a result: our own exchange, then release.
            Phase::HoldLook => {
                run.phase = Phase::Release;
                run.held = Some(StoreEnd::Exchanged);
                run.exchange()
            }
            // Holding, with a result: release anyway.
            Phase::HoldPublish => run.release(StoreEnd::Exchanged),
            // A failed release: the result stands.
            Phase::Release => run.hand_over(),
            Phase::OwnPublish => run.done(StoreEnd::Exchanged),
            _ => {
                run.phase = Phase::Own { share: false };
                run.exchange()
            }
        };
        next
    }

    /// Adopt the store's sealed session when it is newer than ours and usable now.
    fn store_adopt(
        &mut self,
        sealed: &str,
        now_ms: u64,
        log: &mut Vec<String>,
    ) -> Option<(Session, Times)> {
        let Some(stored) = self.open_session(sealed) else {
            let line = "token store: a stored session did not open (other credentials, or changed); ignored";
            log.push(self.line(line));
            return None;
        };
        if !self.may_adopt_stored(stored.token.expose_secret(), stored.expires_at_ms) {
            return None;
        }
        let adopted = self.adopt(stored.token, stored.expires_at_ms, stored.metadata, now_ms);
        let adopted = match adopted {
            Ok(adopted) => adopted,
            Err(error) => {
                let code = error.code();
                log.push(self.line(&format!(
                    "token store: a stored session cannot be used ({code}); ignored"
                )));
                return None;
            }
        };
        if !matches!(self.plan(now_ms), Plan::Serve { .. } | Plan::Refresh { .. }) {
            return None;
        }
        log.push(self.line("token store: adopted the shared session"));
        Some(adopted)
    }

    /// The `Set` that shares what the exchange left: the new session, or the rate limit it ran
    /// into; nothing when there is neither (another failure).
    fn store_publish(&mut self, run: &StoreRun, ok: bool, now_ms: u64) -> Option<StoreStep> {
        let (key, sealed) = if ok {
            (&run.keys.session, self.seal_session(&run.nonce, now_ms))
        } else {
            (
                &run.keys.rate_limit,
                self.seal_rate_limit(&run.nonce, now_ms),
            )
        };
        let (value, ttl_ms) = sealed.ok().flatten()?;
        Some(StoreStep::Set {
            key: key.clone(),
            value,
            ttl_ms,
        })
    }

    fn store_fault(&mut self, fault: &StoreFault, now_ms: u64, next: &mut StoreNext) {
        let health = self.store_health_mut();
        health.skip_until_ms = now_ms.saturating_add(STORE_FAULT_BACKOFF_MS);
        let first = !health.degraded;
        health.degraded = true;
        let StoreFault { op, why } = fault;
        next.log.push(self.line(&format!(
            "token store {op} {why}: exchanging on our own; trying the store again in {STORE_FAULT_BACKOFF_MS} ms"
        )));
        if first {
            let message = format!(
                "the token store's {op}() {why}; this process gets its own tokens until the store answers again"
            );
            let error = Error::new(ErrorCode::StoreUnavailable, message);
            next.report = Some(error.with_provider(self.provider()));
        }
    }

    fn store_healthy(&mut self, log: &mut Vec<String>) {
        let health = self.store_health_mut();
        if health.degraded {
            health.degraded = false;
            log.push(self.line("token store answers again: sharing tokens"));
        }
    }

    fn line(&self, what: &str) -> String {
        format!("{} {what}", self.provider())
    }
}

/// What the lock's value says.
enum LockState<'v> {
    /// No lock.
    Free,
    /// A live holder's, lasting until then (by its clock).
    Held { until_ms: u64 },
    /// Not ours (does not open), expired but still there, or claiming more than any lock lives.
    Squatted(&'v str),
}

impl StoreNext {
    /// A next step still to be decided (an answer that leads nowhere ends the obtain).
    fn pending() -> Self {
        Self {
            step: StoreStep::Done(StoreEnd::Replan),
            log: Vec::new(),
            report: None,
        }
    }
}

impl StoreRun {
    fn exchange(&self) -> StoreStep {
        StoreStep::Exchange {
            background: self.background,
        }
    }

    fn get(&self) -> StoreStep {
        StoreStep::Get {
            session_key: self.keys.session.clone(),
            rate_limit_key: self.keys.rate_limit.clone(),
            lock_key: self.keys.lock.clone(),
        }
    }

    /// Take the lock with `lock_value` (sealed by the caller).
    fn lock(&mut self, phase: Phase) -> StoreStep {
        self.phase = phase;
        StoreStep::Lock {
            key: self.keys.lock.clone(),
            owner: self.lock_value.clone(),
            ttl_ms: self.lock_ttl_ms,
        }
    }

    /// A nonce for the next lock value: the run's nonce with a counter folded in (the session or
    /// rate limit this run publishes uses the nonce itself), so no two values share one.
    fn next_nonce(&mut self) -> [u8; NONCE_LEN] {
        self.sealed += 1;
        let mut nonce = self.nonce;
        for (byte, count) in nonce.iter_mut().zip(self.sealed.to_le_bytes()) {
            *byte ^= count;
        }
        nonce
    }

    /// Release the lock, then end with `end`. (Awaited: a process frozen right after answering,
    /// as serverless ones are, must not sit on the lock.)
    fn release(&mut self, end: StoreEnd) -> StoreStep {
        self.phase = Phase::Release;
        self.held = Some(end);
        StoreStep::Release {
            key: self.keys.lock.clone(),
            owner: self.lock_value.clone(),
        }
    }

    /// End with the holder's result.
    fn hand_over(&mut self) -> StoreStep {
        let end = self.held.take().unwrap_or(StoreEnd::Replan);
        self.done(end)
    }

    fn done(&mut self, end: StoreEnd) -> StoreStep {
        self.phase = Phase::Done;
        StoreStep::Done(end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{HttpResponse, Mode, Next, RawOptions};
    use proptest::prelude::*;
    use std::collections::HashMap;

    const NOW: u64 = 1_700_000_000_000;

    fn driver() -> Driver {
        let raw = RawOptions::new()
            .with("provider", "puppetvendors")
            .with("apiKey", "vk_test_abc")
            .with("exchangeTimeoutMs", 2_000.0);
        Driver::new(raw, &|_| None).unwrap()
    }

    /// One exchange of `d` answered at once by the vendor: a fresh token (ok), or a 429.
    fn exchange(d: &mut Driver, background: bool, token: &str, ok: bool, now: u64) -> bool {
        let mode = if background {
            Mode::Background
        } else {
            Mode::Foreground
        };
        let mut log = Vec::new();
        let (mut run, next) = d.begin(mode, now, &mut log);
        assert!(matches!(next, Next::Send { .. }), "{next:?}");
        let answer = if ok {
            HttpResponse::new(
                200,
                format!(r#"{{"success":true,"data":{{"token":"{token}","expiresIn":3600}}}}"#),
            )
        } else {
            HttpResponse::new(429, "{}").with_header("retry-after", "120")
        };
        let next = d.answered(&mut run, answer, true, now, 5, 0.5, &mut log);
        matches!(next, Next::Done(Ok(_)))
    }

    /// An in-memory store with a lock, as Redis behaves (time is not modelled: locks never expire
    /// here unless a test says so).
    #[derive(Default)]
    struct Store {
        values: HashMap<String, String>,
        /// Store calls made, by op.
        calls: HashMap<&'static str, usize>,
    }

    /// Performs one step against `store`; `None` when the obtain is over (with its end).
    fn perform(
        d: &mut Driver,
        run: &mut StoreRun,
        step: StoreStep,
        store: &mut Store,
        exchanges: &mut usize,
        token: &str,
        now: u64,
    ) -> Result<StoreNext, StoreEnd> {
        let count = |store: &mut Store, op| *store.calls.entry(op).or_default() += 1;
        Ok(match step {
            StoreStep::Get {
                session_key,
                rate_limit_key,
                lock_key,
            } => {
                count(store, "get");
                let session = store.values.get(&session_key).cloned();
                let limit = store.values.get(&rate_limit_key).cloned();
                let lock = store.values.get(&lock_key).cloned();
                d.store_got(
                    run,
                    session.as_deref(),
                    limit.as_deref(),
                    lock.as_deref(),
                    now,
                )
            }
            StoreStep::Lock { key, owner, .. } => {
                count(store, "lock");
                let taken = !store.values.contains_key(&key);
                if taken {
                    store.values.insert(key, owner);
                }
                d.store_locked(run, taken, now)
            }
            StoreStep::Set { key, value, .. } => {
                count(store, "set");
                store.values.insert(key, value);
                d.store_done(run)
            }
            StoreStep::Release { key, owner } => {
                count(store, "release");
                if store.values.get(&key) == Some(&owner) {
                    store.values.remove(&key);
                }
                d.store_done(run)
            }
            StoreStep::Sleep(_) => d.store_done(run),
            StoreStep::Exchange { background } => {
                *exchanges += 1;
                let ok = exchange(d, background, token, true, now);
                d.store_exchanged(run, ok, now)
            }
            StoreStep::Done(end) => return Err(end),
        })
    }

    fn obtain(d: &mut Driver, store: &mut Store, exchanges: &mut usize, now: u64) -> StoreEnd {
        let (mut run, mut next) = d
            .store_begin(false, "owner-a".into(), [7; NONCE_LEN], 300, now)
            .unwrap();
        loop {
            match perform(
                d,
                &mut run,
                next.step,
                store,
                exchanges,
                "tok-a-abcdefghij",
                now,
            ) {
                Ok(n) => next = n,
                Err(end) => return end,
            }
        }
    }

    #[test]
    fn a_cold_client_locks_exchanges_publishes_and_releases_and_the_next_adopts() {
        let (mut a, mut b) = (driver(), driver());
        let mut store = Store::default();
        let mut exchanges = 0;
        assert!(matches!(
            obtain(&mut a, &mut store, &mut exchanges, NOW),
            StoreEnd::Exchanged
        ));
        assert_eq!(exchanges, 1);
        assert_eq!(
            store.values.len(),
            1,
            "the session only: the lock was released"
        );
        let (key, sealed) = store.values.iter().next().unwrap();
        assert!(
            key.ends_with(":session") && sealed.starts_with("v1."),
            "{key}"
        );
        assert!(!sealed.contains("tok-a"));

        let end = obtain(&mut b, &mut store, &mut exchanges, NOW + 10);
        let StoreEnd::Adopted(session, _) = end else {
            panic!("{end:?}")
        };
        assert_eq!(session.token.expose_secret(), "tok-a-abcdefghij");
        assert_eq!(exchanges, 1, "b adopted a's token");
        // b's next obtain finds nothing newer than what it holds: it exchanges itself.
        let end = obtain(&mut b, &mut store, &mut exchanges, NOW + 20);
        assert!(matches!(end, StoreEnd::Exchanged), "{end:?}");
    }

    #[test]
    fn a_taken_lock_defers_a_background_refresh_and_makes_a_caller_wait_for_the_holder() {
        let mut d = driver();
        let (mut run, next) = d
            .store_begin(true, "me".into(), [1; NONCE_LEN], 300, NOW)
            .unwrap();
        assert!(matches!(next.step, StoreStep::Get { .. }));
        let next = d.store_got(&mut run, None, None, None, NOW);
        assert!(
            matches!(next.step, StoreStep::Lock { ttl_ms: 3_400, .. }),
            "{next:?}"
        );
        let next = d.store_locked(&mut run, false, NOW);
        assert!(matches!(next.step, StoreStep::Done(StoreEnd::Replan)));
        assert!(next.log[0].contains("another process is refreshing"));

        let (mut run, _) = d
            .store_begin(false, "me".into(), [1; NONCE_LEN], 300, NOW)
            .unwrap();
        d.store_got(&mut run, None, None, None, NOW);
        let mut waits = Vec::new();
        let mut now = NOW;
        let mut next = d.store_locked(&mut run, false, now);
        while let StoreStep::Sleep(ms) = next.step {
            waits.push(ms);
            now += ms;
            assert!(matches!(d.store_done(&mut run).step, StoreStep::Get { .. }));
            assert!(matches!(
                d.store_got(&mut run, None, None, None, now).step,
                StoreStep::Lock { .. }
            ));
            next = d.store_locked(&mut run, false, now);
        }
        assert_eq!(&waits[..6], &[5, 10, 20, 40, 80, 100]);
        assert!(
            now >= NOW + 3_400 + 1_000,
            "waited past the lock's life: {now}"
        );
        assert!(
            matches!(next.step, StoreStep::Exchange { background: false }),
            "{next:?}"
        );
        assert!(next.log[0].contains("no session from the lock holder"));
    }

    #[test]
    fn a_store_fault_is_reported_once_and_the_store_is_skipped_for_a_while() {
        let mut d = driver();
        let fault = StoreFault {
            op: "get".into(),
            why: "threw (TypeError)".into(),
        };
        let (mut run, _) = d
            .store_begin(false, "me".into(), [1; NONCE_LEN], 300, NOW)
            .unwrap();
        let next = d.store_failed(&mut run, &fault, NOW);
        assert!(matches!(next.step, StoreStep::Exchange { .. }));
        let report = next.report.expect("the first fault is reported");
        assert_eq!(report.code().as_str(), "STORE_UNAVAILABLE");
        assert!(report.message().contains("get() threw (TypeError)"));
        assert!(next.log[0].contains("trying the store again in 2000 ms"));

        // Within the back-off: no store call at all.
        let (_, next) = d
            .store_begin(false, "me".into(), [1; NONCE_LEN], 300, NOW + 1_999)
            .unwrap();
        assert!(matches!(next.step, StoreStep::Exchange { .. }), "{next:?}");
        // After it: the store again; a second fault is logged, not reported again.
        let (mut run, next) = d
            .store_begin(false, "me".into(), [1; NONCE_LEN], 300, NOW + 2_000)
            .unwrap();
        assert!(matches!(next.step, StoreStep::Get { .. }));
        let next = d.store_failed(&mut run, &fault, NOW + 2_000);
        assert!(next.report.is_none());
        // The store answers again: said once, and reported again after the next fault.
        let (mut run, _) = d
            .store_begin(false, "me".into(), [1; NONCE_LEN], 300, NOW + 5_000)
            .unwrap();
        let next = d.store_got(&mut run, None, None, None, NOW + 5_000);
        assert!(next.log[0].contains("token store answers again"));
    }

    #[test]
    fn a_shared_rate_limit_is_published_and_stops_the_next_client_without_a_request() {
        let (mut a, mut b) = (driver(), driver());
        let mut store = Store::default();
        let (mut run, _) = a
            .store_begin(false, "a".into(), [2; NONCE_LEN], 300, NOW)
            .unwrap();
        a.store_got(&mut run, None, None, None, NOW);
        a.store_locked(&mut run, true, NOW);
        let next = a.store_got(&mut run, None, None, None, NOW);
        assert!(matches!(next.step, StoreStep::Exchange { .. }));
        let ok = exchange(&mut a, false, "t", false, NOW);
        let next = a.store_exchanged(&mut run, ok, NOW);
        let StoreStep::Set { key, value, ttl_ms } = next.step else {
            panic!("{next:?}")
        };
        assert!(key.ends_with(":rate-limit") && ttl_ms > 100_000);
        store.values.insert(key.clone(), value.clone());
        assert!(matches!(
            a.store_done(&mut run).step,
            StoreStep::Release { .. }
        ));

        let (mut run, _) = b
            .store_begin(false, "b".into(), [3; NONCE_LEN], 300, NOW + 5)
            .unwrap();
        let next = b.store_got(&mut run, None, Some(&value), None, NOW + 5);
        assert!(matches!(next.step, StoreStep::Done(StoreEnd::Replan)));
        assert!(matches!(b.plan(NOW + 6), Plan::Reject(_)));
    }

    #[test]
    fn an_invalidated_token_is_never_adopted_back_nor_an_older_one() {
        let (mut a, mut b) = (driver(), driver());
        let mut store = Store::default();
        let mut exchanges = 0;
        obtain(&mut a, &mut store, &mut exchanges, NOW);
        assert!(matches!(
            obtain(&mut b, &mut store, &mut exchanges, NOW + 1),
            StoreEnd::Adopted(..)
        ));
        assert!(b.invalidate());
        // The store still holds the refused token: b exchanges rather than adopt it back.
        let end = obtain(&mut b, &mut store, &mut exchanges, NOW + 2);
        assert!(matches!(end, StoreEnd::Exchanged), "{end:?}");
        assert_eq!(exchanges, 2);
        assert!(!b.is_closed());
        b.close();
        assert!(!b.invalidate(), "invalidate() after close() drops nothing");
    }

    /// Run one obtain of `d` against `store` where the lock key holds `squat` (kept there by an
    /// attacker who writes it back whenever it is deleted, if `sticky`). Returns the end, the
    /// exchanges made, the store calls and the time it took (polls advance the clock).
    fn obtain_against_squat(
        d: &mut Driver,
        squat: &str,
        sticky: bool,
    ) -> (StoreEnd, usize, usize, u64) {
        let mut store = Store::default();
        let lock_key = format!("{}:lock", d.store_key().unwrap());
        store.values.insert(lock_key.clone(), squat.to_owned());
        let (mut run, mut next) = d
            .store_begin(false, "me".into(), [9; NONCE_LEN], 300, NOW)
            .unwrap();
        let (mut now, mut exchanges) = (NOW, 0);
        loop {
            if sticky && !store.values.contains_key(&lock_key) {
                store.values.insert(lock_key.clone(), squat.to_owned());
            }
            if let StoreStep::Sleep(ms) = next.step {
                now += ms;
            }
            match perform(
                d,
                &mut run,
                next.step,
                &mut store,
                &mut exchanges,
                "fresh",
                now,
            ) {
                Ok(n) => next = n,
                Err(end) => return (end, exchanges, store.calls.values().sum(), now - NOW),
            }
        }
    }

    #[test]
    fn a_squatted_lock_is_never_waited_for() {
        // A value vendor-auth did not write: deleted (by its value), then the lock is ours.
        let mut d = driver();
        let (end, exchanges, calls, took) = obtain_against_squat(&mut d, "anything", false);
        assert!(matches!(end, StoreEnd::Exchanged), "{end:?}");
        assert_eq!((exchanges, took), (1, 0), "no wait at all");
        assert!(calls <= 7, "{calls} store calls");

        // Written back at once every time: the second sighting means our own exchange.
        let mut d = driver();
        let (end, exchanges, calls, took) = obtain_against_squat(&mut d, "anything", true);
        assert!(matches!(end, StoreEnd::Exchanged), "{end:?}");
        assert_eq!((exchanges, took), (1, 0));
        assert!(calls <= 7, "{calls} store calls");

        // A lock of ours that outlived its lifetime (a store that ignored the TTL), and one that
        // claims more than any lock lives: neither is waited for.
        for until in [NOW - 2_000, NOW + MAX_LOCK_LIFETIME_MS + 1] {
            let mut d = driver();
            let stale = d.seal_lock("other", until, &[3; NONCE_LEN]).unwrap();
            let (end, exchanges, _, took) = obtain_against_squat(&mut d, &stale, true);
            assert!(matches!(end, StoreEnd::Exchanged), "{until}: {end:?}");
            assert_eq!((exchanges, took), (1, 0), "{until}");
        }
    }

    #[test]
    fn a_live_holders_lock_is_waited_for_as_long_as_it_says_and_a_refresh_keeps_serving() {
        // A live holder's lock (it opens, until NOW + 3 s): a caller polls until 3 s + the skew
        // allowance, then exchanges on its own.
        let mut d = driver();
        let live = d.seal_lock("other", NOW + 3_000, &[3; NONCE_LEN]).unwrap();
        let (end, exchanges, _, took) = obtain_against_squat(&mut d, &live, true);
        assert!(matches!(end, StoreEnd::Exchanged), "{end:?}");
        assert_eq!(exchanges, 1);
        assert!((4_000..4_200).contains(&took), "waited {took} ms");

        // A background refresh reads the lock with the session and does not even try it.
        let mut d = driver();
        let (mut run, _) = d
            .store_begin(true, "me".into(), [1; NONCE_LEN], 300, NOW)
            .unwrap();
        let next = d.store_got(&mut run, None, None, Some(&live), NOW);
        assert!(
            matches!(next.step, StoreStep::Done(StoreEnd::Replan)),
            "{next:?}"
        );
        assert!(next.log[0].contains("another process is refreshing"));
        // A squatted one is cleared rather than deferred to.
        let (mut run, _) = d
            .store_begin(true, "me".into(), [1; NONCE_LEN], 300, NOW)
            .unwrap();
        let next = d.store_got(&mut run, None, None, Some("squat"), NOW);
        assert!(
            matches!(&next.step, StoreStep::Release { owner, .. } if owner == "squat"),
            "{next:?}"
        );
    }

    #[test]
    fn our_lock_values_open_only_under_our_credentials_and_differ_each_time() {
        let mut run_a = driver();
        let (mut run, _) = run_a
            .store_begin(false, "me".into(), [1; NONCE_LEN], 300, NOW)
            .unwrap();
        let StoreStep::Lock { owner: first, .. } =
            run_a.store_got(&mut run, None, None, None, NOW).step
        else {
            panic!()
        };
        run_a.store_locked(&mut run, false, NOW);
        run_a.store_done(&mut run);
        let StoreStep::Lock { owner: second, .. } =
            run_a.store_got(&mut run, None, None, None, NOW + 5).step
        else {
            panic!()
        };
        assert_ne!(first, second, "a fresh nonce for each lock value");
        assert_eq!(run_a.open_lock(&first), Some(NOW + 3_400));
        let mut other = Driver::new(
            RawOptions::new()
                .with("provider", "puppetvendors")
                .with("apiKey", "vk_test_other"),
            &|_| None,
        )
        .unwrap();
        assert_eq!(other.open_lock(&first), None);
    }

    #[test]
    fn a_replayed_older_session_never_rolls_back_a_client_that_held_a_newer_one() {
        let (mut a, mut b) = (driver(), driver());
        let mut store = Store::default();
        let mut exchanges = 0;
        obtain(&mut a, &mut store, &mut exchanges, NOW);
        let session_key = format!("{}:session", a.store_key().unwrap());
        let old = store.values[&session_key].clone();
        // Later, a newer token is published (a's next exchange) and b adopts it.
        a.invalidate();
        assert!(matches!(
            obtain(&mut a, &mut store, &mut exchanges, NOW + 60_000),
            StoreEnd::Exchanged
        ));
        assert!(matches!(
            obtain(&mut b, &mut store, &mut exchanges, NOW + 60_001),
            StoreEnd::Adopted(..)
        ));
        // An attacker writes the old sealed value back; b drops its token (a 401).
        store.values.insert(session_key, old);
        b.invalidate();
        let end = obtain(&mut b, &mut store, &mut exchanges, NOW + 60_002);
        assert!(
            matches!(end, StoreEnd::Exchanged),
            "not adopted back: {end:?}"
        );
    }

    proptest! {
        /// A fleet of clients on one store, their steps interleaved in any order: exactly one
        /// exchange, and every client ends with that token.
        #[test]
        fn a_fleet_in_any_interleaving_makes_one_exchange(
            order in proptest::collection::vec(0usize..6, 1..400),
            size in 2usize..6,
        ) {
            let mut drivers: Vec<Driver> = (0..size).map(|_| driver()).collect();
            let mut store = Store::default();
            let mut exchanges = 0;
            let mut runs = Vec::new();
            for (i, d) in drivers.iter_mut().enumerate() {
                let (run, next) = d
                    .store_begin(false, format!("owner-{i}"), [i as u8; NONCE_LEN], 300, NOW)
                    .unwrap();
                runs.push((run, Some(next.step), None));
            }
            let mut now = NOW;
            // Any order for a while (shorter than a lock's life), then every client in turn, as
            // real processes all get to run.
            let mut picks = order.into_iter().chain(0..);
            while runs.iter().any(|(_, step, _)| step.is_some()) {
                let pick = picks.next().unwrap() % size;
                // The next client that still has a step, from `pick` on.
                let i = (pick..pick + size).map(|i| i % size).find(|&i| runs[i].1.is_some()).unwrap();
                let (run, step, end) = &mut runs[i];
                let token = format!("tok-{i}-abcdefghij");
                now += 1;
                match perform(&mut drivers[i], run, step.take().unwrap(), &mut store, &mut exchanges, &token, now) {
                    Ok(next) => *step = Some(next.step),
                    Err(done) => *end = Some(done),
                }
            }
            prop_assert_eq!(exchanges, 1);
            let tokens: std::collections::HashSet<String> = drivers
                .iter()
                .map(|d| d.current().unwrap().0.token.expose_secret().to_owned())
                .collect();
            prop_assert_eq!(tokens.len(), 1);
            prop_assert!(!store.values.keys().any(|k| k.ends_with(":lock")), "the lock was released");
        }
    }
}
