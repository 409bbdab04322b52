//! list-and-publish's decision per observed invitation (also the fast path's): the baseline,
//! first sightings, transitions, announcements of records other functions made (rules 2, 3,
//! 4 and 7 of [`super`]).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};

use super::{EventKind, Plan};
use crate::domain::{Invitation, InvitationRecord, InvitationStatus};

/// Which `Created` events the first run (empty state) publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BaselineEvents {
    /// Only for invitations that are still PENDING (default): no flood of history.
    #[default]
    Pending,
    /// For every invitation, history included (a backfill).
    All,
    /// None: the first run only records.
    None,
}

impl BaselineEvents {
    pub fn as_str(self) -> &'static str {
        match self {
            BaselineEvents::Pending => "pending",
            BaselineEvents::All => "all",
            BaselineEvents::None => "none",
        }
    }
}

impl fmt::Display for BaselineEvents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for BaselineEvents {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "pending" => Ok(BaselineEvents::Pending),
            "all" => Ok(BaselineEvents::All),
            "none" => Ok(BaselineEvents::None),
            _ => Err("not a baseline mode".to_owned()),
        }
    }
}

/// A run's start is taken this much before the service's clock says it is ([`Context::run_start`]),
/// to cover the `Date` header's one-second resolution and listings that started a moment
/// earlier.
pub const CLOCK_MARGIN: Duration = Duration::minutes(1);

/// What kind of run this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// First run on an empty catalog: full listings, record what is pending, publish per
    /// `BASELINE_EVENTS`.
    Baseline,
    /// Full listings (due every `FULL_SYNC_HOURS`, or asked for).
    Full,
    /// Only what can have changed since the last run.
    Incremental,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Baseline => "baseline",
            Mode::Full => "full",
            Mode::Incremental => "incremental",
        }
    }

    /// Whether every page of every listing is read.
    pub fn lists_everything(self) -> bool {
        self != Mode::Incremental
    }
}

/// What the run knows when it decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Context {
    pub mode: Mode,
    pub baseline_events: BaselineEvents,
    /// When the previous full reconciliation started (`None` on the baseline run).
    pub last_full_sync_at: Option<DateTime<Utc>>,
    /// When this run's listings started (by the service's clock, minus a safety margin):
    /// what is saved as `last_run_at` (and `last_full_sync_at` after a full run).
    pub run_start: DateTime<Utc>,
    /// How long a finished invitation's record is kept (`RETENTION_DAYS`).
    pub retention: Duration,
    /// The service's "now": observation time of every event of the run.
    pub now: DateTime<Utc>,
}

/// Rule 7: whether an invitation the run has no record of is one it has never seen: a terminal one
/// counts as never seen when it was created after the last full reconciliation (which
/// records every pending invitation and every one created since the full sync before it)
/// and recently enough that a record of it could not have expired yet.
fn unseen_terminal(ctx: &Context, invitation: &Invitation) -> bool {
    match ctx.last_full_sync_at {
        None => false,
        Some(last_full) => invitation.created_at >= last_full && invitation.created_at > ctx.now - ctx.retention,
    }
}

/// list-and-publish's decision (and the fast path's): what `invitation`, as listed or read,
/// means against the record read for it (`existing`).
pub fn observe(ctx: &Context, existing: Option<&InvitationRecord>, invitation: &Invitation) -> Plan {
    let pending = invitation.status == InvitationStatus::Pending;
    let Some(record) = existing else {
        return match (ctx.mode, pending) {
            (Mode::Baseline, true) => Plan::Commit {
                record: InvitationRecord::first_sighting(invitation, true, ctx.now),
                events: if ctx.baseline_events == BaselineEvents::None { vec![] } else { vec![EventKind::Created] },
            },
            (_, true) => Plan::Commit {
                record: InvitationRecord::first_sighting(invitation, true, ctx.now),
                events: vec![EventKind::Created],
            },
            (Mode::Baseline, false) => {
                let created =
                    if ctx.baseline_events == BaselineEvents::All { vec![EventKind::Created] } else { vec![] };
                if invitation.created_at >= ctx.run_start {
                    // Finished moments before this first run: record it, so the next run's
                    // "created since the last full sync" rule does not take it for new.
                    Plan::Commit {
                        record: InvitationRecord::first_sighting(invitation, true, ctx.now),
                        events: created,
                    }
                } else if created.is_empty() {
                    Plan::Nothing
                } else {
                    Plan::Enqueue { events: created }
                }
            }
            (_, false) if unseen_terminal(ctx, invitation) => Plan::Commit {
                // Created and finished between two observations: both facts.
                record: InvitationRecord::first_sighting(invitation, true, ctx.now),
                events: vec![EventKind::Created, EventKind::Transition { previous: InvitationStatus::Pending }],
            },
            // History: seen by an earlier full sync, or older than any record could be.
            (_, false) => Plan::Nothing,
        };
    };

    let mut next = record.clone();
    let mut events = Vec::new();
    // Rule 4: a terminal record wins over a listing that still says PENDING (e.g. the
    // sweeper recorded the expiry before the API applied it).
    let pending = pending && !record.status.is_terminal();
    if !record.announced {
        // Made by another function (rule 3): announce it now — unless that function already
        // recorded (and published) its transition: a Created after the invitation's terminal
        // event would tell a consumer it was created after it was canceled. The transition
        // event, carrying the whole invitation, was its announcement.
        next.announced = true;
        let publish = !record.status.is_terminal()
            && match ctx.mode {
                Mode::Baseline => match ctx.baseline_events {
                    BaselineEvents::All => true,
                    BaselineEvents::Pending => pending,
                    BaselineEvents::None => false,
                },
                Mode::Full | Mode::Incremental => true,
            };
        if publish {
            events.push(EventKind::Created);
        }
    }
    // Rule 4: a terminal record never moves again (whoever recorded the transition published
    // it, rule 2).
    if !record.status.is_terminal() {
        if invitation.status.is_terminal() {
            events.push(EventKind::Transition { previous: record.status });
        } else if record.is_retired() {
            // It is back (the NotFound was transient): follow it again.
            next.terminal_at = None;
        }
        next.observe(invitation, ctx.now);
    }
    if next == *record { Plan::Nothing } else { Plan::Commit { record: next, events } }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use crate::testing::engagement_invitation;

    use super::*;
    use crate::domain::decision::retire;

    fn t(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).single().unwrap_or_default()
    }

    fn inv(status: InvitationStatus, created: DateTime<Utc>) -> Invitation {
        Invitation { status, ..engagement_invitation("engi-0000000000001", created) }
    }

    fn ctx(mode: Mode, baseline_events: BaselineEvents) -> Context {
        Context {
            mode,
            baseline_events,
            last_full_sync_at: (mode != Mode::Baseline).then(|| t(19, 12)),
            run_start: t(20, 11),
            retention: Duration::days(30),
            now: t(20, 12),
        }
    }

    fn events(plan: &Plan) -> Vec<EventKind> {
        plan.events().to_vec()
    }

    const CREATED: EventKind = EventKind::Created;
    const FROM_PENDING: EventKind = EventKind::Transition { previous: InvitationStatus::Pending };

    #[test]
    fn baseline_records_pending_and_publishes_per_policy() {
        let pending = inv(InvitationStatus::Pending, t(10, 0));
        let old = inv(InvitationStatus::Accepted, t(1, 0));
        for (policy, pending_events, old_plan) in [
            (BaselineEvents::Pending, vec![CREATED], Plan::Nothing),
            (BaselineEvents::None, vec![], Plan::Nothing),
            (BaselineEvents::All, vec![CREATED], Plan::Enqueue { events: vec![CREATED] }),
        ] {
            let c = ctx(Mode::Baseline, policy);
            let plan = observe(&c, None, &pending);
            assert_eq!(events(&plan), pending_events, "{policy}");
            assert!(
                matches!(&plan, Plan::Commit { record, .. } if record.announced && record.terminal_at.is_none()),
                "{policy}: {plan:?}"
            );
            assert_eq!(observe(&c, None, &old), old_plan, "{policy}: history is never recorded");
        }
    }

    #[test]
    fn baseline_records_what_finished_just_before_it_started() {
        let c = ctx(Mode::Baseline, BaselineEvents::Pending);
        let plan = observe(&c, None, &inv(InvitationStatus::Rejected, c.run_start));
        assert!(matches!(&plan, Plan::Commit { record, events } if events.is_empty() && record.terminal_at.is_some()));
    }

    #[test]
    fn first_sighting_of_a_pending_invitation_is_created() {
        let c = ctx(Mode::Incremental, BaselineEvents::None);
        let plan = observe(&c, None, &inv(InvitationStatus::Pending, t(20, 10)));
        assert_eq!(events(&plan), [CREATED], "BASELINE_EVENTS only applies to the first run");
    }

    #[test]
    fn a_status_change_of_a_recorded_invitation_is_a_transition() {
        let c = ctx(Mode::Incremental, BaselineEvents::Pending);
        let pending = inv(InvitationStatus::Pending, t(10, 0));
        let record = InvitationRecord { version: 3, ..InvitationRecord::first_sighting(&pending, true, t(10, 1)) };
        assert_eq!(observe(&c, Some(&record), &pending), Plan::Nothing, "no change, no write");
        let plan = observe(&c, Some(&record), &inv(InvitationStatus::Accepted, t(10, 0)));
        let Plan::Commit { record: next, events } = plan else { panic!("expected a commit") };
        assert_eq!(events, [FROM_PENDING]);
        assert_eq!((next.status, next.terminal_at, next.version), (InvitationStatus::Accepted, Some(c.now), 3));
    }

    #[test]
    fn an_expiry_change_updates_the_record_silently() {
        let c = ctx(Mode::Incremental, BaselineEvents::Pending);
        let pending = inv(InvitationStatus::Pending, t(10, 0));
        let record = InvitationRecord::first_sighting(&pending, true, t(10, 1));
        let mut moved = pending.clone();
        moved.expires_at = Some(t(28, 0));
        let plan = observe(&c, Some(&record), &moved);
        assert!(
            matches!(&plan, Plan::Commit { record, events } if events.is_empty() && record.expires_at == Some(t(28, 0)))
        );
    }

    #[test]
    fn unknown_terminal_invitations_are_new_only_if_created_since_the_last_full_sync() {
        let c = ctx(Mode::Incremental, BaselineEvents::All);
        // Created after the last full sync (19th 12:00) and already accepted: never seen.
        let plan = observe(&c, None, &inv(InvitationStatus::Accepted, t(20, 9)));
        assert_eq!(events(&plan), [CREATED, FROM_PENDING]);
        assert!(matches!(&plan, Plan::Commit { record, .. } if record.terminal_at == Some(c.now)));
        // Created before it: the full sync saw it; its record may have expired: history.
        assert_eq!(observe(&c, None, &inv(InvitationStatus::Accepted, t(19, 11))), Plan::Nothing);
        // Same in a full run.
        let full = ctx(Mode::Full, BaselineEvents::All);
        assert_eq!(observe(&full, None, &inv(InvitationStatus::Expired, t(2, 0))), Plan::Nothing);
    }

    #[test]
    fn nothing_older_than_the_retention_is_taken_for_new_even_after_a_long_pause() {
        let mut c = ctx(Mode::Full, BaselineEvents::Pending);
        c.last_full_sync_at = Some(t(1, 0) - Duration::days(60)); // not run for two months
        c.retention = Duration::days(5);
        assert_eq!(observe(&c, None, &inv(InvitationStatus::Accepted, t(10, 0))), Plan::Nothing);
        assert_eq!(events(&observe(&c, None, &inv(InvitationStatus::Accepted, t(18, 0)))), [CREATED, FROM_PENDING]);
    }

    #[test]
    fn unannounced_records_are_announced_without_repeating_their_transition() {
        let c = ctx(Mode::Incremental, BaselineEvents::Pending);
        let expired = inv(InvitationStatus::Expired, t(4, 0));
        // The sweeper recorded the expiry (and published it) before we ever saw the invitation:
        // that event was its announcement; a Created after it would come after the fact.
        let record = InvitationRecord { version: 1, ..InvitationRecord::first_sighting(&expired, false, t(19, 0)) };
        let plan = observe(&c, Some(&record), &expired);
        assert_eq!(events(&plan), []);
        assert!(matches!(&plan, Plan::Commit { record, .. } if record.announced && record.version == 1));
        // An unannounced pending record that is now accepted: both facts are ours to publish.
        let pending = inv(InvitationStatus::Pending, t(15, 0));
        let record = InvitationRecord::first_sighting(&pending, false, t(19, 0));
        assert_eq!(
            events(&observe(&c, Some(&record), &inv(InvitationStatus::Accepted, t(15, 0)))),
            [CREATED, FROM_PENDING]
        );
        // During the baseline, announcing follows BASELINE_EVENTS.
        let b = ctx(Mode::Baseline, BaselineEvents::Pending);
        let record = InvitationRecord::first_sighting(&expired, false, t(19, 0));
        let plan = observe(&b, Some(&record), &expired);
        assert!(matches!(&plan, Plan::Commit { record, events } if record.announced && events.is_empty()));
    }

    #[test]
    fn a_transition_recorded_by_another_function_is_not_published_again() {
        let c = ctx(Mode::Incremental, BaselineEvents::Pending);
        let pending = inv(InvitationStatus::Pending, t(10, 0));
        let mut record = InvitationRecord::first_sighting(&pending, true, t(10, 1));
        record.observe(&inv(InvitationStatus::Expired, t(10, 0)), t(20, 0)); // the sweeper's commit
        // The API still lists it as PENDING (expiry applied lazily), or already EXPIRED: nothing.
        assert_eq!(observe(&c, Some(&record), &pending), Plan::Nothing);
        assert_eq!(observe(&c, Some(&record), &inv(InvitationStatus::Expired, t(10, 0))), Plan::Nothing);
    }

    #[test]
    fn a_retired_record_that_reappears_is_followed_again() {
        let c = ctx(Mode::Incremental, BaselineEvents::Pending);
        let pending = inv(InvitationStatus::Pending, t(10, 0));
        let record = InvitationRecord::first_sighting(&pending, true, t(10, 1));
        let Plan::Commit { record: retired, events } = retire(&record, t(20, 0)) else { panic!("expected a commit") };
        assert!(events.is_empty() && retired.is_retired());
        let plan = observe(&c, Some(&retired), &pending);
        assert!(matches!(&plan, Plan::Commit { record, events } if events.is_empty() && !record.is_retired()));
        assert_eq!(events_of(observe(&c, Some(&retired), &inv(InvitationStatus::Accepted, t(10, 0)))), [FROM_PENDING]);
    }

    fn events_of(plan: Plan) -> Vec<EventKind> {
        events(&plan)
    }
}
