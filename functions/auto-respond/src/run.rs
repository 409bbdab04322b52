//! One run of auto-respond, on the shared run skeleton (`shared::run`).
//!
//! 1. Follow the acceptance tasks earlier runs started (their records in the state table):
//!    one `ListEngagementByAcceptingInvitationTasks` for up to ten of them; each that ended
//!    is recorded with `Acceptance Completed`/`Failed` (and, once COMPLETE, the `Accepted`
//!    transition with its cause). One the listing has not returned for
//!    [`decide::UNLISTED_TASK_LIMIT_HOURS`] after its start is no longer followed: its end is
//!    recorded from what the invitation became, with a message saying so.
//! 2. List the PENDING engagement invitations we received (RECEIVER, all pages).
//! 3. Decide for each with the policy (at the service's "now"), oldest first.
//! 4. Dry run: record `planned_by_policy = policyHash` on each match's record together with a
//!    `Response Planned` event — once per invitation per policy.
//!    Real run: for each match up to the cap, take one action from the durable allowances
//!    (per scheduled firing and per UTC day), confirm with Get that it is still PENDING, then
//!    accept (start the acceptance task with the deterministic ClientToken, record it with
//!    `Acceptance Started`) or reject (with the rule's reason; record PENDING → REJECTED with
//!    the `Rejected` event carrying the cause). A match left alone gives its allowance back
//!    and is reported with its [`SkipReason`].
//! 5. Follow the tasks this run started once more (bounded: one listing), then drain the
//!    outbox (always, also after an error) and report.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use futures::StreamExt;

use shared::PartnerCentralError;
use shared::commit::{CommittedOne, Decided, commit_one};
use shared::domain::engagement_response::AcceptanceTask;
use shared::domain::{
    Catalog, Cause, Invitation, InvitationKind, InvitationRecord, InvitationStatus, OutboundEvent, ParticipantType,
    RecordChange, Response,
};
use shared::policy::{PolicyInvocation, parse_policy_invocation};
use shared::policy::{outbound, run_policy};
use shared::ports::{
    AcceptanceTaskQuery, ActionBudget, Allowance, CallCounts, EngagementInvitationQuery, EngagementInvitations,
    EngagementResponses, EventPublisher, StateStore, Take,
};
use shared::run::{Ports, RunReport};

use crate::decide::{self, EventKind, Outcome, Write};
use crate::policy::{Policy, Rule, client_token};
use crate::summary::{Ended, Match, SkipReason, Started, Summary};

/// The function's name in metrics and logs.
pub(crate) const FUNCTION_NAME: &str = "auto-respond";

pub use shared::policy::RunError;

/// Settings of the run besides the policy.
#[derive(Debug, Clone)]
pub struct Settings {
    /// For metrics: the catalog.
    pub catalog: Catalog,
}

/// The function, lent everything it works with: the ports (built once per process in `main`,
/// or fakes in tests), the answering port, the action budget, the policy and the settings.
pub struct AutoRespond<'a, Engagements, Responses, Store, Publisher, Clock, Calls, Budget> {
    /// Auto-respond has no connection invitations: that port is `()`.
    pub ports: Ports<'a, (), Engagements, Store, Publisher, Clock, Calls>,
    /// Accepting and rejecting (the Selling API; in `main` the same adapter as `engagements`).
    pub responses: &'a Responses,
    /// The durable action allowances (in the state table: `main` lends the same store).
    pub budget: &'a Budget,
    pub policy: &'a Policy,
    pub settings: &'a Settings,
}

/// What became of one real answer.
enum Attempt {
    Accepting(AcceptanceTask),
    Rejected,
    Skipped(SkipReason),
}

impl<Engagements, Responses, Store, Publisher, Clock, Calls, Budget>
    AutoRespond<'_, Engagements, Responses, Store, Publisher, Clock, Calls, Budget>
where
    Engagements: EngagementInvitations,
    Responses: EngagementResponses,
    Store: StateStore,
    Publisher: EventPublisher,
    Clock: shared::ports::Clock,
    Calls: CallCounts,
    Budget: ActionBudget,
{
    /// The Lambda entry point: parse the payload, then one run in the shared envelope.
    pub async fn handle(&self, payload: serde_json::Value, request_id: &str) -> Result<Summary, RunError> {
        let invocation = parse_policy_invocation(&payload).inspect_err(|e| tracing::error!(error = %e, "rejected"))?;
        self.run(invocation.or_request(request_id)).await.into_result()
    }

    /// One run. Always reports the summary; the error, if any, after the outbox was drained.
    pub(crate) async fn run(&self, invocation: PolicyInvocation) -> RunReport<Summary, RunError> {
        let summary = |dry_run| Summary::new(self.policy, dry_run);
        let work =
            async |dry_run, firing: Option<&str>, summary: &mut Summary| self.work(dry_run, firing, summary).await;
        let (catalog, limits) = (self.settings.catalog, &self.policy.limits);
        run_policy(self.ports, FUNCTION_NAME, catalog, limits, "answers", invocation, summary, work).await
    }

    async fn work(&self, dry_run: bool, firing: Option<&str>, summary: &mut Summary) -> Result<(), RunError> {
        let mut records: HashMap<String, InvitationRecord> = self
            .ports
            .store
            .load_records()
            .await?
            .into_iter()
            .filter(|r| r.kind == InvitationKind::Engagement)
            .map(|r| (r.id.clone(), r))
            .collect();
        // Tasks earlier runs started (a dry run follows them too: following changes nothing
        // in Partner Central).
        let earlier: Vec<InvitationRecord> =
            records.values().filter(|r| r.acceptance.as_ref().is_some_and(|a| a.is_followed())).cloned().collect();
        self.follow(earlier, summary).await?;

        let candidates = self.list_candidates(summary).await?;
        // After the listing: the service clock has seen a response `Date` by now.
        let now = self.ports.clock.now();
        summary.candidates = candidates.len();
        let selection = decide::select(self.policy, candidates, now);
        summary.excluded = selection.excluded.len();
        for (_, rule) in &selection.excluded {
            *summary.matched_per_rule.entry(rule.clone()).or_default() += 1;
        }
        for (invitation, rule) in &selection.matches {
            *summary.matched_per_rule.entry(rule.name.clone()).or_default() += 1;
            summary.matches.push(Match {
                invitation_id: invitation.id.clone(),
                rule: rule.name.clone(),
                response: rule.action.clone(),
                sender_company_name: invitation.other_party.sender_company_name.clone(),
                created_at: invitation.created_at,
            });
        }
        if dry_run {
            return self.plan(&selection.matches, &mut records, now, summary).await;
        }
        let allowances = self.policy.limits.allowances(FUNCTION_NAME, firing, now);
        self.answer(&selection.matches, &mut records, &allowances, now, summary).await?;
        // Follow what this run started once, bounded (a task usually takes longer; the next
        // run follows it otherwise).
        let started: Vec<InvitationRecord> = summary
            .accepting
            .iter()
            .filter_map(|s| records.get(&s.invitation_id))
            .filter(|r| r.acceptance.as_ref().is_some_and(|a| a.is_followed()))
            .cloned()
            .collect();
        self.follow(started, summary).await
    }

    /// Every PENDING engagement invitation we received, all pages, without repeats.
    async fn list_candidates(&self, summary: &mut Summary) -> Result<Vec<Invitation>, RunError> {
        let mut query = EngagementInvitationQuery::new(ParticipantType::Receiver);
        query.statuses = vec![InvitationStatus::Pending];
        let mut pages = self.ports.engagements.list_engagement_invitations(query);
        let mut seen = std::collections::HashSet::new();
        let mut candidates = Vec::new();
        let mut ignored = 0usize;
        while let Some(page) = pages.next().await {
            // What it cannot read it never answers.
            for invitation in summary.unreadable.sort_out(page?) {
                // Never answer what we sent, whatever the listing returned.
                let ours = invitation.kind == InvitationKind::Engagement
                    && invitation.participant_type == ParticipantType::Receiver
                    && invitation.status == InvitationStatus::Pending;
                if !ours {
                    ignored += 1;
                } else if seen.insert(invitation.id.clone()) {
                    candidates.push(invitation);
                }
            }
        }
        if ignored > 0 {
            tracing::warn!(
                ignored,
                "the listing returned invitations outside the query (not RECEIVER/PENDING); ignored"
            );
        }
        Ok(candidates)
    }

    // -----------------------------------------------------------------------------------
    // Dry run

    async fn plan(
        &self,
        matches: &[(Invitation, &Rule)],
        records: &mut HashMap<String, InvitationRecord>,
        now: DateTime<Utc>,
        summary: &mut Summary,
    ) -> Result<(), RunError> {
        let hash = self.policy.hash();
        for (invitation, rule) in matches {
            let record = records.get(&invitation.id).cloned();
            if let Some(reason) = decide::precheck(invitation, record.as_ref(), now) {
                summary.skip(&invitation.id, reason);
                continue;
            }
            if !self.policy.limits.within_run_cap(summary.planned.len()) {
                summary.deferred.push(invitation.id.clone());
            }
            let cause = decide::cause(self.policy, rule);
            let decide = |record| decide::plan(record, invitation, &rule.action, hash, now);
            match self.commit(invitation, Some(&cause), record, decide).await? {
                CommittedOne::Skipped(reason) => {
                    summary.deferred.retain(|id| id != &invitation.id);
                    summary.skip(&invitation.id, reason);
                }
                committed => {
                    summary.events_queued += committed.events();
                    summary.planned.push(invitation.id.clone());
                }
            }
        }
        Ok(())
    }

    // -----------------------------------------------------------------------------------
    // Real run

    async fn answer(
        &self,
        matches: &[(Invitation, &Rule)],
        records: &mut HashMap<String, InvitationRecord>,
        allowances: &[Allowance],
        now: DateTime<Utc>,
        summary: &mut Summary,
    ) -> Result<(), RunError> {
        let mut used_up = false;
        for (invitation, rule) in matches {
            let record = records.get(&invitation.id).cloned();
            if let Some(reason) = decide::precheck(invitation, record.as_ref(), now) {
                summary.skip(&invitation.id, reason);
                continue;
            }
            if used_up || !self.policy.limits.within_run_cap(summary.actions()) {
                summary.deferred.push(invitation.id.clone());
                continue;
            }
            if let Take::UsedUp { key } = self.budget.take(allowances).await? {
                tracing::info!(allowance = %key, "action allowance used up; the remaining matches wait");
                summary.notes.push(format!("allowance {key} used up: the remaining matches wait for a later run"));
                summary.deferred.push(invitation.id.clone());
                used_up = true;
                continue;
            }
            // An error keeps the action counted: it may have happened.
            match self.answer_one(invitation, rule, record, summary).await? {
                Attempt::Accepting(task) => {
                    if let Some(r) = self.ports.store.load_record(InvitationKind::Engagement, &invitation.id).await? {
                        records.insert(invitation.id.clone(), r);
                    }
                    summary.accepting.push(Started { invitation_id: invitation.id.clone(), task_id: task.task_id });
                }
                Attempt::Rejected => summary.rejected.push(invitation.id.clone()),
                Attempt::Skipped(reason) => {
                    self.budget.give_back(allowances).await?;
                    summary.skip(&invitation.id, reason);
                }
            }
        }
        Ok(())
    }

    /// Get (still PENDING?), then accept or reject, and record what happened.
    async fn answer_one(
        &self,
        listed: &Invitation,
        rule: &Rule,
        record: Option<InvitationRecord>,
        summary: &mut Summary,
    ) -> Result<Attempt, RunError> {
        let id = listed.id.as_str();
        let current = match self.ports.engagements.get_engagement_invitation(id, ParticipantType::Receiver).await {
            Ok(current) => current,
            Err(e) => return race(e, summary).map(Attempt::Skipped),
        };
        if current.status != InvitationStatus::Pending {
            // Changed since the listing: record (and publish) what happened to it.
            self.record_observed(listed, record, &current, None, summary).await?;
            return Ok(Attempt::Skipped(SkipReason::NoLongerPending(current.status)));
        }
        if current.is_overdue(self.ports.clock.now()) {
            return Ok(Attempt::Skipped(SkipReason::Overdue));
        }
        let cause = decide::cause(self.policy, rule);
        let outcome = match &rule.action {
            Response::Accept => {
                let token = client_token(self.policy, id);
                tracing::info!(invitation_id = id, rule = %rule.name, client_token = %token, "accepting");
                self.responses.start_accepting_engagement_invitation(id, &token).await.map(Some)
            }
            Response::Reject { rejection_reason } => {
                tracing::info!(invitation_id = id, rule = %rule.name, reason = %rejection_reason, "rejecting");
                self.responses.reject_engagement_invitation(id, rejection_reason).await.map(|()| None)
            }
        };
        let task = match outcome {
            Ok(task) => task,
            Err(e) => {
                let mut reason = race(e, summary)?;
                // Answered or expired between the Get and the write: find out what it became
                // and record that transition.
                if let SkipReason::Conflict { now, .. } = &mut reason {
                    match self.ports.engagements.get_engagement_invitation(id, ParticipantType::Receiver).await {
                        Ok(after) if after.status.is_terminal() => {
                            self.record_observed(listed, record, &after, None, summary).await?;
                            *now = Some(after.status);
                        }
                        Ok(_) => {}
                        Err(e) => tracing::warn!(invitation_id = id, error = %e, "cannot read it after the conflict"),
                    }
                }
                return Ok(Attempt::Skipped(reason));
            }
        };
        let at = self.ports.clock.now();
        match task {
            Some(task) => {
                let decide = |record| decide::started(record, &current, &task, &cause, at);
                self.commit(&current, Some(&cause), record, decide)
                    .await
                    .map(|c| summary.events_queued += c.events())?;
                Ok(Attempt::Accepting(task))
            }
            None => {
                let rejected = Invitation { status: InvitationStatus::Rejected, ..current.clone() };
                self.record_observed(listed, record, &rejected, Some(&cause), summary).await?;
                Ok(Attempt::Rejected)
            }
        }
    }

    /// Record a status the API showed us and publish its transition (`cause`: when it was
    /// the policy's doing).
    async fn record_observed(
        &self,
        listed: &Invitation,
        record: Option<InvitationRecord>,
        current: &Invitation,
        cause: Option<&Cause>,
        summary: &mut Summary,
    ) -> Result<(), RunError> {
        let now = self.ports.clock.now();
        let decide = |record| decide::observed(record, listed, current, now);
        summary.events_queued += self.commit(current, cause, record, decide).await?.events();
        Ok(())
    }

    // -----------------------------------------------------------------------------------
    // Following acceptance tasks

    /// Follow the acceptance tasks of `followed` (records with a task not yet seen ending):
    /// one listing by task id; each that ended is read back (Get) and recorded.
    async fn follow(&self, followed: Vec<InvitationRecord>, summary: &mut Summary) -> Result<(), RunError> {
        let by_task: HashMap<String, InvitationRecord> = followed
            .into_iter()
            .filter_map(|r| r.acceptance.as_ref().map(|a| a.task_id.clone()).map(|t| (t, r)))
            .collect();
        if by_task.is_empty() {
            return Ok(());
        }
        summary.tasks_followed += by_task.len();
        let query =
            AcceptanceTaskQuery { task_ids: by_task.keys().cloned().collect(), ..AcceptanceTaskQuery::default() };
        let mut pages = self.responses.list_acceptance_tasks(query);
        let mut ended = Vec::new();
        let mut listed = std::collections::HashSet::new();
        while let Some(page) = pages.next().await {
            for task in page? {
                match by_task.get(&task.task_id) {
                    Some(record) if task.status.is_finished() => {
                        listed.insert(task.task_id.clone());
                        ended.push((record.clone(), Some(task)));
                    }
                    Some(_) => {
                        listed.insert(task.task_id.clone());
                        tracing::info!(task_id = %task.task_id, status = %task.status, "acceptance still running")
                    }
                    None => {}
                }
            }
        }
        drop(pages);
        let now = self.ports.clock.now();
        for (task_id, record) in by_task.iter().filter(|(task_id, _)| !listed.contains(*task_id)) {
            if record.acceptance.as_ref().is_some_and(|a| decide::give_up_on(a, now)) {
                tracing::warn!(
                    task_id = %task_id,
                    invitation_id = %record.id,
                    limit_hours = decide::UNLISTED_TASK_LIMIT_HOURS,
                    "acceptance task not listed since its start: no longer followed"
                );
                ended.push((record.clone(), None));
            } else {
                tracing::warn!(
                    task_id = %task_id,
                    invitation_id = %record.id,
                    limit_hours = decide::UNLISTED_TASK_LIMIT_HOURS,
                    "acceptance task not listed; still followed until the limit after its start"
                );
            }
        }
        for (record, task) in ended {
            self.record_ended(record, task, summary).await?;
        }
        Ok(())
    }

    /// A followed task ended (`task`: as listed), or is given up on (`None`: not listed for
    /// too long): read the invitation back and record the outcome.
    async fn record_ended(
        &self,
        record: InvitationRecord,
        task: Option<AcceptanceTask>,
        summary: &mut Summary,
    ) -> Result<(), RunError> {
        let id = record.id.clone();
        let current = match self.ports.engagements.get_engagement_invitation(&id, ParticipantType::Receiver).await {
            Ok(current) => current,
            Err(PartnerCentralError::NotFound { .. }) => shell_of(&record, self.settings.catalog),
            // Still followed: recorded once it reads again.
            Err(e) => {
                summary.unreadable.absorb(e)?;
                return Ok(());
            }
        };
        let task = match (task, record.acceptance.as_deref()) {
            (Some(task), _) => task,
            (None, Some(acceptance)) => decide::unlisted_task_end(acceptance, &current),
            (None, None) => return Ok(()),
        };
        let task = &task;
        let cause = record.acceptance.as_ref().map(|a| a.cause());
        let now = self.ports.clock.now();
        let decide = |record| decide::followed(record, task, &current, now);
        let committed = self.commit(&current, cause.as_ref(), Some(record), decide).await?;
        summary.events_queued += committed.events();
        let ended = Ended::of(&id, task);
        tracing::info!(invitation_id = %id, task_id = %task.task_id, status = %task.status, "acceptance ended");
        if task.status == shared::domain::engagement_response::TaskStatus::Complete {
            summary.acceptances_completed.push(ended);
        } else {
            summary.acceptances_failed.push(ended);
        }
        Ok(())
    }

    // -----------------------------------------------------------------------------------
    // Committing

    /// Commit what `decide` says for the invitation's record (re-reading and deciding again
    /// on a conflict), its events rendered about `invitation` with `cause`.
    async fn commit(
        &self,
        invitation: &Invitation,
        cause: Option<&Cause>,
        record: Option<InvitationRecord>,
        decide: impl Fn(Option<InvitationRecord>) -> Outcome,
    ) -> Result<CommittedOne<SkipReason>, RunError> {
        let now = self.ports.clock.now();
        let decided = |record| -> Result<Decided<SkipReason>, RunError> {
            Ok(match decide(record) {
                Outcome::Write(write) => {
                    let Write { record, events } = *write;
                    let events = rendered(invitation, &events, cause, now)?;
                    Decided::Commit(Box::new(RecordChange::update(record, events)))
                }
                Outcome::AlreadyRecorded => Decided::AlreadyRecorded,
                Outcome::Skip(reason) => Decided::Skip(reason),
            })
        };
        match commit_one(self.ports.store, record, decided).await? {
            CommittedOne::KeptChanging => {
                tracing::warn!(invitation_id = %invitation.id, "the record kept changing under us; left for the next run");
                Ok(CommittedOne::Skipped(SkipReason::RecordKeptChanging))
            }
            other => Ok(other),
        }
    }
}

/// The skip a lost race or an unreadable answer (reported) comes to, or the error.
fn race(error: PartnerCentralError, summary: &mut Summary) -> Result<SkipReason, RunError> {
    match summary.unreadable.absorb(error) {
        Ok(answer) => Ok(SkipReason::Unreadable(answer)),
        Err(error) => SkipReason::of_race(&error).ok_or(RunError::PartnerCentral(error)),
    }
}

fn rendered(
    invitation: &Invitation,
    kinds: &[EventKind],
    cause: Option<&Cause>,
    now: DateTime<Utc>,
) -> Result<Vec<OutboundEvent>, RunError> {
    decide::render(invitation, kinds, cause, now).iter().map(outbound).collect()
}

/// What is known of an invitation Partner Central no longer returns: its record.
fn shell_of(record: &InvitationRecord, catalog: Catalog) -> Invitation {
    Invitation {
        kind: record.kind,
        id: record.id.clone(),
        arn: record.arn.clone(),
        catalog,
        status: record.status,
        participant_type: record.participant_type,
        created_at: record.created_at,
        updated_at: None,
        expires_at: record.expires_at,
        other_party: Default::default(),
        connection_type: None,
        connection_id: None,
        payload_type: None,
        engagement_id: None,
        engagement_title: None,
        details: None,
    }
}

#[cfg(test)]
mod tests;
