//! One relay invocation: read the native events, Get each invitation they name once (the
//! Get is the truth: the native payload is thin and may be stale), decide with the same
//! shared decision and conditional commit as list-and-publish (so the same fact gets the same
//! `eventId` and is published once, whichever function sees it first), drain the outbox —
//! in the shared run envelope.

use std::collections::BTreeMap;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse};
use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};
use serde::Serialize;
use serde_json::Value;
use shared::commit::commit_with_retries;
use shared::domain::decision::{BaselineEvents, CLOCK_MARGIN, Context, Mode, Plan, observe, render};
use shared::domain::{
    Invitation, InvitationKind, InvitationRecord, ParticipantType, RecordChange, redact_contact_details,
};
use shared::error::{PartnerCentralError, StoreError};
use shared::ports::{
    self, CallCounts, ConnectionInvitations, EngagementInvitations, EventPublisher, StateStore, get_invitation,
};
use shared::run::{ErrorKind, FunctionError, Ports, RunEnd, Unreadables, envelope};

use crate::FUNCTION_NAME;
use crate::config::Config;
use crate::input::{InputError, Message, Trigger, parse_payload};
use crate::native::{Ignored, Malformed, Reading, our_side_in, read};
use crate::summary::Summary;

/// The ignored-reason of native events whose invitation the Get returned unreadable.
const UNREADABLE: &str = "unreadable";
/// The ignored-reason of native events whose invitation's stored record is unreadable.
const UNREADABLE_RECORD: &str = "unreadableRecord";

/// Gets in flight at once (the shared rate limiter paces them further).
const GET_CONCURRENCY: usize = 4;

/// Why an invocation failed.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error(transparent)]
    Input(#[from] InputError),
    /// A directly invoked event that cannot be read.
    #[error(transparent)]
    Malformed(#[from] Malformed),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A directly invoked event whose invitation could not be read (retried by its rule).
    #[error("{0}")]
    PartnerCentral(String),
    #[error("an event could not be rendered: {0}")]
    Render(String),
}

impl FunctionError for RelayError {
    fn kind(&self) -> ErrorKind {
        match self {
            RelayError::Input(_) | RelayError::Malformed(_) => ErrorKind::InvalidInput,
            RelayError::Store(_) => ErrorKind::StateStore,
            RelayError::PartnerCentral(_) => ErrorKind::PartnerCentral,
            RelayError::Render(_) => ErrorKind::Event,
        }
    }
}

/// What an invocation answers: an SQS batch its `batchItemFailures` (SQS deletes the rest),
/// a direct event the summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Response {
    Batch(SqsBatchResponse),
    Summary(Box<Summary>),
}

/// The function: its configuration and its ports (borrowed, built once in `main`).
pub struct NativeRelay<'a, Connections, Engagements, Store, Publisher, Clock, Calls> {
    pub config: &'a Config,
    pub ports: Ports<'a, Connections, Engagements, Store, Publisher, Clock, Calls>,
}

type Key = (InvitationKind, String);

/// The native events naming one invitation.
#[derive(Debug, Clone)]
struct Named {
    participant_type: Option<ParticipantType>,
    message_ids: Vec<Option<String>>,
    earliest: Option<DateTime<Utc>>,
}

impl Named {
    fn events(&self) -> usize {
        self.message_ids.len()
    }
}

/// What the invocation found, gathered as it goes.
#[derive(Debug, Default)]
struct Progress {
    received: usize,
    invitations: usize,
    changes: BTreeMap<String, usize>,
    unchanged: usize,
    ignored: BTreeMap<&'static str, usize>,
    malformed: Vec<Malformed>,
    failed: Vec<Option<String>>,
    conflicts: usize,
    /// The native `time`s of the events that produced one of ours.
    relayed_since: Vec<DateTime<Utc>>,
    errors: Vec<String>,
    unreadable: Unreadables,
}

impl Progress {
    fn fail(&mut self, named: &Named, error: String) {
        self.failed.extend(named.message_ids.iter().cloned());
        self.errors.push(error);
    }
}

impl<Connections, Engagements, Store, Publisher, Clock, Calls>
    NativeRelay<'_, Connections, Engagements, Store, Publisher, Clock, Calls>
where
    Connections: ConnectionInvitations,
    Engagements: EngagementInvitations,
    Store: StateStore,
    Publisher: EventPublisher,
    Clock: ports::Clock,
    Calls: CallCounts,
{
    /// Handle one invocation payload.
    pub async fn handle(&self, payload: &Value) -> Result<Response, RelayError> {
        let (trigger, messages) =
            parse_payload(payload).inspect_err(|e| tracing::error!(error = %e, "rejected the invocation"))?;
        let summary = self.relay(trigger, messages).await?;
        match trigger {
            Trigger::Sqs => {
                let mut response = SqsBatchResponse::default();
                response.batch_item_failures = summary
                    .failed_message_ids
                    .iter()
                    .map(|id| {
                        let mut failure = BatchItemFailure::default();
                        failure.item_identifier = id.clone();
                        failure
                    })
                    .collect();
                Ok(Response::Batch(response))
            }
            Trigger::Event => match (summary.first_malformed.clone(), summary.errors.first()) {
                (Some(malformed), _) => Err(malformed.into()),
                (None, Some(error)) => Err(RelayError::PartnerCentral(error.clone())),
                (None, None) => Ok(Response::Summary(Box::new(summary))),
            },
        }
    }

    /// Relay the events in the shared envelope (the outbox is drained whatever happened).
    pub async fn relay(&self, trigger: Trigger, messages: Vec<Message>) -> Result<Summary, RelayError> {
        let work = async {
            let mut progress = Progress { received: messages.len(), ..Progress::default() };
            let worked = self.work(messages, &mut progress).await;
            (progress, worked)
        };
        envelope(self.ports, FUNCTION_NAME, self.config.common.catalog, work, |p, end, _| summary(trigger, p, end))
            .await
            .into_result()
    }

    async fn work(&self, messages: Vec<Message>, progress: &mut Progress) -> Result<(), RelayError> {
        let named = self.read_all(messages, progress);
        progress.invitations = named.len();
        if named.is_empty() {
            return Ok(());
        }
        let meta = self.ports.store.load_meta().await?;
        let reads: Vec<(Key, Named, _)> = stream::iter(named)
            .map(|((kind, id), named)| async move {
                // A connection invitation's Get ignores the participant type.
                let side = named.participant_type.unwrap_or(ParticipantType::Receiver);
                let result = get_invitation(self.ports.connections, self.ports.engagements, kind, &id, side).await;
                ((kind, id), named, result)
            })
            .buffer_unordered(GET_CONCURRENCY)
            .collect()
            .await;

        // After the Gets: the clock follows the `Date` of Partner Central's answers.
        let now = self.ports.clock.now();
        let ctx = Context {
            mode: Mode::Incremental,
            baseline_events: BaselineEvents::default(),
            last_full_sync_at: meta.last_full_sync_at,
            run_start: now - CLOCK_MARGIN,
            retention: self.config.state.retention(),
            now,
        };
        let mut changes = Vec::new();
        for ((kind, id), named, result) in reads {
            let result = result.map(|invitation| match kind {
                InvitationKind::Connection => Some(invitation),
                // GetEngagementInvitation returns no side: ours is read from its accounts,
                // never taken from the native event.
                InvitationKind::Engagement => our_side_in(&invitation, &self.config.own_account_id)
                    .map(|participant_type| Invitation { participant_type, ..invitation }),
            });
            match result {
                Ok(None) => {
                    tracing::warn!(invitation = %id, "the Get names neither side of this engagement invitation as our account; ignored");
                    *progress.ignored.entry(Ignored::OtherAccount.as_str()).or_default() += named.events();
                }
                Ok(Some(invitation))
                    if !self.config.engagement_participant_types.contains(&invitation.participant_type) =>
                {
                    *progress.ignored.entry(Ignored::SideNotFollowed.as_str()).or_default() += named.events();
                }
                Ok(Some(invitation)) => {
                    let record = match self.ports.store.load_record(kind, &id).await {
                        Ok(record) => record,
                        // Our record of it cannot be read: nothing can be decided against it, and
                        // another delivery would not help. Set aside, the others go on.
                        Err(e @ StoreError::Corrupt { .. }) => {
                            tracing::warn!(invitation = %id, error = %e, "stored record unreadable; native event ignored");
                            *progress.ignored.entry(UNREADABLE_RECORD).or_default() += named.events();
                            continue;
                        }
                        Err(e) => return Err(e.into()),
                    };
                    let invitation = redact_contact_details(invitation, self.config.include_contact_details);
                    match change(&ctx, &invitation, record)? {
                        Some(change) => changes.push(((invitation, named), change)),
                        None => progress.unchanged += named.events(),
                    }
                }
                // Not delivered again (another read would not help): ignored with a reason,
                // and the poller publishes what changed once the invitation reads again.
                Err(PartnerCentralError::Unreadable { invitation, .. }) => {
                    progress.unreadable.note(invitation);
                    *progress.ignored.entry(UNREADABLE).or_default() += named.events();
                }
                // Partner Central rejected the Get as invalid (an id of the wrong form, another
                // catalog's): asking again cannot help. Malformed, not retried.
                Err(e @ PartnerCentralError::Validation { .. }) => {
                    let member = match kind {
                        InvitationKind::Engagement => "engagementInvitation",
                        InvitationKind::Connection => "connectionInvitation",
                    };
                    tracing::error!(invitation = %id, error = %e, "the Get rejected the invitation the native event names; not retried");
                    progress.malformed.extend(std::iter::repeat_n(
                        Malformed { field: format!("detail.{member}.id"), problem: e.to_string() },
                        named.events(),
                    ));
                }
                // NotFound right after Created included: SQS delivers it again later, and
                // after the dead-letter queue the poller still reconciles.
                Err(e) => progress.fail(&named, format!("reading {kind} invitation {id}: {e}")),
            }
        }

        let unchanged = &mut progress.unchanged;
        let report = commit_with_retries(self.ports.store, changes, async |conflicted| {
            let mut again = Vec::new();
            for ((invitation, named), record) in conflicted {
                match change(&ctx, &invitation, record)? {
                    Some(change) => again.push(((invitation, named), change)),
                    // The other writer (usually the poller) published the same fact.
                    None => *unchanged += named.events(),
                }
            }
            Ok::<_, RelayError>(again)
        })
        .await?;
        progress.conflicts += report.conflicts;
        for ((invitation, named), change) in report.committed {
            if change.events.is_empty() {
                progress.unchanged += named.events();
            } else {
                progress.relayed_since.extend(named.earliest);
            }
            for event in &change.events {
                *progress.changes.entry(event.detail_type.clone()).or_default() += 1;
                tracing::info!(event_id = %event.event_id, detail_type = %event.detail_type, invitation = %invitation.id, "relayed");
            }
        }
        for (invitation, named) in report.unresolved {
            progress.fail(&named, format!("{} invitation {}: kept conflicting", invitation.kind, invitation.id));
        }
        Ok(())
    }

    /// Read every native event; group the sightings by invitation (one Get each).
    fn read_all(&self, messages: Vec<Message>, progress: &mut Progress) -> BTreeMap<Key, Named> {
        let mut named: BTreeMap<Key, Named> = BTreeMap::new();
        for message in messages {
            let reading = message.event.and_then(|event| read(&event, self.config.scope()));
            match reading {
                Ok(Reading::Sighting(s)) => {
                    let entry = named.entry((s.kind, s.id)).or_insert_with(|| Named {
                        participant_type: s.participant_type,
                        message_ids: Vec::new(),
                        earliest: None,
                    });
                    entry.message_ids.push(message.message_id);
                    entry.earliest = match (entry.earliest, s.time) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                }
                Ok(Reading::Ignored(reason)) => {
                    if reason == Ignored::OtherAccount {
                        tracing::warn!(message_id = ?message.message_id, "native event of another AWS account ignored");
                    }
                    *progress.ignored.entry(reason.as_str()).or_default() += 1;
                }
                Err(e) => {
                    // Redelivering cannot make it readable: reported, not retried.
                    tracing::error!(message_id = ?message.message_id, error = %e, "unreadable native event skipped; the poller reconciles");
                    progress.malformed.push(e);
                }
            }
        }
        named
    }
}

/// The record change (with its rendered events) that `invitation`, as read, means against
/// `record`; `None` when there is nothing new (an incremental decision never enqueues without
/// a record).
fn change(
    ctx: &Context,
    invitation: &Invitation,
    record: Option<InvitationRecord>,
) -> Result<Option<RecordChange>, RelayError> {
    match observe(ctx, record.as_ref(), invitation) {
        Plan::Commit { record, events } => {
            let rendered =
                render(invitation, Some(&record), &events, ctx.now).map_err(|e| RelayError::Render(e.to_string()))?;
            Ok(Some(RecordChange::update(record, rendered)))
        }
        Plan::Nothing | Plan::Enqueue { .. } => Ok(None),
    }
}

fn summary(trigger: Trigger, p: Progress, end: RunEnd) -> Summary {
    let RunEnd { events, api_calls, duration_ms } = end;
    let done = Utc::now();
    let latency_ms_max =
        p.relayed_since.iter().map(|t| u64::try_from((done - *t).num_milliseconds()).unwrap_or(0)).max();
    let mut errors: Vec<String> = p.errors;
    errors.extend(p.malformed.iter().map(ToString::to_string));
    Summary {
        trigger: trigger.as_str(),
        received: p.received,
        invitations: p.invitations,
        changes: p.changes,
        unchanged: p.unchanged,
        ignored: p.ignored,
        malformed: p.malformed.len(),
        failed: p.failed.len(),
        conflicts: p.conflicts,
        unreadable_invitations: p.unreadable.len(),
        events,
        api_calls_total: api_calls.values().sum(),
        api_calls,
        latency_ms_max,
        errors: errors.into_iter().take(10).collect(),
        first_malformed: p.malformed.first().cloned(),
        failed_message_ids: p.failed.into_iter().flatten().collect(),
        duration_ms,
    }
}
