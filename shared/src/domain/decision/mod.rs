//! What one observation of an invitation means against its record: pure functions, no I/O,
//! shared by every function that watches invitations (list-and-publish, expire-sweeper, and
//! the functions that act on them).
//!
//! A decision is a [`Plan`]: the record to write (with the version read, for the conditional
//! commit) and *which* events go with it ([`EventKind`]). Rendering the contract events from
//! a plan happens after, in [`render`].
//!
//! # The rules every function follows
//!
//! Comments elsewhere cite these by number ("rule 3").
//!
//! 1. **Conditional commits.** A record is written only if it still has the version that was
//!    read (0: absent), together with its events (transactional outbox). On a conflict the
//!    writer reads the record again and decides again against what the other writer stored
//!    ([`crate::commit::commit_with_retries`]).
//! 2. **A transition is published by whoever records it.** Its event goes out in the same
//!    commit that moves the record out of PENDING; the `eventId` depends only on the fact
//!    (invitation, status, previous status), so whichever function sees it first publishes the
//!    same event.
//! 3. **Announcements belong to list-and-publish.** Another function that is first to see an
//!    invitation records it with `announced: false`; list-and-publish publishes its `Created`
//!    at its next run (and marks it announced) — unless the record is already terminal: then
//!    the transition the other function published was the invitation's first event, and no
//!    `Created` follows it (a consumer never sees `Created` after `Canceled`).
//! 4. **A terminal record never changes.** Whoever recorded the transition published it; a
//!    listing that still says PENDING (the API applies expiry lazily) or a later status is not
//!    a second transition. Events show what is known: a terminal record's status wins over a
//!    PENDING listing.
//! 5. **Overdue is expired.** A PENDING invitation past its expiry is recorded and published
//!    as EXPIRED (from PENDING) by the sweeper, the same fact as when the API says EXPIRED.
//!    An unknown one overdue by more than the retention period is not reported: its record may
//!    have been removed by the table's TTL after it was reported ([`is_stale`]).
//! 6. **Gone is retired, not transitioned.** A followed record whose invitation answers
//!    NotFound is retired without an event (the table's TTL removes it later); if the
//!    invitation shows up again, it is followed again ([`gone`]).
//! 7. **History is not news.** A terminal invitation without a record is new only if it was
//!    created after the last full reconciliation (which records every pending invitation) and
//!    within the retention period; then both facts (`Created` and its transition) are
//!    published.
//! 8. **Warnings once per threshold and expiry.** Of the thresholds the time left is under,
//!    the smallest is warned unless it already was for the current expiry, and all of them are
//!    marked, so a larger one never fires later; an expiry moved later re-arms them.

mod observe;
mod sweep;

use chrono::{DateTime, Utc};

use super::{Cause, Invitation, InvitationEvent, InvitationRecord, InvitationStatus, OutboundEvent};

pub use observe::{BaselineEvents, CLOCK_MARGIN, Context, Mode, observe};
pub use sweep::{crossed_thresholds, is_stale, sweep};

/// An event to publish about the invitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// `<Kind> Invitation Created`.
    Created,
    /// The transition from `previous` to the invitation's status (if its kind has an event).
    Transition { previous: InvitationStatus },
    /// `<Kind> Invitation Expiring Soon` for this threshold (rule 8).
    ExpiringSoon { threshold_hours: u32 },
}

/// What to do about one invitation.
// `Commit` carries the whole record (it grew with the approval and answer fields): a plan is
// made per invitation and consumed at once, so boxing would add an allocation per invitation
// for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    Nothing,
    /// Write `record` (its `version` is the one read, 0 = new) together with these events.
    Commit {
        record: InvitationRecord,
        events: Vec<EventKind>,
    },
    /// Publish without keeping a record (the `all` baseline's backfill of history).
    Enqueue {
        events: Vec<EventKind>,
    },
}

impl Plan {
    pub fn events(&self) -> &[EventKind] {
        match self {
            Plan::Nothing => &[],
            Plan::Commit { events, .. } | Plan::Enqueue { events } => events,
        }
    }

    /// The record the plan writes, if any.
    pub fn record(&self) -> Option<&InvitationRecord> {
        match self {
            Plan::Commit { record, .. } => Some(record),
            Plan::Nothing | Plan::Enqueue { .. } => None,
        }
    }
}

/// Retire a record whose invitation no longer exists (rule 6): no event, nothing is known
/// about what became of it; the table's TTL removes the record after the retention period.
pub fn retire(record: &InvitationRecord, now: DateTime<Utc>) -> Plan {
    Plan::Commit { record: record.retired(now), events: Vec::new() }
}

/// The plan for a record whose invitation answered NotFound (rule 6): retire it if it was
/// followed, mark it announced if it was waiting for that (nothing left to announce, rule 3),
/// else nothing.
pub fn gone(record: &InvitationRecord, now: DateTime<Utc>) -> Plan {
    if record.is_followed() {
        retire(record, now)
    } else if !record.announced {
        Plan::Commit { record: InvitationRecord { announced: true, ..record.clone() }, events: vec![] }
    } else {
        Plan::Nothing
    }
}

/// The contract events of `events` about `invitation` (as observed), observed at `now`.
/// When the plan's `record` is terminal and the observation still says PENDING, the events
/// show the recorded status (rule 4: the expiry the sweeper recorded, rule 5: overdue).
/// An `Accepted` transition of an invitation auto-respond started accepting (the record
/// remembers the task) carries that policy's `cause`, whoever records it first: the same
/// event, with the same `eventId`, as auto-respond would publish.
pub fn render(
    invitation: &Invitation,
    record: Option<&InvitationRecord>,
    events: &[EventKind],
    now: DateTime<Utc>,
) -> Result<Vec<OutboundEvent>, serde_json::Error> {
    let shown = match record {
        Some(r) if invitation.status == InvitationStatus::Pending && r.status.is_terminal() => {
            Invitation { status: r.status, ..invitation.clone() }
        }
        _ => invitation.clone(),
    };
    events
        .iter()
        .filter_map(|kind| match *kind {
            EventKind::Created => Some(InvitationEvent::created(&shown, now)),
            EventKind::Transition { previous } => match accepted_by_policy(&shown, record) {
                Some(cause) => InvitationEvent::answered_by_policy(&shown, previous, cause, now),
                None => InvitationEvent::transition(&shown, previous, now),
            },
            EventKind::ExpiringSoon { threshold_hours } => {
                Some(InvitationEvent::expiring_soon(&shown, threshold_hours, now))
            }
        })
        .map(|event| OutboundEvent::from_event(&event))
        .collect()
}

/// The cause of an acceptance a policy started, when `shown` is that acceptance's outcome.
fn accepted_by_policy(shown: &Invitation, record: Option<&InvitationRecord>) -> Option<Cause> {
    let acceptance = record?.acceptance.as_deref()?;
    (shown.status == InvitationStatus::Accepted).then(|| acceptance.cause())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::domain::DetailType;
    use crate::testing::engagement_invitation;

    fn t(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 20, hour, 0, 0).single().unwrap_or_default()
    }

    #[test]
    fn a_terminal_record_shows_its_status_over_a_pending_observation() {
        let pending = engagement_invitation("engi-0000000000001", t(1));
        let mut record = InvitationRecord::first_sighting(&pending, true, t(2));
        record.observe(&Invitation { status: InvitationStatus::Expired, ..pending.clone() }, t(3));
        let from_pending = EventKind::Transition { previous: InvitationStatus::Pending };
        let events = render(&pending, Some(&record), &[from_pending], t(3)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].detail_type, DetailType::EngagementInvitationExpired.as_str());
        // Without a terminal record, a PENDING observation has no transition to show.
        assert!(render(&pending, None, &[from_pending], t(3)).unwrap_or_else(|e| panic!("{e}")).is_empty());
    }

    #[test]
    fn an_acceptance_a_policy_started_is_published_with_its_cause_by_whoever_records_it() {
        let pending = engagement_invitation("engi-0000000000001", t(1));
        let accepted = Invitation { status: InvitationStatus::Accepted, ..pending.clone() };
        let mut record = InvitationRecord::first_sighting(&pending, true, t(2));
        let from_pending = [EventKind::Transition { previous: InvitationStatus::Pending }];
        let plain = render(&accepted, Some(&record), &from_pending, t(3)).unwrap_or_else(|e| panic!("{e}"));
        record.acceptance = Some(Box::new(crate::domain::AcceptanceRecord {
            task_id: "task-0000000000001".into(),
            rule: "aws-referrals".into(),
            policy_hash: "0123456789abcdef".into(),
            started_at: t(2),
            ended: None,
            approval_id: None,
        }));
        let caused = render(&accepted, Some(&record), &from_pending, t(3)).unwrap_or_else(|e| panic!("{e}"));
        let detail = |events: &[OutboundEvent]| -> serde_json::Value {
            serde_json::from_str(&events[0].detail).unwrap_or_default()
        };
        assert_eq!(detail(&caused)["eventId"], detail(&plain)["eventId"], "the same fact");
        assert!(detail(&plain).get("cause").is_none());
        assert_eq!(
            detail(&caused)["cause"],
            serde_json::json!({"type": "policy", "rule": "aws-referrals", "policyHash": "0123456789abcdef"})
        );
        // Any other outcome is not the policy's doing.
        let expired = Invitation { status: InvitationStatus::Expired, ..pending };
        let other = render(&expired, Some(&record), &from_pending, t(3)).unwrap_or_else(|e| panic!("{e}"));
        assert!(detail(&other).get("cause").is_none());
    }

    #[test]
    fn a_vanished_record_is_retired_only_while_followed() {
        let pending = engagement_invitation("engi-0000000000001", t(1));
        let followed = InvitationRecord::first_sighting(&pending, true, t(2));
        assert!(
            matches!(gone(&followed, t(3)), Plan::Commit { record, events } if record.is_retired() && events.is_empty())
        );
        let unannounced = InvitationRecord {
            status: InvitationStatus::Accepted,
            terminal_at: Some(t(2)),
            ..InvitationRecord::first_sighting(&pending, false, t(2))
        };
        assert!(matches!(gone(&unannounced, t(3)), Plan::Commit { record, .. } if record.announced));
        let done = InvitationRecord { announced: true, ..unannounced };
        assert_eq!(gone(&done, t(3)), Plan::Nothing);
    }
}
