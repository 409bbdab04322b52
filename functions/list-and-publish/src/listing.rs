//! What a run lists of one followed engagement participant type (pure, no I/O).
//!
//! Engagement invitations expire 15 days after they are sent, so every PENDING one was
//! created in the last 15 days. One newest-first listing down to the oldest recorded PENDING
//! invitation of the side (and at least down to the last run's start) therefore shows the
//! current status of every invitation the run follows and of every one created since the
//! last run: no `Status=[PENDING]` listing, and no Get for those that left PENDING. When a
//! recorded PENDING invitation is older than [`ENGAGEMENT_WINDOW_DAYS`] (a custom expiry, or
//! one the service still shows PENDING past its expiry), that listing could go back a long
//! way, so the side falls back to the PENDING listing plus a short newest-first one.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use shared::domain::{InvitationKind, InvitationRecord, ParticipantType};

use shared::domain::decision::Mode;

/// The newest-first window of a side goes back at most this far: one day more than the
/// service's 15-day expiry of engagement invitations.
pub const ENGAGEMENT_WINDOW_DAYS: i64 = 16;

/// The newest-first listings go back this much before the dates they must cover: the last
/// run's start (an invitation can become visible a little after its `InvitationDate`) and
/// the oldest followed record (so a date the service rounded differently is still inside).
/// Re-listing known invitations costs nothing but the page they are on.
pub const LISTING_OVERLAP: Duration = Duration::minutes(10);

/// How one followed participant type's engagement invitations are listed in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngagementListing {
    /// Baseline and full runs: every page, newest first.
    Everything,
    /// Incremental: newest first, stopped at the first invitation created before `start`
    /// (the window start): shows every followed record of the side and everything created
    /// since the last run.
    Window { start: DateTime<Utc> },
    /// Incremental, a followed record older than the window allows: `Status=[PENDING]` every
    /// page, plus newest first stopped at the first invitation created before `cutoff` (the
    /// last run's start minus the overlap).
    PendingAndRecent { cutoff: DateTime<Utc> },
}

impl EngagementListing {
    /// The listing of `participant_type`'s engagement invitations for a run in `mode`, given
    /// the last run's start and the records read at the run's start.
    pub fn choose<'r>(
        mode: Mode,
        last_run_at: Option<DateTime<Utc>>,
        participant_type: ParticipantType,
        records: impl IntoIterator<Item = &'r InvitationRecord>,
        now: DateTime<Utc>,
    ) -> EngagementListing {
        let Some(last_run_at) = last_run_at.filter(|_| !mode.lists_everything()) else {
            return EngagementListing::Everything;
        };
        let oldest_followed = records
            .into_iter()
            .filter(|r| r.kind == InvitationKind::Engagement && r.participant_type == participant_type)
            .filter(|r| r.is_followed())
            .map(|r| r.created_at)
            .min();
        let since = oldest_followed.map_or(last_run_at, |oldest| oldest.min(last_run_at));
        let start = since - LISTING_OVERLAP;
        if now - start <= Duration::days(ENGAGEMENT_WINDOW_DAYS) {
            EngagementListing::Window { start }
        } else {
            EngagementListing::PendingAndRecent { cutoff: last_run_at - LISTING_OVERLAP }
        }
    }

    /// The listing of every followed participant type.
    pub fn for_sides<K>(
        mode: Mode,
        last_run_at: Option<DateTime<Utc>>,
        sides: &[ParticipantType],
        records: &HashMap<K, InvitationRecord>,
        now: DateTime<Utc>,
    ) -> Vec<(ParticipantType, EngagementListing)> {
        sides.iter().map(|&side| (side, Self::choose(mode, last_run_at, side, records.values(), now))).collect()
    }

    /// The instant the newest-first listing stops before (`None`: every page).
    pub fn newest_first_cutoff(self) -> Option<DateTime<Utc>> {
        match self {
            EngagementListing::Everything => None,
            EngagementListing::Window { start } => Some(start),
            EngagementListing::PendingAndRecent { cutoff } => Some(cutoff),
        }
    }

    /// For the logs.
    pub fn name(self) -> &'static str {
        match self {
            EngagementListing::Everything => "everything",
            EngagementListing::Window { .. } => "window",
            EngagementListing::PendingAndRecent { .. } => "pending+recent",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use shared::domain::{Invitation, InvitationStatus};
    use shared::testing::engagement_invitation;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).single().unwrap_or_default()
    }

    fn record(side: ParticipantType, status: InvitationStatus, created: DateTime<Utc>) -> InvitationRecord {
        let invitation = Invitation {
            status,
            participant_type: side,
            ..engagement_invitation(&format!("engi-{:013}", created.timestamp() % 1_000_000), created)
        };
        InvitationRecord::first_sighting(&invitation, true, created)
    }

    use InvitationStatus::{Accepted, Pending};
    use ParticipantType::{Receiver, Sender};

    #[test]
    fn baseline_and_full_runs_list_everything() {
        for mode in [Mode::Baseline, Mode::Full] {
            assert_eq!(
                EngagementListing::choose(mode, Some(now()), Receiver, [], now()),
                EngagementListing::Everything
            );
        }
    }

    #[test]
    fn the_window_starts_at_the_oldest_followed_record_of_the_side_or_the_last_run() {
        let last = now() - Duration::minutes(5);
        let records = [
            record(Receiver, Pending, now() - Duration::days(14)),
            record(Receiver, Pending, now() - Duration::days(3)),
            // Not followed, or of the other side: they do not widen the window.
            record(Receiver, Accepted, now() - Duration::days(15)),
            record(Receiver, Pending, now() - Duration::days(15)).retired(now()),
            record(Sender, Pending, now() - Duration::days(15)),
        ];
        assert_eq!(
            EngagementListing::choose(Mode::Incremental, Some(last), Receiver, &records, now()),
            EngagementListing::Window { start: now() - Duration::days(14) - LISTING_OVERLAP }
        );
        let no_records: [InvitationRecord; 0] = [];
        assert_eq!(
            EngagementListing::choose(Mode::Incremental, Some(last), Receiver, &no_records, now()),
            EngagementListing::Window { start: last - LISTING_OVERLAP },
            "nothing followed: down to the last run"
        );
    }

    #[test]
    fn a_side_with_a_followed_record_older_than_the_window_falls_back() {
        let last = now() - Duration::minutes(5);
        let at_limit = [record(Sender, Pending, now() - Duration::days(ENGAGEMENT_WINDOW_DAYS) + LISTING_OVERLAP)];
        assert!(matches!(
            EngagementListing::choose(Mode::Incremental, Some(last), Sender, &at_limit, now()),
            EngagementListing::Window { .. }
        ));
        let older = [record(Sender, Pending, now() - Duration::days(20))];
        assert_eq!(
            EngagementListing::choose(Mode::Incremental, Some(last), Sender, &older, now()),
            EngagementListing::PendingAndRecent { cutoff: last - LISTING_OVERLAP }
        );
        assert!(matches!(
            EngagementListing::choose(Mode::Incremental, Some(last), Receiver, &older, now()),
            EngagementListing::Window { .. }
        ));
    }
}
