//! What a run reports: the JSON summary (the Lambda response), its EMF metrics, and why a
//! match was left alone ([`SkipReason`], rendered into the summary as text).

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};

use shared::PartnerCentralError;
use shared::domain::{InvitationStatus, ParticipantType};
use shared::metrics::RunMetrics;
use shared::policy::PolicySummary;
use shared::run::{EndReport, RunEnd, RunSummary, UnreadableAnswer, Unreadables};

use crate::policy::Policy;

/// Why a match was left alone. Its text (the `Display`) is the `reason` of the summary's
/// `skipped`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SkipReason {
    /// The state table has it in a final status (e.g. the sweeper recorded it EXPIRED).
    AlreadyTerminal(InvitationStatus),
    /// Past its expiry: it expires by itself (the sweeper reports it).
    Overdue,
    /// The Get says we did not send it.
    NotSender(ParticipantType),
    /// The Get says it changed since the listing (the transition is recorded and published).
    NoLongerPending(InvitationStatus),
    /// Partner Central no longer knows it.
    NotFound { operation: &'static str },
    /// Partner Central refused the call for the invitation's state; `now`: the final status a
    /// Get found afterwards, when it found one.
    Conflict { operation: &'static str, reason: String, now: Option<InvitationStatus> },
    /// The Cancel answered, but not with CANCELED (the status it showed is recorded).
    CancelAnswered(InvitationStatus),
    /// Others kept changing its state record while we tried to commit.
    RecordKeptChanging,
    /// The call returned the invitation in a form this version cannot read (an unknown
    /// value, a missing member): never acted on. After a Cancel, list-and-publish records
    /// what it became once it reads again.
    Unreadable(UnreadableAnswer),
}

impl SkipReason {
    /// The skip a lost race with the partner (or another writer) comes to; `None` for a
    /// failure that is not a race.
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
            SkipReason::Overdue => f.write_str("past its expiry: it expires by itself"),
            SkipReason::NotSender(participant) => write!(f, "we are its {participant}, not its sender"),
            SkipReason::NoLongerPending(status) => write!(f, "no longer PENDING: {status}"),
            SkipReason::NotFound { operation } => write!(f, "{operation}: not found"),
            SkipReason::Conflict { operation, reason, now } => {
                write!(f, "{operation}: conflict ({reason})")?;
                match now {
                    Some(status) => write!(f, "; now {status}"),
                    None => Ok(()),
                }
            }
            SkipReason::CancelAnswered(status) => write!(f, "Cancel answered with status {status}"),
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

/// One invitation the policy selected, and by which rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Match {
    pub(crate) invitation_id: String,
    pub(crate) rule: String,
    pub(crate) other_participant_identifier: Option<String>,
    pub(crate) created_at: DateTime<Utc>,
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
    pub(crate) max_cancellations_per_run: u32,
    pub(crate) max_cancellations_per_day: u32,
    /// Our PENDING invitations listed.
    pub(crate) candidates: usize,
    /// Per rule (every rule of the policy), how many candidates it matched first,
    /// exclusions not applied.
    pub(crate) matched_per_rule: BTreeMap<String, usize>,
    /// Candidates a rule matched but an exclusion protected.
    pub(crate) excluded: usize,
    /// Every match the policy would cancel, oldest first (exclusions applied).
    pub(crate) matches: Vec<Match>,
    /// Dry run: the matches it plans to cancel (each gets one `Cancellation Planned` event
    /// per policy hash).
    pub(crate) planned: Vec<String>,
    /// Real run: canceled by this run.
    pub(crate) canceled: Vec<String>,
    /// Matches left alone, with the reason (no longer pending, conflict, not found, ...).
    pub(crate) skipped: Vec<Skip>,
    /// Matches beyond `maxCancellationsPerRun`: left for a later run (in a dry run: what a
    /// real run now would leave for later).
    pub(crate) deferred: Vec<String>,
    /// Invitations this version cannot read (an unknown enum value, a missing member): how
    /// many (each named in a warning), never canceled.
    #[serde(rename = "unreadableInvitations")]
    pub(crate) unreadable: Unreadables,
    /// Events committed to the outbox by this run.
    pub(crate) events_queued: usize,
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
            max_cancellations_per_run: policy.limits.max_per_run,
            max_cancellations_per_day: policy.limits.max_per_day,
            matched_per_rule: policy.rule_names().map(|n| (n.to_owned(), 0)).collect(),
            ..Summary::default()
        }
    }

    pub(crate) fn skip(&mut self, invitation_id: &str, reason: SkipReason) {
        tracing::info!(invitation_id, %reason, "skipped");
        self.skipped.push(Skip { invitation_id: invitation_id.to_owned(), reason });
    }

    /// The skip an error of a Get or Cancel comes to (an unreadable answer, reported, or a
    /// lost race); the error back when it is a failure of the run.
    pub(crate) fn skip_reason_of(&mut self, error: PartnerCentralError) -> Result<SkipReason, PartnerCentralError> {
        match self.unreadable.absorb(error) {
            Ok(answer) => Ok(SkipReason::Unreadable(answer)),
            Err(error) => SkipReason::of_race(&error).ok_or(error),
        }
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
            .count("Cancellations", count(self.canceled.len()))
            .count("CancellationsPlanned", count(self.planned.len()))
            .count("Skipped", count(self.skipped.len()))
            .count("Deferred", count(self.deferred.len()))
            .count("UnreadableInvitations", count(self.unreadable.len()));
        self.end.metrics(metrics)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reasons as consumers of the summary have always read them.
    #[test]
    fn every_skip_reason_renders_as_before() {
        let conflict = |now| SkipReason::Conflict {
            operation: "CancelConnectionInvitation",
            reason: "INCOMPATIBLE_CONNECTION_INVITATION_STATE".into(),
            now,
        };
        let rendered = [
            (SkipReason::AlreadyTerminal(InvitationStatus::Expired), "already EXPIRED in the state table"),
            (SkipReason::Overdue, "past its expiry: it expires by itself"),
            (SkipReason::NotSender(ParticipantType::Receiver), "we are its RECEIVER, not its sender"),
            (SkipReason::NoLongerPending(InvitationStatus::Canceled), "no longer PENDING: CANCELED"),
            (SkipReason::NotFound { operation: "GetConnectionInvitation" }, "GetConnectionInvitation: not found"),
            (conflict(None), "CancelConnectionInvitation: conflict (INCOMPATIBLE_CONNECTION_INVITATION_STATE)"),
            (
                conflict(Some(InvitationStatus::Accepted)),
                "CancelConnectionInvitation: conflict (INCOMPATIBLE_CONNECTION_INVITATION_STATE); now ACCEPTED",
            ),
            (SkipReason::CancelAnswered(InvitationStatus::Accepted), "Cancel answered with status ACCEPTED"),
            (SkipReason::RecordKeptChanging, "its state record kept changing; try again on the next run"),
        ];
        for (reason, text) in rendered {
            assert_eq!(reason.to_string(), text);
            let skip = Skip { invitation_id: "pacinv-A000000000001".into(), reason };
            assert_eq!(
                serde_json::to_value(&skip).unwrap_or_default(),
                serde_json::json!({"invitationId": "pacinv-A000000000001", "reason": text})
            );
        }
    }

    #[test]
    fn only_races_are_skips() {
        let gone = PartnerCentralError::NotFound { operation: "GetConnectionInvitation", message: "gone".into() };
        assert_eq!(SkipReason::of_race(&gone), Some(SkipReason::NotFound { operation: "GetConnectionInvitation" }));
        let down = PartnerCentralError::Service { operation: "GetConnectionInvitation", message: "down".into() };
        assert_eq!(SkipReason::of_race(&down), None);
    }
}
