//! The account's Partner Central request budget, shared at run time by every process that
//! calls Partner Central, and the run lease of the scheduled functions (one run at a time).
//!
//! The arithmetic is pure ([`crate::domain::lease`]); this is the engine around it: each
//! process keeps its share of the one lease book ([`LeaseStore`]: one state-table item,
//! written with one conditional write per change) and a local sliding window that admits at
//! most its `units` requests per [`WINDOW_MS`]. Since the units held never sum above the
//! budget, the requests of all processes together never exceed it in any second.
//!
//! - [`RequestBudget::begin`] (the run skeleton, [`crate::entry::serve`]): take the share
//!   — and, for a scheduled or manual run, the function's run lease — in one write;
//! - [`RequestBudget::permit`] (every Partner Central request, in the HTTP connector): take
//!   the share if not held, renew it when [`RENEW_AFTER_MS`] passed since the last write
//!   (the renewal also grows it when others left, or gives the surplus back when others
//!   wait), then wait for a slot of the local window;
//! - [`RequestBudget::end`]: give it all back in one write (what was used in the last
//!   window drains first).
//!
//! A quiet run makes 2 writes (begin, end), plus one per second of Partner Central calls
//! after the first, plus one per conflict with another process's write (and one per
//! [`RUN_RENEW_MS`] of a run working without Partner Central calls). A killed process's share
//! lapses [`TERM_MS`] after its last write, its run lease [`RUN_TERM_MS`] after.
//!
//! Failure modes: a write that fails after the SDK's retries (table throttled) leaves the
//! process at its current share until its lease would lapse ([`valid for`](lease_validity)),
//! then its requests fail (the run fails and is retried; nothing above the budget); clock
//! skew between processes up to [`SKEW_ALLOWANCE_MS`] is absorbed (a holder stops using its
//! lease that much before the others consider it lapsed).

use std::collections::VecDeque;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, TimeZone, Utc};
use futures::future::BoxFuture;
use tokio::sync::Mutex;
use tokio::time::{Duration, Instant};

use crate::domain::lease::{Ask, LeaseBook, Recent, RunBusy, RunRequest, WINDOW_MS};
use crate::error::StoreError;

pub use crate::domain::lease;

/// A share lapses this long after its holder's last write.
pub const TERM_MS: i64 = 6_000;
/// A holder renews its share on its first request this long after its last write.
pub const RENEW_AFTER_MS: i64 = 1_000;
/// Clock skew between processes the lease absorbs: a holder stops using its share this much
/// (plus one window, for its last requests to leave the service's second) before the others
/// consider it lapsed.
pub const SKEW_ALLOWANCE_MS: i64 = 500;
/// A run lease lapses this long after its holder's last write (a killed run blocks its
/// function this long at most).
pub const RUN_TERM_MS: i64 = 15_000;
/// A run extends its run lease this often while it works without Partner Central calls
/// ([`RequestBudget::keep_alive`]; its share renewals extend it too).
pub const RUN_RENEW_MS: i64 = 5_000;
/// A run waiting for another's run lease re-reads the book this often.
pub const RUN_POLL_MS: i64 = 250;
/// How long a scheduled or manual run waits for another process's run lease before it skips:
/// a killed run's lease lapses within it, a live run that takes longer is left to finish.
pub const RUN_WAIT_MS: i64 = RUN_TERM_MS + 1_000;
/// The lease book read with the last write is used as-is for the next write this long; an
/// older one is read again first (a read is cheaper than a conditional write that fails).
pub const FRESH_MS: i64 = 1_000;
/// A process without units re-reads the book this often, and writes only when units are free.
pub const WAIT_POLL_MS: i64 = 100;
/// A process waits at most this long for units before its request fails.
pub const MAX_WAIT_MS: i64 = 60_000;
/// Conditional writes tried per change before giving up (each failure means another process
/// wrote in between, and its item came back with the failure).
const MAX_SWAPS: usize = 16;

/// How long after sending the write that took it a holder may use its share.
pub const fn lease_validity() -> i64 {
    TERM_MS - WINDOW_MS - SKEW_ALLOWANCE_MS
}

/// The lease book and its version (0: no item yet).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Versioned {
    pub version: u64,
    pub book: LeaseBook,
}

/// What a conditional write did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Swap {
    Done,
    /// Another process wrote first: the book as it is now, when the store returned it.
    Conflict(Option<Versioned>),
}

/// Where the lease book lives (the state table: `adapters::lease_table`).
pub trait LeaseStore: Send + Sync + std::fmt::Debug {
    /// The book, read consistently; `None` when there is none yet.
    fn load(&self) -> BoxFuture<'_, Result<Option<Versioned>, StoreError>>;
    /// Write `book` as version `expected + 1` if the stored version is `expected` (0: none yet).
    fn swap<'a>(&'a self, expected: u64, book: &'a LeaseBook) -> BoxFuture<'a, Result<Swap, StoreError>>;
}

/// Why the budget could not give a request its slot.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BudgetError {
    #[error("request budget: cannot take or renew the lease (state table): {0}")]
    Store(StoreError),
    #[error(
        "request budget: no share of the {budget}/s budget within {waited_ms} ms (held by: {holders}); the request was not sent"
    )]
    Starved { budget: u32, waited_ms: i64, holders: String },
}

/// How a run's start went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begun {
    /// The share (and the run lease, if asked) is taken.
    Started,
    /// Another process runs the function.
    Busy { holder: String, until: DateTime<Utc> },
}

enum Renewal {
    Busy(RunBusy),
    Store(StoreError),
}

/// The process's side of the shared budget; clones share it. Hand the same one to every
/// Partner Central client of the process.
#[derive(Debug, Clone)]
pub struct RequestBudget(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    store: Arc<dyn LeaseStore>,
    budget: u32,
    holder: String,
    /// Epoch ms and the monotonic instant it was read at: the process's clock, monotonic.
    anchor: (i64, Instant),
    local: Mutex<Local>,
    writes: AtomicU64,
    /// A health check is running ([`RequestBudget::probing`]).
    probing: std::sync::atomic::AtomicBool,
}

#[derive(Debug, Default)]
struct Local {
    /// The book as last read or written, and when.
    cached: Option<(Versioned, i64)>,
    units: u32,
    /// Epoch ms (this process's clock) until which the share may be used.
    valid_until: i64,
    last_write: i64,
    /// Whether the book holds a share of ours.
    registered: bool,
    /// The function whose run lease this process holds.
    run: Option<String>,
    /// When the requests of the last window went out, oldest first.
    given: VecDeque<i64>,
}

impl Local {
    fn recent(&self, now: i64) -> Recent {
        let in_window = self.given.iter().filter(|t| **t > now - WINDOW_MS).count();
        match self.given.back() {
            Some(newest) if in_window > 0 => {
                Recent { count: u32::try_from(in_window).unwrap_or(u32::MAX), until: newest + WINDOW_MS }
            }
            _ => Recent::default(),
        }
    }
}

static PARTICIPANT: OnceLock<RequestBudget> = OnceLock::new();

/// The budget of this process, if it takes part (it built its Partner Central clients).
pub fn participant() -> Option<&'static RequestBudget> {
    PARTICIPANT.get()
}

/// A process's holder id: the function and something unique to the process.
pub fn holder_id(function: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("{function}#{:x}-{:x}", std::process::id(), nanos % 0xffff_ffff_ffff)
}

/// The function this process runs (`AWS_LAMBDA_FUNCTION_NAME`, set by Lambda), or `process`.
pub fn function_name() -> String {
    std::env::var("AWS_LAMBDA_FUNCTION_NAME").ok().filter(|s| !s.is_empty()).unwrap_or_else(|| "process".to_owned())
}

impl RequestBudget {
    /// `budget` requests per second for the whole account, shared through `store`.
    pub fn new(store: Arc<dyn LeaseStore>, budget: NonZeroU32, holder: impl Into<String>) -> Self {
        let epoch_ms = Utc::now().timestamp_millis();
        RequestBudget(Arc::new(Inner {
            store,
            budget: budget.get(),
            holder: holder.into(),
            anchor: (epoch_ms, Instant::now()),
            local: Mutex::new(Local::default()),
            writes: AtomicU64::new(0),
            probing: std::sync::atomic::AtomicBool::new(false),
        }))
    }

    /// A budget of this process alone (an in-memory book): tools and wire tests that run one
    /// process, no state table.
    pub fn alone(budget: NonZeroU32) -> Self {
        RequestBudget::new(Arc::new(MemoryLeaseStore::default()), budget, holder_id("alone"))
    }

    /// Make this the budget [`participant`] returns: the run skeleton then takes and gives
    /// back the share (and run lease) around every invocation. The first call wins.
    pub fn take_part(&self) {
        PARTICIPANT.get_or_init(|| self.clone());
    }

    pub fn budget(&self) -> u32 {
        self.0.budget
    }

    pub fn holder(&self) -> &str {
        &self.0.holder
    }

    /// Conditional writes made so far (successful or lost to another process's write).
    pub fn writes(&self) -> u64 {
        self.0.writes.load(Ordering::Relaxed)
    }

    /// Units held now (0 before the first take and after [`RequestBudget::end`]).
    pub async fn units(&self) -> u32 {
        self.0.local.lock().await.units
    }

    /// The process's clock, epoch ms (monotonic from start-up).
    fn now(&self) -> i64 {
        let (epoch, at) = self.0.anchor;
        epoch + i64::try_from(at.elapsed().as_millis()).unwrap_or(i64::MAX / 2)
    }

    fn instant_at(&self, ms: i64) -> Instant {
        let (epoch, at) = self.0.anchor;
        at + Duration::from_millis(u64::try_from(ms - epoch).unwrap_or(0))
    }

    /// Take the share, and with `run` that function's run lease (skipped when another process
    /// holds it: [`Begun::Busy`]).
    pub async fn begin(&self, run: Option<&str>) -> Result<Begun, BudgetError> {
        let mut local = self.0.local.lock().await;
        local.run = run.map(str::to_owned);
        match self.renew(&mut local).await {
            Ok(()) => Ok(Begun::Started),
            Err(Renewal::Busy(busy)) => {
                local.run = None;
                let until = Utc.timestamp_millis_opt(busy.until).single().unwrap_or_default();
                Ok(Begun::Busy { holder: busy.holder, until })
            }
            Err(Renewal::Store(e)) => {
                local.run = None;
                Err(BudgetError::Store(e))
            }
        }
    }

    /// [`RequestBudget::begin`], and while another process holds the run lease, wait for it
    /// (given back, or lapsed: a killed run) up to `wait_ms`, re-reading every
    /// [`RUN_POLL_MS`]; [`Begun::Busy`] when it is still held then.
    pub async fn begin_or_wait(&self, run: Option<&str>, wait_ms: i64) -> Result<Begun, BudgetError> {
        let deadline = self.now() + wait_ms;
        loop {
            match self.begin(run).await? {
                Begun::Busy { until, .. } if self.now() < deadline => {
                    let wake = (until.timestamp_millis()).min(self.now() + RUN_POLL_MS).min(deadline);
                    tokio::time::sleep_until(self.instant_at(wake.max(self.now() + 1))).await;
                }
                begun => return Ok(begun),
            }
        }
    }

    /// Health checks: their few reads go at one per window without a lease (nothing written
    /// to the state table) while `on`.
    pub fn probing(&self, on: bool) {
        self.0.probing.store(on, Ordering::Relaxed);
    }

    /// Wait for a slot for one request (see the module documentation).
    pub async fn permit(&self) -> Result<(), BudgetError> {
        let mut local = self.0.local.lock().await;
        let started = self.now();
        if self.0.probing.load(Ordering::Relaxed) && !local.registered {
            loop {
                let now = self.now();
                match local.given.back() {
                    Some(last) if *last > now - WINDOW_MS => {
                        let wake = last + WINDOW_MS;
                        tokio::time::sleep_until(self.instant_at(wake)).await;
                    }
                    _ => {
                        local.given.push_back(now);
                        return Ok(());
                    }
                }
            }
        }
        loop {
            let now = self.now();
            let due = !local.registered || now >= local.valid_until || now - local.last_write >= RENEW_AFTER_MS;
            let waiting = local.registered && local.units == 0;
            if due && !(waiting && now - local.last_write < RENEW_AFTER_MS) {
                match self.renew(&mut local).await {
                    Ok(()) => {}
                    Err(Renewal::Busy(busy)) => {
                        // Our run lease lapsed and another process took it: this run goes on
                        // without it (its commits are conditional; nothing is done twice).
                        tracing::warn!(holder = %busy.holder, "the run lease lapsed and was taken over");
                        local.run = None;
                        continue;
                    }
                    Err(Renewal::Store(e)) => {
                        if self.now() >= local.valid_until {
                            return Err(BudgetError::Store(e));
                        }
                        tracing::warn!(error = %e, units = local.units, "cannot renew the request budget lease; going on at the current share while it holds");
                        local.last_write = self.now();
                    }
                }
            }
            let now = self.now();
            if local.units == 0 {
                if now - started >= MAX_WAIT_MS {
                    let holders = local.cached.as_ref().map(|(v, _)| describe(&v.book, now)).unwrap_or_default();
                    return Err(BudgetError::Starved { budget: self.0.budget, waited_ms: now - started, holders });
                }
                // The others hold everything; they give back their surplus at their next
                // renewal. Read until units are free, then take them (one write).
                tokio::time::sleep_until(self.instant_at(now + WAIT_POLL_MS)).await;
                let now = self.now();
                match self.0.store.load().await {
                    Ok(book) => {
                        let book = book.unwrap_or_default();
                        let recent = local.recent(now);
                        let free = book
                            .book
                            .take(
                                self.0.budget,
                                Ask {
                                    holder: &self.0.holder,
                                    want: self.0.budget,
                                    recent,
                                    term_ms: TERM_MS,
                                    run: None,
                                },
                                now,
                            )
                            .map_or(0, |(_, units)| units);
                        local.cached = Some((book, now));
                        if free > 0 {
                            local.last_write = i64::MIN / 2;
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot read the request budget lease"),
                }
                continue;
            }
            while local.given.front().is_some_and(|t| *t <= now - WINDOW_MS) {
                local.given.pop_front();
            }
            let units = usize::try_from(local.units).unwrap_or(usize::MAX);
            if local.given.len() >= units {
                let oldest_counted = local.given[local.given.len() - units];
                let wake = (oldest_counted + WINDOW_MS).min(local.valid_until.max(now + 1));
                tokio::time::sleep_until(self.instant_at(wake)).await;
                continue;
            }
            local.given.push_back(now);
            return Ok(());
        }
    }

    /// Extend the run lease every [`RUN_RENEW_MS`] until dropped (the run skeleton races it
    /// with the run): a run busy with the state table or the bus for a while keeps it.
    pub async fn keep_alive(&self) {
        loop {
            let next = {
                let mut local = self.0.local.lock().await;
                let now = self.now();
                match local.run.clone() {
                    Some(function) if now - local.last_write >= RUN_RENEW_MS => {
                        let holder = self.0.holder.clone();
                        let extended = self
                            .exchange(&mut local, |book, now| {
                                book.extend_run(&holder, &function, now, RUN_TERM_MS).map(|b| (b, ()))
                            })
                            .await;
                        match extended {
                            Ok(((), sent)) => local.last_write = sent,
                            Err(Renewal::Busy(busy)) => {
                                tracing::warn!(holder = %busy.holder, "the run lease lapsed and was taken over");
                                local.run = None;
                            }
                            Err(Renewal::Store(e)) => tracing::warn!(error = %e, "cannot extend the run lease"),
                        }
                        self.now() + RUN_RENEW_MS
                    }
                    Some(_) => local.last_write + RUN_RENEW_MS,
                    None => now + RUN_RENEW_MS,
                }
            };
            tokio::time::sleep_until(self.instant_at(next)).await;
        }
    }

    /// Give the share (and the run lease) back; nothing to write when none is held.
    pub async fn end(&self) -> Result<(), BudgetError> {
        let mut local = self.0.local.lock().await;
        let run = local.run.take();
        if !local.registered && run.is_none() {
            return Ok(());
        }
        let holder = self.0.holder.clone();
        let given = local.given.clone();
        let result = self
            .exchange(&mut local, |book, now| {
                let recent = Local { given: given.clone(), ..Local::default() }.recent(now);
                Ok((book.give_back(&holder, recent, now, run.as_deref()), ()))
            })
            .await;
        local.units = 0;
        local.valid_until = 0;
        local.registered = false;
        match result {
            Ok(_) => Ok(()),
            Err(Renewal::Store(e)) => Err(BudgetError::Store(e)),
            Err(Renewal::Busy(_)) => Ok(()),
        }
    }

    async fn renew(&self, local: &mut Local) -> Result<(), Renewal> {
        let holder = self.0.holder.clone();
        let budget = self.0.budget;
        let run = local.run.clone();
        let given = local.given.clone();
        let (units, sent) = self
            .exchange(local, |book, now| {
                let recent = Local { given: given.clone(), ..Local::default() }.recent(now);
                let run = run.as_deref().map(|function| RunRequest { function, term_ms: RUN_TERM_MS });
                book.take(budget, Ask { holder: &holder, want: budget, recent, term_ms: TERM_MS, run }, now)
            })
            .await?;
        if units != local.units {
            tracing::debug!(from = local.units, to = units, "request budget share changed");
        }
        local.units = units;
        local.valid_until = sent + lease_validity();
        local.last_write = sent;
        local.registered = true;
        Ok(())
    }

    /// Apply `change` to the book with a conditional write, again on the book another process
    /// wrote in between. Returns what `change` said and when the write was sent.
    async fn exchange<T>(
        &self,
        local: &mut Local,
        change: impl Fn(&LeaseBook, i64) -> Result<(LeaseBook, T), RunBusy>,
    ) -> Result<(T, i64), Renewal> {
        let now = self.now();
        let mut current = match &local.cached {
            Some((versioned, at)) if now - at < FRESH_MS => versioned.clone(),
            _ => self.0.store.load().await.map_err(Renewal::Store)?.unwrap_or_default(),
        };
        for _ in 0..MAX_SWAPS {
            let now = self.now();
            let (book, out) = change(&current.book, now).map_err(Renewal::Busy)?;
            let swapped = self.0.store.swap(current.version, &book).await.map_err(Renewal::Store)?;
            self.0.writes.fetch_add(1, Ordering::Relaxed);
            match swapped {
                Swap::Done => {
                    local.cached = Some((Versioned { version: current.version + 1, book }, now));
                    return Ok((out, now));
                }
                Swap::Conflict(Some(newer)) => current = newer,
                Swap::Conflict(None) => {
                    current = self.0.store.load().await.map_err(Renewal::Store)?.unwrap_or_default();
                }
            }
        }
        Err(Renewal::Store(StoreError::Unavailable {
            operation: "PutItem",
            message: format!("the request budget lease changed under each of {MAX_SWAPS} conditional writes"),
        }))
    }
}

/// Who holds what, for an error message.
fn describe(book: &LeaseBook, now: i64) -> String {
    let held: Vec<String> =
        book.pruned(now).shares.iter().map(|(id, share)| format!("{id} {}", share.held(now))).collect();
    if held.is_empty() { "nobody".to_owned() } else { held.join(", ") }
}

/// A lease book in memory: one process alone ([`RequestBudget::alone`]), and the tests, which
/// can make it fail.
#[derive(Debug, Default)]
pub struct MemoryLeaseStore {
    state: std::sync::Mutex<MemoryState>,
}

#[derive(Debug, Default)]
struct MemoryState {
    book: Option<Versioned>,
    /// Fail this many of the next writes as throttled.
    fail_writes: usize,
    writes: u64,
}

impl MemoryLeaseStore {
    /// Fail the next `n` writes as a throttled table would (after the SDK's retries).
    pub fn fail_next_writes(&self, n: usize) {
        if let Ok(mut state) = self.state.lock() {
            state.fail_writes = n;
        }
    }

    /// The book as stored.
    pub fn book(&self) -> LeaseBook {
        self.state.lock().ok().and_then(|s| s.book.as_ref().map(|v| v.book.clone())).unwrap_or_default()
    }

    /// Writes attempted (applied or conflicting).
    pub fn writes(&self) -> u64 {
        self.state.lock().map_or(0, |s| s.writes)
    }
}

impl LeaseStore for MemoryLeaseStore {
    fn load(&self) -> BoxFuture<'_, Result<Option<Versioned>, StoreError>> {
        let book = self.state.lock().ok().and_then(|s| s.book.clone());
        Box::pin(async move { Ok(book) })
    }

    fn swap<'a>(&'a self, expected: u64, book: &'a LeaseBook) -> BoxFuture<'a, Result<Swap, StoreError>> {
        let outcome = match self.state.lock() {
            Err(_) => Err(StoreError::Unavailable { operation: "PutItem", message: "poisoned".into() }),
            Ok(mut state) if state.fail_writes > 0 => {
                state.fail_writes -= 1;
                Err(StoreError::Unavailable { operation: "PutItem", message: "ThrottlingException".into() })
            }
            Ok(mut state) => {
                state.writes += 1;
                let stored = state.book.as_ref().map_or(0, |v| v.version);
                if stored == expected {
                    state.book = Some(Versioned { version: expected + 1, book: book.clone() });
                    Ok(Swap::Done)
                } else {
                    Ok(Swap::Conflict(state.book.clone()))
                }
            }
        };
        Box::pin(async move { outcome })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Paused tokio time: the budget's clock is tokio's (anchored at start-up), so sleeps advance
    // it instantly and exactly — the instants below are what the budget decided, not how busy
    // the machine was. Nothing synchronises on a sleep; the assertions are on counts.

    fn budget(store: &Arc<MemoryLeaseStore>, n: u32, holder: &str) -> RequestBudget {
        let shared: Arc<dyn LeaseStore> = store.clone();
        RequestBudget::new(shared, NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN), holder)
    }

    async fn permits(b: &RequestBudget, n: usize) -> Vec<i64> {
        let start = b.now();
        let mut at = Vec::new();
        for _ in 0..n {
            b.permit().await.unwrap_or_else(|e| panic!("{e}"));
            at.push(b.now() - start);
        }
        at
    }

    /// The most requests in any window of `WINDOW_MS` among `times` (ms).
    fn busiest(times: &[i64]) -> usize {
        let mut sorted = times.to_vec();
        sorted.sort_unstable();
        sorted.iter().map(|t| sorted.iter().filter(|u| **u >= *t && **u - *t < WINDOW_MS).count()).max().unwrap_or(0)
    }

    #[tokio::test(start_paused = true)]
    async fn a_quiet_run_alone_uses_the_whole_budget_without_waiting_in_two_writes() {
        let store = Arc::new(MemoryLeaseStore::default());
        let b = budget(&store, 8, "sweeper#1");
        assert_eq!(b.begin(Some("sweeper")).await, Ok(Begun::Started));
        assert_eq!(permits(&b, 8).await, [0; 8], "8 requests at 8/s: no wait at all");
        assert_eq!(b.end().await, Ok(()));
        assert_eq!(b.writes(), 2, "begin and end");
        assert!(store.book().runs.is_empty(), "the run lease is given back");
    }

    #[tokio::test(start_paused = true)]
    async fn a_second_invocation_of_a_running_function_is_told_who_runs_it() {
        let store = Arc::new(MemoryLeaseStore::default());
        let first = budget(&store, 8, "sweeper#1");
        let retry = budget(&store, 8, "sweeper#2");
        assert_eq!(first.begin(Some("sweeper")).await, Ok(Begun::Started));
        let busy = retry.begin(Some("sweeper")).await;
        assert!(matches!(&busy, Ok(Begun::Busy { holder, .. }) if holder == "sweeper#1"), "{busy:?}");
        assert_eq!(first.end().await, Ok(()));
        assert_eq!(retry.begin(Some("sweeper")).await, Ok(Begun::Started), "free once given back");
    }

    #[tokio::test(start_paused = true)]
    async fn two_processes_together_never_exceed_the_budget_in_any_window() {
        let store = Arc::new(MemoryLeaseStore::default());
        let a = budget(&store, 8, "a");
        let b = budget(&store, 8, "b");
        let base = a.now();
        let run = |p: RequestBudget, n: usize| async move {
            let mut at = Vec::new();
            for _ in 0..n {
                p.permit().await.unwrap_or_else(|e| panic!("{e}"));
                at.push(p.now() - base);
            }
            p.end().await.unwrap_or_else(|e| panic!("{e}"));
            at
        };
        let (ta, tb) = tokio::join!(run(a.clone(), 40), run(b.clone(), 40));
        let all: Vec<i64> = ta.iter().chain(&tb).copied().collect();
        assert!(busiest(&all) <= 8, "{} in one window: a {ta:?} b {tb:?}", busiest(&all));
        assert!(busiest(&ta) > 1 && busiest(&tb) > 1, "both got a share: a {ta:?} b {tb:?}");
        assert!(store.book().shares.values().all(|s| s.units == 0), "all given back");
    }

    #[tokio::test(start_paused = true)]
    async fn a_process_alone_grows_back_to_the_whole_budget_when_the_other_leaves() {
        let store = Arc::new(MemoryLeaseStore::default());
        let a = budget(&store, 8, "a");
        let b = budget(&store, 8, "b");
        b.begin(None).await.unwrap_or_else(|e| panic!("{e}"));
        a.begin(None).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((b.units().await, a.units().await), (8, 0), "b first holds everything");
        permits(&b, 3).await;
        b.end().await.unwrap_or_else(|e| panic!("{e}"));
        // a takes what b's last 3 requests leave at once, and everything at its renewal once
        // they left the window (the clock is moved, not waited for).
        permits(&a, 1).await;
        assert_eq!(a.units().await, 5);
        tokio::time::advance(Duration::from_millis(1_100)).await;
        permits(&a, 1).await;
        assert_eq!(a.units().await, 8);
    }

    #[tokio::test(start_paused = true)]
    async fn a_killed_holders_share_lapses() {
        let store = Arc::new(MemoryLeaseStore::default());
        let killed = budget(&store, 8, "killed");
        killed.begin(Some("sweeper")).await.unwrap_or_else(|e| panic!("{e}"));
        drop(killed); // never renews, never gives back
        let relay = budget(&store, 8, "relay");
        let start = relay.now();
        permits(&relay, 1).await;
        let waited = relay.now() - start;
        assert!(waited >= TERM_MS - WAIT_POLL_MS && relay.units().await == 8, "waited {waited} ms");
        let retry = budget(&store, 8, "sweeper#2");
        assert!(matches!(retry.begin(Some("sweeper")).await, Ok(Begun::Busy { .. })), "run lease still held");
    }

    #[tokio::test(start_paused = true)]
    async fn a_run_without_partner_central_calls_keeps_its_run_lease() {
        let store = Arc::new(MemoryLeaseStore::default());
        let first = budget(&store, 8, "sweeper#1");
        first.begin(Some("sweeper")).await.unwrap_or_else(|e| panic!("{e}"));
        // 40 s of work on the state table alone (the clock moves while keep_alive runs).
        tokio::select! {
            () = first.keep_alive() => {}
            () = tokio::time::sleep(Duration::from_secs(40)) => {}
        }
        let retry = budget(&store, 8, "sweeper#2");
        assert!(matches!(retry.begin(Some("sweeper")).await, Ok(Begun::Busy { .. })), "still held after 40 s");
        assert!(first.writes() <= 1 + 40_000 / u64::try_from(RUN_RENEW_MS).unwrap_or(1), "{} writes", first.writes());
    }

    #[tokio::test(start_paused = true)]
    async fn a_retried_firing_after_a_killed_run_waits_for_its_lease_to_lapse_then_runs() {
        let store = Arc::new(MemoryLeaseStore::default());
        let killed = budget(&store, 8, "sweeper#1");
        killed.begin(Some("sweeper")).await.unwrap_or_else(|e| panic!("{e}"));
        drop(killed);
        let retry = budget(&store, 8, "sweeper#2");
        let start = retry.now();
        assert_eq!(retry.begin_or_wait(Some("sweeper"), RUN_WAIT_MS).await, Ok(Begun::Started));
        let waited = retry.now() - start;
        // (each process anchors its clock to the wall clock's millisecond: ±1 ms between them)
        assert!((RUN_TERM_MS - 5..RUN_TERM_MS + RUN_POLL_MS).contains(&waited), "waited {waited} ms");
        // A live run that outlasts the wait: the second invocation skips.
        let other = budget(&store, 8, "sweeper#3");
        assert!(matches!(other.begin_or_wait(Some("sweeper"), 1_000).await, Ok(Begun::Busy { .. })));
    }

    #[tokio::test(start_paused = true)]
    async fn a_health_check_reads_at_one_per_window_and_writes_nothing() {
        let store = Arc::new(MemoryLeaseStore::default());
        let b = budget(&store, 8, "probe");
        b.probing(true);
        assert_eq!(permits(&b, 3).await, [0, WINDOW_MS, 2 * WINDOW_MS]);
        b.probing(false);
        assert_eq!(b.end().await, Ok(()));
        assert_eq!((store.writes(), b.writes()), (0, 0), "nothing written");
    }

    #[tokio::test(start_paused = true)]
    async fn a_throttled_table_keeps_the_share_while_it_holds_then_fails_the_request() {
        let store = Arc::new(MemoryLeaseStore::default());
        let b = budget(&store, 2, "a");
        b.begin(None).await.unwrap_or_else(|e| panic!("{e}"));
        store.fail_next_writes(usize::MAX);
        let mut sent = 0;
        let error = loop {
            match b.permit().await {
                Ok(()) => sent += 1,
                Err(e) => break e,
            }
        };
        assert!(matches!(error, BudgetError::Store(_)), "{error}");
        // At 2 per window for the lease's validity, and not one more.
        let most = 2 * usize::try_from(lease_validity() / WINDOW_MS + 1).unwrap_or(0);
        assert!(sent > 2 && sent <= most, "{sent} sent");
    }

    #[tokio::test(start_paused = true)]
    async fn a_renewal_lost_to_another_write_retries_on_the_book_it_got_back() {
        let store = Arc::new(MemoryLeaseStore::default());
        let a = budget(&store, 8, "a");
        let b = budget(&store, 8, "b");
        a.begin(None).await.unwrap_or_else(|e| panic!("{e}"));
        b.begin(None).await.unwrap_or_else(|e| panic!("{e}"));
        // a's cached book is stale (b wrote since): its end conflicts once, then applies.
        let before = store.writes();
        a.end().await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(store.writes() - before, 2);
        assert!(!store.book().shares.contains_key("a"));
    }
}
