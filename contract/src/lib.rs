//! The event contract (v1) of the Partner Central invitation events: what a consumer
//! receives from our EventBridge bus, as Rust types, and the JSON Schemas generated from them.
//!
//! No AWS SDK, no Lambda runtime, no async runtime: serde, serde_json, schemars and chrono.
//!
//! - [`DetailType`]: every `detail-type` we send ([`DetailType::ALL`]);
//! - [`InvitationEventDetail`]: the `detail` of every invitation event (all detail-types but
//!   `Invitations Expiring Digest`), with the [`Invitation`] it is about;
//! - [`ExpiringDigestDetail`]: the `detail` of the `Invitations Expiring Digest`;
//! - [`HealthCheckDetail`]: the `detail` of a `Health Check` (`make smoke`; about no
//!   invitation, the documented consumer patterns leave it out);
//! - [`Detail`]: any of them, chosen by the detail-type ([`Detail::parse`]);
//! - [`ReceivedEvent`] (and its two variants): the whole envelope as EventBridge delivers it;
//! - [`schema`]: the JSON Schemas (draft 2020-12, and draft-04 for EventBridge's schema
//!   registry, one per detail-type).
//!
//! # A consumer's Lambda function
//!
//! With `aws_lambda_events`, an event delivered by a rule deserializes into
//! `EventBridgeEvent<InvitationEventDetail>`:
//!
//! ```
//! use aws_lambda_events::eventbridge::EventBridgeEvent;
//! use invitation_events::{DetailType, InvitationEventDetail, InvitationKind, InvitationStatus};
//!
//! // What the rule's target receives (here: the checked-in sample of this detail-type).
//! let delivered = include_str!("../../schemas/samples/engagement-invitation-accepted.json");
//!
//! let event: EventBridgeEvent<InvitationEventDetail> = serde_json::from_str(delivered)?;
//! assert_eq!(DetailType::parse(&event.detail_type), Some(DetailType::EngagementInvitationAccepted));
//! let detail = &event.detail;
//! assert_eq!((detail.kind, detail.status), (InvitationKind::Engagement, InvitationStatus::Accepted));
//! assert_eq!(detail.previous_status, Some(InvitationStatus::Pending));
//! // De-duplicate by the contract's id: the same fact always has the same `eventId`, on a
//! // retried delivery and on a replay from the archive alike (EventBridge's `id` differs).
//! assert_eq!(detail.event_id.len(), 32);
//! println!("{} accepted: {:?}", detail.invitation_id, detail.invitation.engagement_title);
//! # Ok::<(), serde_json::Error>(())
//! ```
//!
//! A target that receives several detail-types, the digest included, takes the detail as
//! JSON and lets [`Detail::parse`] choose by the detail-type:
//!
//! ```
//! use aws_lambda_events::eventbridge::EventBridgeEvent;
//! use invitation_events::Detail;
//!
//! let delivered = include_str!("../../schemas/samples/invitations-expiring-digest.json");
//! let event: EventBridgeEvent<serde_json::Value> = serde_json::from_str(delivered)?;
//! match Detail::parse(&event.detail_type, event.detail)? {
//!     Detail::Digest(digest) => assert_eq!(digest.count, digest.invitations.len() + digest.omitted),
//!     Detail::Invitation(_) | Detail::Health(_) => unreachable!("the sample is the digest"),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod digest;
pub mod engagement_response;
pub mod envelope;
pub mod event;
pub mod health;
pub mod invitation;
pub mod render;
pub mod schema;

use std::fmt;

pub use digest::{
    AnswerTimeFigures, AnswerTimes, AnsweredBy, DigestInvitation, ExpiredUnanswered, ExpiringDigestDetail,
};
pub use engagement_response::{
    AcceptanceTask, InvalidRejectionReason, RejectionReason, TaskOutcome, TaskReasonCode, TaskStatus,
};
pub use envelope::{ReceivedDigestEvent, ReceivedEvent, ReceivedHealthCheckEvent, ReceivedInvitationEvent};
pub use event::{
    Approval, ApprovalAction, ApprovalFunction, Cause, CauseType, DetailType, InvitationEventDetail, Response,
    SCHEMA_VERSION,
};
pub use health::HealthCheckDetail;
pub use invitation::{
    Catalog, ConnectionDetails, Invitation, InvitationKind, InvitationStatus, OtherParty, ParticipantType, UnknownValue,
};

/// The `detail` of one of our events, by its detail-type.
#[derive(Debug, Clone, PartialEq)]
pub enum Detail {
    /// Every detail-type but `Invitations Expiring Digest`.
    Invitation(Box<InvitationEventDetail>),
    /// `Invitations Expiring Digest`.
    Digest(Box<ExpiringDigestDetail>),
    /// `Health Check`.
    Health(Box<HealthCheckDetail>),
}

impl Detail {
    /// The detail of an event of `detail_type`: an error names a detail-type that is not
    /// ours, or the field of the detail that does not fit the contract.
    pub fn parse(detail_type: &str, detail: serde_json::Value) -> Result<Detail, DetailError> {
        let known =
            DetailType::parse(detail_type).ok_or_else(|| DetailError::UnknownDetailType(detail_type.to_owned()))?;
        let invalid = |source| DetailError::Invalid { detail_type: known, source };
        Ok(match known {
            DetailType::InvitationsExpiringDigest => Detail::Digest(serde_json::from_value(detail).map_err(invalid)?),
            DetailType::HealthCheck => Detail::Health(serde_json::from_value(detail).map_err(invalid)?),
            _ => Detail::Invitation(serde_json::from_value(detail).map_err(invalid)?),
        })
    }
}

/// Why [`Detail::parse`] refused a detail.
#[derive(Debug)]
pub enum DetailError {
    /// Not one of [`DetailType::ALL`].
    UnknownDetailType(String),
    /// The detail does not fit the contract of its detail-type.
    Invalid { detail_type: DetailType, source: serde_json::Error },
}

impl fmt::Display for DetailError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DetailError::UnknownDetailType(d) => write!(f, "detail-type {d:?} is not one of the contract's"),
            DetailError::Invalid { detail_type, source } => {
                write!(f, "the detail of a \"{detail_type}\" event does not fit the contract: {source}")
            }
        }
    }
}

impl std::error::Error for DetailError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DetailError::UnknownDetailType(_) => None,
            DetailError::Invalid { source, .. } => Some(source),
        }
    }
}
