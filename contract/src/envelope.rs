//! The envelope: an event as EventBridge delivers it to a consumer (rule target, SQS queue,
//! Lambda function). These types are what the envelope schemas are generated from; a Rust
//! consumer may use them, or `aws_lambda_events::eventbridge::EventBridgeEvent<D>` with
//! [`crate::InvitationEventDetail`] or [`crate::ExpiringDigestDetail`] as `D`.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::digest::ExpiringDigestDetail;
use crate::event::{DetailType, InvitationEventDetail};
use crate::health::HealthCheckDetail;

/// Anything our source puts on the bus: an invitation event or the expiring digest, told
/// apart by `detail-type` (each variant pins its own detail-types).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
#[schemars(
    title = "InvitationEvent",
    description = "An event as delivered by EventBridge (event contract v1): an invitation event, the Invitations Expiring Digest, or a Health Check"
)]
pub enum ReceivedEvent {
    Invitation(Box<ReceivedInvitationEvent>),
    Digest(Box<ReceivedDigestEvent>),
    Health(Box<ReceivedHealthCheckEvent>),
}

impl ReceivedEvent {
    /// The event's detail-type.
    pub fn detail_type(&self) -> DetailType {
        match self {
            ReceivedEvent::Invitation(e) => e.detail_type,
            ReceivedEvent::Digest(e) => e.detail_type,
            ReceivedEvent::Health(e) => e.detail_type,
        }
    }

    /// The contract's deterministic id of the fact (the same on a duplicate delivery and on a
    /// replay): what a consumer de-duplicates by.
    pub fn event_id(&self) -> &str {
        match self {
            ReceivedEvent::Invitation(e) => &e.detail.event_id,
            ReceivedEvent::Digest(e) => &e.detail.event_id,
            ReceivedEvent::Health(e) => &e.detail.event_id,
        }
    }
}

/// An invitation event as a consumer receives it from EventBridge (rule target, SQS, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(
    title = "InvitationEvent",
    description = "An invitation event as delivered by EventBridge (event contract v1)"
)]
pub struct ReceivedInvitationEvent {
    pub version: String,
    /// EventBridge's own id of this delivery (differs between duplicates; use
    /// `detail.eventId` to de-duplicate).
    pub id: String,
    #[serde(rename = "detail-type")]
    #[schemars(schema_with = "invitation_detail_types")]
    pub detail_type: DetailType,
    /// The configured `EVENT_SOURCE` (default `partnercentral.invitations`).
    pub source: String,
    pub account: String,
    /// Observation time.
    pub time: DateTime<Utc>,
    pub region: String,
    /// `[invitation ARN]`.
    pub resources: Vec<String>,
    pub detail: InvitationEventDetail,
}

/// The expire-sweeper's digest as a consumer receives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(
    title = "InvitationsExpiringDigestEvent",
    description = "The Invitations Expiring Digest as delivered by EventBridge (event contract v1)"
)]
pub struct ReceivedDigestEvent {
    pub version: String,
    /// EventBridge's own id of this delivery (use `detail.eventId` to de-duplicate).
    pub id: String,
    /// Always `Invitations Expiring Digest`.
    #[serde(rename = "detail-type")]
    #[schemars(schema_with = "digest_detail_type")]
    pub detail_type: DetailType,
    /// The configured `EVENT_SOURCE` (default `partnercentral.invitations`).
    pub source: String,
    pub account: String,
    /// When the digest was made.
    pub time: DateTime<Utc>,
    pub region: String,
    /// Empty: every listed invitation carries its ARN in the detail.
    pub resources: Vec<String>,
    pub detail: ExpiringDigestDetail,
}

/// A `Health Check` as a consumer's rule would receive it (the documented patterns leave it
/// out).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "HealthCheckEvent", description = "A Health Check as delivered by EventBridge (event contract v1)")]
pub struct ReceivedHealthCheckEvent {
    pub version: String,
    /// EventBridge's own id of this delivery.
    pub id: String,
    /// Always `Health Check`.
    #[serde(rename = "detail-type")]
    #[schemars(schema_with = "health_detail_type")]
    pub detail_type: DetailType,
    /// The configured `EVENT_SOURCE` (default `partnercentral.invitations`).
    pub source: String,
    pub account: String,
    /// When the check ran.
    pub time: DateTime<Utc>,
    pub region: String,
    /// Empty: about no resource.
    pub resources: Vec<String>,
    pub detail: HealthCheckDetail,
}

fn health_detail_type(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "string",
        "const": DetailType::HealthCheck.as_str(),
    })
}

/// The detail-types of invitation events (every one but the digest).
fn invitation_detail_types(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let names: Vec<&str> = DetailType::invitation_events().map(DetailType::as_str).collect();
    schemars::json_schema!({
        "description": "Detail-type of an invitation event.",
        "type": "string",
        "enum": names,
    })
}

fn digest_detail_type(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "string",
        "const": DetailType::InvitationsExpiringDigest.as_str(),
    })
}
