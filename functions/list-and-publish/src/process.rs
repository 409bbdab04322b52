//! What a run does with the invitations of one kind its listings showed: read the ones the
//! listings could not show, decide (shared decision, rules in `shared::domain::decision`),
//! fetch detail fields when they are published, commit with conflict retries.

use std::collections::{BTreeMap, HashMap, HashSet};

use futures::stream::{self, StreamExt};
use shared::commit::commit_with_retries;
use shared::domain::decision::{Context, Plan, gone, observe, render};
use shared::domain::{
    Invitation, InvitationKind, InvitationRecord, OutboundEvent, ParticipantType, RecordChange, UnreadableInvitation,
    redact_contact_details,
};
use shared::error::PartnerCentralError;
use shared::ports::{ConnectionInvitations, EngagementInvitations, StateStore, get_invitation};

use crate::listings::{Key, Listed, key};
use crate::run::RunError;
use crate::summary::LowerBound;

/// Get calls in flight at once (the shared rate limiter paces them further).
pub(crate) const GET_CONCURRENCY: usize = 4;

/// What processing one kind did.
#[derive(Debug, Default)]
pub(crate) struct KindOutcome {
    pub(crate) changes: BTreeMap<String, usize>,
    pub(crate) records_written: usize,
    pub(crate) silent_updates: usize,
    pub(crate) retired: usize,
    pub(crate) conflicts: usize,
    /// Gets of the lower-bound formula (its listing pages are counted by the listings).
    pub(crate) bound: LowerBound,
    pub(crate) errors: Vec<String>,
    /// Invitations this version cannot read (listed or read so): skipped, left as they are.
    pub(crate) unreadable: Vec<UnreadableInvitation>,
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
    /// Decide (again) against the item's record.
    fn plan(&self, ctx: &Context) -> Plan {
        match (&self.observed, &self.record) {
            (Some(invitation), record) => observe(ctx, record.as_ref(), invitation),
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

/// The ports and settings processing needs.
pub(crate) struct Processor<'a, Connections, Engagements, Store> {
    pub(crate) connections: &'a Connections,
    pub(crate) engagements: &'a Engagements,
    pub(crate) store: &'a Store,
    /// `ENGAGEMENT_PARTICIPANT_TYPES`.
    pub(crate) engagement_participant_types: &'a [ParticipantType],
    /// `INCLUDE_CONTACT_DETAILS`.
    pub(crate) include_contact_details: bool,
}

impl<Connections, Engagements, Store> Processor<'_, Connections, Engagements, Store>
where
    Connections: ConnectionInvitations,
    Engagements: EngagementInvitations,
    Store: StateStore,
{
    /// Read the invitations the listings could not show, decide, fetch detail fields,
    /// commit (re-deciding on conflicts).
    pub(crate) async fn process(
        &self,
        kind: InvitationKind,
        listed: Listed,
        records: &HashMap<Key, InvitationRecord>,
        ctx: &Context,
    ) -> Result<KindOutcome, RunError> {
        let mut out = KindOutcome::default();
        let mut kept = listed.kept;
        let listed_unreadable: HashSet<String> = listed.unreadable.iter().map(|u| u.id.clone()).collect();
        out.unreadable = listed.unreadable;

        // Records the listings did not show that may have news: a PENDING one (left PENDING,
        // or vanished), or one another function made and nobody announced yet (rule 3).
        let followed = |r: &InvitationRecord| {
            r.kind == kind
                && (kind == InvitationKind::Connection
                    || self.engagement_participant_types.contains(&r.participant_type))
        };
        let absent: Vec<&InvitationRecord> = records
            .values()
            .filter(|r| followed(r) && !kept.contains_key(&r.id) && !listed_unreadable.contains(&r.id))
            .filter(|r| r.is_followed() || !r.announced)
            .collect();
        out.bound.absent_reads = absent.len() as u64;
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
                Err(PartnerCentralError::Unreadable { invitation, .. }) => out.unreadable.push(invitation),
                Err(e) => out.errors.push(format!("reading {kind} invitation {}: {e}", record.id)),
            }
        }
        items.extend(kept.into_iter().map(|(id, invitation)| {
            let record = records.get(&key(kind, &id)).cloned();
            Item { id, observed: Some(invitation), record }
        }));

        let (plans, details) = self.decide(items, ctx, &mut out.errors, &mut out.unreadable).await;
        out.bound.connection_details = details;
        self.apply(kind, plans, ctx, &mut out).await?;
        Ok(out)
    }

    /// Decide about each item; connection events need the detail fields only Get returns,
    /// so those are read and decided again on what the (newer) Get says. Returns the plans
    /// with something to do, and how many Gets for details it made.
    async fn decide(
        &self,
        items: Vec<Item>,
        ctx: &Context,
        errors: &mut Vec<String>,
        unreadable: &mut Vec<UnreadableInvitation>,
    ) -> (Vec<(Item, Plan)>, u64) {
        let mut plans: Vec<(Item, Plan)> = Vec::new();
        let mut need_details = Vec::new();
        for item in items {
            let plan = item.plan(ctx);
            if item.needs_details(&plan, self.include_contact_details) {
                need_details.push(item);
            } else if plan != Plan::Nothing {
                plans.push((item, plan));
            }
        }
        let details = need_details.len() as u64;
        for (item, result) in self.get_details(need_details).await {
            match result {
                Ok(invitation) => {
                    let item = Item { observed: Some(invitation), ..item };
                    let plan = item.plan(ctx);
                    if plan != Plan::Nothing {
                        plans.push((item, plan));
                    }
                }
                Err(PartnerCentralError::Unreadable { invitation, .. }) => unreadable.push(invitation),
                Err(e) => errors.push(format!("reading connection invitation {}: {e}", item.id)),
            }
        }
        (plans, details)
    }

    /// Get each record's invitation (bounded concurrency).
    async fn get_many(
        &self,
        records: Vec<InvitationRecord>,
    ) -> Vec<(InvitationRecord, Result<Invitation, PartnerCentralError>)> {
        stream::iter(records)
            .map(|record| async move {
                let result = get_invitation(
                    self.connections,
                    self.engagements,
                    record.kind,
                    &record.id,
                    record.participant_type,
                )
                .await;
                (record, result)
            })
            .buffer_unordered(GET_CONCURRENCY)
            .collect()
            .await
    }

    async fn get_details(&self, items: Vec<Item>) -> Vec<(Item, Result<Invitation, PartnerCentralError>)> {
        stream::iter(items)
            .map(|item| async move {
                let result = self.connections.get_connection_invitation(&item.id).await;
                (item, result)
            })
            .buffer_unordered(GET_CONCURRENCY)
            .collect()
            .await
    }

    /// Commit the plans (rule 1); on a conflict decide again against the fresh record.
    async fn apply(
        &self,
        kind: InvitationKind,
        plans: Vec<(Item, Plan)>,
        ctx: &Context,
        out: &mut KindOutcome,
    ) -> Result<(), RunError> {
        let mut backfill: Vec<OutboundEvent> = Vec::new();
        let changes = self.changes(plans, ctx, &mut backfill)?;
        let (errors, unreadable) = (&mut out.errors, &mut out.unreadable);
        let report = commit_with_retries(self.store, changes, async |conflicted| {
            let items = conflicted.into_iter().map(|(item, record)| Item { record, ..item }).collect();
            let (plans, _) = self.decide(items, ctx, errors, unreadable).await;
            self.changes(plans, ctx, &mut backfill)
        })
        .await?;
        out.conflicts += report.conflicts;
        for (item, change) in &report.committed {
            count_committed(item, change, out);
        }
        for item in report.unresolved {
            out.errors.push(format!("{kind} invitation {}: kept conflicting", item.id));
        }
        if !backfill.is_empty() {
            for event in &backfill {
                *out.changes.entry(event.detail_type.clone()).or_default() += 1;
            }
            tracing::info!(events = backfill.len(), "baseline backfill of Created events for finished invitations");
            self.store.enqueue(backfill).await?;
        }
        Ok(())
    }

    /// The record changes of the plans, with their rendered events; the backfill's events
    /// (no record) go to `backfill`.
    fn changes(
        &self,
        plans: Vec<(Item, Plan)>,
        ctx: &Context,
        backfill: &mut Vec<OutboundEvent>,
    ) -> Result<Vec<(Item, RecordChange)>, RunError> {
        let mut changes = Vec::new();
        for (item, plan) in plans {
            match plan {
                Plan::Nothing => {}
                Plan::Enqueue { events } => backfill.extend(self.render(item.observed.as_ref(), None, &events, ctx)?),
                Plan::Commit { record, events } => {
                    let rendered = self.render(item.observed.as_ref(), Some(&record), &events, ctx)?;
                    changes.push((item, RecordChange::update(record, rendered)));
                }
            }
        }
        Ok(changes)
    }

    /// The contract events of a plan, as they go to the outbox (without personal data unless
    /// opted in).
    fn render(
        &self,
        invitation: Option<&Invitation>,
        record: Option<&InvitationRecord>,
        events: &[shared::domain::decision::EventKind],
        ctx: &Context,
    ) -> Result<Vec<OutboundEvent>, RunError> {
        let Some(invitation) = invitation else {
            return Ok(Vec::new());
        };
        let invitation = redact_contact_details(invitation.clone(), self.include_contact_details);
        render(&invitation, record, events, ctx.now).map_err(|e| RunError::Render(e.to_string()))
    }
}

fn count_committed(item: &Item, change: &RecordChange, out: &mut KindOutcome) {
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
