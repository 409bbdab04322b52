//! What a run reports: the JSON summary it returns and the metrics it emits.

use std::collections::BTreeMap;

use serde::Serialize;
use shared::delivery::DrainReport;
use shared::metrics::RunMetrics;
use shared::run::RunSummary;

/// The fewest Partner Central calls that could have found what an incremental run found
/// (the README's formula), gathered as the run goes: its `lowerBound`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LowerBound {
    /// Pages of the listings the run needed.
    pub listing_pages: u64,
    /// Gets of records the listings did not show (a recorded PENDING invitation that left
    /// PENDING or is gone, or one nobody announced yet).
    pub absent_reads: u64,
    /// Gets for the detail fields of connection invitations the run publishes.
    pub connection_details: u64,
}

impl LowerBound {
    pub fn add(&mut self, other: LowerBound) {
        self.listing_pages += other.listing_pages;
        self.absent_reads += other.absent_reads;
        self.connection_details += other.connection_details;
    }

    pub fn total(self) -> u64 {
        self.listing_pages + self.absent_reads + self.connection_details
    }
}

/// Invitations returned by the listings of a run, per kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PerKind {
    pub connection: usize,
    pub engagement: usize,
}

/// The JSON a run returns.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// `baseline`, `full` or `incremental`.
    pub mode: String,
    /// Invitations the listings returned (distinct), per kind.
    pub invitations_seen: PerKind,
    /// Events this run committed to the outbox, per detail-type.
    pub changes: BTreeMap<String, usize>,
    /// Records written (new, changed, announced, retired).
    pub records_written: usize,
    /// Records updated without an event (e.g. the expiry moved).
    pub silent_updates: usize,
    /// Records retired because their invitation no longer exists (Get answered NotFound).
    pub retired: usize,
    /// Commits that found the record changed by someone else and were decided again.
    pub conflicts: usize,
    /// Invitations this version cannot read (an unknown enum value, a missing member): each
    /// named in a warning, skipped and left as it was until it reads again.
    pub unreadable_invitations: usize,
    /// The outbox drain at the end of the run: queued (this run's and left over),
    /// delivered, failed, stuck, PutEvents calls.
    pub events: DrainReport,
    /// Partner Central requests per operation (every attempt, retries included).
    pub api_calls: BTreeMap<String, u64>,
    pub api_calls_total: u64,
    /// Incremental runs: the fewest Partner Central calls that could have found what this
    /// run found (see the README's formula); `apiCallsTotal` stays at or below it unless
    /// retries or races added calls.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lower_bound: Option<u64>,
    /// Failures that make the run fail (listings or reads of single invitations).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    pub duration_ms: u64,
}

impl Summary {
    /// Total events committed this run.
    pub fn changes_detected(&self) -> usize {
        self.changes.values().sum()
    }
}

impl RunSummary for Summary {
    /// The run's EMF metrics.
    fn metrics(&self) -> RunMetrics {
        let mut m = RunMetrics::new()
            .count("InvitationsSeen", count(self.invitations_seen.connection + self.invitations_seen.engagement))
            .count("ChangesDetected", count(self.changes_detected()))
            .count("EventsQueued", count(self.events.queued))
            .count("EventsDelivered", count(self.events.delivered))
            .count("EventsFailed", count(self.events.failed))
            .count("EventsStuck", count(self.events.stuck))
            .count("ApiCalls", self.api_calls_total as f64)
            .count("Conflicts", count(self.conflicts))
            .count("UnreadableInvitations", count(self.unreadable_invitations))
            .count("FullSync", if self.mode == "incremental" { 0.0 } else { 1.0 })
            .millis("DurationMs", self.duration_ms as f64);
        if let Some(bound) = self.lower_bound {
            m = m.count("ApiCallsLowerBound", bound as f64);
        }
        m
    }
}

fn count(n: usize) -> f64 {
    n as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_serializes_camel_case_and_metrics_use_the_shared_names() {
        let mut s = Summary { mode: "incremental".into(), lower_bound: Some(7), ..Summary::default() };
        s.changes.insert("Engagement Invitation Accepted".into(), 2);
        s.events.failed = 1;
        let v = serde_json::to_value(&s).unwrap_or_default();
        assert_eq!(v["mode"], "incremental");
        assert_eq!(v["invitationsSeen"]["engagement"], 0);
        assert_eq!(v["changes"]["Engagement Invitation Accepted"], 2);
        assert_eq!(v["events"]["failed"], 1);
        assert_eq!(v["lowerBound"], 7);
        assert!(v.get("errors").is_none());
        let emf = s.metrics().to_emf("list-and-publish", "AWS", 0);
        assert_eq!(emf["EventsFailed"], 1.0);
        assert_eq!(emf["ChangesDetected"], 2.0);
        assert_eq!(emf["ApiCallsLowerBound"], 7.0);
        assert_eq!(emf["FullSync"], 0.0);
    }
}
