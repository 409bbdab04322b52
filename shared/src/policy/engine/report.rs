//! What the engine reports: the part of a policy-driven function's summary every such
//! function shares, and why a match was left alone ([`SkipReason`], rendered as text).

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::PartnerCentralError;
use crate::domain::{Invitation, InvitationStatus, ParticipantType};
use crate::run::{UnreadableAnswer, Unreadables};

use super::super::Limits;

/// Why a match was left alone. Its text (the `Display`) is the `reason` of the summary's
/// `skipped`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// The state table has it in a final status (e.g. the sweeper recorded it EXPIRED).
    AlreadyTerminal(InvitationStatus),
    /// Past its expiry: it expires by itself (the sweeper reports it).
    Overdue,
    /// The Get says we are on the other side of it.
    WrongSide { is: ParticipantType, expected: ParticipantType },
    /// The Get says it changed since the listing (the transition is recorded and published).
    NoLongerPending(InvitationStatus),
    /// Partner Central no longer knows it.
    NotFound { operation: &'static str },
    /// Partner Central refused the call for the invitation's state; `now`: the final status a
    /// Get found afterwards, when it found one.
    Conflict { operation: &'static str, reason: String, now: Option<InvitationStatus> },
    /// Partner Central refused the call for a quota (e.g. the active-connection limit).
    QuotaExceeded { operation: &'static str, reason: String },
    /// The action answered, but not with the status it gives (the status it showed is
    /// recorded).
    Answered { operation: &'static str, status: InvitationStatus },
    /// An acceptance task of it is running.
    BeingAccepted { task_id: String },
    /// An acceptance task of it ended without the invitation being accepted; not started
    /// again under this policy.
    AcceptanceEnded { task_id: String, status: String },
    /// Others kept changing its state record while we tried to commit.
    RecordKeptChanging,
    /// The call returned the invitation in a form this version cannot read (an unknown
    /// value, a missing member): never acted on.
    Unreadable(UnreadableAnswer),
    /// Its rule says `ask`: a person was asked (this approval id) and has not decided yet.
    AwaitingApproval { approval_id: String, until: DateTime<Utc> },
    /// Its rule says `ask`, and a person dismissed the approval: not asked again under this
    /// policy.
    Dismissed { approval_id: String },
    /// Its rule says `ask`, but it expires within the approval safety margin.
    TooLateToAsk { until: DateTime<Utc> },
}

impl SkipReason {
    /// The skip a lost race with the partner (or another writer), or a quota, comes to;
    /// `None` for a failure that is not a race.
    pub fn of_race(error: &PartnerCentralError) -> Option<SkipReason> {
        match error {
            PartnerCentralError::NotFound { operation, .. } => Some(SkipReason::NotFound { operation }),
            PartnerCentralError::Conflict { operation, reason, .. } => {
                Some(SkipReason::Conflict { operation, reason: reason.clone(), now: None })
            }
            PartnerCentralError::QuotaExceeded { operation, reason, .. } => {
                Some(SkipReason::QuotaExceeded { operation, reason: reason.clone() })
            }
            _ => None,
        }
    }
}

/// The operation's short name: `CancelConnectionInvitation` → `Cancel`.
fn verb(operation: &str) -> &str {
    let end =
        operation.char_indices().skip(1).find(|(_, c)| c.is_ascii_uppercase()).map_or(operation.len(), |(i, _)| i);
    &operation[..end]
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::AlreadyTerminal(status) => write!(f, "already {status} in the state table"),
            SkipReason::Overdue => f.write_str("past its expiry: it expires by itself"),
            SkipReason::WrongSide { is, expected } => {
                write!(f, "we are its {is}, not its {}", expected.as_str().to_lowercase())
            }
            SkipReason::NoLongerPending(status) => write!(f, "no longer PENDING: {status}"),
            SkipReason::NotFound { operation } => write!(f, "{operation}: not found"),
            SkipReason::Conflict { operation, reason, now } => {
                write!(f, "{operation}: conflict ({reason})")?;
                match now {
                    Some(status) => write!(f, "; now {status}"),
                    None => Ok(()),
                }
            }
            SkipReason::QuotaExceeded { operation, reason } => {
                write!(f, "{operation}: service quota exceeded ({reason}); left PENDING")
            }
            SkipReason::Answered { operation, status } => {
                write!(f, "{} answered with status {status}", verb(operation))
            }
            SkipReason::BeingAccepted { task_id } => write!(f, "being accepted by {task_id}"),
            SkipReason::AcceptanceEnded { task_id, status } => {
                write!(f, "its acceptance task {task_id} ended {status}; not started again under this policy")
            }
            SkipReason::RecordKeptChanging => f.write_str("its state record kept changing; try again on the next run"),
            SkipReason::Unreadable(answer) => answer.fmt(f),
            SkipReason::AwaitingApproval { approval_id, until } => {
                write!(f, "awaiting approval {approval_id} (until {})", until.to_rfc3339())
            }
            SkipReason::TooLateToAsk { until } => {
                write!(
                    f,
                    "too close to its expiry to ask for approval (it could be approved until {})",
                    until.to_rfc3339()
                )
            }
            SkipReason::Dismissed { approval_id } => {
                write!(f, "a person dismissed approval {approval_id}: not asked again under this policy")
            }
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
pub struct Skip {
    pub invitation_id: String,
    pub reason: SkipReason,
}

/// One invitation the policy selected, by which rule, and what it says to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Match {
    pub invitation_id: String,
    pub rule: String,
    /// The rule's action (`"action": "accept"`, ...), when the function's rules have one.
    #[serde(flatten)]
    pub action: serde_json::Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other_participant_identifier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender_company_name: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl Match {
    pub fn of(invitation: &Invitation, rule: &str, action: Value) -> Self {
        Match {
            invitation_id: invitation.id.clone(),
            rule: rule.to_owned(),
            action: match action {
                Value::Object(members) => members,
                _ => serde_json::Map::new(),
            },
            other_participant_identifier: invitation.other_party.participant_identifier.clone(),
            sender_company_name: invitation.other_party.sender_company_name.clone(),
            created_at: invitation.created_at,
        }
    }
}

/// An approval a run asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Asked {
    pub invitation_id: String,
    pub approval_id: String,
    pub rule: String,
    pub until: DateTime<Utc>,
}

/// An acceptance task a run started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Started {
    pub invitation_id: String,
    pub task_id: String,
}

/// The shared part of a policy-driven function's summary (flattened into it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyReport {
    /// Whether this run was a dry run (policy, or forced by the payload).
    pub dry_run: bool,
    /// What decided the mode, allowances used up, time run out, deprecated names.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    pub policy_hash: String,
    pub max_actions_per_run: u32,
    pub max_actions_per_day: u32,
    /// PENDING invitations listed (of every kind the policy acts on).
    pub candidates: usize,
    /// Per rule (every rule of the policy), how many candidates it matched first,
    /// exclusions not applied.
    pub matched_per_rule: BTreeMap<String, usize>,
    /// Candidates a rule matched but an exclusion protected.
    pub excluded: usize,
    /// Every match, oldest first (exclusions applied).
    pub matches: Vec<Match>,
    /// Dry run: the matches it plans to act on (each gets one planned event per policy).
    pub planned: Vec<String>,
    /// Real run: matches whose rule says `ask`, asked for approval by this run (each gets
    /// one `… Approval Requested` per invitation, action and policy).
    pub approvals_requested: Vec<Asked>,
    /// Real run: done by this run, with the status the action gave (the function's summary
    /// names them: `canceled`, `accepted`, `rejected`).
    #[serde(skip)]
    pub acted: Vec<(String, InvitationStatus)>,
    /// Real run: acceptance tasks started (engagement invitations).
    #[serde(skip)]
    pub started: Vec<Started>,
    /// Matches left alone, with the reason.
    pub skipped: Vec<Skip>,
    /// Matches beyond the run's cap, its allowances or its time: left for a later run (in a
    /// dry run: what a real run now would leave for later).
    pub deferred: Vec<String>,
    /// Invitations this version cannot read: how many (each named in a warning).
    #[serde(rename = "unreadableInvitations")]
    pub unreadable: Unreadables,
    /// Events committed to the outbox by this run.
    pub events_queued: usize,
}

impl PolicyReport {
    /// The report of a run of a policy (`hash`, `limits`, `rules` in order) before it found
    /// anything: every rule at 0 matches.
    pub fn new<'r>(hash: &str, limits: &Limits, rules: impl Iterator<Item = &'r str>, dry_run: bool) -> Self {
        PolicyReport {
            dry_run,
            policy_hash: hash.to_owned(),
            max_actions_per_run: limits.max_per_run,
            max_actions_per_day: limits.max_per_day,
            matched_per_rule: rules.map(|n| (n.to_owned(), 0)).collect(),
            ..PolicyReport::default()
        }
    }

    pub fn skip(&mut self, invitation_id: &str, reason: SkipReason) {
        tracing::info!(invitation_id, %reason, "skipped");
        self.skipped.push(Skip { invitation_id: invitation_id.to_owned(), reason });
    }

    /// The skip an error of a Get or an action comes to (an unreadable answer, reported, or a
    /// lost race); the error back when it is a failure of the run.
    pub fn skip_reason_of(&mut self, error: PartnerCentralError) -> Result<SkipReason, PartnerCentralError> {
        match self.unreadable.absorb(error) {
            Ok(answer) => Ok(SkipReason::Unreadable(answer)),
            Err(error) => SkipReason::of_race(&error).ok_or(error),
        }
    }

    /// Real actions taken by this run (done and started).
    pub fn actions(&self) -> usize {
        self.acted.len() + self.started.len()
    }

    /// The invitations this run brought to `status`.
    pub fn acted_to(&self, status: InvitationStatus) -> Vec<String> {
        self.acted.iter().filter(|(_, s)| *s == status).map(|(id, _)| id.clone()).collect()
    }

    /// Skips for a service quota (an alarm-worthy metric).
    pub fn quota_skips(&self) -> usize {
        self.skipped.iter().filter(|s| matches!(s.reason, SkipReason::QuotaExceeded { .. })).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skip_reasons_render_as_the_functions_always_rendered_them() {
        let rendered = [
            (
                SkipReason::WrongSide { is: ParticipantType::Receiver, expected: ParticipantType::Sender },
                "we are its RECEIVER, not its sender",
            ),
            (
                SkipReason::Answered { operation: "CancelConnectionInvitation", status: InvitationStatus::Accepted },
                "Cancel answered with status ACCEPTED",
            ),
            (
                SkipReason::QuotaExceeded {
                    operation: "AcceptConnectionInvitation",
                    reason: "LIMIT_EXCEEDED_NUMBER_OF_ACTIVE_CONNECTION".into(),
                },
                "AcceptConnectionInvitation: service quota exceeded (LIMIT_EXCEEDED_NUMBER_OF_ACTIVE_CONNECTION); left PENDING",
            ),
            (SkipReason::BeingAccepted { task_id: "task-1".into() }, "being accepted by task-1"),
        ];
        for (reason, text) in rendered {
            assert_eq!(reason.to_string(), text);
        }
        assert_eq!(verb("AcceptConnectionInvitation"), "Accept");
        assert_eq!(verb("X"), "X");
    }

    #[test]
    fn only_races_and_quotas_are_skips() {
        let quota = PartnerCentralError::QuotaExceeded {
            operation: "AcceptConnectionInvitation",
            reason: "LIMIT_EXCEEDED_NUMBER_OF_ACTIVE_CONNECTION".into(),
            message: "full".into(),
        };
        assert!(matches!(SkipReason::of_race(&quota), Some(SkipReason::QuotaExceeded { .. })));
        let down = PartnerCentralError::Service { operation: "GetConnectionInvitation", message: "down".into() };
        assert_eq!(SkipReason::of_race(&down), None);
    }
}
