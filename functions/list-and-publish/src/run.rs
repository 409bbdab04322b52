//! One run of list-and-publish: list what can have changed ([`crate::listings`]), decide
//! and commit per invitation ([`crate::process`]), save the sync bookkeeping — in the shared
//! run envelope, which drains the outbox whatever happened before.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};
use shared::domain::decision::{CLOCK_MARGIN, Context, Mode};
use shared::domain::{InvitationKind, InvitationRecord, ParticipantType, SyncMeta};
use shared::error::{PartnerCentralError, StoreError};
use shared::invocation::{InputError, parse_invocation};
use shared::ports::{
    self, CallCounts, ConnectionInvitations, EngagementInvitationQuery, EngagementInvitations, EngagementOrder,
    EventPublisher, Page, StateStore,
};
use shared::run::{ErrorKind, FunctionError, Ports, RunEnd, Unreadables, envelope};

use crate::FUNCTION_NAME;
use crate::config::Config;
use crate::input::{RequestedMode, RunOptions};
use crate::listing::EngagementListing;
use crate::listings::{Key, Listed, list_connections, list_engagements};
use crate::process::{KindOutcome, Processor};
use crate::summary::{LowerBound, PerKind, Summary};

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
    bound: LowerBound,
    errors: Vec<String>,
    unreadable: Unreadables,
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
        self.bound.add(other.bound);
        self.errors.extend(other.errors);
        for u in other.unreadable {
            self.unreadable.note(u);
        }
    }
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
            None => Page::default(),
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
        let (connections, engagements) = tokio::join!(
            list_connections(self.ports.connections, &ctx, &records),
            list_engagements(self.ports.engagements, &ctx, &records, &sides, primer)
        );

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
            progress.bound.listing_pages += l.bound_pages;
        }
        if let Some(l) = &engagements {
            progress.seen_engagements = l.seen;
            progress.bound.listing_pages += l.bound_pages;
        }

        // Kinds whose listings completed are processed (concurrently); a kind whose listing
        // failed is left as it is for the next run.
        let processor = Processor {
            connections: self.ports.connections,
            engagements: self.ports.engagements,
            store: self.ports.store,
            engagement_participant_types: types,
            include_contact_details: self.config.include_contact_details,
        };
        let process = |kind: InvitationKind, listed: Option<Listed>| {
            let (records, ctx, processor) = (&records, &ctx, &processor);
            async move {
                match listed {
                    Some(listed) => Some(processor.process(kind, listed, records, ctx).await),
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
    let lower_bound = (p.mode == Some(Mode::Incremental) && p.errors.is_empty()).then_some(p.bound.total());
    Summary {
        mode,
        invitations_seen: PerKind { connection: p.seen_connections, engagement: p.seen_engagements },
        changes: p.changes,
        records_written: p.records_written,
        silent_updates: p.silent_updates,
        retired: p.retired,
        conflicts: p.conflicts,
        unreadable_invitations: p.unreadable.len(),
        events,
        api_calls_total: api_calls.values().sum(),
        api_calls,
        lower_bound,
        errors: p.errors.into_iter().take(10).collect(),
        duration_ms,
    }
}
