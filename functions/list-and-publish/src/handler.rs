//! One run: list what can have changed, diff it against the state table, commit each change
//! with its events (outbox), save the sync bookkeeping, drain the outbox.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};
use futures::stream::{self, BoxStream, StreamExt};
use shared::domain::{
    CommitOutcome, Invitation, InvitationEvent, InvitationKind, InvitationRecord, InvitationStatus, OutboundEvent,
    ParticipantType, RecordChange, SyncMeta, redact_contact_details,
};
use shared::error::{PartnerCentralError, StoreError};
use shared::invocation::{InputError, parse_invocation};
use shared::ports::{
    self, CallCounts, ConnectionInvitationQuery, ConnectionInvitations, EngagementInvitationQuery,
    EngagementInvitations, EngagementOrder, EventPublisher, Page, StateStore,
};

use crate::config::Config;
use shared::run::{ErrorKind, FunctionError, Ports, RunEnd, envelope};

use crate::FUNCTION_NAME;
use crate::input::{RequestedMode, RunOptions};
use crate::listing::EngagementListing;
use crate::plan::{Context, EventKind, Mode, Plan, decide, retire};
use crate::summary::Summary;

/// Page size of every listing (the APIs' maximum), for the lower-bound formula.
pub const PAGE_SIZE: u64 = 100;
/// The run's start is taken this much before the service's clock says it is, to cover the
/// `Date` header's one-second resolution and listings that started a moment earlier.
pub const CLOCK_MARGIN: Duration = Duration::minutes(1);
/// Get calls in flight at once (the shared rate limiter paces them further).
pub const GET_CONCURRENCY: usize = 4;
/// Changes per `commit` call (the store splits them into transactions).
const COMMIT_CHUNK: usize = 200;
/// Rounds of re-deciding after conflicts before leaving an invitation to the next run.
const CONFLICT_ROUNDS: usize = 3;

/// Why a run failed. Whatever was committed before the failure is still delivered (the
/// run drains the outbox first).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    PartnerCentral(String),
    #[error("an event could not be rendered: {0}")]
    Render(String),
}

impl FunctionError for RunError {
    fn kind(&self) -> ErrorKind {
        match self {
            RunError::Input(_) => ErrorKind::InvalidInput,
            RunError::Store(_) => ErrorKind::StateStore,
            RunError::PartnerCentral(_) => ErrorKind::PartnerCentral,
            RunError::Render(_) => ErrorKind::Event,
        }
    }
}

/// The function: its configuration and its ports (borrowed: built once per process in
/// `main`, or fakes in tests).
pub struct ListAndPublish<'a, Connections, Engagements, Store, Publisher, Clock, Calls> {
    pub config: &'a Config,
    pub ports: Ports<'a, Connections, Engagements, Store, Publisher, Clock, Calls>,
}

type Key = (InvitationKind, String);

/// What a run found and did, gathered while it goes.
#[derive(Debug, Default)]
struct Progress {
    mode: Option<Mode>,
    seen_connections: usize,
    seen_engagements: usize,
    changes: BTreeMap<String, usize>,
    records_written: usize,
    silent_updates: usize,
    retired: usize,
    conflicts: usize,
    /// Pages of the lower-bound formula (incremental runs).
    listing_pages: u64,
    /// Gets of records the listings did not show (a recorded PENDING invitation that left
    /// PENDING or is gone, or one nobody announced yet).
    absent_reads: u64,
    /// Gets for the detail fields of connection invitations new to the run.
    connection_details: u64,
    errors: Vec<String>,
}

impl Progress {
    fn merge(&mut self, other: KindOutcome) {
        for (k, v) in other.changes {
            *self.changes.entry(k).or_default() += v;
        }
        self.records_written += other.records_written;
        self.silent_updates += other.silent_updates;
        self.retired += other.retired;
        self.conflicts += other.conflicts;
        self.absent_reads += other.absent_reads;
        self.connection_details += other.connection_details;
        self.errors.extend(other.errors);
    }
}

/// Invitations of one kind that matter to this run, from its listings.
#[derive(Debug, Default)]
struct Listed {
    /// Invitations with a record, PENDING ones, and terminal ones the plan acts on.
    kept: HashMap<String, Invitation>,
    /// Distinct invitations returned.
    seen: usize,
    /// Pages the lower-bound formula allows for these listings.
    bound_pages: u64,
}

impl Listed {
    fn absorb(&mut self, other: Listed) {
        self.seen += other.seen;
        self.bound_pages += other.bound_pages;
        for (id, inv) in other.kept {
            if self.kept.insert(id, inv).is_some() {
                self.seen -= 1; // listed twice (pending listing and newest-first window)
            }
        }
    }
}

/// What processing one kind did.
#[derive(Debug, Default)]
struct KindOutcome {
    changes: BTreeMap<String, usize>,
    records_written: usize,
    silent_updates: usize,
    retired: usize,
    conflicts: usize,
    absent_reads: u64,
    connection_details: u64,
    errors: Vec<String>,
}

/// One invitation to decide about: what the API said (`None`: it answered NotFound) and the
/// record read for it.
#[derive(Debug, Clone)]
struct Item {
    id: String,
    observed: Option<Invitation>,
    record: Option<InvitationRecord>,
}

impl Item {
    /// Decide (again) against `record`.
    fn plan(&self, ctx: &Context, record: Option<&InvitationRecord>) -> Plan {
        match (&self.observed, record) {
            (Some(invitation), record) => decide(ctx, record, invitation),
            (None, Some(record)) => gone(record, ctx.now),
            (None, None) => Plan::Nothing,
        }
    }

    /// Whether to Get the invitation for its detail fields (inviter, message) before
    /// publishing: only connection invitations have them, and they are published only with
    /// `INCLUDE_CONTACT_DETAILS` (`with_details`), personal data as they are.
    fn needs_details(&self, plan: &Plan, with_details: bool) -> bool {
        with_details
            && self.observed.as_ref().is_some_and(|i| i.kind == InvitationKind::Connection && i.details.is_none())
            && !plan.events().is_empty()
    }
}

/// The plan for a record whose invitation is gone: retire it if it was followed, mark it
/// announced if it was waiting for that (nothing left to announce), else nothing.
fn gone(record: &InvitationRecord, now: DateTime<Utc>) -> Plan {
    if record.is_followed() {
        retire(record, now)
    } else if !record.announced {
        Plan::Commit { record: InvitationRecord { announced: true, ..record.clone() }, events: vec![] }
    } else {
        Plan::Nothing
    }
}

fn pages(items: usize) -> u64 {
    (items as u64).div_ceil(PAGE_SIZE).max(1)
}

/// Pages of a newest-first listing cut off at a date: the page where the first older
/// invitation appears is read too.
fn pages_to_cutoff(items: usize) -> u64 {
    items as u64 / PAGE_SIZE + 1
}

fn key(kind: InvitationKind, id: &str) -> Key {
    (kind, id.to_owned())
}

impl<Connections, Engagements, Store, Publisher, Clock, Calls>
    ListAndPublish<'_, Connections, Engagements, Store, Publisher, Clock, Calls>
where
    Connections: ConnectionInvitations,
    Engagements: EngagementInvitations,
    Store: StateStore,
    Publisher: EventPublisher,
    Clock: ports::Clock,
    Calls: CallCounts,
{
    /// Handle one invocation payload.
    pub async fn handle(&self, payload: &serde_json::Value) -> Result<Summary, RunError> {
        let invocation = parse_invocation::<RunOptions>(payload)
            .inspect_err(|e| tracing::error!(error = %e, "rejected the invocation"))?;
        self.run(invocation.options.mode).await
    }

    /// One run, in the shared envelope: the outbox is drained whatever happened before; an
    /// error is returned after.
    pub async fn run(&self, requested: RequestedMode) -> Result<Summary, RunError> {
        let work = async {
            let mut progress = Progress::default();
            let synced = self.sync(requested, &mut progress).await;
            (progress, synced)
        };
        let catalog = self.config.common.catalog;
        envelope(self.ports, FUNCTION_NAME, catalog, work, |progress, end, _| summary(progress, end))
            .await
            .into_result()
    }

    async fn sync(&self, requested: RequestedMode, progress: &mut Progress) -> Result<(), RunError> {
        let (meta, records) = tokio::try_join!(self.ports.store.load_meta(), self.ports.store.load_records())?;
        let records: HashMap<Key, InvitationRecord> =
            records.into_iter().map(|r| ((r.kind, r.id.clone()), r)).collect();

        // The first listing page primes the service clock (its `Date` header): the mode and
        // every timestamp of the run follow Partner Central's "now", not the local one. The
        // newest-first engagement listing starts the same way in every mode.
        let types = &self.config.engagement_participant_types;
        let first_type = types.first().copied().unwrap_or(ParticipantType::Receiver);
        let mut primer = self.ports.engagements.list_engagement_invitations(EngagementInvitationQuery {
            order: EngagementOrder::NewestFirst { stop_before: None },
            ..EngagementInvitationQuery::new(first_type)
        });
        let first_page = match primer.next().await {
            Some(Ok(page)) => page,
            Some(Err(e)) => return Err(listing_failed("engagement", first_type, &e, progress)),
            None => Vec::new(),
        };

        let now = self.ports.clock.now();
        let mode = self.mode(&meta, requested, now);
        progress.mode = Some(mode);
        let ctx = Context {
            mode,
            baseline_events: self.config.baseline_events,
            last_full_sync_at: meta.last_full_sync_at,
            run_start: now - CLOCK_MARGIN,
            retention: self.config.state.retention(),
            now,
        };
        let sides = EngagementListing::for_sides(mode, meta.last_run_at, types, &records, now);
        for (side, listing) in &sides {
            tracing::info!(
                mode = mode.as_str(),
                now = %now,
                participant_type = %side,
                engagement_listing = listing.name(),
                stop_before = ?listing.newest_first_cutoff(),
                records = records.len(),
                "listing invitations"
            );
        }

        let primer = stream::iter([Ok(first_page)]).chain(primer).boxed();
        let (connections, engagements) =
            tokio::join!(self.list_connections(&ctx, &records), self.list_engagements(&ctx, &records, &sides, primer));

        let mut listing_failed_any = false;
        let connections = match connections {
            Ok(l) => Some(l),
            Err(e) => {
                listing_failed_any = true;
                progress.errors.push(e);
                None
            }
        };
        let engagements = match engagements {
            Ok(l) => Some(l),
            Err(e) => {
                listing_failed_any = true;
                progress.errors.push(e);
                None
            }
        };
        if let Some(l) = &connections {
            progress.seen_connections = l.seen;
            progress.listing_pages += l.bound_pages;
        }
        if let Some(l) = &engagements {
            progress.seen_engagements = l.seen;
            progress.listing_pages += l.bound_pages;
        }

        // Kinds whose listings completed are processed (concurrently); a kind whose listing
        // failed is left as it is for the next run.
        let process = |kind: InvitationKind, listed: Option<Listed>| {
            let records = &records;
            let ctx = &ctx;
            async move {
                match listed {
                    Some(listed) => Some(self.process(kind, listed, records, ctx).await),
                    None => None,
                }
            }
        };
        let (c, e) = tokio::join!(
            process(InvitationKind::Connection, connections),
            process(InvitationKind::Engagement, engagements)
        );
        for outcome in [c, e].into_iter().flatten() {
            progress.merge(outcome?);
        }

        if listing_failed_any || !progress.errors.is_empty() {
            // The bookkeeping stays where it was: the next run looks at the same window again.
            return Err(RunError::PartnerCentral(format!(
                "{} Partner Central failure(s), first: {}",
                progress.errors.len(),
                progress.errors.first().map(String::as_str).unwrap_or("?")
            )));
        }

        let saved = SyncMeta {
            last_run_at: Some(ctx.run_start),
            last_full_sync_at: if mode.lists_everything() { Some(ctx.run_start) } else { meta.last_full_sync_at },
            version: meta.version,
        };
        if !self.ports.store.save_meta(&saved).await? {
            tracing::warn!("another run saved the sync bookkeeping meanwhile; keeping theirs");
        }
        Ok(())
    }

    fn mode(&self, meta: &SyncMeta, requested: RequestedMode, now: DateTime<Utc>) -> Mode {
        match (meta.last_full_sync_at, meta.last_run_at) {
            (None, _) => Mode::Baseline,
            (Some(_), _) if requested == RequestedMode::Full => Mode::Full,
            (Some(full), Some(_)) if now - full < self.config.full_sync_interval() => Mode::Incremental,
            _ => Mode::Full,
        }
    }

    /// Connection invitations: PENDING ones (both participant types in one listing) in an
    /// incremental run, every one otherwise.
    async fn list_connections(
        &self,
        ctx: &Context,
        records: &HashMap<Key, InvitationRecord>,
    ) -> Result<Listed, String> {
        let status = (!ctx.mode.lists_everything()).then_some(InvitationStatus::Pending);
        let query = ConnectionInvitationQuery { status, ..ConnectionInvitationQuery::default() };
        let stream = self.ports.connections.list_connection_invitations(query);
        let (mut listed, n) =
            collect(stream, None, ctx, records).await.map_err(|e| format!("listing connection invitations: {e}"))?;
        listed.bound_pages = pages(n);
        Ok(listed)
    }

    /// Engagement invitations of every followed participant type, each listed as
    /// [`EngagementListing`] chose. Participant types are listed concurrently. The primer (the
    /// first side's newest-first listing, already started) is reused for the first side.
    async fn list_engagements(
        &self,
        ctx: &Context,
        records: &HashMap<Key, InvitationRecord>,
        sides: &[(ParticipantType, EngagementListing)],
        primer: BoxStream<'_, Result<Page, PartnerCentralError>>,
    ) -> Result<Listed, String> {
        let mut primer = Some(primer);
        let listings = sides.iter().map(|&(participant_type, listing)| {
            let cutoff = listing.newest_first_cutoff();
            let newest_first = primer.take().unwrap_or_else(|| {
                self.ports.engagements.list_engagement_invitations(EngagementInvitationQuery {
                    order: EngagementOrder::NewestFirst { stop_before: cutoff },
                    ..EngagementInvitationQuery::new(participant_type)
                })
            });
            async move {
                let fail = |e: PartnerCentralError| format!("listing {participant_type} engagement invitations: {e}");
                let (mut listed, recent) = collect(newest_first, cutoff, ctx, records).await.map_err(fail)?;
                listed.bound_pages = pages_to_cutoff(recent);
                if !matches!(listing, EngagementListing::PendingAndRecent { .. }) {
                    return Ok(listed);
                }
                let pending = self.ports.engagements.list_engagement_invitations(EngagementInvitationQuery {
                    statuses: vec![InvitationStatus::Pending],
                    ..EngagementInvitationQuery::new(participant_type)
                });
                let (mut pending, n) = collect(pending, None, ctx, records).await.map_err(fail)?;
                pending.bound_pages = pages(n);
                listed.absorb(pending);
                Ok::<Listed, String>(listed)
            }
        });
        let results = futures::future::join_all(listings.collect::<Vec<_>>()).await;
        let mut all = Listed::default();
        for r in results {
            all.absorb(r?);
        }
        Ok(all)
    }

    /// Read the invitations the listings could not show, decide, fetch detail fields,
    /// commit (re-deciding on conflicts).
    async fn process(
        &self,
        kind: InvitationKind,
        listed: Listed,
        records: &HashMap<Key, InvitationRecord>,
        ctx: &Context,
    ) -> Result<KindOutcome, RunError> {
        let mut out = KindOutcome::default();
        let mut kept = listed.kept;

        // Records the listings did not show that may have news: a PENDING one (left PENDING,
        // or vanished), or one another function made and nobody announced yet.
        let followed = |r: &InvitationRecord| {
            r.kind == kind
                && (kind == InvitationKind::Connection
                    || self.config.engagement_participant_types.contains(&r.participant_type))
        };
        let absent: Vec<&InvitationRecord> = records
            .values()
            .filter(|r| followed(r) && !kept.contains_key(&r.id))
            .filter(|r| r.is_followed() || !r.announced)
            .collect();
        out.absent_reads = absent.len() as u64;
        let mut items: Vec<Item> = Vec::new();
        for (record, result) in self.get_many(absent.into_iter().cloned().collect()).await {
            match result {
                Ok(invitation) => {
                    kept.insert(invitation.id.clone(), invitation);
                }
                Err(PartnerCentralError::NotFound { message, .. }) => {
                    tracing::warn!(
                        kind = %kind,
                        invitation = %record.id,
                        %message,
                        "invitation no longer exists; its record is retired without an event"
                    );
                    items.push(Item { id: record.id.clone(), observed: None, record: Some(record) });
                }
                Err(e) => out.errors.push(format!("reading {kind} invitation {}: {e}", record.id)),
            }
        }
        items.extend(kept.into_iter().map(|(id, invitation)| {
            let record = records.get(&key(kind, &id)).cloned();
            Item { id, observed: Some(invitation), record }
        }));

        // Decide; connection events need the detail fields only Get returns.
        let mut plans: Vec<(Item, Plan)> = Vec::new();
        let mut need_details = Vec::new();
        for item in items {
            let plan = item.plan(ctx, item.record.as_ref());
            if item.needs_details(&plan, self.config.include_contact_details) {
                need_details.push(item);
            } else if plan != Plan::Nothing {
                plans.push((item, plan));
            }
        }
        out.connection_details = need_details.len() as u64;
        for (item, result) in self.get_details(need_details).await {
            match result {
                Ok(invitation) => {
                    // The Get is newer than the listing: decide on what it says.
                    let item = Item { observed: Some(invitation), ..item };
                    let plan = item.plan(ctx, item.record.as_ref());
                    if plan != Plan::Nothing {
                        plans.push((item, plan));
                    }
                }
                Err(e) => out.errors.push(format!("reading connection invitation {}: {e}", item.id)),
            }
        }

        self.apply(kind, plans, ctx, &mut out).await?;
        Ok(out)
    }

    /// Get each record's invitation (bounded concurrency).
    async fn get_many(
        &self,
        records: Vec<InvitationRecord>,
    ) -> Vec<(InvitationRecord, Result<Invitation, PartnerCentralError>)> {
        stream::iter(records)
            .map(|record| async move {
                let result = self.get(record.kind, &record.id, record.participant_type).await;
                (record, result)
            })
            .buffer_unordered(GET_CONCURRENCY)
            .collect()
            .await
    }

    async fn get_details(&self, items: Vec<Item>) -> Vec<(Item, Result<Invitation, PartnerCentralError>)> {
        stream::iter(items)
            .map(|item| async move {
                let result = self.ports.connections.get_connection_invitation(&item.id).await;
                (item, result)
            })
            .buffer_unordered(GET_CONCURRENCY)
            .collect()
            .await
    }

    async fn get(
        &self,
        kind: InvitationKind,
        id: &str,
        participant_type: ParticipantType,
    ) -> Result<Invitation, PartnerCentralError> {
        match kind {
            InvitationKind::Connection => self.ports.connections.get_connection_invitation(id).await,
            InvitationKind::Engagement => self.ports.engagements.get_engagement_invitation(id, participant_type).await,
        }
    }

    /// Commit the plans; on a conflict read the record again and decide again.
    async fn apply(
        &self,
        kind: InvitationKind,
        mut plans: Vec<(Item, Plan)>,
        ctx: &Context,
        out: &mut KindOutcome,
    ) -> Result<(), RunError> {
        let mut backfill: Vec<OutboundEvent> = Vec::new();
        for round in 0..=CONFLICT_ROUNDS {
            if plans.is_empty() {
                break;
            }
            let mut changes: Vec<(Item, RecordChange)> = Vec::new();
            for (item, plan) in plans.drain(..) {
                match plan {
                    Plan::Nothing => {}
                    Plan::Enqueue { events } => backfill.extend(self.render(item.observed.as_ref(), &events, ctx)?),
                    Plan::Commit { record, events } => {
                        // Events show what is known: a status recorded as terminal (by
                        // another function) over a listing that still says PENDING.
                        let observed = item.observed.as_ref().map(|i| match i.status {
                            InvitationStatus::Pending if record.status.is_terminal() => {
                                Invitation { status: record.status, ..i.clone() }
                            }
                            _ => i.clone(),
                        });
                        let rendered = self.render(observed.as_ref(), &events, ctx)?;
                        changes.push((item, RecordChange::update(record, rendered)));
                    }
                }
            }
            let mut conflicted: Vec<Item> = Vec::new();
            while !changes.is_empty() {
                let chunk: Vec<_> = changes.drain(..changes.len().min(COMMIT_CHUNK)).collect();
                let outcomes = self.ports.store.commit(chunk.iter().map(|(_, c)| c.clone()).collect()).await?;
                for ((item, change), outcome) in chunk.into_iter().zip(outcomes) {
                    match outcome {
                        CommitOutcome::Committed => self.count_committed(&item, &change, out),
                        CommitOutcome::Conflict => conflicted.push(item),
                    }
                }
            }
            if conflicted.is_empty() {
                break;
            }
            out.conflicts += conflicted.len();
            if round == CONFLICT_ROUNDS {
                for item in &conflicted {
                    tracing::warn!(invitation = %item.id, "still conflicting; left to the next run");
                    out.errors.push(format!("{kind} invitation {}: kept conflicting", item.id));
                }
                break;
            }
            // Someone else committed first: decide again against what they wrote.
            let mut need_details = Vec::new();
            for item in conflicted {
                let fresh = self.ports.store.load_record(kind, &item.id).await?;
                let item = Item { record: fresh, ..item };
                let plan = item.plan(ctx, item.record.as_ref());
                if item.needs_details(&plan, self.config.include_contact_details) {
                    need_details.push(item);
                } else {
                    plans.push((item, plan));
                }
            }
            for (item, result) in self.get_details(need_details).await {
                match result {
                    Ok(invitation) => {
                        let item = Item { observed: Some(invitation), ..item };
                        let plan = item.plan(ctx, item.record.as_ref());
                        plans.push((item, plan));
                    }
                    Err(e) => out.errors.push(format!("reading connection invitation {}: {e}", item.id)),
                }
            }
        }
        if !backfill.is_empty() {
            for event in &backfill {
                *out.changes.entry(event.detail_type.clone()).or_default() += 1;
            }
            tracing::info!(events = backfill.len(), "baseline backfill of Created events for finished invitations");
            self.ports.store.enqueue(backfill).await?;
        }
        Ok(())
    }

    fn count_committed(&self, item: &Item, change: &RecordChange, out: &mut KindOutcome) {
        out.records_written += 1;
        if change.events.is_empty() {
            if change.record.is_retired() && item.record.as_ref().is_some_and(|r| !r.is_retired()) {
                out.retired += 1;
            } else {
                out.silent_updates += 1;
            }
        }
        for event in &change.events {
            *out.changes.entry(event.detail_type.clone()).or_default() += 1;
            tracing::info!(
                event_id = %event.event_id,
                detail_type = %event.detail_type,
                invitation = %item.id,
                "change committed with its event"
            );
        }
    }

    /// The contract events of a plan, as they go to the outbox.
    fn render(
        &self,
        invitation: Option<&Invitation>,
        events: &[EventKind],
        ctx: &Context,
    ) -> Result<Vec<OutboundEvent>, RunError> {
        let Some(invitation) = invitation else {
            return Ok(Vec::new());
        };
        let invitation = redact_contact_details(invitation.clone(), self.config.include_contact_details);
        events
            .iter()
            .filter_map(|kind| match kind {
                EventKind::Created => Some(InvitationEvent::created(&invitation, ctx.now)),
                EventKind::Transition { previous } => InvitationEvent::transition(&invitation, *previous, ctx.now),
            })
            .map(|event| OutboundEvent::from_event(&event).map_err(|e| RunError::Render(e.to_string())))
            .collect()
    }
}

/// Read a listing into what matters to the run: invitations with a record, PENDING ones and
/// terminal ones the plan acts on (the rest is history: counted, not kept). With a cut-off,
/// stop at the first invitation created before it (newest-first listings). Returns the
/// invitations read (within the cut-off).
async fn collect(
    mut pages: BoxStream<'_, Result<Page, PartnerCentralError>>,
    cutoff: Option<DateTime<Utc>>,
    ctx: &Context,
    records: &HashMap<Key, InvitationRecord>,
) -> Result<(Listed, usize), PartnerCentralError> {
    let mut listed = Listed::default();
    let mut read = 0usize;
    'pages: while let Some(page) = pages.next().await {
        for invitation in page? {
            if cutoff.is_some_and(|c| invitation.created_at < c) {
                break 'pages;
            }
            read += 1;
            let record = records.get(&key(invitation.kind, &invitation.id));
            if record.is_some() || decide(ctx, None, &invitation) != Plan::Nothing {
                if listed.kept.insert(invitation.id.clone(), invitation).is_none() {
                    listed.seen += 1;
                }
            } else {
                listed.seen += 1;
            }
        }
    }
    Ok((listed, read))
}

fn listing_failed(
    kind: &str,
    participant_type: ParticipantType,
    e: &PartnerCentralError,
    progress: &mut Progress,
) -> RunError {
    let message = format!("listing {participant_type} {kind} invitations: {e}");
    progress.errors.push(message.clone());
    RunError::PartnerCentral(message)
}

/// The run's summary, from what it found and how it ended.
fn summary(p: Progress, end: RunEnd) -> Summary {
    let RunEnd { events, api_calls, duration_ms } = end;
    let mode = p.mode.map(Mode::as_str).unwrap_or("none").to_owned();
    let lower_bound = (p.mode == Some(Mode::Incremental) && p.errors.is_empty())
        .then_some(p.listing_pages + p.absent_reads + p.connection_details);
    Summary {
        mode,
        invitations_seen: crate::summary::PerKind { connection: p.seen_connections, engagement: p.seen_engagements },
        changes: p.changes,
        records_written: p.records_written,
        silent_updates: p.silent_updates,
        retired: p.retired,
        conflicts: p.conflicts,
        events,
        api_calls_total: api_calls.values().sum(),
        api_calls,
        lower_bound,
        errors: p.errors.into_iter().take(10).collect(),
        duration_ms,
    }
}
