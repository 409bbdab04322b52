//! What a relay invocation reports: the JSON summary (logged; returned for a direct event)
//! and its EMF metrics.

use std::collections::BTreeMap;

use serde::Serialize;
use shared::delivery::DrainReport;
use shared::metrics::RunMetrics;
use shared::run::RunSummary;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// `sqs` (a batch from the queue) or `event` (one event invoked directly).
    pub trigger: &'static str,
    /// Native events in the invocation.
    pub received: usize,
    /// Distinct invitations they named (one Get each).
    pub invitations: usize,
    /// Our events committed to the outbox, per detail-type.
    pub changes: BTreeMap<String, usize>,
    /// Native events whose invitation had nothing new for us: duplicates, late or
    /// out-of-order events, changes the poller already published.
    pub unchanged: usize,
    /// Native events not ours to relay, per reason.
    pub ignored: BTreeMap<&'static str, usize>,
    /// Native events that could not be read (logged with the field; the poller reconciles).
    pub malformed: usize,
    /// Native events left for SQS to deliver again (their Get or commit failed).
    pub failed: usize,
    pub conflicts: usize,
    /// Invitations the Get returned in a form this version cannot read (an unknown enum
    /// value, a missing member): each named in a warning; their native events are ignored
    /// (`ignored.unreadable`), the poller publishes once they read again.
    pub unreadable_invitations: usize,
    /// The outbox drain at the end of the invocation.
    pub events: DrainReport,
    pub api_calls: BTreeMap<String, u64>,
    pub api_calls_total: u64,
    /// From the earliest native event's `time` to the end of the outbox drain, over the
    /// native events that produced one of our events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms_max: Option<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// The first native event that could not be read (what a direct invocation fails with).
    #[serde(skip)]
    pub first_malformed: Option<crate::native::Malformed>,
    /// The SQS messages to report in `batchItemFailures`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failed_message_ids: Vec<String>,
    pub duration_ms: u64,
}

impl Summary {
    pub fn relayed(&self) -> usize {
        self.changes.values().sum()
    }
}

impl RunSummary for Summary {
    fn metrics(&self) -> RunMetrics {
        let mut m = RunMetrics::new()
            .count("NativeEventsReceived", self.received as f64)
            .count("Relayed", self.relayed() as f64)
            .count("NativeEventsUnchanged", self.unchanged as f64)
            .count("NativeEventsMalformed", self.malformed as f64)
            .count("NativeEventsFailed", self.failed as f64)
            .count("EventsQueued", self.events.queued as f64)
            .count("EventsDelivered", self.events.delivered as f64)
            .count("EventsFailed", self.events.failed as f64)
            .count("EventsStuck", self.events.stuck as f64)
            .count("ApiCalls", self.api_calls_total as f64)
            .count("Conflicts", self.conflicts as f64)
            .count("UnreadableInvitations", self.unreadable_invitations as f64)
            .millis("DurationMs", self.duration_ms as f64);
        for (reason, n) in &self.ignored {
            m = m.count(format!("Ignored_{reason}"), *n as f64);
        }
        if let Some(latency) = self.latency_ms_max {
            m = m.millis("RelayLatencyMs", latency as f64);
        }
        m
    }
}
