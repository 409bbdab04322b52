//! One real sample event per detail-type, as EventBridge delivers it to a consumer (the whole
//! envelope), checked in under `schemas/samples/<detail-type-kebab>.json`.
//!
//! Each is made the way the functions make their events: the contract's constructors
//! ([`InvitationEvent`], [`ExpiringDigest`]) render the detail, [`OutboundEvent`] the
//! `PutEvents` entry (`DetailType`, `Detail`, `Resources`, `Time`), and the envelope adds what
//! EventBridge adds (`version`, `id`, `account`, `region`; `time` to the second). Consumers and
//! tests use them as the events to expect: event patterns are checked against them, and every
//! one is validated against its registry schema. A test fails when a file is stale;
//! `make schemas` rewrites them.

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::domain::answer::{AnswerTimeFigures, AnswerTimes, AnsweredBy, ExpiredUnanswered};
use crate::domain::engagement_response::{AcceptanceTask, RejectionReason, TaskReasonCode, TaskStatus};
use crate::domain::{
    Approval, ApprovalAction, ApprovalFunction, Catalog, Cause, CauseType, DetailType, ExpiringDigest, Invitation,
    InvitationEvent, InvitationKind, InvitationStatus, OtherParty, OutboundEvent, ParticipantType, Response,
};

/// The `source` of the samples: the stack's default `EventSource`.
pub const SAMPLE_SOURCE: &str = "partnercentral.invitations";
/// The account the samples come from (AWS's documentation account).
pub const SAMPLE_ACCOUNT: &str = "111122223333";
pub const SAMPLE_REGION: &str = "us-east-1";

/// The file name of a detail-type's sample: `Engagement Invitation Accepted` →
/// `engagement-invitation-accepted.json`.
pub fn file_name(detail_type: DetailType) -> String {
    format!("{}.json", detail_type.slug())
}

fn at(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, hour, minute, 0).single().unwrap_or_default()
}

/// A PENDING connection invitation we sent to partner `444455556666`, created at `created`,
/// expiring 15 days later: the base of the connection sample and of the tests' fixtures
/// (`testing::connection_invitation`).
pub(crate) fn connection_we_sent(id: &str, created: DateTime<Utc>) -> Invitation {
    Invitation {
        kind: InvitationKind::Connection,
        id: id.to_owned(),
        arn: format!("arn:aws:partnercentral:us-east-1::catalog/AWS/connection-invitation/{id}"),
        catalog: Catalog::Aws,
        status: InvitationStatus::Pending,
        participant_type: ParticipantType::Sender,
        created_at: created,
        updated_at: Some(created),
        expires_at: Some(created + Duration::days(15)),
        other_party: OtherParty { participant_identifier: Some("444455556666".into()), ..OtherParty::default() },
        connection_type: Some("OPPORTUNITY_COLLABORATION".into()),
        connection_id: None,
        payload_type: None,
        engagement_id: None,
        engagement_title: None,
        details: None,
    }
}

/// A PENDING engagement invitation we received, dated `created`, expiring 15 days later, with
/// nothing about its sender or payload: the base of the engagement sample and of the tests'
/// fixtures (`testing::engagement_invitation`).
pub(crate) fn engagement_we_received(id: &str, created: DateTime<Utc>) -> Invitation {
    Invitation {
        kind: InvitationKind::Engagement,
        id: id.to_owned(),
        arn: format!("arn:aws:partnercentral:us-east-1::catalog/AWS/engagement-invitation/{id}"),
        catalog: Catalog::Aws,
        status: InvitationStatus::Pending,
        participant_type: ParticipantType::Receiver,
        created_at: created,
        updated_at: None,
        expires_at: Some(created + Duration::days(15)),
        other_party: OtherParty::default(),
        connection_type: None,
        connection_id: None,
        payload_type: None,
        engagement_id: None,
        engagement_title: None,
        details: None,
    }
}

/// A PENDING connection invitation we sent to another partner.
fn connection() -> Invitation {
    connection_we_sent("pacinv-7QX2M4K9PZ3LB", at(6, 14, 30))
}

/// A PENDING engagement invitation AWS sent us: an opportunity to take into our pipeline.
fn engagement() -> Invitation {
    Invitation {
        other_party: OtherParty {
            sender_aws_account_id: Some("AWS".into()),
            sender_company_name: Some("Amazon Web Services".into()),
            receiver_aws_account_id: Some(SAMPLE_ACCOUNT.into()),
            ..OtherParty::default()
        },
        payload_type: Some("OpportunityInvitation".into()),
        engagement_id: Some("eng-3rx9t0qj6wbn2c".into()),
        engagement_title: Some("Data platform migration to AWS".into()),
        ..engagement_we_received("engi-5zq8w3n1r7y2k", at(8, 9, 0))
    }
}

fn with_status(invitation: &Invitation, status: InvitationStatus, at: DateTime<Utc>) -> Invitation {
    Invitation {
        status,
        updated_at: invitation.updated_at.map(|_| at),
        connection_id: match (invitation.kind, status) {
            (InvitationKind::Connection, InvitationStatus::Accepted) => Some("pac-4f1e9a07c3b2d".into()),
            _ => invitation.connection_id.clone(),
        },
        ..invitation.clone()
    }
}

fn cause(rule: &str) -> Cause {
    Cause {
        cause_type: CauseType::Policy,
        rule: rule.to_owned(),
        policy_hash: "5d41402abc4b2a76b9719d911017c592ae3c0f7a5b8e9d1c2f3a4b5c6d7e8f90".into(),
        approval_id: None,
    }
}

/// An approval request of `invitation`, valid until an hour before its expiry.
fn approval(invitation: &Invitation, action: ApprovalAction, function: ApprovalFunction, rule: &str) -> Approval {
    let policy_hash = cause(rule).policy_hash;
    let digest = Sha256::digest(format!("{}:{}:{policy_hash}", invitation.id, action.as_str()).as_bytes());
    Approval {
        approval_id: format!("apr1.{}.{}", invitation.id, hex::encode(&digest[..12])),
        action,
        rule: rule.to_owned(),
        policy_hash,
        until: invitation.expires_at.map(|e| e - Duration::hours(1)).unwrap_or_default(),
        function,
    }
}

fn task(status: TaskStatus) -> AcceptanceTask {
    let invitation = engagement();
    let (opportunity_id, reason_code, message) = match status {
        TaskStatus::Complete => (Some("O4829173650".to_owned()), None, None),
        TaskStatus::Failed => (
            None,
            Some(TaskReasonCode::new("OpportunityValidationFailed")),
            Some("The opportunity could not be created: Customer.Account.WebsiteUrl is required".to_owned()),
        ),
        _ => (None, None, None),
    };
    AcceptanceTask {
        task_id: "task-2jh7p5c0kd3wx".into(),
        task_arn: Some(
            "arn:aws:partnercentral:us-east-1::catalog/AWS/engagement-by-accepting-invitation-task/task-2jh7p5c0kd3wx"
                .into(),
        ),
        invitation_id: Some(invitation.id),
        status,
        started_at: Some(at(8, 9, 20)),
        opportunity_id,
        resource_snapshot_job_id: Some("job-9vn2k7r4t1qxb".into()),
        reason_code,
        message,
    }
}

/// The detail-type's event, as a function would publish it.
fn outbound(detail_type: DetailType) -> Option<OutboundEvent> {
    use DetailType::*;
    let conn = connection();
    let eng = engagement();
    let later = at(9, 10, 0);
    let transition = |inv: &Invitation, status| {
        InvitationEvent::transition(&with_status(inv, status, later), InvitationStatus::Pending, later)
    };
    let event = match detail_type {
        ConnectionInvitationCreated => InvitationEvent::created(&conn, at(6, 14, 35)),
        ConnectionInvitationAccepted => transition(&conn, InvitationStatus::Accepted)?,
        ConnectionInvitationRejected => transition(&conn, InvitationStatus::Rejected)?,
        ConnectionInvitationCanceled => InvitationEvent::canceled_by_policy(
            &with_status(&conn, InvitationStatus::Canceled, later),
            InvitationStatus::Pending,
            cause("stale-after-3-days"),
            later,
        )?,
        ConnectionInvitationExpired => {
            let expiry = conn.expires_at.unwrap_or(later);
            let expired = with_status(&conn, InvitationStatus::Expired, expiry);
            InvitationEvent::transition(&expired, InvitationStatus::Pending, expiry + Duration::minutes(5))?
        }
        ConnectionInvitationExpiringSoon => {
            InvitationEvent::expiring_soon(&conn, 24, conn.expires_at.unwrap_or(later) - Duration::minutes(1430))
        }
        ConnectionInvitationCancellationPlanned => {
            InvitationEvent::cancellation_planned(&conn, cause("stale-after-3-days"), later)
        }
        ConnectionInvitationResponsePlanned => {
            // One we received: auto-respond answers those.
            let received = Invitation { participant_type: ParticipantType::Receiver, ..conn.clone() };
            let reason = RejectionReason::new("Not a partner we work with").ok()?;
            InvitationEvent::response_planned(
                &received,
                Response::Reject { rejection_reason: reason },
                cause("reject-unknown-partners"),
                later,
            )
        }
        EngagementInvitationCreated => InvitationEvent::created(&eng, at(8, 9, 5)),
        EngagementInvitationAccepted => InvitationEvent::answered_by_policy(
            &with_status(&eng, InvitationStatus::Accepted, at(8, 9, 25)),
            InvitationStatus::Pending,
            cause("accept-aws-opportunities"),
            at(8, 9, 25),
        )?,
        EngagementInvitationRejected => transition(&eng, InvitationStatus::Rejected)?,
        EngagementInvitationExpired => {
            let expiry = eng.expires_at.unwrap_or(later);
            let expired = with_status(&eng, InvitationStatus::Expired, expiry);
            InvitationEvent::transition(&expired, InvitationStatus::Pending, expiry + Duration::minutes(5))?
        }
        EngagementInvitationExpiringSoon => {
            InvitationEvent::expiring_soon(&eng, 24, eng.expires_at.unwrap_or(later) - Duration::minutes(1415))
        }
        EngagementInvitationResponsePlanned => {
            let reason = RejectionReason::new("Unable to support").ok()?;
            InvitationEvent::response_planned(
                &eng,
                Response::Reject { rejection_reason: reason },
                cause("reject-outside-our-regions"),
                at(8, 9, 10),
            )
        }
        EngagementInvitationAcceptanceStarted => InvitationEvent::acceptance_started(
            &eng,
            &task(TaskStatus::InProgress),
            cause("accept-aws-opportunities"),
            at(8, 9, 20),
        ),
        EngagementInvitationAcceptanceCompleted => InvitationEvent::acceptance_ended(
            &with_status(&eng, InvitationStatus::Accepted, at(8, 9, 25)),
            &task(TaskStatus::Complete),
            Some(cause("accept-aws-opportunities")),
            at(8, 9, 25),
        )?,
        EngagementInvitationAcceptanceFailed => InvitationEvent::acceptance_ended(
            &eng,
            &task(TaskStatus::Failed),
            Some(cause("accept-aws-opportunities")),
            at(8, 9, 25),
        )?,
        EngagementInvitationApprovalRequested => InvitationEvent::approval_requested(
            &eng,
            approval(&eng, ApprovalAction::Accept, ApprovalFunction::AutoRespond, "ask-before-accepting"),
            cause("ask-before-accepting"),
            at(8, 9, 10),
        ),
        ConnectionInvitationApprovalRequested => InvitationEvent::approval_requested(
            &conn,
            approval(&conn, ApprovalAction::Cancel, ApprovalFunction::AutoCancel, "stale-after-3-days"),
            cause("stale-after-3-days"),
            later,
        ),
        InvitationsExpiringDigest => {
            let now = at(20, 7, 0);
            let soon = Invitation { expires_at: Some(now + Duration::minutes(310)), ..eng.clone() };
            let other = Invitation {
                id: "engi-1mw6d9f4h2s8t".into(),
                arn: "arn:aws:partnercentral:us-east-1::catalog/AWS/engagement-invitation/engi-1mw6d9f4h2s8t".into(),
                engagement_id: Some("eng-7kd2p9x4qw1zvb".into()),
                engagement_title: Some("Contact centre modernisation".into()),
                expires_at: Some(now + Duration::minutes(2875)),
                ..eng.clone()
            };
            let pending_conn = Invitation { expires_at: Some(now + Duration::minutes(1260)), ..conn.clone() };
            let figures = |kind, answered_by, count, p50_hours, p90_hours| AnswerTimeFigures {
                kind,
                answered_by,
                count,
                p50_hours,
                p90_hours,
            };
            let answer_times = AnswerTimes {
                window_days: crate::domain::answer::WINDOW_DAYS,
                answered: vec![
                    figures(InvitationKind::Connection, AnsweredBy::Person, 3, 52.5, 140.0),
                    figures(InvitationKind::Engagement, AnsweredBy::Policy, 14, 24.3, 26.1),
                    figures(InvitationKind::Engagement, AnsweredBy::Person, 4, 71.0, 190.2),
                ],
                expired_unanswered: ExpiredUnanswered { connection: 0, engagement: 1 },
            };
            return OutboundEvent::from_digest(&ExpiringDigest::new(
                Catalog::Aws,
                72,
                now,
                &[soon, other, pending_conn],
                answer_times,
            ))
            .ok();
        }
        HealthCheck => {
            return crate::health::health_check_event("list-and-publish", Catalog::Aws, "sample", at(20, 7, 30)).ok();
        }
    };
    if event.detail_type != detail_type {
        return None;
    }
    OutboundEvent::from_event(&event).ok()
}

/// What EventBridge adds: a fresh UUID per delivery (here derived from the event id, so the
/// samples are stable; it differs from the contract's `eventId`, as real ids do).
fn delivery_id(event_id: &str) -> String {
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&Sha256::digest(format!("delivery:{event_id}").as_bytes())[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let h = hex::encode(bytes);
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

/// The sample of `detail_type`: the whole envelope as a rule target receives it.
pub fn sample(detail_type: DetailType) -> Option<Value> {
    let event = outbound(detail_type)?;
    let detail: Value = serde_json::from_str(&event.detail).ok()?;
    Some(json!({
        "version": "0",
        "id": delivery_id(&event.event_id),
        "detail-type": event.detail_type,
        "source": SAMPLE_SOURCE,
        "account": SAMPLE_ACCOUNT,
        "time": event.time.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "region": SAMPLE_REGION,
        "resources": event.resources,
        "detail": detail,
    }))
}

/// Every sample: file name under `schemas/samples/` and the event.
pub fn all() -> Vec<(String, Value)> {
    DetailType::ALL.into_iter().filter_map(|d| Some((file_name(d), sample(d)?))).collect()
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn samples_dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join("schemas").join("samples")
    }

    #[test]
    fn there_is_one_sample_per_detail_type_with_its_own_detail_type() {
        for d in DetailType::ALL {
            let s = sample(d).unwrap_or_else(|| panic!("no sample for {d}"));
            assert_eq!(s["detail-type"], d.as_str());
            assert_eq!(s["detail"]["schemaVersion"], "1");
        }
        assert_eq!(all().len(), DetailType::ALL.len());
    }

    #[test]
    fn every_sample_matches_the_envelope_schema() {
        let schema = serde_json::to_value(schemars::schema_for!(crate::schema::ReceivedEvent)).unwrap_or_default();
        let validator = jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{e}"));
        for (name, event) in all() {
            let errors: Vec<String> = validator.iter_errors(&event).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{name}: {errors:?}");
        }
    }

    /// `UPDATE_SCHEMAS=1` rewrites the files (what `make schemas` does); otherwise any
    /// difference, missing or extra file fails with the file to regenerate.
    #[test]
    fn checked_in_samples_are_current() {
        let update = std::env::var("UPDATE_SCHEMAS").is_ok_and(|v| v == "1");
        let dir = samples_dir();
        let samples = all();
        for (name, event) in &samples {
            let path = dir.join(name);
            let rendered = serde_json::to_string_pretty(event).unwrap_or_default() + "\n";
            if update {
                std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
                std::fs::write(&path, &rendered).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
                continue;
            }
            let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(on_disk == rendered, "schemas/samples/{name} is stale: run `make schemas` and commit the result");
        }
        let listed: Vec<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .collect();
        for name in listed {
            assert!(
                samples.iter().any(|(n, _)| *n == name),
                "schemas/samples/{name} is no detail-type's sample: remove it"
            );
        }
    }
}
