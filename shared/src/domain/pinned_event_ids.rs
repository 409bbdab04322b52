//! Pins the deterministic `eventId`s of a handful of facts, as computed before the run
//! skeleton of issue 12 moved code around: consumers de-duplicate on these ids, so a
//! refactoring must never change one. If this test fails, the contract changed.

use chrono::{DateTime, TimeZone, Utc};

use crate::domain::{Catalog, Cause, ExpiringDigest, Invitation, InvitationEvent, InvitationStatus, OutboundEvent};
use crate::testing::{connection_invitation, engagement_invitation};

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).single().unwrap_or_default()
}

fn connection() -> Invitation {
    connection_invitation("pacinv-PINNED0000001", at(1, 9))
}

fn engagement() -> Invitation {
    engagement_invitation("engi-PINNED00000001", at(2, 10))
}

fn cause() -> Cause {
    Cause::policy("stale-invitations", "a1b2c3d4e5f60718")
}

fn id(event: Option<InvitationEvent>) -> String {
    event.map(|e| e.detail.event_id).unwrap_or_default()
}

#[test]
fn event_ids_of_known_facts_never_change() {
    let accepted = Invitation { status: InvitationStatus::Accepted, ..engagement() };
    let expired = Invitation { status: InvitationStatus::Expired, ..connection() };
    let canceled = Invitation { status: InvitationStatus::Canceled, ..connection() };
    let digest = ExpiringDigest::new(Catalog::Aws, 72, at(20, 8), &[engagement(), connection()], Default::default());
    let pinned = [
        ("created", id(Some(InvitationEvent::created(&connection(), at(1, 12))))),
        ("accepted", id(InvitationEvent::transition(&accepted, InvitationStatus::Pending, at(5, 0)))),
        ("expired", id(InvitationEvent::transition(&expired, InvitationStatus::Pending, at(16, 9)))),
        ("expiring soon", id(Some(InvitationEvent::expiring_soon(&engagement(), 24, at(16, 11))))),
        ("cancellation planned", id(Some(InvitationEvent::cancellation_planned(&connection(), cause(), at(3, 0))))),
        (
            "canceled by policy",
            id(InvitationEvent::canceled_by_policy(&canceled, InvitationStatus::Pending, cause(), at(4, 0))),
        ),
        ("digest", OutboundEvent::from_digest(&digest).map(|e| e.event_id).unwrap_or_default()),
    ];
    let expected = [
        ("created", "1b445b46f6bb84465023b20373ca7fa2"),
        ("accepted", "8b152fb961f09b7a2a3f15313eb893bc"),
        ("expired", "2170eed713979a8ac33fe29f1882b8a3"),
        ("expiring soon", "1fecdf4db7ccf4e7b1720cc99d333dbd"),
        ("cancellation planned", "0d47eee5a2ac86fe5df8af62e9a5f5e6"),
        ("canceled by policy", "66aaeeb92786c2593a80b27a59993c31"),
        ("digest", "e99517c170dda63993ad807780b475bd"),
    ];
    let pinned: Vec<(&str, &str)> = pinned.iter().map(|(n, i)| (*n, i.as_str())).collect();
    assert_eq!(pinned, expected);
}
