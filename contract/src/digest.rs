//! The detail of the expiring-invitations digest (detail-type `Invitations Expiring Digest`):
//! one event per run listing every pending invitation that expires within the largest
//! warning threshold, soonest first — what a team pastes into chat each morning.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::invitation::{Catalog, InvitationKind, InvitationStatus, OtherParty, ParticipantType};

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
}
