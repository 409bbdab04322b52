//! What a run reports: the JSON summary (the Lambda response) — the engine's report
//! (`shared::policy::engine::PolicyReport`) plus what was canceled — and its EMF metrics.

use std::ops::{Deref, DerefMut};

use serde::Serialize;

use shared::metrics::RunMetrics;
use shared::policy::PolicySummary;
use shared::policy::engine::PolicyReport;
use shared::run::{EndReport, RunEnd, RunSummary};

use crate::policy::Policy;

/// The run's JSON summary (the Lambda response).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Mode, policy, candidates, matches, plans, skips, deferrals, events.
    #[serde(flatten)]
    pub(crate) report: PolicyReport,
    /// Real run: canceled by this run.
    pub(crate) canceled: Vec<String>,
    /// The outbox drain, the calls, the duration, the error.
    #[serde(flatten)]
    pub(crate) end: EndReport,
}

impl Deref for Summary {
    type Target = PolicyReport;
    fn deref(&self) -> &PolicyReport {
        &self.report
    }
}

impl DerefMut for Summary {
    fn deref_mut(&mut self) -> &mut PolicyReport {
        &mut self.report
    }
}

impl Summary {
    /// The summary of a run of `policy` before it found anything: every rule at 0 matches.
    pub(crate) fn new(policy: &Policy, dry_run: bool) -> Self {
        let mut report = PolicyReport::new(policy.hash(), &policy.limits, policy.rule_names(), dry_run);
        // Old names the policy still uses: said in every summary until renamed.
        report.notes.extend(policy.warnings().iter().cloned());
        Summary { report, ..Summary::default() }
    }
}

impl PolicySummary for Summary {
    fn note(&mut self, note: String) {
        self.report.notes.push(note);
    }

    /// What the run envelope adds at the end: the outbox drain, the calls, the duration, the
    /// error.
    fn ended(self, end: RunEnd, error: Option<String>) -> Self {
        Summary { end: EndReport::new(end, error), ..self }
    }
}

impl RunSummary for Summary {
    /// The EMF metrics of the run.
    fn metrics(&self) -> RunMetrics {
        let count = |n: usize| n as f64;
        let metrics = RunMetrics::new()
            .count("Candidates", count(self.candidates))
            .count("Cancellations", count(self.canceled.len()))
            .count("CancellationsPlanned", count(self.planned.len()))
            .count("Skipped", count(self.skipped.len()))
            .count("Deferred", count(self.deferred.len()))
            .count("UnreadableInvitations", count(self.unreadable.len()));
        self.end.metrics(metrics)
    }
}
