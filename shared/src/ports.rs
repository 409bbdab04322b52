//! Ports: the narrow traits the functions' logic is written against. The adapters implement
//! them on the real AWS SDK clients; tests implement them with fakes.

use std::future::Future;

use chrono::{DateTime, Utc};
use futures::stream::BoxStream;

use crate::domain::{DeliveryReport, Invitation, InvitationStatus, OutboundEvent, ParticipantType};
use crate::error::PartnerCentralError;

/// A page of invitations, as one API call returned it (after conversion).
pub type Page = Vec<Invitation>;

/// Filters of `ListConnectionInvitations` (every filter the API has).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectionInvitationQuery {
    /// `ConnectionType`, e.g. `OPPORTUNITY_COLLABORATION` or `SUBSIDIARY`.
    pub connection_type: Option<String>,
    pub participant_type: Option<ParticipantType>,
    pub status: Option<InvitationStatus>,
    /// `OtherParticipantIdentifiers` (at most 100).
    pub other_participant_identifiers: Vec<String>,
}

/// Order of an engagement invitation listing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EngagementOrder {
    /// No `Sort` parameter: the service's own order.
    #[default]
    Unsorted,
    /// Oldest `InvitationDate` first.
    OldestFirst,
    /// Newest `InvitationDate` first; with `stop_before`, pages stop being fetched once an
    /// invitation dated before that instant appears (and such invitations are not returned).
    NewestFirst { stop_before: Option<DateTime<Utc>> },
}

/// Filters of `ListEngagementInvitations`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngagementInvitationQuery {
    /// Required by the API.
    pub participant_type: ParticipantType,
    /// `Status` (1..10 values); empty = any.
    pub statuses: Vec<InvitationStatus>,
    /// `PayloadType`, e.g. `OpportunityInvitation`, `LeadInvitation`.
    pub payload_types: Vec<String>,
    /// `SenderAwsAccountId` (account ids or aliases, 1..10).
    pub sender_aws_account_ids: Vec<String>,
    /// `EngagementIdentifier` (1..10).
    pub engagement_identifiers: Vec<String>,
    pub order: EngagementOrder,
}

impl EngagementInvitationQuery {
    pub fn new(participant_type: ParticipantType) -> Self {
        EngagementInvitationQuery {
            participant_type,
            statuses: Vec::new(),
            payload_types: Vec::new(),
            sender_aws_account_ids: Vec::new(),
            engagement_identifiers: Vec::new(),
            order: EngagementOrder::Unsorted,
        }
    }
}

/// Connection invitations (Partner Central Account API).
pub trait ConnectionInvitations: Send + Sync {
    /// Every page of the listing, `MaxResults` 100.
    fn list_connection_invitations(
        &self,
        query: ConnectionInvitationQuery,
    ) -> BoxStream<'_, Result<Page, PartnerCentralError>>;

    /// One invitation with its detail-only fields (`InvitationMessage`, `InviterName`,
    /// `InviterEmail`).
    fn get_connection_invitation(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Invitation, PartnerCentralError>> + Send;

    /// Cancel one PENDING invitation we sent. `client_token` makes retries idempotent.
    fn cancel_connection_invitation(
        &self,
        id: &str,
        client_token: &str,
    ) -> impl Future<Output = Result<Invitation, PartnerCentralError>> + Send;
}

/// Engagement invitations (Partner Central Selling API).
pub trait EngagementInvitations: Send + Sync {
    /// Every page of the listing (or until the query's cut-off), `MaxResults` 100.
    fn list_engagement_invitations(
        &self,
        query: EngagementInvitationQuery,
    ) -> BoxStream<'_, Result<Page, PartnerCentralError>>;

    /// One invitation. The Get API does not return the participant type, so the caller
    /// states which side it is on.
    fn get_engagement_invitation(
        &self,
        id: &str,
        participant_type: ParticipantType,
    ) -> impl Future<Output = Result<Invitation, PartnerCentralError>> + Send;
}

/// The event bus.
pub trait EventPublisher: Send + Sync {
    /// Publish every event, reporting per event whether it was delivered. Never drops an
    /// event silently: anything not delivered comes back as `Failed` with a reason.
    fn publish(&self, events: Vec<OutboundEvent>) -> impl Future<Output = DeliveryReport> + Send;
}
