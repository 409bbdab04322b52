//! The expire-sweeper's decision per PENDING invitation: warnings before the expiry, the
//! expiry itself, and other transitions its Gets reveal (rules 2, 4, 5 and 8 of [`super`]).

use chrono::{DateTime, Duration, Utc};

use super::{EventKind, Plan};
use crate::domain::{Invitation, InvitationRecord, InvitationStatus};

/// Rule 5: an unknown invitation, PENDING in the API but overdue by more than `retention`:
/// its record may have been removed by the TTL after it was reported, so it is not reported
/// again ([`sweep`] plans nothing for it).
pub fn is_stale(
    invitation: &Invitation,
    record: Option<&InvitationRecord>,
    now: DateTime<Utc>,
    retention: Duration,
) -> bool {
    record.is_none() && invitation.is_overdue(now) && invitation.expires_at.is_some_and(|e| now - e > retention)
}

/// The sweeper's decision for `invitation` (as the API returned it, any status) against its
/// `record` (as read, `None` when there is none) at `now` (Partner Central's clock), with the
/// warning thresholds `warning_hours` (ascending) and the records' `retention`.
///
/// - A terminal record never changes (rule 4).
/// - A terminal status, or PENDING past the expiry (rule 5: then EXPIRED), is a transition
///   from PENDING: record and publish it (rule 2). Without a record only overdue invitations
///   are recorded (unless stale); other terminal ones were never pending to us.
/// - Otherwise rule 8: the smallest crossed threshold is warned unless it already was for
///   the current expiry, every crossed one is marked.
/// - A new invitation gets a record with `announced: false` (rule 3).
/// - A retired record whose invitation shows up again is followed again (rule 6).
pub fn sweep(
    invitation: &Invitation,
    record: Option<&InvitationRecord>,
    now: DateTime<Utc>,
    warning_hours: &[u32],
    retention: Duration,
) -> Plan {
    if record.is_some_and(|r| r.status.is_terminal()) || is_stale(invitation, record, now, retention) {
        return Plan::Nothing;
    }
    let overdue = invitation.is_overdue(now);
    let mut observed = invitation.clone();
    if overdue {
        observed.status = InvitationStatus::Expired;
    }

    if observed.status.is_terminal() {
        let record = match record {
            Some(r) => {
                let mut r = r.clone();
                r.observe(&observed, now);
                r
            }
            None if !overdue => return Plan::Nothing,
            None => InvitationRecord::first_sighting(&observed, false, now),
        };
        return Plan::Commit { record, events: vec![EventKind::Transition { previous: InvitationStatus::Pending }] };
    }

    let (mut next, mut changed) = match record {
        Some(r) => {
            let mut r = r.clone();
            let changed = r.observe(&observed, now);
            (r, changed)
        }
        None => (InvitationRecord::first_sighting(&observed, false, now), true),
    };
    if next.is_retired() {
        // It is back (the NotFound was transient): follow it again, without a TTL.
        next.terminal_at = None;
        changed = true;
    }
    let crossed = crossed_thresholds(&observed, now, warning_hours);
    let warned = next.warned_for_current_expiry().to_vec();
    let mut events = Vec::new();
    if let Some(&smallest) = crossed.first()
        && !warned.contains(&smallest)
    {
        events.push(EventKind::ExpiringSoon { threshold_hours: smallest });
    }
    if crossed.iter().any(|t| !warned.contains(t)) {
        let mut marked = warned;
        marked.extend(&crossed);
        marked.sort_unstable();
        marked.dedup();
        next.warned_thresholds = marked;
        next.warned_expires_at = next.expires_at;
        changed = true;
    }
    if changed { Plan::Commit { record: next, events } } else { Plan::Nothing }
}

/// The thresholds (ascending, as configured) the invitation's time left is under at `now`;
/// none once it has expired or without an expiry.
pub fn crossed_thresholds(invitation: &Invitation, now: DateTime<Utc>, thresholds: &[u32]) -> Vec<u32> {
    match invitation.time_left(now) {
        Some(left) if left > Duration::zero() => {
            thresholds.iter().copied().filter(|t| left < Duration::hours(i64::from(*t))).collect()
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::domain::decision::{render, retire};
    use crate::domain::{DetailType, InvitationEvent, OtherParty, OutboundEvent};
    use crate::testing::engagement_invitation;

    const THRESHOLDS: [u32; 3] = [4, 24, 72];
    const FROM_PENDING: EventKind = EventKind::Transition { previous: InvitationStatus::Pending };

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).single().unwrap_or_default()
    }

    fn engagement(n: u32, hours_left: f64) -> Invitation {
        let expires = t0() + Duration::seconds((hours_left * 3600.0) as i64);
        Invitation {
            other_party: OtherParty {
                sender_aws_account_id: Some("AWS".into()),
                sender_company_name: Some("Amazon Web Services".into()),
                ..Default::default()
            },
            payload_type: Some("OpportunityInvitation".into()),
            engagement_id: Some(format!("eng-{n:014}")),
            engagement_title: Some(format!("Opportunity {n}")),
            ..engagement_invitation(&format!("engi-{n:013}"), expires - Duration::days(15))
        }
    }

    /// A committed decision: the record written and the events rendered with it.
    struct Step {
        record: InvitationRecord,
        kinds: Vec<EventKind>,
        events: Vec<OutboundEvent>,
    }

    impl Step {
        /// The record as the store holds it after the commit (version + 1).
        fn stored(&self) -> InvitationRecord {
            InvitationRecord { version: self.record.version + 1, ..self.record.clone() }
        }

        fn detail(&self) -> serde_json::Value {
            let e = self.events.first().unwrap_or_else(|| panic!("no event"));
            serde_json::from_str(&e.detail).unwrap_or_default()
        }
    }

    fn step(inv: &Invitation, record: Option<&InvitationRecord>, now: DateTime<Utc>) -> Option<Step> {
        match sweep(inv, record, now, &THRESHOLDS, Duration::days(30)) {
            Plan::Commit { record, events: kinds } => {
                let events = render(inv, Some(&record), &kinds, now).unwrap_or_else(|e| panic!("{e}"));
                Some(Step { record, kinds, events })
            }
            Plan::Nothing => None,
            plan @ Plan::Enqueue { .. } => panic!("the sweeper never enqueues: {plan:?}"),
        }
    }

    fn warned(s: &Step) -> Option<u32> {
        s.kinds.iter().find_map(|k| match k {
            EventKind::ExpiringSoon { threshold_hours } => Some(*threshold_hours),
            _ => None,
        })
    }

    #[test]
    fn thresholds_crossed_are_those_above_the_time_left() {
        let inv = engagement(1, 10.0);
        assert_eq!(crossed_thresholds(&inv, t0(), &[4, 24, 72]), [24, 72]);
        assert_eq!(crossed_thresholds(&engagement(1, 100.0), t0(), &[4, 24, 72]), Vec::<u32>::new());
        // Exactly at a threshold is not under it; past expiry nothing is crossed.
        assert_eq!(crossed_thresholds(&engagement(1, 24.0), t0(), &[4, 24, 72]), [72]);
        assert_eq!(crossed_thresholds(&engagement(1, -1.0), t0(), &[4, 24, 72]), Vec::<u32>::new());
    }

    #[test]
    fn a_new_invitation_gets_an_unannounced_record_and_nothing_else_while_far_from_expiry() {
        let d = step(&engagement(1, 100.0), None, t0()).unwrap_or_else(|| panic!("no decision"));
        assert!(d.kinds.is_empty());
        assert_eq!(d.record.version, 0, "a new record");
        assert!(!d.record.announced);
        assert_eq!(d.record.status, InvitationStatus::Pending);
    }

    #[test]
    fn crossing_several_thresholds_at_once_warns_only_the_smallest_and_marks_them_all() {
        let inv = engagement(1, 2.0);
        let d = step(&inv, None, t0()).unwrap_or_else(|| panic!("no decision"));
        assert_eq!(d.kinds, [EventKind::ExpiringSoon { threshold_hours: 4 }]);
        assert_eq!(d.events.len(), 1);
        assert_eq!(d.events[0].detail_type, "Engagement Invitation Expiring Soon");
        assert_eq!(d.record.warned_thresholds, [4, 24, 72]);
        assert_eq!(d.record.warned_expires_at, inv.expires_at);
        let v = d.detail();
        assert_eq!((v["thresholdHours"].as_u64(), v["hoursRemaining"].as_f64()), (Some(4), Some(2.0)));
        // The larger thresholds never fire later for this expiry.
        assert!(step(&inv, Some(&d.stored()), t0() + Duration::hours(1)).is_none());
    }

    #[test]
    fn each_threshold_warns_once_across_runs_as_time_passes() {
        let inv = engagement(1, 100.0);
        let mut record = step(&inv, None, t0()).unwrap_or_else(|| panic!("created")).stored();
        let mut warnings = Vec::new();
        for hour in 0..100 {
            let now = t0() + Duration::hours(hour);
            if let Some(d) = step(&inv, Some(&record), now) {
                if let Some(threshold_hours) = warned(&d) {
                    warnings.push((threshold_hours, d.detail()["hoursRemaining"].as_f64().unwrap_or_default()));
                }
                record = d.stored();
            }
        }
        // 100h left at t0: under 72h after 29h (71.0 left), under 24h at 77h (23.0), under 4h at 97h (3.0).
        assert_eq!(warnings, [(72, 71.0), (24, 23.0), (4, 3.0)]);
    }

    #[test]
    fn a_warning_with_a_moved_expiry_rearms_and_is_a_new_fact() {
        let mut inv = engagement(1, 10.0);
        let first = step(&inv, None, t0()).unwrap_or_else(|| panic!("warned"));
        assert_eq!(warned(&first), Some(24));
        let record = first.stored();
        // Extended by two days: 58h left, under 72h again — a new warning for the new expiry.
        inv.expires_at = inv.expires_at.map(|e| e + Duration::hours(48));
        let rearmed = step(&inv, Some(&record), t0()).unwrap_or_else(|| panic!("re-armed"));
        assert_eq!(warned(&rearmed), Some(72));
        assert_ne!(rearmed.events[0].event_id, first.events[0].event_id);
        assert_eq!(rearmed.record.warned_thresholds, [72]);
        assert_eq!(rearmed.record.version, record.version, "committed against the version read");
        // And 24h fires again once the new expiry is that close.
        let later = step(&inv, Some(&rearmed.stored()), t0() + Duration::hours(40)).unwrap_or_else(|| panic!("24h"));
        assert_eq!(warned(&later), Some(24));
    }

    #[test]
    fn an_extension_that_crosses_nothing_only_updates_the_record() {
        let mut inv = engagement(1, 10.0);
        let record = step(&inv, None, t0()).unwrap_or_else(|| panic!("warned")).stored();
        inv.expires_at = inv.expires_at.map(|e| e + Duration::days(10));
        let d = step(&inv, Some(&record), t0()).unwrap_or_else(|| panic!("expiry change is recorded"));
        assert!(d.kinds.is_empty());
        assert_eq!(d.record.expires_at, inv.expires_at);
    }

    #[test]
    fn overdue_but_still_pending_is_recorded_and_published_as_expired() {
        let inv = engagement(1, 2.0);
        let record = step(&inv, None, t0()).unwrap_or_else(|| panic!("warned")).stored();
        let now = t0() + Duration::hours(3);
        let d = step(&inv, Some(&record), now).unwrap_or_else(|| panic!("expired"));
        assert_eq!(d.kinds, [FROM_PENDING]);
        assert_eq!((d.record.status, d.record.terminal_at), (InvitationStatus::Expired, Some(now)));
        assert_eq!(d.events[0].detail_type, DetailType::EngagementInvitationExpired.as_str());
        let v = d.detail();
        assert_eq!((v["status"].as_str(), v["previousStatus"].as_str()), (Some("EXPIRED"), Some("PENDING")));
        // The same fact has the same id whoever observes it, whenever.
        let api_expired = Invitation { status: InvitationStatus::Expired, ..inv.clone() };
        let observed = InvitationEvent::transition(&api_expired, InvitationStatus::Pending, t0());
        assert_eq!(observed.map(|e| e.detail.event_id), Some(d.events[0].event_id.clone()));
        // Once recorded, never again.
        assert!(step(&inv, Some(&d.stored()), now + Duration::hours(1)).is_none());
        assert!(step(&api_expired, Some(&d.stored()), now + Duration::hours(1)).is_none());
    }

    #[test]
    fn an_unknown_overdue_invitation_is_reported_unless_older_than_the_retention() {
        let d = step(&engagement(1, -5.0), None, t0()).unwrap_or_else(|| panic!("expired"));
        assert_eq!(d.kinds, [FROM_PENDING]);
        assert!(!d.record.announced && d.record.terminal_at == Some(t0()));
        let stale = engagement(2, -31.0 * 24.0);
        assert!(is_stale(&stale, None, t0(), Duration::days(30)));
        assert!(step(&stale, None, t0()).is_none());
        assert!(!is_stale(&engagement(1, -5.0), None, t0(), Duration::days(30)));
    }

    #[test]
    fn a_retired_record_whose_invitation_is_back_is_followed_again() {
        let inv = engagement(1, 10.0);
        let record = step(&inv, None, t0()).unwrap_or_else(|| panic!("warned")).stored();
        let Plan::Commit { record: retired, .. } = retire(&record, t0()) else { panic!("retired") };
        let retired = InvitationRecord { version: retired.version + 1, ..retired };
        assert!(retired.is_retired());
        let back = step(&inv, Some(&retired), t0()).unwrap_or_else(|| panic!("followed again"));
        assert_eq!(back.record.terminal_at, None);
        assert!(back.kinds.is_empty(), "its warning was already published");
    }

    #[test]
    fn a_terminal_status_is_a_transition_only_for_a_recorded_pending_invitation() {
        let inv = engagement(1, 50.0);
        let record = step(&inv, None, t0()).unwrap_or_else(|| panic!("warned")).stored();
        let accepted = Invitation { status: InvitationStatus::Accepted, ..inv.clone() };
        let d = step(&accepted, Some(&record), t0()).unwrap_or_else(|| panic!("transition"));
        assert_eq!((d.kinds.as_slice(), d.record.status), (&[FROM_PENDING][..], InvitationStatus::Accepted));
        assert_eq!(d.events[0].detail_type, "Engagement Invitation Accepted");
        // Never pending to us: list-and-publish's business, not ours.
        assert!(step(&accepted, None, t0()).is_none());
        // A terminal record never moves (another function published the transition).
        let done = InvitationRecord { status: InvitationStatus::Expired, ..record.clone() };
        assert!(step(&accepted, Some(&done), t0()).is_none());
        assert!(step(&inv, Some(&done), t0()).is_none());
    }
}
