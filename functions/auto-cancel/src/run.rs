//! One run of auto-cancel, on the shared run skeleton (`shared::run`): it borrows the ports
//! bundle and its cancellation budget, and does its work inside the shared envelope.
//!
//! 1. List our PENDING connection invitations (ParticipantType SENDER, all pages); anything
//!    else the listing returns is ignored.
//! 2. Decide for each with the policy (at the service's "now"), oldest first.
//! 3. Dry run: record `planned_by_policy = policyHash` on each match's record together with a
//!    `Cancellation Planned` event — once per invitation per policy.
//!    Real run: for each match up to the cap, take one cancellation from the durable
//!    allowances (per scheduled firing and per UTC day, in the state table, so retries,
//!    timed-out attempts and manual invokes cannot add to them), confirm with Get that it is
//!    still PENDING, cancel with the deterministic ClientToken, then commit PENDING → CANCELED
//!    with the `Canceled` event (cause: policy); a match left alone gives its allowance back
//!    and is reported with its [`SkipReason`]. A status change seen on the way (accepted in
//!    the meantime, ...) is recorded and published too: a transition seen is a transition
//!    published.
//! 4. Drain the outbox (always, also after an error) and report.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use futures::StreamExt;

use shared::commit::{CommittedOne, Decided, commit_one};
use shared::domain::{
    Catalog, Cause, CauseType, CommitOutcome, Invitation, InvitationEvent, InvitationKind, InvitationRecord,
    InvitationStatus, ParticipantType, RecordChange, redact_contact_details,
};
use shared::policy::{outbound, run_policy};
use shared::ports::{
    ActionBudget, Allowance, CallCounts, ConnectionInvitationQuery, ConnectionInvitations, EventPublisher, StateStore,
    Take,
};
use shared::run::{Ports, RunReport};

use crate::input::{Invocation, parse_input};
use crate::policy::{Decision, Policy, Rule, client_token};
use crate::summary::{Match, SkipReason, Summary};

/// The function's name in metrics and logs.
pub(crate) const FUNCTION_NAME: &str = "auto-cancel";

pub use shared::policy::RunError;

/// Settings of the run besides the policy.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Keep the inviter's e-mail address in published events.
    pub include_contact_details: bool,
    /// For metrics: the catalog.
    pub catalog: Catalog,
}

/// The function, lent everything it works with: the ports (built once per process in `main`,
/// or fakes in tests), the cancellation budget, the policy and the settings.
pub struct AutoCancel<'a, Connections, Store, Publisher, Clock, Calls, Budget> {
    /// Auto-cancel has no engagement invitations: that port is `()`.
    pub ports: Ports<'a, Connections, (), Store, Publisher, Clock, Calls>,
    /// The durable cancellation allowances (in the state table: `main` lends the same store).
    pub budget: &'a Budget,
    pub policy: &'a Policy,
    pub settings: &'a Settings,
}

/// What became of one real cancellation attempt.
enum Attempt {
    Canceled,
    Skipped(SkipReason),
}

type Plan = Decided<SkipReason>;
type Committed = CommittedOne<SkipReason>;

impl<Connections, Store, Publisher, Clock, Calls, Budget>
    AutoCancel<'_, Connections, Store, Publisher, Clock, Calls, Budget>
where
    Connections: ConnectionInvitations,
    Store: StateStore,
    Publisher: EventPublisher,
    Clock: shared::ports::Clock,
    Calls: CallCounts,
    Budget: ActionBudget,
{
    /// The Lambda entry point: parse the payload, then one run in the shared envelope.
    /// Returns the summary, or the error after everything committed was drained.
    /// `request_id`: the Lambda request id, the same on Lambda's own retries of an async
    /// invocation; it names the firing when the payload does not.
    pub async fn handle(&self, payload: serde_json::Value, request_id: &str) -> Result<Summary, RunError> {
        let invocation = parse_input(&payload).inspect_err(|e| tracing::error!(error = %e, "rejected"))?;
        self.run(invocation.or_request(request_id)).await.into_result()
    }

    /// One run. Always reports the summary; the error, if any, after the outbox was drained.
    pub(crate) async fn run(&self, invocation: Invocation) -> RunReport<Summary, RunError> {
        let summary = |dry_run| Summary::new(self.policy, dry_run);
        let work =
            async |dry_run, firing: Option<&str>, summary: &mut Summary| self.work(dry_run, firing, summary).await;
        let (catalog, limits) = (self.settings.catalog, &self.policy.limits);
        run_policy(self.ports, FUNCTION_NAME, catalog, limits, "cancellations", invocation, summary, work).await
    }

    async fn work(&self, dry_run: bool, firing: Option<&str>, summary: &mut Summary) -> Result<(), RunError> {
        let candidates = self.list_candidates(summary).await?;
        // After the listing: the service clock has seen a response `Date` by now.
        let now = self.ports.clock.now();
        summary.candidates = candidates.len();

        let mut matches: Vec<(Invitation, &Rule)> = Vec::new();
        for invitation in candidates {
            match self.policy.evaluate(&invitation, now) {
                Decision::NoMatch => {}
                Decision::Excluded { rule, reason } => {
                    *summary.matched_per_rule.entry(rule.name.clone()).or_default() += 1;
                    summary.excluded += 1;
                    tracing::info!(invitation_id = %invitation.id, rule = %rule.name, ?reason, "excluded");
                }
                Decision::Matched { rule } => {
                    *summary.matched_per_rule.entry(rule.name.clone()).or_default() += 1;
                    matches.push((invitation, rule));
                }
            }
        }
        // Oldest first; the id breaks ties so the order is the same on every run.
        matches.sort_by(|(a, _), (b, _)| a.created_at.cmp(&b.created_at).then_with(|| a.id.cmp(&b.id)));
        summary.matches = matches
            .iter()
            .map(|(inv, rule)| Match {
                invitation_id: inv.id.clone(),
                rule: rule.name.clone(),
                other_participant_identifier: inv.other_party.participant_identifier.clone(),
                created_at: inv.created_at,
            })
            .collect();
        if matches.is_empty() {
            return Ok(());
        }
        if dry_run {
            self.plan(&matches, now, summary).await
        } else {
            self.cancel(&matches, now, &self.policy.limits.allowances(FUNCTION_NAME, firing, now), summary).await
        }
    }

    /// Every PENDING connection invitation we sent, all pages, without repeats.
    async fn list_candidates(&self, summary: &mut Summary) -> Result<Vec<Invitation>, RunError> {
        let query = ConnectionInvitationQuery {
            participant_type: Some(ParticipantType::Sender),
            status: Some(InvitationStatus::Pending),
            ..ConnectionInvitationQuery::default()
        };
        let mut pages = self.ports.connections.list_connection_invitations(query);
        let mut seen = HashSet::new();
        let mut candidates = Vec::new();
        let mut ignored = 0usize;
        while let Some(page) = pages.next().await {
            // What it cannot read it never cancels.
            for invitation in summary.unreadable.sort_out(page?) {
                // Never touch what we received, whatever the listing returned.
                let ours = invitation.kind == InvitationKind::Connection
                    && invitation.participant_type == ParticipantType::Sender
                    && invitation.status == InvitationStatus::Pending;
                if !ours {
                    ignored += 1;
                } else if seen.insert(invitation.id.clone()) {
                    candidates.push(invitation);
                }
            }
        }
        if ignored > 0 {
            tracing::warn!(ignored, "the listing returned invitations outside the query (not SENDER/PENDING); ignored");
        }
        Ok(candidates)
    }

    /// Why an invitation the listing shows as PENDING must be left alone, if it must.
    fn precheck(invitation: &Invitation, record: Option<&InvitationRecord>, now: DateTime<Utc>) -> Option<SkipReason> {
        if let Some(r) = record.filter(|r| r.status.is_terminal()) {
            return Some(SkipReason::AlreadyTerminal(r.status));
        }
        if invitation.is_overdue(now) {
            return Some(SkipReason::Overdue);
        }
        None
    }

    // -----------------------------------------------------------------------------------
    // Dry run

    async fn plan(
        &self,
        matches: &[(Invitation, &Rule)],
        now: DateTime<Utc>,
        summary: &mut Summary,
    ) -> Result<(), RunError> {
        let records: HashMap<String, InvitationRecord> = self
            .ports
            .store
            .load_records()
            .await?
            .into_iter()
            .filter(|r| r.kind == InvitationKind::Connection)
            .map(|r| (r.id.clone(), r))
            .collect();
        let mut changes = Vec::new();
        let mut pending: Vec<&(Invitation, &Rule)> = Vec::new();
        for m @ (invitation, rule) in matches {
            let record = records.get(&invitation.id);
            if let Some(reason) = Self::precheck(invitation, record, now) {
                summary.skip(&invitation.id, reason);
                continue;
            }
            let would_cancel_now = self.within_cap(summary.planned.len());
            summary.planned.push(invitation.id.clone());
            if !would_cancel_now {
                summary.deferred.push(invitation.id.clone());
            }
            match self.planned_change(invitation, rule, record.cloned(), now)? {
                Plan::Commit(change) => {
                    changes.push(*change);
                    pending.push(m);
                }
                Plan::AlreadyRecorded | Plan::Skip(_) => {}
            }
        }
        if changes.is_empty() {
            return Ok(());
        }
        let outcomes = self.ports.store.commit(changes).await?;
        for ((invitation, rule), outcome) in pending.into_iter().zip(outcomes) {
            match outcome {
                CommitOutcome::Committed => summary.events_queued += 1,
                CommitOutcome::Conflict => {
                    // Someone changed the record since it was read: decide again on a fresh read.
                    let decide = |record: Option<InvitationRecord>| self.planned_change(invitation, rule, record, now);
                    let committed = self.commit_with_retries(invitation, decide).await?;
                    summary.events_queued += committed.events();
                    if let Committed::Skipped(reason) = committed {
                        summary.planned.retain(|id| id != &invitation.id);
                        summary.deferred.retain(|id| id != &invitation.id);
                        summary.skip(&invitation.id, reason);
                    }
                }
            }
        }
        Ok(())
    }

    /// The record change that plans `invitation` under this policy, unless already planned.
    fn planned_change(
        &self,
        invitation: &Invitation,
        rule: &Rule,
        record: Option<InvitationRecord>,
        now: DateTime<Utc>,
    ) -> Result<Plan, RunError> {
        let hash = self.policy.hash();
        let mut record = match record {
            Some(r) if r.status.is_terminal() => return Ok(Plan::Skip(SkipReason::AlreadyTerminal(r.status))),
            Some(r) if r.planned_by_policy.as_deref() == Some(hash) => return Ok(Plan::AlreadyRecorded),
            Some(r) => r,
            // Rule 3: only list-and-publish announces; it announces this one later.
            None => InvitationRecord::first_sighting(invitation, false, now),
        };
        record.planned_by_policy = Some(hash.to_owned());
        let event = InvitationEvent::cancellation_planned(&self.for_event(invitation.clone()), self.cause(rule), now);
        Ok(Plan::Commit(Box::new(RecordChange::update(record, vec![outbound(&event)?]))))
    }

    // -----------------------------------------------------------------------------------
    // Real run

    async fn cancel(
        &self,
        matches: &[(Invitation, &Rule)],
        now: DateTime<Utc>,
        allowances: &[Allowance],
        summary: &mut Summary,
    ) -> Result<(), RunError> {
        let mut used_up = false;
        for (invitation, rule) in matches {
            if used_up || !self.within_cap(summary.canceled.len()) {
                summary.deferred.push(invitation.id.clone());
                continue;
            }
            let record = self.ports.store.load_record(InvitationKind::Connection, &invitation.id).await?;
            if let Some(reason) = Self::precheck(invitation, record.as_ref(), now) {
                summary.skip(&invitation.id, reason);
                continue;
            }
            if let Take::UsedUp { key } = self.budget.take(allowances).await? {
                tracing::info!(allowance = %key, "cancellation allowance used up; the remaining matches wait");
                summary.notes.push(format!("allowance {key} used up: the remaining matches wait for a later run"));
                summary.deferred.push(invitation.id.clone());
                used_up = true;
                continue;
            }
            // An error keeps the cancellation counted: it may have happened.
            match self.cancel_one(invitation, rule, record, summary).await? {
                Attempt::Canceled => summary.canceled.push(invitation.id.clone()),
                Attempt::Skipped(reason) => {
                    self.budget.give_back(allowances).await?;
                    summary.skip(&invitation.id, reason);
                }
            }
        }
        Ok(())
    }

    /// Get (still PENDING?), Cancel with the deterministic token, record the transition.
    async fn cancel_one(
        &self,
        listed: &Invitation,
        rule: &Rule,
        record: Option<InvitationRecord>,
        summary: &mut Summary,
    ) -> Result<Attempt, RunError> {
        let id = listed.id.as_str();
        let connections = self.ports.connections;
        let current = match connections.get_connection_invitation(id).await {
            Ok(current) => current,
            Err(e) => return Ok(Attempt::Skipped(summary.skip_reason_of(e)?)),
        };
        if current.participant_type != ParticipantType::Sender {
            return Ok(Attempt::Skipped(SkipReason::NotSender(current.participant_type)));
        }
        if current.status != InvitationStatus::Pending {
            // Changed since the listing: record (and publish) what happened to it.
            self.record_observed(listed, record, &current, summary).await?;
            return Ok(Attempt::Skipped(SkipReason::NoLongerPending(current.status)));
        }
        if current.is_overdue(self.ports.clock.now()) {
            return Ok(Attempt::Skipped(SkipReason::Overdue));
        }

        let token = client_token(self.policy, id);
        tracing::info!(invitation_id = id, rule = %rule.name, client_token = %token, "canceling");
        let canceled = match connections.cancel_connection_invitation(id, &token).await {
            Ok(canceled) => canceled,
            Err(e) => {
                let mut reason = summary.skip_reason_of(e)?;
                // Accepted, rejected or canceled between the Get and the Cancel: find out
                // what it became and record that transition.
                if let SkipReason::Conflict { now, .. } = &mut reason {
                    match connections.get_connection_invitation(id).await {
                        Ok(after) if after.status.is_terminal() => {
                            self.record_observed(listed, record, &after, summary).await?;
                            *now = Some(after.status);
                        }
                        Ok(_) => {}
                        Err(e) => tracing::warn!(invitation_id = id, error = %e, "cannot read it after the conflict"),
                    }
                }
                return Ok(Attempt::Skipped(reason));
            }
        };
        if canceled.status != InvitationStatus::Canceled {
            tracing::warn!(invitation_id = id, status = %canceled.status, "Cancel answered without CANCELED");
            self.record_observed(listed, record, &canceled, summary).await?;
            return Ok(Attempt::Skipped(SkipReason::CancelAnswered(canceled.status)));
        }

        let cause = self.cause(rule);
        // Observed now (a long run's later cancellations are not stamped with its start).
        let at = self.ports.clock.now();
        let decide = |record: Option<InvitationRecord>| {
            self.transition_change(listed, record, &canceled, at, |inv, previous| {
                InvitationEvent::canceled_by_policy(inv, previous, cause.clone(), at)
            })
        };
        let committed = self.commit_with_retries_from(listed, record, decide).await?;
        summary.events_queued += committed.events();
        match committed {
            Committed::Written { .. } | Committed::KeptChanging => {}
            // Recorded by someone else first (list-and-publish saw it): nothing more.
            Committed::AlreadyRecorded => {
                tracing::info!(invitation_id = id, "canceled; the transition was already recorded")
            }
            // list-and-publish records it on its next run.
            Committed::Skipped(reason) => tracing::info!(invitation_id = id, %reason, "canceled; not recorded"),
        }
        Ok(Attempt::Canceled)
    }

    /// Record a status the API showed us (not our doing) and publish its transition.
    async fn record_observed(
        &self,
        listed: &Invitation,
        record: Option<InvitationRecord>,
        current: &Invitation,
        summary: &mut Summary,
    ) -> Result<(), RunError> {
        if !current.status.is_terminal() {
            return Ok(());
        }
        let now = self.ports.clock.now();
        let decide = |record: Option<InvitationRecord>| {
            self.transition_change(listed, record, current, now, |inv, previous| {
                InvitationEvent::transition(inv, previous, now)
            })
        };
        summary.events_queued += self.commit_with_retries_from(listed, record, decide).await?.events();
        Ok(())
    }

    /// The change moving the record from PENDING to `current`'s status, with its event;
    /// nothing when the record is already terminal (someone recorded it first).
    fn transition_change(
        &self,
        listed: &Invitation,
        record: Option<InvitationRecord>,
        current: &Invitation,
        now: DateTime<Utc>,
        event: impl Fn(&Invitation, InvitationStatus) -> Option<InvitationEvent>,
    ) -> Result<Plan, RunError> {
        let mut record = match record {
            Some(r) if r.status.is_terminal() => return Ok(Plan::AlreadyRecorded),
            Some(r) => r,
            // Seen PENDING by the listing, first sighting; list-and-publish announces it.
            None => InvitationRecord::first_sighting(listed, false, now),
        };
        let previous = record.status;
        record.observe(current, now);
        let events = match event(&self.for_event(current.clone()), previous) {
            Some(e) => vec![outbound(&e)?],
            None => Vec::new(),
        };
        Ok(Plan::Commit(Box::new(RecordChange::update(record, events))))
    }

    /// Commit what `decide` says for the stored record, re-reading and deciding again on a
    /// conflict.
    async fn commit_with_retries(
        &self,
        invitation: &Invitation,
        decide: impl Fn(Option<InvitationRecord>) -> Result<Plan, RunError>,
    ) -> Result<Committed, RunError> {
        let record = self.ports.store.load_record(InvitationKind::Connection, &invitation.id).await?;
        self.commit_with_retries_from(invitation, record, decide).await
    }

    async fn commit_with_retries_from(
        &self,
        invitation: &Invitation,
        record: Option<InvitationRecord>,
        decide: impl Fn(Option<InvitationRecord>) -> Result<Plan, RunError>,
    ) -> Result<Committed, RunError> {
        match commit_one(self.ports.store, record, decide).await? {
            Committed::KeptChanging => {
                tracing::warn!(
                    invitation_id = %invitation.id,
                    "the record kept changing under us; left for the next run (list-and-publish records the transition)"
                );
                Ok(Committed::Skipped(SkipReason::RecordKeptChanging))
            }
            other => Ok(other),
        }
    }

    /// The cancellation cap, in one place (dry runs plan against it too).
    fn within_cap(&self, done: usize) -> bool {
        self.policy.limits.within_run_cap(done)
    }

    fn cause(&self, rule: &Rule) -> Cause {
        Cause { cause_type: CauseType::Policy, rule: rule.name.clone(), policy_hash: self.policy.hash().to_owned() }
    }

    /// The invitation as published: without its personal data unless configured.
    fn for_event(&self, invitation: Invitation) -> Invitation {
        redact_contact_details(invitation, self.settings.include_contact_details)
    }
}

#[cfg(test)]
mod tests;
