//! The sweeper's decision for one invitation, as a pure function: given what the API says
//! and what the state table remembers, which record change and which event (if any).

use chrono::{DateTime, Duration, Utc};
use shared::domain::Invitation;
use shared::domain::{InvitationEvent, InvitationRecord, InvitationStatus, OutboundEvent, RecordChange};

use crate::config::SweepSettings;

/// What committing a decision publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Bookkeeping only (new record, moved expiry, thresholds marked without a warning).
    Record,
    /// `<Kind> Invitation Expiring Soon` for this threshold.
    Warned { threshold_hours: u32 },
    /// `<Kind> Invitation Expired` (overdue but still PENDING, or seen EXPIRED).
    Expired,
    /// Another transition seen on a Get (`ACCEPTED`, `REJECTED`, `CANCELED`); its event, if
    /// the kind has one.
    Transition(InvitationStatus),
}

/// A record change with its events, and what it means for the summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub change: RecordChange,
    pub effect: Effect,
}

impl Decision {
    pub fn publishes(&self) -> bool {
        !self.change.events.is_empty()
    }
}

/// Why an invitation needs no change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoChange {
    /// Nothing new (already warned, not yet crossed, record already terminal, ...).
    Nothing,
    /// Unknown, PENDING in the API but overdue by more than the retention period: its record
    /// may have been removed by TTL after it was reported, so it is not reported again.
    Stale,
}

/// Decide for `invitation` (as the API returned it, any status) against its `record` (as
/// read, `None` when there is none) at `now` (Partner Central's clock).
///
/// - A terminal record never changes (rule 4: the transition was published by whoever
///   recorded it).
/// - A terminal status, or PENDING past the expiry (then treated as EXPIRED), is a
///   transition from PENDING: record and publish it. Without a record only overdue
///   invitations are recorded; other terminal ones were never pending to us.
/// - Otherwise the thresholds the time left is under are "crossed"; the smallest one is
///   warned unless it already was for the current expiry, and every crossed threshold is
///   marked warned, so a larger one never fires later. A moved expiry re-arms them.
/// - A new invitation gets a record with `announced: false` (list-and-publish announces it).
/// - A retired record (see `InvitationRecord::is_retired`) whose invitation shows up again is followed again.
pub fn decide(
    invitation: &Invitation,
    record: Option<&InvitationRecord>,
    now: DateTime<Utc>,
    settings: &SweepSettings,
) -> Result<Result<Decision, NoChange>, serde_json::Error> {
    if record.is_some_and(|r| r.status.is_terminal()) {
        return Ok(Err(NoChange::Nothing));
    }
    let overdue = invitation.is_overdue(now);
    let mut observed = invitation.clone();
    if overdue {
        observed.status = InvitationStatus::Expired;
    }

    if observed.status.is_terminal() {
        let base = match record {
            Some(r) => {
                let mut r = r.clone();
                r.observe(&observed, now);
                r
            }
            None if !overdue => return Ok(Err(NoChange::Nothing)),
            None if invitation.expires_at.is_some_and(|e| now - e > settings.retention) => {
                return Ok(Err(NoChange::Stale));
            }
            None => InvitationRecord::first_sighting(&observed, false, now),
        };
        let events = InvitationEvent::transition(&observed, InvitationStatus::Pending, now)
            .map(|e| OutboundEvent::from_event(&e))
            .transpose()?
            .into_iter()
            .collect();
        let effect = match observed.status {
            InvitationStatus::Expired => Effect::Expired,
            status => Effect::Transition(status),
        };
        return Ok(Ok(Decision { change: RecordChange::update(base, events), effect }));
    }

    let (mut base, mut changed) = match record {
        Some(r) => {
            let mut r = r.clone();
            let changed = r.observe(&observed, now);
            (r, changed)
        }
        None => (InvitationRecord::first_sighting(&observed, false, now), true),
    };
    if base.is_retired() {
        // It is back (the NotFound was transient): follow it again, without a TTL.
        base.terminal_at = None;
        changed = true;
    }
    let crossed = crossed_thresholds(&observed, now, &settings.warning_hours);
    let warned = base.warned_for_current_expiry().to_vec();
    let mut events = Vec::new();
    let mut effect = Effect::Record;
    if let Some(&smallest) = crossed.first()
        && !warned.contains(&smallest)
    {
        events.push(OutboundEvent::from_event(&InvitationEvent::expiring_soon(&observed, smallest, now))?);
        effect = Effect::Warned { threshold_hours: smallest };
    }
    if crossed.iter().any(|t| !warned.contains(t)) {
        let mut marked = warned;
        marked.extend(&crossed);
        marked.sort_unstable();
        marked.dedup();
        base.warned_thresholds = marked;
        base.warned_expires_at = base.expires_at;
        changed = true;
    }
    if !changed {
        return Ok(Err(NoChange::Nothing));
    }
    Ok(Ok(Decision { change: RecordChange::update(base, events), effect }))
}

/// Retire a record whose invitation no longer exists (see `InvitationRecord::is_retired`):
/// no event, nothing is known about what became of it.
pub fn retire(record: &InvitationRecord, now: DateTime<Utc>) -> RecordChange {
    RecordChange::update(record.retired(now), Vec::new())
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
    use super::*;
    use crate::tests::testutil::{engagement, settings, t0};
    use shared::domain::{DetailType, Expected};

    /// Decide, and apply the decision as the store would (version + 1).
    fn step(inv: &Invitation, record: Option<&InvitationRecord>, now: DateTime<Utc>) -> Option<Decision> {
        decide(inv, record, now, &settings()).unwrap_or_else(|e| panic!("{e}")).ok()
    }

    fn stored(d: &Decision) -> InvitationRecord {
        InvitationRecord { version: d.change.record.version + 1, ..d.change.record.clone() }
    }

    fn detail(d: &Decision) -> serde_json::Value {
        let e = d.change.events.first().unwrap_or_else(|| panic!("no event in {d:?}"));
        serde_json::from_str(&e.detail).unwrap_or_default()
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
        assert_eq!(d.effect, Effect::Record);
        assert!(d.change.events.is_empty());
        assert_eq!(d.change.expected, Expected::Absent);
        assert!(!d.change.record.announced);
        assert_eq!(d.change.record.status, InvitationStatus::Pending);
    }

    #[test]
    fn crossing_several_thresholds_at_once_warns_only_the_smallest_and_marks_them_all() {
        let inv = engagement(1, 2.0);
        let d = step(&inv, None, t0()).unwrap_or_else(|| panic!("no decision"));
        assert_eq!(d.effect, Effect::Warned { threshold_hours: 4 });
        assert_eq!(d.change.events.len(), 1);
        assert_eq!(d.change.events[0].detail_type, "Engagement Invitation Expiring Soon");
        assert_eq!(d.change.record.warned_thresholds, [4, 24, 72]);
        assert_eq!(d.change.record.warned_expires_at, inv.expires_at);
        let v = detail(&d);
        assert_eq!((v["thresholdHours"].as_u64(), v["hoursRemaining"].as_f64()), (Some(4), Some(2.0)));
        // The larger thresholds never fire later for this expiry.
        let r = stored(&d);
        assert!(step(&inv, Some(&r), t0() + chrono::Duration::hours(1)).is_none());
    }

    #[test]
    fn each_threshold_warns_once_across_runs_as_time_passes() {
        let inv = engagement(1, 100.0);
        let mut record = stored(&step(&inv, None, t0()).unwrap_or_else(|| panic!("created")));
        let mut warned = Vec::new();
        for hour in 0..100 {
            let now = t0() + chrono::Duration::hours(hour);
            if let Some(d) = step(&inv, Some(&record), now) {
                if let Effect::Warned { threshold_hours } = d.effect {
                    let v = detail(&d);
                    warned.push((threshold_hours, v["hoursRemaining"].as_f64().unwrap_or_default()));
                }
                record = stored(&d);
            }
        }
        // 100h left at t0: under 72h after 29h (71.0 left), under 24h at 77h (23.0), under 4h at 97h (3.0).
        assert_eq!(warned, [(72, 71.0), (24, 23.0), (4, 3.0)]);
    }

    #[test]
    fn a_warning_with_a_moved_expiry_rearms_and_is_a_new_fact() {
        let mut inv = engagement(1, 10.0);
        let first = step(&inv, None, t0()).unwrap_or_else(|| panic!("warned"));
        assert_eq!(first.effect, Effect::Warned { threshold_hours: 24 });
        let record = stored(&first);
        // Extended by two days: 58h left, under 72h again — a new warning for the new expiry.
        inv.expires_at = inv.expires_at.map(|e| e + chrono::Duration::hours(48));
        let rearmed = step(&inv, Some(&record), t0()).unwrap_or_else(|| panic!("re-armed"));
        assert_eq!(rearmed.effect, Effect::Warned { threshold_hours: 72 });
        assert_ne!(rearmed.change.events[0].event_id, first.change.events[0].event_id);
        assert_eq!(rearmed.change.record.warned_thresholds, [72]);
        assert_eq!(rearmed.change.expected, Expected::Version(record.version));
        // And 24h fires again once the new expiry is that close.
        let record = stored(&rearmed);
        let later = step(&inv, Some(&record), t0() + chrono::Duration::hours(40)).unwrap_or_else(|| panic!("24h"));
        assert_eq!(later.effect, Effect::Warned { threshold_hours: 24 });
    }

    #[test]
    fn an_extension_that_crosses_nothing_only_updates_the_record() {
        let mut inv = engagement(1, 10.0);
        let record = stored(&step(&inv, None, t0()).unwrap_or_else(|| panic!("warned")));
        inv.expires_at = inv.expires_at.map(|e| e + chrono::Duration::days(10));
        let d = step(&inv, Some(&record), t0()).unwrap_or_else(|| panic!("expiry change is recorded"));
        assert_eq!(d.effect, Effect::Record);
        assert!(d.change.events.is_empty());
        assert_eq!(d.change.record.expires_at, inv.expires_at);
    }

    #[test]
    fn overdue_but_still_pending_is_recorded_and_published_as_expired() {
        let inv = engagement(1, 2.0);
        let record = stored(&step(&inv, None, t0()).unwrap_or_else(|| panic!("warned")));
        let now = t0() + chrono::Duration::hours(3);
        let d = step(&inv, Some(&record), now).unwrap_or_else(|| panic!("expired"));
        assert_eq!(d.effect, Effect::Expired);
        assert_eq!((d.change.record.status, d.change.record.terminal_at), (InvitationStatus::Expired, Some(now)));
        assert_eq!(d.change.events[0].detail_type, DetailType::EngagementInvitationExpired.as_str());
        let v = detail(&d);
        assert_eq!((v["status"].as_str(), v["previousStatus"].as_str()), (Some("EXPIRED"), Some("PENDING")));
        // The same fact has the same id whoever observes it, whenever.
        let mut api_expired = inv.clone();
        api_expired.status = InvitationStatus::Expired;
        let observed = shared::domain::InvitationEvent::transition(&api_expired, InvitationStatus::Pending, t0());
        assert_eq!(observed.map(|e| e.detail.event_id), Some(d.change.events[0].event_id.clone()));
        // Once recorded, never again.
        assert!(step(&inv, Some(&stored(&d)), now + chrono::Duration::hours(1)).is_none());
        assert!(step(&api_expired, Some(&stored(&d)), now + chrono::Duration::hours(1)).is_none());
    }

    #[test]
    fn an_unknown_overdue_invitation_is_reported_unless_older_than_the_retention() {
        let d = step(&engagement(1, -5.0), None, t0()).unwrap_or_else(|| panic!("expired"));
        assert_eq!(d.effect, Effect::Expired);
        assert!(!d.change.record.announced && d.change.record.terminal_at == Some(t0()));
        let stale = decide(&engagement(2, -31.0 * 24.0), None, t0(), &settings()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(stale.err(), Some(NoChange::Stale));
    }

    #[test]
    fn a_retired_record_whose_invitation_is_back_is_followed_again() {
        let inv = engagement(1, 10.0);
        let record = stored(&step(&inv, None, t0()).unwrap_or_else(|| panic!("warned")));
        let retired = stored(&Decision { change: retire(&record, t0()), effect: Effect::Record });
        assert!(retired.is_retired());
        let back = step(&inv, Some(&retired), t0()).unwrap_or_else(|| panic!("followed again"));
        assert_eq!((back.effect, back.change.record.terminal_at), (Effect::Record, None));
        assert!(back.change.events.is_empty(), "its warning was already published");
    }

    #[test]
    fn a_terminal_status_is_a_transition_only_for_a_recorded_pending_invitation() {
        let inv = engagement(1, 50.0);
        let record = stored(&step(&inv, None, t0()).unwrap_or_else(|| panic!("warned")));
        let mut accepted = inv.clone();
        accepted.status = InvitationStatus::Accepted;
        let d = step(&accepted, Some(&record), t0()).unwrap_or_else(|| panic!("transition"));
        assert_eq!(d.effect, Effect::Transition(InvitationStatus::Accepted));
        assert_eq!(d.change.events[0].detail_type, "Engagement Invitation Accepted");
        // Never pending to us: list-and-publish's business, not ours.
        assert!(step(&accepted, None, t0()).is_none());
        // A terminal record never moves (another function published the transition).
        let mut done = record.clone();
        done.status = InvitationStatus::Expired;
        assert!(step(&accepted, Some(&done), t0()).is_none());
        assert!(step(&inv, Some(&done), t0()).is_none());
    }
}
