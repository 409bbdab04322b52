//! What leaves the process: a contract event rendered to the EventBridge envelope fields,
//! and what became of it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::digest::ExpiringDigest;
use super::event::InvitationEvent;

/// One event ready for the bus. `Source` and the bus name belong to the publisher's
/// configuration; everything else is decided here, so it can be stored (outbox) and re-sent
/// byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboundEvent {
    /// The contract's deterministic `eventId` (also inside `detail`).
    pub event_id: String,
    pub detail_type: String,
    /// The `Detail` JSON text.
    pub detail: String,
    pub resources: Vec<String>,
    /// Observation time, sent as the envelope's `Time`.
    pub time: DateTime<Utc>,
}

impl OutboundEvent {
    pub fn from_event(event: &InvitationEvent) -> Result<Self, serde_json::Error> {
        Ok(OutboundEvent {
            event_id: event.detail.event_id.clone(),
            detail_type: event.detail_type.as_str().to_owned(),
            detail: serde_json::to_string(&event.detail)?,
            resources: vec![event.detail.arn.clone()],
            time: event.detail.observed_at,
        })
    }

    /// The digest: no single invitation, so no `Resources` (each listed invitation carries
    /// its ARN in the detail).
    pub fn from_digest(digest: &ExpiringDigest) -> Result<Self, serde_json::Error> {
        Ok(OutboundEvent {
            event_id: digest.detail.event_id.clone(),
            detail_type: ExpiringDigest::DETAIL_TYPE.as_str().to_owned(),
            detail: serde_json::to_string(&digest.detail)?,
            resources: Vec::new(),
            time: digest.detail.observed_at,
        })
    }
}

/// What happened to one event handed to the publisher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// EventBridge accepted it.
    Delivered,
    /// Not delivered; the reason names the EventBridge error code or the call failure.
    Failed { reason: String },
}

/// Per-event outcome of one publish call, in the order the events were given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    pub outcomes: Vec<(String, Delivery)>,
    /// PutEvents calls made (including re-sends).
    pub calls: u32,
}

impl DeliveryReport {
    pub fn delivered(&self) -> usize {
        self.outcomes.iter().filter(|(_, d)| *d == Delivery::Delivered).count()
    }

    pub fn failed(&self) -> impl Iterator<Item = (&str, &str)> {
        self.outcomes.iter().filter_map(|(id, d)| match d {
            Delivery::Failed { reason } => Some((id.as_str(), reason.as_str())),
            Delivery::Delivered => None,
        })
    }

    pub fn failed_count(&self) -> usize {
        self.failed().count()
    }

    pub fn delivered_ids(&self) -> impl Iterator<Item = &str> {
        self.outcomes.iter().filter(|(_, d)| *d == Delivery::Delivered).map(|(id, _)| id.as_str())
    }
}
