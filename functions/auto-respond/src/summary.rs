//! What a run reports: the JSON summary (the Lambda response), its EMF metrics, and why a
//! match was left alone ([`SkipReason`], rendered into the summary as text).

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};

use shared::PartnerCentralError;
use shared::domain::engagement_response::{AcceptanceTask, TaskReasonCode};
use shared::domain::{InvitationStatus, Response};
use shared::metrics::RunMetrics;
use shared::policy::PolicySummary;
use shared::run::{EndReport, RunEnd, RunSummary, UnreadableAnswer, Unreadables};

use crate::policy::Policy;

/// Why a match was left alone. Its text (the `Display`) is the `reason` of the summary's
/// `skipped`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SkipReason {
    /// The state table has it in a final status.
    AlreadyTerminal(InvitationStatus),
    /// An acceptance task was started for it (by an earlier run) and is being followed.
    BeingAccepted { task_id: String },
    /// An acceptance task started for it ended; `status`: how (a FAILED one is not retried
    /// under the same policy: its client token names that task).
    AcceptanceEnded { task_id: String, status: String },
    /// Past its expiry: it expires by itself.
    Overdue,
    /// The Get says it changed since the listing (the transition is recorded and published).
    NoLongerPending(InvitationStatus),
    /// Partner Central no longer knows it.
    NotFound { operation: &'static str },
    /// Partner Central refused the call for the invitation's state; `now`: the final status a
    /// Get found afterwards, when it found one.
    Conflict { operation: &'static str, reason: String, now: Option<InvitationStatus> },
    /// Others kept changing its state record while we tried to commit.
    RecordKeptChanging,
    /// The call returned the invitation in a form this version cannot read (an unknown
    /// value, a missing member): never answered.
    Unreadable(UnreadableAnswer),
}

impl SkipReason {
    /// The skip a lost race comes to; `None` for a failure that is not a race.
    pub(crate) fn of_race(error: &PartnerCentralError) -> Option<SkipReason> {
        match error {
            PartnerCentralError::NotFound { operation, .. } => Some(SkipReason::NotFound { operation }),
            PartnerCentralError::Conflict { operation, reason, .. } => {
                Some(SkipReason::Conflict { operation, reason: reason.clone(), now: None })
            }
            _ => None,
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::AlreadyTerminal(status) => write!(f, "already {status} in the state table"),
            SkipReason::BeingAccepted { task_id } => write!(f, "being accepted by {task_id}"),
            SkipReason::AcceptanceEnded { task_id, status } => {
                write!(f, "its acceptance task {task_id} ended {status}; not started again under this policy")
            }
            SkipReason::Overdue => f.write_str("past its expiry: it expires by itself"),
            SkipReason::NoLongerPending(status) => write!(f, "no longer PENDING: {status}"),
            SkipReason::NotFound { operation } => write!(f, "{operation}: not found"),
            SkipReason::Conflict { operation, reason, now } => {
                write!(f, "{operation}: conflict ({reason})")?;
                match now {
                    Some(status) => write!(f, "; now {status}"),
                    None => Ok(()),
                }
            }
            SkipReason::RecordKeptChanging => f.write_str("its state record kept changing; try again on the next run"),
            SkipReason::Unreadable(answer) => answer.fmt(f),
        }
    }
}

impl Serialize for SkipReason {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// An invitation left alone, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Skip {
    pub(crate) invitation_id: String,
    pub(crate) reason: SkipReason,
}

/// One invitation the policy selected: by which rule, to be answered how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Match {
    pub(crate) invitation_id: String,
    pub(crate) rule: String,
    #[serde(flatten)]
    pub(crate) response: Response,
    pub(crate) sender_company_name: Option<String>,
    pub(crate) created_at: DateTime<Utc>,
}

/// An acceptance task started by this run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Started {
    pub(crate) invitation_id: String,
    pub(crate) task_id: String,
}

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
    /// Whether this run was a dry run (policy, or forced by the payload).
    pub(crate) dry_run: bool,
    /// What decided the mode, and anything the payload asked for that was not done.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) notes: Vec<String>,
    pub(crate) policy_hash: String,
    pub(crate) max_actions_per_run: u32,
    pub(crate) max_actions_per_day: u32,
    /// PENDING engagement invitations we received, listed.
    pub(crate) candidates: usize,
    /// Per rule (every rule of the policy), how many candidates it matched first,
    /// exclusions not applied.
    pub(crate) matched_per_rule: BTreeMap<String, usize>,
    /// Candidates a rule matched but an exclusion protected.
    pub(crate) excluded: usize,
    /// Every match the policy would answer, oldest first (exclusions applied).
    pub(crate) matches: Vec<Match>,
    /// Dry run: the matches it plans to answer (each gets one `Response Planned` event per
    /// policy hash).
    pub(crate) planned: Vec<String>,
    /// Real run: acceptance tasks started by this run.
    pub(crate) accepting: Vec<Started>,
    /// Real run: rejected by this run.
    pub(crate) rejected: Vec<String>,
    /// Matches left alone, with the reason.
    pub(crate) skipped: Vec<Skip>,
    /// Matches beyond `maxActionsPerRun` or the day's budget: left for a later run.
    pub(crate) deferred: Vec<String>,
    /// Acceptance tasks followed (started earlier, not yet seen ending).
    pub(crate) tasks_followed: usize,
    /// Acceptance tasks seen COMPLETE by this run.
    pub(crate) acceptances_completed: Vec<Ended>,
    /// Acceptance tasks seen FAILED by this run, with the reason.
    pub(crate) acceptances_failed: Vec<Ended>,
    /// Events committed to the outbox by this run.
    pub(crate) events_queued: usize,
    /// Invitations this version cannot read (an unknown enum value, a missing member): how
    /// many (each named in a warning), never answered.
    #[serde(rename = "unreadableInvitations")]
    pub(crate) unreadable: Unreadables,
    /// The outbox drain, the calls, the duration, the error.
    #[serde(flatten)]
    pub(crate) end: EndReport,
}

impl Summary {
    /// The summary of a run of `policy` before it found anything: every rule at 0 matches.
    pub(crate) fn new(policy: &Policy, dry_run: bool) -> Self {
        Summary {
            dry_run,
            policy_hash: policy.hash().to_owned(),
            max_actions_per_run: policy.limits.max_per_run,
            max_actions_per_day: policy.limits.max_per_day,
            matched_per_rule: policy.rule_names().map(|n| (n.to_owned(), 0)).collect(),
            ..Summary::default()
        }
    }

    pub(crate) fn skip(&mut self, invitation_id: &str, reason: SkipReason) {
        tracing::info!(invitation_id, %reason, "skipped");
        self.skipped.push(Skip { invitation_id: invitation_id.to_owned(), reason });
    }

    /// Real actions taken by this run (starts and rejections).
    pub(crate) fn actions(&self) -> usize {
        self.accepting.len() + self.rejected.len()
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
            .count("Rejections", count(self.rejected.len()))
            .count("ResponsesPlanned", count(self.planned.len()))
            .count("AcceptancesCompleted", count(self.acceptances_completed.len()))
            .count("AcceptancesFailed", count(self.acceptances_failed.len()))
            .count("Skipped", count(self.skipped.len()))
            .count("Deferred", count(self.deferred.len()))
            .count("UnreadableInvitations", count(self.unreadable.len()));
        self.end.metrics(metrics)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skip_reasons_name_what_happened() {
        let rendered = [
            (SkipReason::BeingAccepted { task_id: "task-1".into() }, "being accepted by task-1"),
            (
                SkipReason::AcceptanceEnded { task_id: "task-1".into(), status: "FAILED".into() },
                "its acceptance task task-1 ended FAILED; not started again under this policy",
            ),
            (
                SkipReason::Conflict {
                    operation: "RejectEngagementInvitation",
                    reason: "UNSPECIFIED".into(),
                    now: Some(InvitationStatus::Accepted),
                },
                "RejectEngagementInvitation: conflict (UNSPECIFIED); now ACCEPTED",
            ),
            (SkipReason::NoLongerPending(InvitationStatus::Rejected), "no longer PENDING: REJECTED"),
        ];
        for (reason, text) in rendered {
            let skip = Skip { invitation_id: "engi-0000000000001".into(), reason };
            assert_eq!(
                serde_json::to_value(&skip).unwrap_or_default(),
                serde_json::json!({"invitationId": "engi-0000000000001", "reason": text})
            );
        }
        let gone = PartnerCentralError::NotFound { operation: "GetEngagementInvitation", message: "gone".into() };
        assert_eq!(SkipReason::of_race(&gone), Some(SkipReason::NotFound { operation: "GetEngagementInvitation" }));
        let down = PartnerCentralError::Service { operation: "GetEngagementInvitation", message: "down".into() };
        assert_eq!(SkipReason::of_race(&down), None);
    }
}
