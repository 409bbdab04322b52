//! One commit-with-retries for every function (rule 1 of [`crate::domain::decision`]):
//! commit record changes with their events conditionally; on a conflict read the record
//! again and let the caller decide again against what the other writer stored.

use crate::domain::{CommitOutcome, InvitationRecord, RecordChange};
use crate::error::StoreError;
use crate::ports::StateStore;

/// Re-decisions after conflicts before an invitation is left to the next run.
pub const CONFLICT_RETRIES: usize = 3;
/// Changes per `commit` call (the store splits them into transactions).
const COMMIT_CHUNK: usize = 200;

/// What [`commit_with_retries`] did. `Subject` is what the caller keeps about each change
/// (the invitation it decided on, ...).
#[derive(Debug)]
pub struct Committed<Subject> {
    /// The changes committed, with their subjects, in commit order.
    pub committed: Vec<(Subject, RecordChange)>,
    /// Conflicts met (an invitation conflicting in two rounds counts twice).
    pub conflicts: usize,
    /// Subjects still conflicting after [`CONFLICT_RETRIES`] re-decisions: the next run
    /// decides again from what is stored then.
    pub unresolved: Vec<Subject>,
}

impl<Subject> Default for Committed<Subject> {
    fn default() -> Self {
        Committed { committed: Vec::new(), conflicts: 0, unresolved: Vec::new() }
    }
}

/// Commit `changes`; for the ones that conflict, read the record again and ask `redecide`
/// (with each subject and its fresh record, `None` if it is gone) for the changes to commit
/// instead — none when nothing is left to do, usually because the other writer recorded the
/// same fact. Up to [`CONFLICT_RETRIES`] rounds of re-deciding.
pub async fn commit_with_retries<Store, Subject, Error>(
    store: &Store,
    mut changes: Vec<(Subject, RecordChange)>,
    mut redecide: impl AsyncFnMut(Vec<(Subject, Option<InvitationRecord>)>) -> Result<Vec<(Subject, RecordChange)>, Error>,
) -> Result<Committed<Subject>, Error>
where
    Store: StateStore,
    Error: From<StoreError>,
{
    let mut report = Committed::default();
    for round in 0..=CONFLICT_RETRIES {
        let mut conflicted: Vec<(Subject, RecordChange)> = Vec::new();
        while !changes.is_empty() {
            let chunk: Vec<_> = changes.drain(..changes.len().min(COMMIT_CHUNK)).collect();
            let outcomes = store.commit(chunk.iter().map(|(_, c)| c.clone()).collect()).await?;
            for (item, outcome) in chunk.into_iter().zip(outcomes) {
                match outcome {
                    CommitOutcome::Committed => report.committed.push(item),
                    CommitOutcome::Conflict => conflicted.push(item),
                }
            }
        }
        if conflicted.is_empty() {
            break;
        }
        report.conflicts += conflicted.len();
        if round == CONFLICT_RETRIES {
            for (_, change) in &conflicted {
                tracing::warn!(kind = %change.record.kind, invitation_id = %change.record.id, "still conflicting; left to the next run");
            }
            report.unresolved = conflicted.into_iter().map(|(subject, _)| subject).collect();
            break;
        }
        let mut fresh = Vec::with_capacity(conflicted.len());
        for (subject, change) in conflicted {
            let record = match store.load_record(change.record.kind, &change.record.id).await {
                Ok(record) => record,
                // The stored record cannot be read (so the run did not see it): nothing can be
                // decided against it. Set aside for a person, the other changes go on.
                Err(e @ StoreError::Corrupt { .. }) => {
                    tracing::warn!(kind = %change.record.kind, invitation_id = %change.record.id, error = %e, "stored record unreadable; invitation set aside");
                    report.unresolved.push(subject);
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            tracing::info!(kind = %change.record.kind, invitation_id = %change.record.id, round, "record changed by another writer; deciding again");
            fresh.push((subject, record));
        }
        changes = redecide(fresh).await?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::domain::InvitationStatus;
    use crate::testing::{MemoryStateStore, engagement_invitation};

    #[tokio::test]
    async fn a_conflict_is_decided_again_against_what_the_other_writer_stored() {
        let now = Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).single().unwrap_or_default();
        let store = MemoryStateStore::new();
        let invitation = engagement_invitation("engi-0000000000001", now);
        let fresh = RecordChange::update(InvitationRecord::first_sighting(&invitation, true, now), vec![]);
        // Someone else records it first: our change (expecting no record) conflicts.
        let theirs = store.commit(vec![fresh.clone()]).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(theirs, [CommitOutcome::Committed]);
        let mut asked = Vec::new();
        let report = commit_with_retries(&store, vec![("mine", fresh)], async |conflicted| {
            let mut again = Vec::new();
            for (subject, record) in conflicted {
                let Some(record) = record else { continue };
                asked.push(record.version);
                let mut next = record.clone();
                next.observe(
                    &crate::domain::Invitation { status: InvitationStatus::Accepted, ..invitation.clone() },
                    now,
                );
                again.push((subject, RecordChange::update(next, vec![])));
            }
            Ok::<_, StoreError>(again)
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(asked, [1], "re-decided once, against the stored version");
        assert_eq!((report.conflicts, report.committed.len(), report.unresolved.len()), (1, 1, 0));
        let stored = store.load_record(invitation.kind, &invitation.id).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(stored.map(|r| (r.status, r.version)), Some((InvitationStatus::Accepted, 2)));
    }

    #[tokio::test]
    async fn a_change_that_keeps_conflicting_is_left_to_the_next_run() {
        let now = Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).single().unwrap_or_default();
        let store = MemoryStateStore::new();
        let invitation = engagement_invitation("engi-0000000000001", now);
        let first = RecordChange::update(InvitationRecord::first_sighting(&invitation, true, now), vec![]);
        let theirs = store.commit(vec![first.clone()]).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(theirs, [CommitOutcome::Committed]);
        let mut rounds = 0;
        // A decider that always proposes the stale change again.
        let report = commit_with_retries(&store, vec![(7, first.clone())], async |conflicted| {
            rounds += 1;
            Ok::<_, StoreError>(conflicted.into_iter().map(|(subject, _)| (subject, first.clone())).collect())
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(rounds, CONFLICT_RETRIES);
        assert_eq!((report.conflicts, report.committed.len(), report.unresolved), (CONFLICT_RETRIES + 1, 0, vec![7]));
    }

    #[tokio::test]
    async fn a_conflict_with_an_unreadable_record_sets_that_change_aside_and_commits_the_others() {
        let now = Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).single().unwrap_or_default();
        let store = MemoryStateStore::new();
        let bad = engagement_invitation("engi-0000000000001", now);
        let good = engagement_invitation("engi-0000000000002", now);
        let first = |i| RecordChange::update(InvitationRecord::first_sighting(i, true, now), vec![]);
        // Stored, but unreadable: the run did not see it, so it decided a first sighting.
        store.commit(vec![first(&bad)]).await.unwrap_or_else(|e| panic!("{e}"));
        store.corrupt(bad.kind, &bad.id);
        let mut asked = 0;
        let report = commit_with_retries(&store, vec![("bad", first(&bad)), ("good", first(&good))], async |c| {
            asked += c.len();
            Ok::<_, StoreError>(Vec::new())
        })
        .await
        .unwrap_or_else(|e| panic!("the run goes on: {e}"));
        assert_eq!(asked, 0, "nothing to decide against an unreadable record");
        assert_eq!(report.unresolved, ["bad"]);
        assert_eq!(report.committed.iter().map(|(s, _)| *s).collect::<Vec<_>>(), ["good"]);
    }
}

/// What to commit for one record, decided from what is stored (see [`commit_one`]).
#[derive(Debug)]
pub enum Decided<Skip> {
    Commit(Box<RecordChange>),
    /// Nothing to write: the record already says it (planned under this policy, or the
    /// transition recorded by someone else first).
    AlreadyRecorded,
    /// Nothing to write, and the invitation is left alone, for this reason.
    Skip(Skip),
}

/// What committing one record came to, after retries (see [`commit_one`]).
#[derive(Debug)]
pub enum CommittedOne<Skip> {
    /// Written, with this many events.
    Written {
        events: usize,
    },
    AlreadyRecorded,
    Skipped(Skip),
    /// Others kept changing the record; the next run decides again.
    KeptChanging,
}

impl<Skip> CommittedOne<Skip> {
    /// Events this commit queued.
    pub fn events(&self) -> usize {
        match self {
            CommittedOne::Written { events } => *events,
            _ => 0,
        }
    }
}

/// Commit what `decide` says for one invitation's record (`record`: as read), reading it
/// again and deciding again on a conflict (rule 1).
pub async fn commit_one<Store, Skip, Error>(
    store: &Store,
    record: Option<InvitationRecord>,
    decide: impl Fn(Option<InvitationRecord>) -> Result<Decided<Skip>, Error>,
) -> Result<CommittedOne<Skip>, Error>
where
    Store: StateStore,
    Error: From<StoreError>,
{
    let change = match decide(record)? {
        Decided::Commit(change) => *change,
        Decided::AlreadyRecorded => return Ok(CommittedOne::AlreadyRecorded),
        Decided::Skip(reason) => return Ok(CommittedOne::Skipped(reason)),
    };
    // What deciding again on a fresh record said, when it said "nothing to commit".
    let mut settled = None;
    let report = commit_with_retries(store, vec![((), change)], async |conflicted| {
        let mut again = Vec::new();
        for ((), fresh) in conflicted {
            match decide(fresh)? {
                Decided::Commit(change) => again.push(((), *change)),
                Decided::AlreadyRecorded => settled = Some(CommittedOne::AlreadyRecorded),
                Decided::Skip(reason) => settled = Some(CommittedOne::Skipped(reason)),
            }
        }
        Ok::<_, Error>(again)
    })
    .await?;
    if let Some(((), change)) = report.committed.first() {
        return Ok(CommittedOne::Written { events: change.events.len() });
    }
    match settled {
        Some(outcome) if report.unresolved.is_empty() => Ok(outcome),
        _ => Ok(CommittedOne::KeptChanging),
    }
}
