//! One sweep: list what is PENDING, decide per invitation, commit record changes with their
//! events, optionally queue the digest, and drain the outbox.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use shared::PartnerCentralError;
use shared::commit::commit_with_retries;
use shared::domain::decision::{EventKind, Plan, is_stale, render, sweep as decide};
use shared::domain::{
    CommitOutcome, ExpiringDigest, Invitation, InvitationKind, InvitationRecord, InvitationStatus, OutboundEvent,
    ParticipantType, RecordChange, redact_contact_details,
};
use shared::error::StoreError;
use shared::invocation::{InputError, Invocation, Trigger};
use shared::ports::{
    self, CallCounts, ConnectionInvitationQuery, ConnectionInvitations, EngagementInvitationQuery,
    EngagementInvitations, EventPublisher, StateStore, get_invitation,
};
use shared::run::{ErrorKind, FunctionError, Ports, RunEnd, RunReport, Unreadables, envelope};

use crate::config::SweepSettings;
use crate::input::{RunOptions, trigger_name};
use crate::summary::{PendingSeen, Summary};

/// What committing a plan means for the summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effect {
    /// Bookkeeping only (new record, moved expiry, thresholds marked without a warning).
    Record,
    /// `<Kind> Invitation Expiring Soon` for this threshold.
    Warned { threshold_hours: u32 },
    /// `<Kind> Invitation Expired` (overdue but still PENDING, or seen EXPIRED).
    Expired,
    /// Another transition seen on a Get (`ACCEPTED`, `REJECTED`, `CANCELED`).
    Transition(InvitationStatus),
}

impl Effect {
    fn of(record: &InvitationRecord, events: &[EventKind]) -> Effect {
        let warned = events.iter().find_map(|e| match e {
            EventKind::ExpiringSoon { threshold_hours } => Some(*threshold_hours),
            _ => None,
        });
        match (warned, record.status) {
            (Some(threshold_hours), _) => Effect::Warned { threshold_hours },
            (None, InvitationStatus::Expired) => Effect::Expired,
            (None, status) if status.is_terminal() => Effect::Transition(status),
            (None, _) => Effect::Record,
        }
    }
}

/// A record change decided for an invitation, with what it means.
#[derive(Debug, Clone)]
struct Decision {
    change: RecordChange,
    effect: Effect,
}

impl Decision {
    fn publishes(&self) -> bool {
        !self.change.events.is_empty()
    }
}

/// Why a run failed (after draining the outbox of whatever it committed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SweepError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{} Partner Central call(s) failed after retries; first: {}", .0.len(), .0.first().map(ToString::to_string).unwrap_or_default())]
    PartnerCentral(Vec<PartnerCentralError>),
    #[error("could not render an event: {0}")]
    Render(String),
}

impl FunctionError for SweepError {
    fn kind(&self) -> ErrorKind {
        match self {
            SweepError::Input(_) => ErrorKind::InvalidInput,
            SweepError::Store(_) => ErrorKind::StateStore,
            SweepError::PartnerCentral(_) => ErrorKind::PartnerCentral,
            SweepError::Render(_) => ErrorKind::Event,
        }
    }
}

impl From<serde_json::Error> for SweepError {
    fn from(e: serde_json::Error) -> Self {
        SweepError::Render(e.to_string())
    }
}

type Key = (InvitationKind, String);

fn key_of(i: &Invitation) -> Key {
    (i.kind, i.id.clone())
}

/// One run, in the shared envelope: it never skips the outbox drain, so whatever was
/// committed (by this run, a crashed one, or another function) is published before
/// returning, also when the run failed.
pub async fn sweep<Connections, Engagements, Store, Publisher, Clock, Calls>(
    ports: &Ports<'_, Connections, Engagements, Store, Publisher, Clock, Calls>,
    settings: &SweepSettings,
    invocation: &Invocation<RunOptions>,
) -> RunReport<Summary, SweepError>
where
    Connections: ConnectionInvitations,
    Engagements: EngagementInvitations,
    Store: StateStore,
    Publisher: EventPublisher,
    Clock: ports::Clock,
    Calls: CallCounts,
{
    let digest = invocation.options.digest.unwrap_or(settings.digest);
    let work = async {
        let mut run = Run::new(settings, digest);
        let mut result = run.sweep(ports).await;
        if result.is_ok() && !run.pc_errors.is_empty() {
            result = Err(SweepError::PartnerCentral(std::mem::take(&mut run.pc_errors)));
        }
        (run, result)
    };
    envelope(*ports, crate::FUNCTION_NAME, settings.catalog, work, |run, end, error| {
        run.summary(&invocation.trigger, end, error)
    })
    .await
}

/// The state of one run.
struct Run<'s> {
    settings: &'s SweepSettings,
    digest: bool,
    now: Option<DateTime<Utc>>,
    pending_seen: PendingSeen,
    warnings: BTreeMap<u32, usize>,
    expired: usize,
    other_transitions: usize,
    records_created: usize,
    conflicts: usize,
    unresolved_conflicts: usize,
    not_found: usize,
    stale_skipped: usize,
    digest_count: Option<usize>,
    pc_errors: Vec<PartnerCentralError>,
    unreadable: Unreadables,
}

impl<'s> Run<'s> {
    fn new(settings: &'s SweepSettings, digest: bool) -> Self {
        Run {
            settings,
            digest,
            now: None,
            pending_seen: PendingSeen::default(),
            warnings: settings.warning_hours.iter().map(|t| (*t, 0)).collect(),
            expired: 0,
            other_transitions: 0,
            records_created: 0,
            conflicts: 0,
            unresolved_conflicts: 0,
            not_found: 0,
            stale_skipped: 0,
            digest_count: None,
            pc_errors: Vec::new(),
            unreadable: Unreadables::default(),
        }
    }

    async fn sweep<Connections, Engagements, Store, Publisher, Clock, Calls>(
        &mut self,
        ports: &Ports<'_, Connections, Engagements, Store, Publisher, Clock, Calls>,
    ) -> Result<(), SweepError>
    where
        Connections: ConnectionInvitations,
        Engagements: EngagementInvitations,
        Store: StateStore,
        Clock: ports::Clock,
    {
        let records: HashMap<Key, InvitationRecord> =
            ports.store.load_records().await?.into_iter().map(|r| ((r.kind, r.id.clone()), r)).collect();

        let (listed, complete) = self.list_pending(ports.connections, ports.engagements).await;
        let listings_failed = !self.pc_errors.is_empty();
        // After the listings: the clock follows the `Date` of Partner Central's answers.
        let now = ports.clock.now();
        self.now = Some(now);

        // What to decide: every PENDING invitation listed, and every record still PENDING
        // that the (complete) listing no longer shows — it changed, so read it.
        let listed_keys: HashSet<Key> = listed.iter().map(key_of).collect();
        let mut candidates: Vec<(Invitation, Option<InvitationRecord>)> = listed
            .into_iter()
            .map(|i| {
                let record = records.get(&key_of(&i)).cloned();
                (self.sanitize(i), record)
            })
            .collect();
        let mut gone: Vec<&InvitationRecord> = records
            .values()
            .filter(|r| r.is_followed())
            .filter(|r| complete.contains(&(r.kind, r.participant_type)))
            .filter(|r| !listed_keys.contains(&(r.kind, r.id.clone())))
            .filter(|r| !self.unreadable.contains(r.kind, &r.id))
            .collect();
        gone.sort_by_key(|r| (r.kind, r.id.clone()));
        let mut retirements = Vec::new();
        for record in gone {
            match get_invitation(ports.connections, ports.engagements, record.kind, &record.id, record.participant_type)
                .await
            {
                Ok(inv) => candidates.push((self.sanitize(inv), Some(record.clone()))),
                Err(PartnerCentralError::NotFound { .. }) => {
                    tracing::warn!(kind = %record.kind, invitation_id = %record.id, "invitation no longer exists; its record is retired without an event");
                    // Rule 6: retired, without an event.
                    retirements.push(RecordChange::update(record.retired(now), Vec::new()));
                }
                Err(e) => {
                    if let Err(e) = self.unreadable.absorb(e) {
                        self.pc_errors.push(e);
                    }
                }
            }
        }

        // Decide; connection invitations that publish something are read once for the fields
        // only Get returns (message, inviter), and decided again on what that read said.
        let mut decisions: Vec<(Invitation, Decision)> = Vec::new();
        let mut finished: HashSet<Key> = HashSet::new();
        let mut current: Vec<Invitation> = Vec::new();
        for (mut inv, record) in candidates {
            if record.as_ref().is_some_and(|r| r.status.is_terminal()) {
                finished.insert(key_of(&inv));
            }
            let mut decision = self.decide(&inv, record.as_ref(), now)?;
            // The details (inviter, message) are personal data, published only when opted in:
            // otherwise there is nothing to read them for.
            if self.settings.include_contact_details
                && inv.kind == InvitationKind::Connection
                && inv.details.is_none()
                && decision.as_ref().is_some_and(Decision::publishes)
            {
                match ports.connections.get_connection_invitation(&inv.id).await {
                    Ok(full) => {
                        inv = self.sanitize(full);
                        decision = self.decide(&inv, record.as_ref(), now)?;
                    }
                    Err(e) => {
                        tracing::warn!(invitation_id = %inv.id, error = %e, "could not read the invitation's details; publishing without them");
                    }
                }
            }
            if let Some(d) = decision {
                decisions.push((inv.clone(), d));
            }
            current.push(inv);
        }

        self.commit(ports.store, decisions, now, &mut finished).await?;
        if !retirements.is_empty() {
            // A conflict means someone else changed the record meanwhile: the next run sees it.
            let outcomes = ports.store.commit(retirements).await?;
            self.not_found += outcomes.iter().filter(|o| **o == CommitOutcome::Committed).count();
        }

        if self.digest && listings_failed {
            // A digest from part of the listings would under-report; the run fails anyway.
            tracing::warn!("no digest this run: a listing failed");
        } else if self.digest {
            let window = chrono::Duration::hours(i64::from(self.settings.largest_threshold()));
            let expiring: Vec<Invitation> = current
                .into_iter()
                .filter(|i| i.status == InvitationStatus::Pending && !finished.contains(&key_of(i)))
                .filter(|i| i.time_left(now).is_some_and(|left| left > chrono::Duration::zero() && left < window))
                .collect();
            // How fast we answer, from the records as they are now (this run's expiries included).
            let answer_times = shared::domain::answer::answer_times(&ports.store.load_records().await?, now);
            let digest = ExpiringDigest::new(
                self.settings.catalog,
                self.settings.largest_threshold(),
                now,
                &expiring,
                answer_times,
            );
            if digest.detail.omitted > 0 {
                tracing::warn!(
                    omitted = digest.detail.omitted,
                    count = digest.detail.count,
                    "digest capped to stay under the PutEvents entry limit"
                );
            }
            ports.store.enqueue(vec![OutboundEvent::from_digest(&digest)?]).await?;
            self.digest_count = Some(digest.detail.count);
        }
        Ok(())
    }

    /// Every PENDING invitation of the configured participant types, with the APIs' own
    /// status filters. Also which (kind, participant type) listings completed: only those
    /// can tell that a recorded invitation is no longer PENDING.
    async fn list_pending(
        &mut self,
        connections: &impl ConnectionInvitations,
        engagements: &impl EngagementInvitations,
    ) -> (Vec<Invitation>, HashSet<(InvitationKind, ParticipantType)>) {
        let types = &self.settings.participant_types;
        let mut listed: Vec<Invitation> = Vec::new();
        let mut complete = HashSet::new();

        let query = ConnectionInvitationQuery {
            status: Some(InvitationStatus::Pending),
            participant_type: if self.settings.both_sides() { None } else { types.first().copied() },
            ..Default::default()
        };
        match connections.list_connection_invitations(query).try_concat().await {
            Ok(page) => {
                complete.extend(types.iter().map(|p| (InvitationKind::Connection, *p)));
                listed.extend(self.unreadable.sort_out(page));
            }
            Err(e) => {
                tracing::error!(error = %e, "listing PENDING connection invitations failed");
                self.pc_errors.push(e);
            }
        }
        for participant_type in types {
            let mut query = EngagementInvitationQuery::new(*participant_type);
            query.statuses = vec![InvitationStatus::Pending];
            match engagements.list_engagement_invitations(query).try_concat().await {
                Ok(page) => {
                    complete.insert((InvitationKind::Engagement, *participant_type));
                    listed.extend(self.unreadable.sort_out(page));
                }
                Err(e) => {
                    tracing::error!(error = %e, %participant_type, "listing PENDING engagement invitations failed");
                    self.pc_errors.push(e);
                }
            }
        }

        let mut seen = HashSet::new();
        listed.retain(|i| {
            i.status == InvitationStatus::Pending && types.contains(&i.participant_type) && seen.insert(key_of(i))
        });
        for i in &listed {
            match i.kind {
                InvitationKind::Connection => self.pending_seen.connection += 1,
                InvitationKind::Engagement => self.pending_seen.engagement += 1,
            }
        }
        (listed, complete)
    }

    /// The sweeper's decision (rules in `shared::domain::decision`), rendered.
    fn decide(
        &mut self,
        inv: &Invitation,
        record: Option<&InvitationRecord>,
        now: DateTime<Utc>,
    ) -> Result<Option<Decision>, SweepError> {
        if is_stale(inv, record, now, self.settings.retention) {
            self.stale_skipped += 1;
            return Ok(None);
        }
        match decide(inv, record, now, &self.settings.warning_hours, self.settings.retention) {
            Plan::Commit { record, events } => {
                let effect = Effect::of(&record, &events);
                let rendered = render(inv, Some(&record), &events, now)?;
                Ok(Some(Decision { change: RecordChange::update(record, rendered), effect }))
            }
            Plan::Nothing | Plan::Enqueue { .. } => Ok(None),
        }
    }

    /// Commit every decision; on a conflict decide again against the fresh record (usually:
    /// another function recorded the transition first, so nothing is left to do; rule 1).
    async fn commit(
        &mut self,
        store: &impl StateStore,
        decisions: Vec<(Invitation, Decision)>,
        now: DateTime<Utc>,
        finished: &mut HashSet<Key>,
    ) -> Result<(), SweepError> {
        let changes = decisions.into_iter().map(|(inv, d)| ((inv, d.effect), d.change)).collect();
        let report = commit_with_retries(store, changes, async |conflicted| {
            let mut again = Vec::new();
            for ((inv, _), fresh) in conflicted {
                if fresh.as_ref().is_some_and(|r| r.status.is_terminal()) {
                    finished.insert(key_of(&inv));
                }
                if let Some(d) = self.decide(&inv, fresh.as_ref(), now)? {
                    again.push(((inv, d.effect), d.change));
                }
            }
            Ok::<_, SweepError>(again)
        })
        .await?;
        self.conflicts += report.conflicts;
        for ((_, effect), change) in report.committed {
            self.committed(&Decision { change, effect }, finished);
        }
        if !report.unresolved.is_empty() {
            // Still contended: the next run decides again from what is stored then.
            self.unresolved_conflicts += report.unresolved.len();
            tracing::warn!(count = report.unresolved.len(), "records still contended; left for the next run");
        }
        Ok(())
    }

    fn committed(&mut self, decision: &Decision, finished: &mut HashSet<Key>) {
        let record = &decision.change.record;
        if record.version == 0 {
            self.records_created += 1;
        }
        if record.status.is_terminal() {
            finished.insert((record.kind, record.id.clone()));
        }
        match decision.effect {
            Effect::Record => {}
            Effect::Warned { threshold_hours } => {
                *self.warnings.entry(threshold_hours).or_default() += 1;
                tracing::info!(kind = %record.kind, invitation_id = %record.id, threshold_hours, "expiry warning queued");
            }
            Effect::Expired => {
                self.expired += 1;
                tracing::info!(kind = %record.kind, invitation_id = %record.id, "expiry recorded");
            }
            Effect::Transition(status) => {
                self.other_transitions += 1;
                tracing::info!(kind = %record.kind, invitation_id = %record.id, %status, "transition recorded");
            }
        }
    }

    /// The invitation as events carry it: without its personal data unless the deployment
    /// opted in (`INCLUDE_CONTACT_DETAILS`).
    fn sanitize(&self, inv: Invitation) -> Invitation {
        redact_contact_details(inv, self.settings.include_contact_details)
    }

    fn summary(&self, trigger: &Trigger, end: RunEnd, error: Option<&SweepError>) -> Summary {
        let RunEnd { events, api_calls, duration_ms } = end;
        Summary {
            catalog: self.settings.catalog,
            trigger: trigger_name(trigger),
            observed_at: self.now,
            pending_seen: self.pending_seen.clone(),
            warnings: self.warnings.clone(),
            expired: self.expired,
            other_transitions: self.other_transitions,
            records_created: self.records_created,
            conflicts: self.conflicts,
            unresolved_conflicts: self.unresolved_conflicts,
            not_found: self.not_found,
            stale_skipped: self.stale_skipped,
            unreadable_invitations: self.unreadable.len(),
            digest: self.digest_count,
            events,
            api_calls,
            error: error.map(ToString::to_string),
            duration_ms,
        }
    }
}
