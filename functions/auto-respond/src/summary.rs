//! What a run reports: the JSON summary (the Lambda response) — the engine's report
//! (`shared::policy::engine::PolicyReport`) plus the answers given and the acceptance tasks
//! followed — and its EMF metrics.

use std::ops::{Deref, DerefMut};

use serde::Serialize;

use shared::domain::InvitationStatus;
use shared::domain::engagement_response::{AcceptanceTask, TaskReasonCode};
use shared::metrics::RunMetrics;
use shared::policy::PolicySummary;
use shared::policy::engine::{PolicyReport, Started};
use shared::run::{EndReport, RunEnd, RunSummary};

use crate::policy::Policy;

/// An acceptance task seen ending by this run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Ended {
    pub(crate) invitation_id: String,
    pub(crate) task_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) opportunity_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) reason_code: Option<TaskReasonCode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) message: Option<String>,
}

impl Ended {
    pub(crate) fn of(invitation_id: &str, task: &AcceptanceTask) -> Self {
        Ended {
            invitation_id: invitation_id.to_owned(),
            task_id: task.task_id.clone(),
            opportunity_id: task.opportunity_id.clone(),
            reason_code: task.reason_code.clone(),
            message: task.message.clone(),
        }
    }
}

/// The run's JSON summary (the Lambda response).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Mode, policy, candidates (both kinds), matches, plans, skips, deferrals, events.
    #[serde(flatten)]
    pub(crate) report: PolicyReport,
    /// Real run: engagement acceptance tasks started by this run.
    pub(crate) accepting: Vec<Started>,
    /// Real run: connection invitations accepted by this run (the connection is created).
    pub(crate) accepted: Vec<String>,
    /// Real run: rejected by this run (both kinds).
    pub(crate) rejected: Vec<String>,
    /// Acceptance tasks followed (started earlier, not yet seen ending).
    pub(crate) tasks_followed: usize,
    /// Acceptance tasks seen COMPLETE by this run.
    pub(crate) acceptances_completed: Vec<Ended>,
    /// Acceptance tasks seen FAILED by this run, with the reason.
    pub(crate) acceptances_failed: Vec<Ended>,
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
        let report = PolicyReport::new(policy.hash(), &policy.limits, policy.rule_names(), dry_run);
        Summary { report, ..Summary::default() }
    }

    /// Name what the engine did: tasks started, connections accepted, invitations rejected.
    pub(crate) fn name_the_answers(&mut self) {
        self.accepting = self.report.started.clone();
        self.accepted = self.report.acted_to(InvitationStatus::Accepted);
        self.rejected = self.report.acted_to(InvitationStatus::Rejected);
    }
}

impl PolicySummary for Summary {
    fn note(&mut self, note: String) {
        self.notes.push(note);
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
            .count("AcceptancesStarted", count(self.accepting.len()))
            .count("ConnectionsAccepted", count(self.accepted.len()))
            .count("Rejections", count(self.rejected.len()))
            .count("QuotaExceeded", count(self.quota_skips()))
            .count("ResponsesPlanned", count(self.planned.len()))
            .count("AcceptancesCompleted", count(self.acceptances_completed.len()))
            .count("AcceptancesFailed", count(self.acceptances_failed.len()))
            .count("Skipped", count(self.skipped.len()))
            .count("Deferred", count(self.deferred.len()))
            .count("UnreadableInvitations", count(self.unreadable.len()));
        self.end.metrics(metrics)
    }
}
