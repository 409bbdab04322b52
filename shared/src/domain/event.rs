//! Event contract v1: the only shape in which any function publishes to the bus.
//!
//! The contract's types (detail-types, the detail and what it holds) live in the contract
//! crate, [`invitation_events::event`]; here is how the functions make events: the
//! constructors of each fact and its deterministic id.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

pub use invitation_events::event::*;

use super::engagement_response::{AcceptanceTask, TaskOutcome};
use super::invitation::{Catalog, Invitation, InvitationKind, InvitationStatus};

/// A contract-v1 event: detail-type plus detail.
#[derive(Debug, Clone, PartialEq)]
pub struct InvitationEvent {
    pub detail_type: DetailType,
    pub detail: InvitationEventDetail,
}

impl InvitationEvent {
    fn new(
        detail_type: DetailType,
        invitation: &Invitation,
        previous_status: Option<InvitationStatus>,
        observed_at: DateTime<Utc>,
        discriminator: &str,
    ) -> Self {
        let event_id = event_id(invitation.kind, invitation.catalog, &invitation.id, detail_type, discriminator);
        InvitationEvent {
            detail_type,
            detail: InvitationEventDetail {
                schema_version: SCHEMA_VERSION.to_owned(),
                event_id,
                kind: invitation.kind,
                catalog: invitation.catalog,
                invitation_id: invitation.id.clone(),
                arn: invitation.arn.clone(),
                status: invitation.status,
                previous_status,
                participant_type: invitation.participant_type,
                expires_at: invitation.expires_at,
                observed_at,
                invitation: invitation.clone(),
                threshold_hours: None,
                hours_remaining: None,
                cause: None,
                response: None,
                task: None,
                approval: None,
            },
        }
    }

    /// First sighting of an invitation.
    pub fn created(invitation: &Invitation, observed_at: DateTime<Utc>) -> Self {
        Self::new(DetailType::created(invitation.kind), invitation, None, observed_at, "created")
    }

    /// The invitation moved from `previous` to its current status. `None` when that is not a
    /// publishable transition (still PENDING, or a status the kind cannot have).
    pub fn transition(invitation: &Invitation, previous: InvitationStatus, observed_at: DateTime<Utc>) -> Option<Self> {
        if previous == invitation.status {
            return None;
        }
        let detail_type = DetailType::transition(invitation.kind, invitation.status)?;
        Some(Self::new(detail_type, invitation, Some(previous), observed_at, invitation.status.as_str()))
    }

    /// The invitation has less than `threshold_hours` left. The id covers the expiry instant,
    /// so a warning re-armed by a later expiry is a new fact with a new id.
    pub fn expiring_soon(invitation: &Invitation, threshold_hours: u32, observed_at: DateTime<Utc>) -> Self {
        let expiry = invitation.expires_at.map(|e| e.timestamp().to_string()).unwrap_or_default();
        let mut event = Self::new(
            DetailType::expiring_soon(invitation.kind),
            invitation,
            None,
            observed_at,
            &format!("{threshold_hours}h@{expiry}"),
        );
        event.detail.threshold_hours = Some(threshold_hours);
        event.detail.hours_remaining = invitation.time_left(observed_at).map(hours_one_decimal);
        event
    }

    /// A dry run of auto-cancel would cancel this invitation.
    pub fn cancellation_planned(invitation: &Invitation, cause: Cause, observed_at: DateTime<Utc>) -> Self {
        let discriminator = format!("{}:{}", cause.policy_hash, cause.rule);
        let mut event = Self::new(
            DetailType::ConnectionInvitationCancellationPlanned,
            invitation,
            None,
            observed_at,
            &discriminator,
        );
        event.detail.cause = Some(cause);
        event
    }

    /// Auto-cancel canceled this invitation. Same fact, same id as the plain `Canceled`
    /// transition: the cause is enrichment, not a different fact.
    pub fn canceled_by_policy(
        invitation: &Invitation,
        previous: InvitationStatus,
        cause: Cause,
        observed_at: DateTime<Utc>,
    ) -> Option<Self> {
        let mut event = Self::transition(invitation, previous, observed_at)?;
        event.detail.cause = Some(cause);
        Some(event)
    }
}

impl InvitationEvent {
    /// A dry run of auto-respond would answer this invitation so (`Engagement Invitation
    /// Response Planned`, `Connection Invitation Response Planned`). One per invitation, policy
    /// and rule.
    pub fn response_planned(
        invitation: &Invitation,
        response: Response,
        cause: Cause,
        observed_at: DateTime<Utc>,
    ) -> Self {
        let discriminator = format!("{}:{}", cause.policy_hash, cause.rule);
        let detail_type = match invitation.kind {
            InvitationKind::Engagement => DetailType::EngagementInvitationResponsePlanned,
            InvitationKind::Connection => DetailType::ConnectionInvitationResponsePlanned,
        };
        let mut event = Self::new(detail_type, invitation, None, observed_at, &discriminator);
        event.detail.cause = Some(cause);
        event.detail.response = Some(response);
        event
    }

    /// Auto-respond started accepting the invitation: one per task.
    pub fn acceptance_started(
        invitation: &Invitation,
        task: &AcceptanceTask,
        cause: Cause,
        observed_at: DateTime<Utc>,
    ) -> Self {
        let mut event =
            Self::new(DetailType::EngagementInvitationAcceptanceStarted, invitation, None, observed_at, &task.task_id);
        event.detail.cause = Some(cause);
        event.detail.task = Some(task.clone());
        event
    }

    /// The acceptance task ended (`COMPLETE`: Completed, `FAILED`: Failed); `None` while it
    /// has not. One per task.
    pub fn acceptance_ended(
        invitation: &Invitation,
        task: &AcceptanceTask,
        cause: Option<Cause>,
        observed_at: DateTime<Utc>,
    ) -> Option<Self> {
        let detail_type = match task.outcome() {
            TaskOutcome::Completed { .. } => DetailType::EngagementInvitationAcceptanceCompleted,
            TaskOutcome::Failed { .. } => DetailType::EngagementInvitationAcceptanceFailed,
            TaskOutcome::Running | TaskOutcome::Unrecognized { .. } => return None,
        };
        let mut event = Self::new(detail_type, invitation, None, observed_at, &task.task_id);
        event.detail.cause = cause;
        event.detail.task = Some(task.clone());
        Some(event)
    }

    /// A transition auto-respond brought about (Accepted, Rejected). Same fact, same id as
    /// the plain transition: the cause is enrichment, not a different fact.
    pub fn answered_by_policy(
        invitation: &Invitation,
        previous: InvitationStatus,
        cause: Cause,
        observed_at: DateTime<Utc>,
    ) -> Option<Self> {
        Self::canceled_by_policy(invitation, previous, cause, observed_at)
    }
}

impl InvitationEvent {
    /// A policy rule says `ask`: a person is asked to approve `approval`. One per approval id.
    pub fn approval_requested(
        invitation: &Invitation,
        approval: Approval,
        cause: Cause,
        observed_at: DateTime<Utc>,
    ) -> Self {
        let detail_type = DetailType::approval_requested(invitation.kind);
        let mut event = Self::new(detail_type, invitation, None, observed_at, &approval.approval_id);
        event.detail.cause = Some(cause);
        event.detail.approval = Some(approval);
        event
    }
}

/// Hours with one decimal, e.g. 9.96h → 10.0, -0.5h → -0.5.
pub fn hours_one_decimal(d: chrono::Duration) -> f64 {
    let hours = d.num_seconds() as f64 / 3600.0;
    (hours * 10.0).round() / 10.0
}

/// Deterministic id of a fact: the same (kind, catalog, invitation, detail-type,
/// discriminator) always hashes to the same 32 hex characters.
pub fn event_id(
    kind: InvitationKind,
    catalog: Catalog,
    invitation_id: &str,
    detail_type: DetailType,
    discriminator: &str,
) -> String {
    let mut h = Sha256::new();
    for part in ["v1", kind.as_str(), catalog.as_str(), invitation_id, detail_type.as_str(), discriminator] {
        h.update(part.as_bytes());
        h.update([0x1f]);
    }
    let digest = h.finalize();
    hex::encode(&digest[..16])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::invitation::OtherParty;
    use crate::testing::connection_invitation;
    use chrono::TimeZone;

    pub(crate) fn invitation(kind: InvitationKind, status: InvitationStatus) -> Invitation {
        let created = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).single().unwrap_or_default();
        Invitation {
            kind,
            status,
            updated_at: None,
            other_party: OtherParty { participant_identifier: Some("partner-1".into()), ..Default::default() },
            ..connection_invitation("pacinv-ABCDEFGHIJKLM", created)
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 15, 14, 0, 0).single().unwrap_or_default()
    }

    #[test]
    fn transitions_map_to_status_specific_detail_types() {
        let inv = invitation(InvitationKind::Connection, InvitationStatus::Accepted);
        let e = InvitationEvent::transition(&inv, InvitationStatus::Pending, now());
        let e = e.map(|e| (e.detail_type, e.detail.previous_status));
        assert_eq!(e, Some((DetailType::ConnectionInvitationAccepted, Some(InvitationStatus::Pending))));
        // No event for "no change" nor for a status engagement invitations cannot have.
        assert!(InvitationEvent::transition(&inv, InvitationStatus::Accepted, now()).is_none());
        let eng = invitation(InvitationKind::Engagement, InvitationStatus::Canceled);
        assert!(InvitationEvent::transition(&eng, InvitationStatus::Pending, now()).is_none());
    }

    #[test]
    fn event_ids_are_stable_for_the_same_fact_and_distinct_across_facts() {
        let inv = invitation(InvitationKind::Connection, InvitationStatus::Expired);
        let a = InvitationEvent::transition(&inv, InvitationStatus::Pending, now()).map(|e| e.detail.event_id);
        // Observed later, by another function: same fact, same id.
        let later = now() + chrono::Duration::hours(5);
        let b = InvitationEvent::transition(&inv, InvitationStatus::Pending, later).map(|e| e.detail.event_id);
        assert_eq!(a, b);
        assert_eq!(a.as_deref().map(str::len), Some(32));

        let pending = invitation(InvitationKind::Connection, InvitationStatus::Pending);
        let mut ids = std::collections::HashSet::new();
        ids.insert(a.unwrap_or_default());
        ids.insert(InvitationEvent::created(&pending, now()).detail.event_id);
        ids.insert(InvitationEvent::expiring_soon(&pending, 72, now()).detail.event_id);
        ids.insert(InvitationEvent::expiring_soon(&pending, 24, now()).detail.event_id);
        let eng = invitation(InvitationKind::Engagement, InvitationStatus::Pending);
        ids.insert(InvitationEvent::created(&eng, now()).detail.event_id);
        let mut sandbox = pending.clone();
        sandbox.catalog = Catalog::Sandbox;
        ids.insert(InvitationEvent::created(&sandbox, now()).detail.event_id);
        assert_eq!(ids.len(), 6, "every distinct fact has a distinct id");
    }

    #[test]
    fn a_rearmed_warning_is_a_new_fact() {
        let mut inv = invitation(InvitationKind::Engagement, InvitationStatus::Pending);
        let first = InvitationEvent::expiring_soon(&inv, 24, now());
        inv.expires_at = inv.expires_at.map(|e| e + chrono::Duration::days(3));
        let rearmed = InvitationEvent::expiring_soon(&inv, 24, now());
        assert_ne!(first.detail.event_id, rearmed.detail.event_id);
    }

    #[test]
    fn policy_cancel_shares_the_id_of_the_observed_cancel() {
        let inv = invitation(InvitationKind::Connection, InvitationStatus::Canceled);
        let cause = Cause::policy("stale", "abc");
        let by_policy = InvitationEvent::canceled_by_policy(&inv, InvitationStatus::Pending, cause, now());
        let observed = InvitationEvent::transition(&inv, InvitationStatus::Pending, now());
        assert_eq!(by_policy.map(|e| e.detail.event_id), observed.map(|e| e.detail.event_id));
    }

    #[test]
    fn detail_serializes_camel_case_with_null_previous_status() {
        let inv = invitation(InvitationKind::Connection, InvitationStatus::Pending);
        let e = InvitationEvent::expiring_soon(&inv, 24, now());
        let v = serde_json::to_value(&e.detail).unwrap_or_default();
        assert_eq!(v["schemaVersion"], "1");
        assert_eq!(v["kind"], "connection");
        assert_eq!(v["catalog"], "AWS");
        assert_eq!(v["invitationId"], "pacinv-ABCDEFGHIJKLM");
        assert_eq!(v["status"], "PENDING");
        assert!(v["previousStatus"].is_null() && v.get("previousStatus").is_some());
        assert_eq!(v["participantType"], "SENDER");
        assert_eq!(v["expiresAt"], "2026-11-16T00:00:00Z");
        assert_eq!(v["thresholdHours"], 24);
        assert_eq!(v["hoursRemaining"], 10.0);
        assert!(v.get("cause").is_none());
        assert_eq!(v["invitation"]["otherParty"]["participantIdentifier"], "partner-1");
        let back: InvitationEventDetail = serde_json::from_value(v).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, e.detail);
    }

    #[test]
    fn hours_are_rounded_to_one_decimal() {
        assert_eq!(hours_one_decimal(chrono::Duration::minutes(597)), 10.0);
        assert_eq!(hours_one_decimal(chrono::Duration::minutes(-30)), -0.5);
        assert_eq!(hours_one_decimal(chrono::Duration::minutes(135)), 2.3);
    }
}
