//! Domain: invitations, the event contract and delivery outcomes. No SDK types.

pub mod answer;
pub mod decision;
pub mod digest;
pub mod engagement_response;
pub mod envelope;
pub mod event;
pub mod invitation;
pub mod lease;
#[cfg(test)]
mod pinned_event_ids;
pub mod state;

pub use answer::{Answer, AnswerFact, AnsweredBy, RecordedAnswer};
pub use digest::{DigestInvitation, ExpiringDigest, ExpiringDigestDetail};
pub use envelope::{Delivery, DeliveryReport, OutboundEvent};
pub use event::{
    Approval, ApprovalAction, ApprovalFunction, Cause, CauseType, DetailType, InvitationEvent, InvitationEventDetail,
    Response, SCHEMA_VERSION,
};
pub use invitation::{
    Catalog, ConnectionDetails, Invitation, InvitationKind, InvitationStatus, OtherParty, ParticipantType,
    UnreadableInvitation, redact_contact_details,
};
pub use state::{
    AcceptanceRecord, ApprovalDecided, ApprovalDecision, ApprovalRecord, CommitOutcome, Expected, InvitationRecord,
    OutboxEntry, RecordChange, SyncMeta,
};
