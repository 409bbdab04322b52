//! The run skeleton every function goes through.
//!
//! - [`Ports`]: the ports of a function, borrowed (built once per process in `main`, or
//!   fakes in tests), with named type parameters that mean the same in every crate;
//! - [`envelope`]: one run — snapshot the call counts, do the function's work, drain the
//!   outbox (also when the work failed), take the call deltas, build the summary, emit its
//!   EMF metrics, write one log line, return the summary or the error;
//! - [`ErrorKind`] and [`Failure`]: every function's error reaches Lambda as a
//!   `Diagnostic` whose `errorType` names the kind of failure, the same way everywhere.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::time::Instant;

use serde::Serialize;

use crate::delivery::{DrainReport, drain_outbox};
use crate::domain::{Catalog, Invitation, InvitationKind, UnreadableInvitation};
use crate::error::{PartnerCentralError, StoreError};
use crate::metrics::RunMetrics;
use crate::ports::{CallCounts, EventPublisher, Page, StateStore};

/// The ports of one function, borrowed. A function that does not use a port leaves it `()`
/// (auto-cancel has no engagement invitations).
#[derive(Debug)]
pub struct Ports<'a, Connections, Engagements, Store, Publisher, Clock, Calls> {
    /// Connection invitations (Partner Central Account API).
    pub connections: &'a Connections,
    /// Engagement invitations (Partner Central Selling API).
    pub engagements: &'a Engagements,
    /// The state table: records, outbox, sync bookkeeping.
    pub store: &'a Store,
    /// The custom event bus.
    pub publisher: &'a Publisher,
    /// Partner Central's "now".
    pub clock: &'a Clock,
    /// Partner Central calls made so far, per operation.
    pub calls: &'a Calls,
}

impl<Connections, Engagements, Store, Publisher, Clock, Calls> Clone
    for Ports<'_, Connections, Engagements, Store, Publisher, Clock, Calls>
{
    fn clone(&self) -> Self {
        *self
    }
}

impl<Connections, Engagements, Store, Publisher, Clock, Calls> Copy
    for Ports<'_, Connections, Engagements, Store, Publisher, Clock, Calls>
{
}

/// The invitations a run could not read ([`UnreadableInvitation`]). Each is reported once per
/// run — a structured warning naming the invitation, the member, its raw value and what is
/// wrong — and counted for the summary (`unreadableInvitations`) and the
/// `UnreadableInvitations` metric. The function skips it: no event, no record change, no
/// action (auto-cancel never cancels what it cannot read), so it is published when it reads
/// again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unreadables {
    found: BTreeMap<(InvitationKind, String), UnreadableInvitation>,
}

/// In a summary: how many (`unreadableInvitations`); the warnings name them.
impl Serialize for Unreadables {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(self.found.len() as u64)
    }
}

impl Unreadables {
    /// Report one (again: reported once).
    pub fn note(&mut self, unreadable: UnreadableInvitation) {
        let key = (unreadable.kind, unreadable.id.clone());
        if self.found.contains_key(&key) {
            return;
        }
        tracing::warn!(
            kind = %unreadable.kind,
            invitation_id = %unreadable.id,
            field = unreadable.member,
            raw_value = unreadable.raw_value.as_deref().unwrap_or("<missing>"),
            problem = %unreadable.problem,
            "skipping an invitation this version cannot read; it is left as it was and published once it reads again"
        );
        self.found.insert(key, unreadable);
    }

    /// Report every unreadable invitation of a page, and return its readable ones.
    pub fn sort_out(&mut self, page: Page) -> Vec<Invitation> {
        for u in page.unreadable {
            self.note(u);
        }
        page.invitations
    }

    /// Report it if the error says the invitation is unreadable (and say which call and
    /// member); otherwise give the error back.
    pub fn absorb(&mut self, error: PartnerCentralError) -> Result<UnreadableAnswer, PartnerCentralError> {
        match error {
            PartnerCentralError::Unreadable { operation, invitation } => {
                let answer = UnreadableAnswer { operation, member: invitation.member };
                self.note(invitation);
                Ok(answer)
            }
            other => Err(other),
        }
    }

    pub fn contains(&self, kind: InvitationKind, id: &str) -> bool {
        self.found.contains_key(&(kind, id.to_owned()))
    }

    pub fn len(&self) -> usize {
        self.found.len()
    }

    pub fn is_empty(&self) -> bool {
        self.found.is_empty()
    }
}

/// A call that answered with an invitation this version cannot read: the skip reason of a
/// policy function that never acts on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnreadableAnswer {
    pub operation: &'static str,
    /// The member that could not be read.
    pub member: &'static str,
}

impl fmt::Display for UnreadableAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} returned it unreadable ({}); left alone", self.operation, self.member)
    }
}

/// What a run's summary is made of besides the function's own findings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunEnd {
    /// The outbox drain (empty when the drain itself failed).
    pub events: DrainReport,
    /// Partner Central requests per operation during the run (retries included).
    pub api_calls: BTreeMap<String, u64>,
    pub duration_ms: u64,
}

/// What the run envelope adds to a summary at the end, as the summary's JSON carries it
/// (flattened): the outbox drain, the Partner Central calls, the duration, the error.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EndReport {
    /// Events delivered by the drain at the end (this run's and any left over).
    pub events_delivered: usize,
    /// Events not delivered: they stay queued for the next run.
    pub events_failed: usize,
    /// Failed events that have failed at least 5 times.
    pub events_stuck: usize,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub delivery_failures: Vec<String>,
    /// Partner Central attempts per operation during the run (retries included).
    pub api_calls: BTreeMap<String, u64>,
    pub duration_ms: u64,
    /// Why the run failed, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl EndReport {
    pub fn new(end: RunEnd, error: Option<String>) -> Self {
        EndReport {
            events_delivered: end.events.delivered,
            events_failed: end.events.failed,
            events_stuck: end.events.stuck,
            delivery_failures: end.events.failure_reasons,
            api_calls: end.api_calls,
            duration_ms: end.duration_ms,
            error,
        }
    }

    /// `metrics` with the end's: events delivered, failed and stuck, calls, duration.
    pub fn metrics(&self, metrics: RunMetrics) -> RunMetrics {
        let count = |n: usize| n as f64;
        metrics
            .count("EventsDelivered", count(self.events_delivered))
            .count("EventsFailed", count(self.events_failed))
            .count("EventsStuck", count(self.events_stuck))
            .count("ApiCalls", self.api_calls.values().sum::<u64>() as f64)
            .millis("DurationMs", self.duration_ms as f64)
    }
}

/// A run's summary: the JSON the function returns, and its EMF metrics.
pub trait RunSummary: Serialize {
    fn metrics(&self) -> RunMetrics;
}

/// The kinds of failure a function reports to Lambda, each with its own `errorType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A configuration variable is missing or invalid (at start-up).
    Configuration,
    /// The invocation payload is none of the accepted shapes.
    InvalidInput,
    /// Partner Central calls failed after retries.
    PartnerCentral,
    /// The state table failed.
    StateStore,
    /// An event could not be rendered or delivered.
    Event,
}

impl ErrorKind {
    /// The Lambda `errorType`.
    pub fn error_type(self) -> &'static str {
        match self {
            ErrorKind::Configuration => "ConfigurationError",
            ErrorKind::InvalidInput => "InvalidInput",
            ErrorKind::PartnerCentral => "PartnerCentralError",
            ErrorKind::StateStore => "StateStoreError",
            ErrorKind::Event => "EventError",
        }
    }
}

/// An error a function reports to Lambda.
pub trait FunctionError: std::error::Error {
    fn kind(&self) -> ErrorKind;
}

impl FunctionError for crate::config::ConfigError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Configuration
    }
}

impl FunctionError for StoreError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::StateStore
    }
}

impl FunctionError for crate::invocation::InputError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::InvalidInput
    }
}

/// A function's error on its way to Lambda: `errorType` from its [`ErrorKind`],
/// `errorMessage` its text.
pub struct Failure<Error>(pub Error);

impl<Error: FunctionError> From<Failure<Error>> for lambda_runtime::Diagnostic {
    fn from(Failure(e): Failure<Error>) -> Self {
        lambda_runtime::Diagnostic { error_type: e.kind().error_type().to_owned(), error_message: e.to_string() }
    }
}

impl<Error: fmt::Debug> fmt::Debug for Failure<Error> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// How a run ended: its summary always, and why it failed when it did.
#[derive(Debug)]
pub struct RunReport<Summary, Error> {
    pub summary: Summary,
    pub error: Option<Error>,
}

impl<Summary, Error> RunReport<Summary, Error> {
    /// The summary, or the run's error (the summary was logged either way).
    pub fn into_result(self) -> Result<Summary, Error> {
        match self.error {
            None => Ok(self.summary),
            Some(e) => Err(e),
        }
    }
}

/// One run of `function`: `work` (which yields what it found, and whether it failed), then
/// the outbox drain — whatever was committed, by this run, a crashed one or another
/// function, is published before returning, also when the work failed — then `summarize`,
/// the EMF metrics and one log line. Reports the summary and the run's error (the work's
/// first, else the drain's).
/// The metric of the state items a run found unreadable and set aside (see
/// [`StateStore::items_set_aside`]).
pub const STATE_ITEMS_SET_ASIDE: &str = "StateItemsSetAside";

pub async fn envelope<Connections, Engagements, Store, Publisher, Clock, Calls, Found, Summary, Error>(
    ports: Ports<'_, Connections, Engagements, Store, Publisher, Clock, Calls>,
    function: &str,
    catalog: Catalog,
    work: impl Future<Output = (Found, Result<(), Error>)>,
    summarize: impl FnOnce(Found, RunEnd, Option<&Error>) -> Summary,
) -> RunReport<Summary, Error>
where
    Store: StateStore,
    Publisher: EventPublisher,
    Calls: CallCounts,
    Summary: RunSummary,
    Error: From<StoreError> + fmt::Display,
{
    let started = Instant::now();
    let calls_before = ports.calls.snapshot();
    let set_aside_before = ports.store.items_set_aside();
    let (found, worked) = work.await;
    let mut error = worked.err();
    if let Some(e) = &error {
        tracing::error!(error = %e, "the run failed; draining what was committed before the failure");
    }
    let events = match drain_outbox(ports.store, ports.publisher).await {
        Ok(report) => report,
        Err(e) => {
            tracing::error!(error = %e, "cannot drain the outbox; queued events go out on a later run");
            error.get_or_insert(Error::from(e));
            DrainReport::default()
        }
    };
    let end = RunEnd {
        events,
        api_calls: ports.calls.since(&calls_before),
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    };
    let summary = summarize(found, end, error.as_ref());
    // Unreadable state items skipped during the run (each named in a warning): every function
    // reports them the same way, so one alarm covers them all.
    let set_aside = ports.store.items_set_aside().saturating_sub(set_aside_before);
    summary.metrics().count(STATE_ITEMS_SET_ASIDE, set_aside as f64).emit(function, catalog.as_str());
    // The answers to invitations we received that this run recorded (whoever answered).
    crate::metrics::emit_answers(&ports.store.take_answers(), catalog.as_str());
    let rendered = serde_json::to_string(&summary).unwrap_or_default();
    match &error {
        None => tracing::info!(summary = %rendered, "run finished"),
        Some(e) => tracing::error!(error = %e, summary = %rendered, "run failed"),
    }
    RunReport { summary, error }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::domain::{InvitationEvent, OutboundEvent};
    use crate::testing::{FakePartnerCentral, MemoryStateStore, RecordingPublisher, connection_invitation};

    #[derive(Debug, Serialize)]
    struct Report {
        found: usize,
        delivered: usize,
        error: Option<String>,
    }

    impl RunSummary for Report {
        fn metrics(&self) -> RunMetrics {
            RunMetrics::new().count("Found", self.found as f64)
        }
    }

    #[derive(Debug, thiserror::Error)]
    enum TestError {
        #[error("work failed")]
        Work,
        #[error(transparent)]
        Store(#[from] StoreError),
    }

    #[tokio::test]
    async fn the_outbox_is_drained_also_when_the_work_failed() {
        let now = Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).single().unwrap_or_default();
        let store = MemoryStateStore::new();
        let publisher = RecordingPublisher::new();
        let partner_central = FakePartnerCentral::new(vec![]);
        let event = InvitationEvent::created(&connection_invitation("pacinv-1", now), now);
        let outbound = OutboundEvent::from_event(&event).unwrap_or_else(|e| panic!("{e}"));
        let ports = Ports {
            connections: &partner_central,
            engagements: &partner_central,
            store: &store,
            publisher: &publisher,
            clock: &(),
            calls: &partner_central,
        };
        let work = async {
            store.enqueue(vec![outbound.clone()]).await.map_err(TestError::from)?;
            Err::<(), _>(TestError::Work)
        };
        let result = envelope(ports, "test", Catalog::Aws, async { (3, work.await) }, |found, end, error| Report {
            found,
            delivered: end.events.delivered,
            error: error.map(ToString::to_string),
        })
        .await;
        assert_eq!(result.summary.error.as_deref(), Some("work failed"));
        assert!(matches!(result.into_result(), Err(TestError::Work)));
        assert_eq!(publisher.published(), [outbound], "committed before the failure, delivered anyway");
    }

    #[test]
    fn every_kind_of_failure_has_its_own_error_type() {
        let e = StoreError::Unavailable { operation: "Query", message: "down".into() };
        let d = lambda_runtime::Diagnostic::from(Failure(e));
        assert_eq!(
            (d.error_type.as_str(), d.error_message.as_str()),
            ("StateStoreError", "state table Query failed: down")
        );
        let kinds = [
            ErrorKind::Configuration,
            ErrorKind::InvalidInput,
            ErrorKind::PartnerCentral,
            ErrorKind::StateStore,
            ErrorKind::Event,
        ];
        let types: std::collections::BTreeSet<&str> = kinds.iter().map(|k| k.error_type()).collect();
        assert_eq!(types.len(), kinds.len());
    }
}
