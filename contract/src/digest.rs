//! The detail of the expiring-invitations digest (detail-type `Invitations Expiring Digest`):
//! one event per run listing every pending invitation that expires within the largest
//! warning threshold, soonest first — what a team pastes into chat each morning.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::invitation::{Catalog, InvitationKind, InvitationStatus, OtherParty, ParticipantType};

/// Who answered an invitation we received: a policy rule (auto-respond, cause type
/// `policy`), a person approving a policy's proposal (cause type `approval`), or a person in
/// Partner Central directly (no cause: seen by polling or native events).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AnsweredBy {
    Policy,
    Approval,
    Person,
}

impl AnsweredBy {
    pub const ALL: [AnsweredBy; 3] = [AnsweredBy::Policy, AnsweredBy::Approval, AnsweredBy::Person];

    pub fn as_str(self) -> &'static str {
        match self {
            AnsweredBy::Policy => "policy",
            AnsweredBy::Approval => "approval",
            AnsweredBy::Person => "person",
        }
    }
}

/// How fast the invitations of one kind were answered by one kind of answerer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnswerTimeFigures {
    pub kind: InvitationKind,
    pub answered_by: AnsweredBy,
    /// Invitations answered (accepted or rejected) in the window.
    pub count: usize,
    /// Median hours from receipt (the invitation's creation) to the answer, one decimal.
    pub p50_hours: f64,
    /// 90th percentile (nearest rank) of the same, one decimal.
    pub p90_hours: f64,
}

/// Received invitations that expired while unanswered, per kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExpiredUnanswered {
    pub connection: usize,
    pub engagement: usize,
}

/// How fast we answer the invitations we receive, from the state records of the
/// `windowDays` before the digest's `observedAt` (records are kept `RetentionDays` after
/// they end: a shorter retention shortens the window).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnswerTimes {
    pub window_days: u32,
    /// One entry per kind and answerer with at least one answer in the window (kind, then
    /// answerer order).
    pub answered: Vec<AnswerTimeFigures>,
    pub expired_unanswered: ExpiredUnanswered,
}

/// One invitation in the digest: what a person needs to act on it, no contact details.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DigestInvitation {
    pub kind: InvitationKind,
    pub invitation_id: String,
    pub arn: String,
    pub status: InvitationStatus,
    pub participant_type: ParticipantType,
    pub expires_at: DateTime<Utc>,
    /// Hours left at the digest's `observedAt`, one decimal.
    pub hours_remaining: f64,
    /// `EngagementTitle` of an engagement invitation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// `PayloadType` of an engagement invitation (e.g. `OpportunityInvitation`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_type: Option<String>,
    /// `ConnectionType` of a connection invitation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_type: Option<String>,
    pub other_party: OtherParty,
}

/// The `Detail` of an `Invitations Expiring Digest` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(
    title = "InvitationsExpiringDigestDetail",
    description = "Detail of the Invitations Expiring Digest event (event contract v1)"
)]
pub struct ExpiringDigestDetail {
    /// Contract version, `"1"`.
    pub schema_version: String,
    /// Deterministic per catalog and hour (by Partner Central's clock): a retried run in the
    /// same hour yields the same id, so consumers de-duplicate it.
    pub event_id: String,
    pub catalog: Catalog,
    pub observed_at: DateTime<Utc>,
    /// The window: invitations with less than this many hours left (the largest warning
    /// threshold).
    pub threshold_hours: u32,
    /// How many pending invitations expire within the window (listed or not).
    pub count: usize,
    /// Left out of `invitations` to keep the event under EventBridge's 256 KiB limit (the
    /// ones expiring last).
    pub omitted: usize,
    /// Soonest expiry first.
    pub invitations: Vec<DigestInvitation>,
    /// How fast we answered what we received lately (absent from digests of earlier versions).
    #[serde(default)]
    pub answer_times: AnswerTimes,
}
