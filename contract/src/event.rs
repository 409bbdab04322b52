//! Event contract v1: the only shape in which any function publishes to the bus.
//!
//! EventBridge envelope: `Source` = the configured `EVENT_SOURCE`, `DetailType` = one of
//! [`DetailType`], `Resources` = `[invitation ARN]`, `Time` = observation time, `Detail` =
//! [`InvitationEventDetail`] (camelCase JSON, `schemaVersion` "1"); the digest's detail is
//! [`crate::ExpiringDigestDetail`].

use std::fmt;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::engagement_response::{AcceptanceTask, RejectionReason};
use crate::invitation::{Catalog, Invitation, InvitationKind, InvitationStatus, ParticipantType};

/// The contract version carried in every detail.
pub const SCHEMA_VERSION: &str = "1";

/// Every EventBridge `DetailType` of contract v1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub enum DetailType {
    #[serde(rename = "Connection Invitation Created")]
    ConnectionInvitationCreated,
    #[serde(rename = "Connection Invitation Accepted")]
    ConnectionInvitationAccepted,
    #[serde(rename = "Connection Invitation Rejected")]
    ConnectionInvitationRejected,
    #[serde(rename = "Connection Invitation Canceled")]
    ConnectionInvitationCanceled,
    #[serde(rename = "Connection Invitation Expired")]
    ConnectionInvitationExpired,
    #[serde(rename = "Connection Invitation Expiring Soon")]
    ConnectionInvitationExpiringSoon,
    #[serde(rename = "Connection Invitation Cancellation Planned")]
    ConnectionInvitationCancellationPlanned,
    /// A dry run of auto-respond would answer this connection invitation we received (detail
    /// `response`, `cause`).
    #[serde(rename = "Connection Invitation Response Planned")]
    ConnectionInvitationResponsePlanned,
    #[serde(rename = "Engagement Invitation Created")]
    EngagementInvitationCreated,
    #[serde(rename = "Engagement Invitation Accepted")]
    EngagementInvitationAccepted,
    #[serde(rename = "Engagement Invitation Rejected")]
    EngagementInvitationRejected,
    #[serde(rename = "Engagement Invitation Expired")]
    EngagementInvitationExpired,
    #[serde(rename = "Engagement Invitation Expiring Soon")]
    EngagementInvitationExpiringSoon,
    /// A dry run of auto-respond would answer this invitation (detail `response`, `cause`).
    #[serde(rename = "Engagement Invitation Response Planned")]
    EngagementInvitationResponsePlanned,
    /// Auto-respond started accepting it (detail `task`, `cause`).
    #[serde(rename = "Engagement Invitation Acceptance Started")]
    EngagementInvitationAcceptanceStarted,
    /// The acceptance task completed: the opportunity exists (detail `task.opportunityId`).
    #[serde(rename = "Engagement Invitation Acceptance Completed")]
    EngagementInvitationAcceptanceCompleted,
    /// The acceptance task failed (detail `task.reasonCode`, `task.message`).
    #[serde(rename = "Engagement Invitation Acceptance Failed")]
    EngagementInvitationAcceptanceFailed,
    /// A policy rule of auto-respond says `ask`: a person approves (or dismisses) the answer
    /// it would give (detail `approval`, `cause`). Nothing was done.
    #[serde(rename = "Engagement Invitation Approval Requested")]
    EngagementInvitationApprovalRequested,
    /// A policy rule of auto-respond or auto-cancel says `ask` about a connection invitation
    /// (detail `approval`, `cause`). Nothing was done.
    #[serde(rename = "Connection Invitation Approval Requested")]
    ConnectionInvitationApprovalRequested,
    /// Not about one invitation: the expire-sweeper's digest (detail
    /// [`crate::ExpiringDigestDetail`]).
    #[serde(rename = "Invitations Expiring Digest")]
    InvitationsExpiringDigest,
    /// Not about an invitation: a function invoked with the check payload (`make smoke`)
    /// proving it can publish (detail [`crate::HealthCheckDetail`]). Consumers' patterns
    /// leave it out.
    #[serde(rename = "Health Check")]
    HealthCheck,
}

impl DetailType {
    /// Every detail-type of the contract.
    pub const ALL: [DetailType; 21] = [
        DetailType::ConnectionInvitationCreated,
        DetailType::ConnectionInvitationAccepted,
        DetailType::ConnectionInvitationRejected,
        DetailType::ConnectionInvitationCanceled,
        DetailType::ConnectionInvitationExpired,
        DetailType::ConnectionInvitationExpiringSoon,
        DetailType::ConnectionInvitationCancellationPlanned,
        DetailType::ConnectionInvitationResponsePlanned,
        DetailType::EngagementInvitationCreated,
        DetailType::EngagementInvitationAccepted,
        DetailType::EngagementInvitationRejected,
        DetailType::EngagementInvitationExpired,
        DetailType::EngagementInvitationExpiringSoon,
        DetailType::EngagementInvitationResponsePlanned,
        DetailType::EngagementInvitationAcceptanceStarted,
        DetailType::EngagementInvitationAcceptanceCompleted,
        DetailType::EngagementInvitationAcceptanceFailed,
        DetailType::EngagementInvitationApprovalRequested,
        DetailType::ConnectionInvitationApprovalRequested,
        DetailType::InvitationsExpiringDigest,
        DetailType::HealthCheck,
    ];

    /// The detail-types whose detail is an [`InvitationEventDetail`] (all but the digest and
    /// the health check).
    pub fn invitation_events() -> impl Iterator<Item = DetailType> {
        DetailType::ALL
            .into_iter()
            .filter(|d| !matches!(d, DetailType::InvitationsExpiringDigest | DetailType::HealthCheck))
    }

    /// The exact string EventBridge carries.
    pub fn as_str(self) -> &'static str {
        use DetailType::*;
        match self {
            ConnectionInvitationCreated => "Connection Invitation Created",
            ConnectionInvitationAccepted => "Connection Invitation Accepted",
            ConnectionInvitationRejected => "Connection Invitation Rejected",
            ConnectionInvitationCanceled => "Connection Invitation Canceled",
            ConnectionInvitationExpired => "Connection Invitation Expired",
            ConnectionInvitationExpiringSoon => "Connection Invitation Expiring Soon",
            ConnectionInvitationCancellationPlanned => "Connection Invitation Cancellation Planned",
            ConnectionInvitationResponsePlanned => "Connection Invitation Response Planned",
            EngagementInvitationCreated => "Engagement Invitation Created",
            EngagementInvitationAccepted => "Engagement Invitation Accepted",
            EngagementInvitationRejected => "Engagement Invitation Rejected",
            EngagementInvitationExpired => "Engagement Invitation Expired",
            EngagementInvitationExpiringSoon => "Engagement Invitation Expiring Soon",
            EngagementInvitationResponsePlanned => "Engagement Invitation Response Planned",
            EngagementInvitationAcceptanceStarted => "Engagement Invitation Acceptance Started",
            EngagementInvitationAcceptanceCompleted => "Engagement Invitation Acceptance Completed",
            EngagementInvitationAcceptanceFailed => "Engagement Invitation Acceptance Failed",
            EngagementInvitationApprovalRequested => "Engagement Invitation Approval Requested",
            ConnectionInvitationApprovalRequested => "Connection Invitation Approval Requested",
            InvitationsExpiringDigest => "Invitations Expiring Digest",
            HealthCheck => "Health Check",
        }
    }

    pub fn parse(s: &str) -> Option<DetailType> {
        DetailType::ALL.into_iter().find(|d| d.as_str() == s)
    }

    /// Lower-case, words joined by `-`: `engagement-invitation-accepted`. The file name (plus
    /// `.json`) of its schema under `schemas/registry/` and of its sample under
    /// `schemas/samples/`.
    pub fn slug(self) -> String {
        self.as_str().to_lowercase().replace(' ', "-")
    }

    /// The words joined: `EngagementInvitationAccepted`. The title of its registry schema,
    /// and what follows `<source>@` in the schema's name in the registry.
    pub fn type_name(self) -> String {
        self.as_str().split(' ').collect()
    }

    pub fn created(kind: InvitationKind) -> DetailType {
        match kind {
            InvitationKind::Connection => DetailType::ConnectionInvitationCreated,
            InvitationKind::Engagement => DetailType::EngagementInvitationCreated,
        }
    }

    pub fn approval_requested(kind: InvitationKind) -> DetailType {
        match kind {
            InvitationKind::Connection => DetailType::ConnectionInvitationApprovalRequested,
            InvitationKind::Engagement => DetailType::EngagementInvitationApprovalRequested,
        }
    }

    pub fn expiring_soon(kind: InvitationKind) -> DetailType {
        match kind {
            InvitationKind::Connection => DetailType::ConnectionInvitationExpiringSoon,
            InvitationKind::Engagement => DetailType::EngagementInvitationExpiringSoon,
        }
    }

    /// The detail-type announcing that an invitation reached `status`; `None` for
    /// combinations that cannot happen (back to PENDING, a canceled engagement invitation).
    pub fn transition(kind: InvitationKind, status: InvitationStatus) -> Option<DetailType> {
        use DetailType::*;
        use InvitationStatus::*;
        match (kind, status) {
            (_, Pending) => None,
            (InvitationKind::Connection, Accepted) => Some(ConnectionInvitationAccepted),
            (InvitationKind::Connection, Rejected) => Some(ConnectionInvitationRejected),
            (InvitationKind::Connection, Canceled) => Some(ConnectionInvitationCanceled),
            (InvitationKind::Connection, Expired) => Some(ConnectionInvitationExpired),
            (InvitationKind::Engagement, Accepted) => Some(EngagementInvitationAccepted),
            (InvitationKind::Engagement, Rejected) => Some(EngagementInvitationRejected),
            (InvitationKind::Engagement, Canceled) => None,
            (InvitationKind::Engagement, Expired) => Some(EngagementInvitationExpired),
        }
    }
}

impl fmt::Display for DetailType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a policy answers an engagement invitation we received (auto-respond).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", tag = "action")]
pub enum Response {
    /// Accept, through an acceptance task that creates the opportunity in our pipeline.
    #[serde(rename = "accept")]
    Accept,
    /// Reject with this reason.
    #[serde(rename = "reject", rename_all = "camelCase")]
    Reject { rejection_reason: RejectionReason },
}

/// Why a function acted on an invitation by itself (auto-cancel, auto-respond).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Cause {
    /// Always `"policy"` in v1.
    #[serde(rename = "type")]
    pub cause_type: CauseType,
    /// Name of the policy rule that matched.
    pub rule: String,
    /// Hash of the policy document in force.
    pub policy_hash: String,
    /// `approval`: the approval id of the `… Approval Requested` a person approved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_id: Option<String>,
}

impl Cause {
    /// The policy's rule `rule` of policy `policy_hash` acted by itself.
    pub fn policy(rule: impl Into<String>, policy_hash: impl Into<String>) -> Self {
        Cause { cause_type: CauseType::Policy, rule: rule.into(), policy_hash: policy_hash.into(), approval_id: None }
    }

    /// A person approved `approval_id`, asked for by `rule` of policy `policy_hash`.
    pub fn approval(rule: impl Into<String>, policy_hash: impl Into<String>, approval_id: impl Into<String>) -> Self {
        Cause {
            cause_type: CauseType::Approval,
            rule: rule.into(),
            policy_hash: policy_hash.into(),
            approval_id: Some(approval_id.into()),
        }
    }
}

/// Who decided: the policy by itself, or a person approving what a rule asked (`ask`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CauseType {
    Policy,
    Approval,
}

/// What a person is asked to approve (`… Approval Requested`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ApprovalAction {
    Accept,
    Reject,
    Cancel,
}

impl ApprovalAction {
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalAction::Accept => "accept",
            ApprovalAction::Reject => "reject",
            ApprovalAction::Cancel => "cancel",
        }
    }
}

/// The function that acts once a person approves: its approval entry takes the decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ApprovalFunction {
    AutoRespond,
    AutoCancel,
}

impl ApprovalFunction {
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalFunction::AutoRespond => "auto-respond",
            ApprovalFunction::AutoCancel => "auto-cancel",
        }
    }
}

/// An approval request (`… Approval Requested`): what would be done, by which rule, until
/// when it can still be done, and the one-time id bound to the invitation, the action and the
/// policy hash. The decision is an invocation of `function` with
/// `{"approval": {"approvalId": "…", "decision": "approve"|"dismiss"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Approval {
    /// Printable ASCII without spaces, at most 200 characters (it travels in a chat button's
    /// command).
    pub approval_id: String,
    pub action: ApprovalAction,
    /// The policy rule that said `ask`.
    pub rule: String,
    pub policy_hash: String,
    /// After this instant the approval is refused.
    pub until: DateTime<Utc>,
    pub function: ApprovalFunction,
}

impl Approval {
    /// The longest approval id.
    pub const MAX_ID_CHARS: usize = 200;

    /// Whether `id` is a well-formed approval id: 1–200 printable ASCII characters, no spaces.
    pub fn is_valid_id(id: &str) -> bool {
        !id.is_empty() && id.len() <= Self::MAX_ID_CHARS && id.bytes().all(|b| (0x21..0x7f).contains(&b))
    }
}

/// The `Detail` of every invitation event of contract v1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(title = "InvitationEventDetail", description = "Detail of every invitation event (event contract v1)")]
pub struct InvitationEventDetail {
    /// Contract version, `"1"`.
    pub schema_version: String,
    /// Deterministic: the same fact always yields the same id, so consumers can de-duplicate.
    pub event_id: String,
    pub kind: InvitationKind,
    pub catalog: Catalog,
    pub invitation_id: String,
    pub arn: String,
    pub status: InvitationStatus,
    /// The status before a transition; null when the event is not a transition.
    pub previous_status: Option<InvitationStatus>,
    pub participant_type: ParticipantType,
    pub expires_at: Option<DateTime<Utc>>,
    pub observed_at: DateTime<Utc>,
    /// The full normalized invitation.
    pub invitation: Invitation,
    /// Expiry warnings: the threshold that was crossed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold_hours: Option<u32>,
    /// Expiry warnings: hours left at `observedAt`, one decimal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours_remaining: Option<f64>,
    /// Policy actions: which rule of which policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<Cause>,
    /// Response Planned: the answer the policy would give.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<Response>,
    /// Acceptance Started / Completed / Failed: the acceptance task as last seen (task id,
    /// opportunity id, reason code and message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<AcceptanceTask>,
    /// Approval Requested: what a person is asked to approve.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<Approval>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detail_types_are_exactly_the_contract_strings() {
        let all: Vec<&str> = DetailType::ALL.iter().map(|d| d.as_str()).collect();
        assert_eq!(
            all,
            [
                "Connection Invitation Created",
                "Connection Invitation Accepted",
                "Connection Invitation Rejected",
                "Connection Invitation Canceled",
                "Connection Invitation Expired",
                "Connection Invitation Expiring Soon",
                "Connection Invitation Cancellation Planned",
                "Connection Invitation Response Planned",
                "Engagement Invitation Created",
                "Engagement Invitation Accepted",
                "Engagement Invitation Rejected",
                "Engagement Invitation Expired",
                "Engagement Invitation Expiring Soon",
                "Engagement Invitation Response Planned",
                "Engagement Invitation Acceptance Started",
                "Engagement Invitation Acceptance Completed",
                "Engagement Invitation Acceptance Failed",
                "Engagement Invitation Approval Requested",
                "Connection Invitation Approval Requested",
                "Invitations Expiring Digest",
                "Health Check",
            ]
        );
        assert!(
            DetailType::invitation_events().eq(DetailType::ALL[..19].iter().copied()),
            "every type but the digest and the health check"
        );
        for d in DetailType::ALL {
            assert_eq!(serde_json::to_value(d).ok(), Some(serde_json::json!(d.as_str())));
            assert_eq!(DetailType::parse(d.as_str()), Some(d));
        }
        assert_eq!(DetailType::EngagementInvitationAcceptanceFailed.slug(), "engagement-invitation-acceptance-failed");
        assert_eq!(DetailType::InvitationsExpiringDigest.type_name(), "InvitationsExpiringDigest");
    }
}
