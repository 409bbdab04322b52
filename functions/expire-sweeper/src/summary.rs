//! The run summary (the function's output) and its EMF metrics.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use shared::delivery::DrainReport;
use shared::domain::Catalog;
use shared::metrics::RunMetrics;
use shared::run::RunSummary;

/// PENDING invitations listed, per kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingSeen {
    pub connection: usize,
    pub engagement: usize,
}

impl PendingSeen {
    pub fn total(&self) -> usize {
        self.connection + self.engagement
    }
}

/// What one run did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub catalog: Catalog,
    /// `scheduledRule` or `invoke` (Scheduler payload or manual).
    pub trigger: &'static str,
    /// "Now" by Partner Central's clock, once its listings answered.
    pub observed_at: Option<DateTime<Utc>>,
    pub pending_seen: PendingSeen,
    /// Warnings queued this run per threshold (hours; every configured one, zeros included).
    pub warnings: BTreeMap<u32, usize>,
    /// `Expired` events queued this run (overdue but PENDING, or seen EXPIRED).
    pub expired: usize,
    /// Other transitions seen on a Get and queued (ACCEPTED, REJECTED, CANCELED).
    pub other_transitions: usize,
    /// Records created for invitations not in the table yet (unannounced).
    pub records_created: usize,
    /// Records changed by another writer between read and commit (decided again).
    pub conflicts: usize,
    /// Still contended after re-reading; decided again by the next run.
    pub unresolved_conflicts: usize,
    /// Recorded as PENDING, no longer listed, and unknown to Get: retired (no event, no
    /// longer followed, removed by the table's TTL).
    pub not_found: usize,
    /// Unknown invitations still PENDING but overdue by more than `RETENTION_DAYS`: not
    /// reported again.
    pub stale_skipped: usize,
    /// Invitations this version cannot read (an unknown enum value, a missing member): each
    /// named in a warning, skipped and left as it was until it reads again.
    pub unreadable_invitations: usize,
    /// Invitations in this run's digest; null when no digest was made.
    pub digest: Option<usize>,
    /// The outbox drain: queued, delivered, failed, stuck, PutEvents calls.
    pub events: DrainReport,
    /// Partner Central attempts per operation during the run (retries included).
    pub api_calls: BTreeMap<String, u64>,
    /// Why the run failed (it returns an error after draining), if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub duration_ms: u64,
}

impl Summary {
    pub fn warnings_published(&self) -> usize {
        self.warnings.values().sum()
    }
}

impl RunSummary for Summary {
    /// The run's EMF metrics.
    fn metrics(&self) -> RunMetrics {
        let mut m = RunMetrics::new()
            .count("InvitationsSeen", self.pending_seen.total() as f64)
            .count("WarningsPublished", self.warnings_published() as f64)
            .count("ExpiredPublished", self.expired as f64)
            .count("TransitionsPublished", self.other_transitions as f64)
            .count("StateConflicts", self.conflicts as f64)
            .count("UnreadableInvitations", self.unreadable_invitations as f64)
            .count("EventsDelivered", self.events.delivered as f64)
            .count("EventsFailed", self.events.failed as f64)
            .count("EventsStuck", self.events.stuck as f64)
            .count("ApiCalls", self.api_calls.values().sum::<u64>() as f64)
            .count("RunFailed", if self.error.is_some() { 1.0 } else { 0.0 })
            .millis("DurationMs", self.duration_ms as f64);
        if let Some(n) = self.digest {
            m = m.count("DigestInvitations", n as f64);
        }
        m
    }
}
