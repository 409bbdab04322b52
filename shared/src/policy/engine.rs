//! The policy-action engine: the one run behind auto-cancel's cancellations and
//! auto-respond's answers (engagement and connection invitations alike).
//!
//! list → decide → take an allowance → confirm with a Get → act with a deterministic
//! ClientToken → record the transition with its cause → audit events → summary.
//!
//! 1. List the PENDING invitations of one kind on one side ([`Subjects`]), all pages; anything
//!    else the listing returns is ignored, what cannot be read is reported and never acted on.
//! 2. Decide for each with the policy (at the service's "now"), oldest first ([`select`]).
//! 3. Dry run: record `planned_by_policy = policyHash` on each match's record with the
//!    function's planned event — once per invitation per policy.
//!    Real run: for each match until the run's cap, and while the time left can finish one
//!    more action: take one action from the durable allowances (per scheduled firing and per
//!    UTC day), confirm with Get that it is still PENDING, act with the deterministic client
//!    token ([`Subjects::act`]), then record the transition with the `cause` (or the started
//!    acceptance task). A match left alone gives its allowance back and is reported with its
//!    [`SkipReason`]; a status change seen on the way is recorded and published too.
//!
//! The function brings its document shape and conditions (the [`Policy`]) and its action
//! adapters ([`Subjects`]); the pure decisions ([`decide`]) return *what* to write, rendered
//! into contract events after.

pub mod approve;
pub mod decide;
mod report;

use std::collections::HashSet;
use std::future::Future;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use futures::StreamExt;
use futures::stream::BoxStream;

use crate::commit::{CommittedOne, Decided, commit_one};
use crate::domain::engagement_response::AcceptanceTask;
use crate::domain::{
    Approval, ApprovalAction, ApprovalDecision, ApprovalFunction, Cause, Invitation, InvitationEvent, InvitationKind,
    InvitationRecord, InvitationStatus, OutboundEvent, ParticipantType, RecordChange, redact_contact_details,
};
use crate::error::PartnerCentralError;
use crate::ports::{ActionBudget, Allowance, Clock, Page, StateStore, Take};

use super::run::{RunError, outbound};
use super::{Condition, Decision, Exclusion, Policy, Rule};

pub use approve::{
    Answer, ApprovalId, ApprovalInput, ApprovalOutcome, ApprovalSummary, Refusal, Request, parse_approval,
    parse_request, run_approval,
};
pub use decide::{EventKind, Outcome, Write};
pub use report::{Asked, Match, PolicyReport, Skip, SkipReason, Started};

/// The status an approved action leaves the invitation in.
fn status_given_by(action: ApprovalAction) -> InvitationStatus {
    match action {
        ApprovalAction::Accept => InvitationStatus::Accepted,
        ApprovalAction::Reject => InvitationStatus::Rejected,
        ApprovalAction::Cancel => InvitationStatus::Canceled,
    }
}

/// What one action came to, as its adapter saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acted {
    /// Done: the invitation as the answer shows it (CANCELED, ACCEPTED, REJECTED).
    Done(Invitation),
    /// The answer shows another status than the action gives (`operation` answered so): it
    /// is recorded as observed and the match reported as a skip.
    Answered { operation: &'static str, invitation: Invitation },
    /// An asynchronous acceptance was started (engagement invitations): recorded to be
    /// followed; the transition is recorded when the task ends.
    Started(AcceptanceTask),
    /// Not done, for this reason (the action's own precondition failed, e.g. a quota).
    Skipped(SkipReason),
}

/// The invitations of one kind on one side that a function acts on, and its action adapter.
pub trait Subjects<Action>: Sync {
    /// Which invitations: the kind, and our side of them.
    const KIND: InvitationKind;
    const SIDE: ParticipantType;
    /// The function whose approval entry takes a person's decision on its `ask` rules.
    const FUNCTION: ApprovalFunction;

    /// What a person approving `action` approves (`accept`, `reject`, `cancel`).
    fn approval_action(&self, action: &Action) -> ApprovalAction;

    /// Every PENDING invitation of the kind on our side (all pages).
    fn list(&self) -> BoxStream<'_, Result<Page, PartnerCentralError>>;

    /// One invitation, as it is now.
    fn get(&self, id: &str) -> impl Future<Output = Result<Invitation, PartnerCentralError>> + Send;

    /// The deterministic client token of `action` on `id`: keyed on the invitation and the
    /// action (not on the policy), so an edited policy cannot answer an invitation twice.
    fn client_token(&self, id: &str, action: &Action) -> String;

    /// Do `action` on `current` (confirmed PENDING) with `client_token`.
    fn act(
        &self,
        current: &Invitation,
        action: &Action,
        client_token: &str,
    ) -> impl Future<Output = Result<Acted, PartnerCentralError>> + Send;

    /// The event a dry run publishes about a match (`Cancellation Planned`, `Response
    /// Planned`).
    fn planned(&self, invitation: &Invitation, action: &Action, cause: Cause, now: DateTime<Utc>) -> InvitationEvent;
}

/// How long a run may still take actions: the Lambda invocation's deadline, and what one
/// action needs (its Partner Central calls at the deployed rate, plus its commit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeBudget {
    /// When the invocation is stopped (`None`: no deadline, e.g. a local run).
    pub deadline: Option<SystemTime>,
    /// What one more action needs, at most.
    pub per_action: Duration,
}

/// The invocation's deadline as the Lambda runtime gives it (`Lambda-Runtime-Deadline-Ms`),
/// when it is one: local runtime emulators (cargo lambda watch) send none or 0, which would
/// read as "no time left" at the start of the run.
pub fn lambda_deadline(deadline_ms: u64) -> Option<SystemTime> {
    let deadline = SystemTime::UNIX_EPOCH.checked_add(Duration::from_millis(deadline_ms))?;
    (deadline > SystemTime::now()).then_some(deadline)
}

impl TimeBudget {
    /// No deadline.
    pub fn unlimited() -> Self {
        TimeBudget { deadline: None, per_action: Duration::ZERO }
    }

    /// Until `deadline`, one action costing `calls` Partner Central calls at
    /// `requests_per_second`, plus a second for its reads and commits.
    pub fn until(deadline: Option<SystemTime>, calls: u32, requests_per_second: u32) -> Self {
        let per_call = Duration::from_secs_f64(1.0 / f64::from(requests_per_second.max(1)));
        TimeBudget { deadline, per_action: per_call * calls + Duration::from_secs(1) }
    }

    /// The time left, when it cannot finish one more action.
    fn exhausted(&self) -> Option<Duration> {
        let deadline = self.deadline?;
        let left = deadline.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO);
        (left < self.per_action).then_some(left)
    }
}

/// The engine, lent what every policy run shares: the state table, the action allowances,
/// the service clock, the policy and the run's settings.
pub struct Engine<'a, Store, Budget, Clock, Conditions, Exclusions, Action> {
    /// The function's name (allowance keys, logs).
    pub function: &'static str,
    pub store: &'a Store,
    pub budget: &'a Budget,
    pub clock: &'a Clock,
    pub policy: &'a Policy<Conditions, Exclusions, Action>,
    /// Keep the inviter's e-mail address in published events.
    pub include_contact_details: bool,
    pub time: TimeBudget,
}

/// What the policy selected among the candidates.
#[derive(Debug)]
pub struct Selection<'p, Rule> {
    /// The matches, oldest first (the id breaks ties: the same order on every run).
    pub matches: Vec<(Invitation, &'p Rule)>,
}

/// Apply `policy` to every candidate at `now`, counting per rule and exclusions in `report`.
pub fn select<'p, Conditions, Exclusions, Action>(
    policy: &'p Policy<Conditions, Exclusions, Action>,
    candidates: Vec<Invitation>,
    now: DateTime<Utc>,
    report: &mut PolicyReport,
) -> Selection<'p, Rule<Conditions, Action>>
where
    Conditions: Condition<Invitation>,
    Exclusions: Exclusion<Invitation>,
    Exclusions::Reason: std::fmt::Debug,
{
    let mut matches = Vec::new();
    for invitation in candidates {
        match policy.evaluate(&invitation, now) {
            Decision::NoMatch => {}
            Decision::Excluded { rule, reason } => {
                *report.matched_per_rule.entry(rule.name.clone()).or_default() += 1;
                report.excluded += 1;
                tracing::info!(invitation_id = %invitation.id, rule = %rule.name, ?reason, "excluded");
            }
            Decision::Matched { rule } => {
                *report.matched_per_rule.entry(rule.name.clone()).or_default() += 1;
                matches.push((invitation, rule));
            }
        }
    }
    matches.sort_by(|(a, _), (b, _): &(Invitation, _)| a.created_at.cmp(&b.created_at).then_with(|| a.id.cmp(&b.id)));
    Selection { matches }
}

impl<Store, Budget, Clk, Conditions, Exclusions, Action> Engine<'_, Store, Budget, Clk, Conditions, Exclusions, Action>
where
    Store: StateStore,
    Budget: ActionBudget,
    Clk: Clock,
    Conditions: Condition<Invitation> + Sync,
    Exclusions: Exclusion<Invitation> + Sync,
    Exclusions::Reason: std::fmt::Debug,
    Action: super::Canonical + Sync,
{
    /// One pass over the invitations of `subjects`: list, decide, plan (dry run) or act.
    /// The acceptance tasks it starts are in `report.started` (to follow them).
    pub async fn run<S: Subjects<Action>>(
        &self,
        subjects: &S,
        dry_run: bool,
        firing: Option<&str>,
        report: &mut PolicyReport,
    ) -> Result<(), RunError> {
        let candidates = self.list_candidates(subjects, report).await?;
        // After the listing: the service clock has seen a response `Date` by now.
        let now = self.clock.now();
        report.candidates += candidates.len();
        let selection = select(self.policy, candidates, now, report);
        report.matches.extend(selection.matches.iter().map(|(i, r)| Match::of(i, &r.name, r.action.canonical())));
        if dry_run {
            return self.plan(subjects, &selection.matches, now, report).await;
        }
        let allowances = self.policy.limits.allowances(self.function, firing, now);
        self.act(subjects, &selection.matches, &allowances, now, report).await
    }

    /// Every PENDING invitation of the kind on our side, all pages, without repeats.
    async fn list_candidates<S: Subjects<Action>>(
        &self,
        subjects: &S,
        report: &mut PolicyReport,
    ) -> Result<Vec<Invitation>, RunError> {
        let mut pages = subjects.list();
        let mut seen = HashSet::new();
        let mut candidates = Vec::new();
        let mut ignored = 0usize;
        while let Some(page) = pages.next().await {
            // What it cannot read it never acts on.
            for invitation in report.unreadable.sort_out(page?) {
                let ours = invitation.kind == S::KIND
                    && invitation.participant_type == S::SIDE
                    && invitation.status == InvitationStatus::Pending;
                if !ours {
                    ignored += 1;
                } else if seen.insert(invitation.id.clone()) {
                    candidates.push(invitation);
                }
            }
        }
        if ignored > 0 {
            tracing::warn!(ignored, kind = %S::KIND, side = %S::SIDE, "the listing returned invitations outside the query (not our side, or not PENDING); ignored");
        }
        Ok(candidates)
    }

    // -----------------------------------------------------------------------------------
    // Dry run

    async fn plan<S: Subjects<Action>>(
        &self,
        subjects: &S,
        matches: &[(Invitation, &Rule<Conditions, Action>)],
        now: DateTime<Utc>,
        report: &mut PolicyReport,
    ) -> Result<(), RunError> {
        let hash = self.policy.hash();
        for (invitation, rule) in matches {
            let record = self.store.load_record(S::KIND, &invitation.id).await?;
            if let Some(reason) = decide::precheck(invitation, record.as_ref(), now) {
                report.skip(&invitation.id, reason);
                continue;
            }
            let beyond_cap = !self.policy.limits.within_run_cap(report.planned.len());
            let cause = self.cause(rule);
            let event = subjects.planned(&self.for_event(invitation.clone()), &rule.action, cause.clone(), now);
            let decide = |record| decide::plan(record, invitation, hash, now);
            match self.commit(invitation, record, decide, |_| Ok(vec![outbound(&event)?])).await? {
                CommittedOne::Skipped(reason) => report.skip(&invitation.id, reason),
                committed => {
                    report.events_queued += committed.events();
                    report.planned.push(invitation.id.clone());
                    if beyond_cap {
                        report.deferred.push(invitation.id.clone());
                    }
                }
            }
        }
        Ok(())
    }

    // -----------------------------------------------------------------------------------
    // Real run

    async fn act<S: Subjects<Action>>(
        &self,
        subjects: &S,
        matches: &[(Invitation, &Rule<Conditions, Action>)],
        allowances: &[Allowance],
        now: DateTime<Utc>,
        report: &mut PolicyReport,
    ) -> Result<(), RunError> {
        let mut used_up = false;
        let mut out_of_time = None;
        for (invitation, rule) in matches {
            let record = self.store.load_record(S::KIND, &invitation.id).await?;
            if let Some(reason) = decide::precheck(invitation, record.as_ref(), now) {
                report.skip(&invitation.id, reason);
                continue;
            }
            // `ask`: no action, no allowance; a person decides through the approval entry.
            if rule.ask {
                self.ask(subjects, invitation, rule, record, now, report).await?;
                continue;
            }
            if used_up || out_of_time.is_some() || !self.policy.limits.within_run_cap(report.actions()) {
                report.deferred.push(invitation.id.clone());
                continue;
            }
            if let Some(left) = self.time.exhausted() {
                tracing::info!(
                    time_left_ms = left.as_millis() as u64,
                    "no time left for another action; the remaining matches wait"
                );
                out_of_time = Some(left);
                report.deferred.push(invitation.id.clone());
                continue;
            }
            if let Take::UsedUp { key } = self.budget.take(allowances).await? {
                tracing::info!(allowance = %key, "action allowance used up; the remaining matches wait");
                report.notes.push(format!("allowance {key} used up: the remaining matches wait for a later run"));
                report.deferred.push(invitation.id.clone());
                used_up = true;
                continue;
            }
            // An error keeps the action counted: it may have happened.
            let cause = self.cause(rule);
            match self.act_one(subjects, invitation, &rule.action, &cause, record, report).await? {
                Acted::Done(now_is) => report.acted.push((invitation.id.clone(), now_is.status)),
                Acted::Started(task) => {
                    report.started.push(Started { invitation_id: invitation.id.clone(), task_id: task.task_id })
                }
                Acted::Answered { .. } => {}
                Acted::Skipped(reason) => {
                    self.budget.give_back(allowances).await?;
                    report.skip(&invitation.id, reason);
                }
            }
        }
        if let Some(left) = out_of_time {
            let waiting = report.deferred.len();
            report.notes.push(format!(
                "time left ({:.1} s) cannot finish another action (~{:.1} s each): {waiting} match(es) wait for the next firing",
                left.as_secs_f64(),
                self.time.per_action.as_secs_f64()
            ));
        }
        Ok(())
    }

    /// Get (still PENDING?), act with the deterministic token, record what happened.
    async fn act_one<S: Subjects<Action>>(
        &self,
        subjects: &S,
        listed: &Invitation,
        action: &Action,
        cause: &Cause,
        record: Option<InvitationRecord>,
        report: &mut PolicyReport,
    ) -> Result<Acted, RunError> {
        let id = listed.id.as_str();
        let current = match subjects.get(id).await {
            Ok(current) => current,
            Err(e) => return Ok(Acted::Skipped(report.skip_reason_of(e)?)),
        };
        if current.participant_type != S::SIDE {
            return Ok(Acted::Skipped(SkipReason::WrongSide { is: current.participant_type, expected: S::SIDE }));
        }
        if current.status != InvitationStatus::Pending {
            // Changed since the listing: record (and publish) what happened to it.
            self.record_observed(listed, record, &current, None, report).await?;
            return Ok(Acted::Skipped(SkipReason::NoLongerPending(current.status)));
        }
        if current.is_overdue(self.clock.now()) {
            return Ok(Acted::Skipped(SkipReason::Overdue));
        }
        let token = subjects.client_token(id, action);
        tracing::info!(invitation_id = id, rule = %cause.rule, cause = ?cause.cause_type, client_token = %token, function = self.function, "acting");
        let acted = match subjects.act(&current, action, &token).await {
            Ok(acted) => acted,
            Err(e) => {
                let mut reason = report.skip_reason_of(e)?;
                // Answered or expired between the Get and the write: find out what it became
                // and record that transition.
                if let SkipReason::Conflict { now, .. } = &mut reason {
                    match subjects.get(id).await {
                        Ok(after) if after.status.is_terminal() => {
                            self.record_observed(listed, record, &after, None, report).await?;
                            *now = Some(after.status);
                        }
                        Ok(_) => {}
                        Err(e) => tracing::warn!(invitation_id = id, error = %e, "cannot read it after the conflict"),
                    }
                }
                return Ok(Acted::Skipped(reason));
            }
        };
        match &acted {
            Acted::Done(now_is) => self.record_observed(listed, record, now_is, Some(cause), report).await?,
            Acted::Answered { operation, invitation } => {
                tracing::warn!(invitation_id = id, status = %invitation.status, operation, "answered with another status");
                self.record_observed(listed, record, invitation, None, report).await?;
                let reason = SkipReason::Answered { operation, status: invitation.status };
                return Ok(Acted::Skipped(reason));
            }
            Acted::Started(task) => {
                let at = self.clock.now();
                let decide = |record| decide::started(record, &current, task, cause, at);
                let committed =
                    self.commit(&current, record, decide, |w| self.rendered(&current, w, Some(cause), at)).await?;
                report.events_queued += committed.events();
            }
            Acted::Skipped(_) => {}
        }
        Ok(acted)
    }

    // -----------------------------------------------------------------------------------
    // Approvals

    /// A match whose rule says `ask`: publish `… Approval Requested` once per invitation,
    /// action and policy, the approval recorded on its record (what makes its id genuine).
    /// No action, no allowance.
    async fn ask<S: Subjects<Action>>(
        &self,
        subjects: &S,
        invitation: &Invitation,
        rule: &Rule<Conditions, Action>,
        record: Option<InvitationRecord>,
        now: DateTime<Utc>,
        report: &mut PolicyReport,
    ) -> Result<(), RunError> {
        let action = subjects.approval_action(&rule.action);
        let hash = self.policy.hash();
        let approval_id = ApprovalId::new(S::FUNCTION, S::KIND, action, hash, &invitation.id).to_string();
        if !Approval::is_valid_id(&approval_id) {
            report.notes.push(format!(
                "invitation {:?}: its id cannot travel in an approval id (printable ASCII, at most {} characters); not asked",
                invitation.id,
                Approval::MAX_ID_CHARS
            ));
            return Ok(());
        }
        let until = approve::until(invitation, now);
        if until <= now {
            report.skip(&invitation.id, SkipReason::TooLateToAsk { until });
            return Ok(());
        }
        let approval = Approval {
            approval_id: approval_id.clone(),
            action,
            rule: rule.name.clone(),
            policy_hash: hash.to_owned(),
            until,
            function: S::FUNCTION,
        };
        let event = InvitationEvent::approval_requested(
            &self.for_event(invitation.clone()),
            approval.clone(),
            self.cause(rule),
            now,
        );
        let decide = |record| approve::ask(record, invitation, &approval, now);
        match self.commit(invitation, record, decide, |_| Ok(vec![outbound(&event)?])).await? {
            CommittedOne::Skipped(reason) => report.skip(&invitation.id, reason),
            CommittedOne::AlreadyRecorded => {}
            committed => {
                report.events_queued += committed.events();
                tracing::info!(invitation_id = %invitation.id, approval_id = %approval_id, rule = %rule.name, "approval requested");
                report.approvals_requested.push(Asked {
                    invitation_id: invitation.id.clone(),
                    approval_id,
                    rule: rule.name.clone(),
                    until,
                });
            }
        }
        Ok(())
    }

    /// The approval entry: a person's decision on approval `id` (of an invitation of
    /// `subjects`' kind), in the Lambda invocation `request_id`. Genuine (recorded, same
    /// invitation and action), not expired, the policy unchanged, the invitation still
    /// PENDING (Get), an allowance taken: the decision is recorded (one per approval id),
    /// then the action taken through the same path as the policy's, with the same client
    /// token, its transition recorded with the cause `approval`. Refusals are answers (in
    /// `summary`), not errors.
    pub async fn approve<S: Subjects<Action>>(
        &self,
        subjects: &S,
        id: &ApprovalId,
        input: &ApprovalInput,
        request_id: &str,
        summary: &mut ApprovalSummary,
    ) -> Result<(), RunError> {
        let mut report = PolicyReport::default();
        let hash = self.policy.hash();
        let mut taken: Option<Vec<Allowance>> = None;
        let mut attempts = 0;
        let (approval, current) = loop {
            attempts += 1;
            let record = self.store.load_record(S::KIND, &id.invitation_id).await?;
            summary.status = record.as_ref().map(|r| r.status);
            let now = self.clock.now();
            let judged = approve::judge(record.clone(), id, &input.approval_id, input.decision, hash, request_id, now);
            let (decided, approval, resume) = match judged {
                approve::Judged::Refused(refusal) => {
                    self.give_back(taken.take()).await?;
                    summary.refuse(refusal);
                    return Ok(());
                }
                approve::Judged::AlreadyDecided(decided) => {
                    self.give_back(taken.take()).await?;
                    let done = match decided.decision {
                        ApprovalDecision::Approve => "approved",
                        ApprovalDecision::Dismiss => "dismissed",
                    };
                    summary.outcome = ApprovalOutcome::AlreadyDone;
                    summary.reason = Some(format!("already done: {done} at {}", decided.at.to_rfc3339()));
                    tracing::info!(approval_id = %input.approval_id, done, "approval replayed: nothing done again");
                    return Ok(());
                }
                approve::Judged::Decide { record, approval, resume } => (record, approval, resume),
            };
            // Approving: the invitation still PENDING, and an allowance, before the decision
            // is recorded (a refused approval stays usable).
            let mut current = None;
            if input.decision == ApprovalDecision::Approve {
                let got = match subjects.get(&id.invitation_id).await {
                    Ok(got) => got,
                    Err(e) => {
                        let reason = report.skip_reason_of(e)?;
                        self.give_back(taken.take()).await?;
                        summary.refuse(Refusal::NotDone(reason));
                        return Ok(());
                    }
                };
                if got.status != InvitationStatus::Pending {
                    self.give_back(taken.take()).await?;
                    // A retry of the invocation that decided and acted, then stopped before it
                    // recorded: Partner Central shows what its action gives. It was done.
                    let done = resume && got.status == status_given_by(approval.action);
                    let cause = done.then(|| {
                        Cause::approval(
                            approval.rule.clone(),
                            approval.policy_hash.clone(),
                            approval.approval_id.clone(),
                        )
                    });
                    self.record_observed(&got, record, &got, cause.as_ref(), &mut report).await?;
                    summary.events_queued += report.events_queued;
                    summary.status = Some(got.status);
                    if done {
                        tracing::info!(approval_id = %input.approval_id, status = %got.status, "approved and done (a retry found it done)");
                        summary.outcome = ApprovalOutcome::Done;
                        summary.cause = cause;
                    } else {
                        summary.refuse(Refusal::NotPending(got.status));
                    }
                    return Ok(());
                }
                // `until` at the service's "now" the Get just brought (a warm process's clock
                // is only as fresh as its last Partner Central answer, a fresh one's is the
                // machine's), and the allowance of that day.
                let now = self.clock.now();
                if now > approval.until {
                    self.give_back(taken.take()).await?;
                    summary.refuse(Refusal::Expired { until: approval.until });
                    return Ok(());
                }
                if taken.is_none() && !resume {
                    let allowances = self.policy.limits.allowances(self.function, None, now);
                    if let Take::UsedUp { key } = self.budget.take(&allowances).await? {
                        summary.refuse(Refusal::AllowanceUsedUp { key });
                        return Ok(());
                    }
                    taken = Some(allowances);
                }
                current = Some(got);
            }
            if resume {
                break (approval, current);
            }
            match self.store.commit(vec![RecordChange::update(*decided, Vec::new())]).await?.first() {
                Some(crate::domain::CommitOutcome::Conflict) if attempts < 5 => continue,
                Some(crate::domain::CommitOutcome::Conflict) => {
                    self.give_back(taken.take()).await?;
                    summary.refuse(Refusal::NotDone(SkipReason::RecordKeptChanging));
                    return Ok(());
                }
                _ => break (approval, current),
            }
        };
        let Some(current) = current else {
            tracing::info!(approval_id = %input.approval_id, invitation_id = %id.invitation_id, "approval dismissed: not asked again under this policy");
            summary.outcome = ApprovalOutcome::Dismissed;
            summary.reason = Some(format!(
                "dismissed: the policy does not ask again to {} invitation {} under policy {}",
                approval.action.as_str(),
                id.invitation_id,
                approval.policy_hash
            ));
            return Ok(());
        };
        let Some(rule) = self
            .policy
            .rules
            .iter()
            .find(|r| r.name == approval.rule && subjects.approval_action(&r.action) == approval.action)
        else {
            self.give_back(taken.take()).await?;
            summary.refuse(Refusal::PolicyChanged { asked: approval.policy_hash.clone(), now: hash.to_owned() });
            return Ok(());
        };
        let cause = Cause::approval(approval.rule.clone(), approval.policy_hash.clone(), approval.approval_id.clone());
        let record = self.store.load_record(S::KIND, &id.invitation_id).await?;
        let acted = match self.act_one(subjects, &current, &rule.action, &cause, record, &mut report).await {
            Ok(acted) => acted,
            Err(e) => {
                // Not done: the allowance goes back, and the approval stays usable (a later
                // invocation can give it again).
                let undone = async {
                    self.give_back(taken.take()).await?;
                    self.release(S::KIND, id, input, request_id).await
                };
                if let Err(undo) = undone.await {
                    tracing::error!(approval_id = %input.approval_id, error = %undo, "cannot undo the decision");
                }
                return Err(e);
            }
        };
        summary.events_queued += report.events_queued;
        match acted {
            Acted::Done(now_is) => {
                tracing::info!(approval_id = %input.approval_id, invitation_id = %id.invitation_id, status = %now_is.status, "approved and done");
                summary.outcome = ApprovalOutcome::Done;
                summary.status = Some(now_is.status);
                summary.cause = Some(cause);
            }
            Acted::Started(task) => {
                tracing::info!(approval_id = %input.approval_id, invitation_id = %id.invitation_id, task_id = %task.task_id, "approved: acceptance started");
                summary.outcome = ApprovalOutcome::Started;
                summary.task_id = Some(task.task_id);
                summary.cause = Some(cause);
            }
            Acted::Answered { invitation, .. } => {
                self.give_back(taken.take()).await?;
                summary.status = Some(invitation.status);
                summary.refuse(Refusal::NotPending(invitation.status));
            }
            Acted::Skipped(reason) => {
                self.give_back(taken.take()).await?;
                let refusal = match reason {
                    SkipReason::NoLongerPending(status) => {
                        summary.status = Some(status);
                        Refusal::NotPending(status)
                    }
                    other => {
                        self.release(S::KIND, id, input, request_id).await?;
                        Refusal::NotDone(other)
                    }
                };
                summary.refuse(refusal);
            }
        }
        Ok(())
    }

    /// Take back the decision this invocation recorded on `id` (its action did not happen),
    /// so that the same approval can be given again; a conditional write, re-read on conflict.
    async fn release(
        &self,
        kind: InvitationKind,
        id: &ApprovalId,
        input: &ApprovalInput,
        request_id: &str,
    ) -> Result<(), RunError> {
        for _ in 0..5 {
            let Some(record) = self.store.load_record(kind, &id.invitation_id).await? else { return Ok(()) };
            let Some(released) = approve::release(record, &input.approval_id, request_id) else { return Ok(()) };
            match self.store.commit(vec![RecordChange::update(released, Vec::new())]).await?.first() {
                Some(crate::domain::CommitOutcome::Conflict) => continue,
                _ => {
                    tracing::info!(approval_id = %input.approval_id, "not done: the approval was not spent");
                    return Ok(());
                }
            }
        }
        tracing::warn!(approval_id = %input.approval_id, "the record kept changing: the approval stays spent");
        Ok(())
    }

    async fn give_back(&self, taken: Option<Vec<Allowance>>) -> Result<(), RunError> {
        if let Some(allowances) = taken {
            self.budget.give_back(&allowances).await?;
        }
        Ok(())
    }

    /// Record a status the API showed us and publish its transition (`cause`: when it was
    /// the policy's doing).
    pub async fn record_observed(
        &self,
        listed: &Invitation,
        record: Option<InvitationRecord>,
        current: &Invitation,
        cause: Option<&Cause>,
        report: &mut PolicyReport,
    ) -> Result<(), RunError> {
        let now = self.clock.now();
        let decide = |record| decide::observed(record, listed, current, now);
        let committed = self.commit(current, record, decide, |w| self.rendered(current, w, cause, now)).await?;
        if let CommittedOne::AlreadyRecorded = committed {
            tracing::info!(invitation_id = %current.id, "the transition was already recorded");
        }
        report.events_queued += committed.events();
        Ok(())
    }

    /// The contract events of a write about `invitation` (published without its personal
    /// data unless configured).
    pub fn rendered(
        &self,
        invitation: &Invitation,
        write: &Write,
        cause: Option<&Cause>,
        now: DateTime<Utc>,
    ) -> Result<Vec<OutboundEvent>, RunError> {
        decide::render(&self.for_event(invitation.clone()), &write.events, cause, now).iter().map(outbound).collect()
    }

    /// Commit what `decide` says for the invitation's record (re-reading and deciding again
    /// on a conflict), its events rendered by `render`.
    pub async fn commit(
        &self,
        invitation: &Invitation,
        record: Option<InvitationRecord>,
        decide: impl Fn(Option<InvitationRecord>) -> Outcome,
        render: impl Fn(&Write) -> Result<Vec<OutboundEvent>, RunError>,
    ) -> Result<CommittedOne<SkipReason>, RunError> {
        let decided = |record| -> Result<Decided<SkipReason>, RunError> {
            Ok(match decide(record) {
                Outcome::Write(write) => {
                    let events = render(&write)?;
                    Decided::Commit(Box::new(RecordChange::update(write.record, events)))
                }
                Outcome::AlreadyRecorded => Decided::AlreadyRecorded,
                Outcome::Skip(reason) => Decided::Skip(reason),
            })
        };
        match commit_one(self.store, record, decided).await? {
            CommittedOne::KeptChanging => {
                tracing::warn!(invitation_id = %invitation.id, "the record kept changing under us; left for the next run");
                Ok(CommittedOne::Skipped(SkipReason::RecordKeptChanging))
            }
            other => Ok(other),
        }
    }

    fn cause(&self, rule: &Rule<Conditions, Action>) -> Cause {
        Cause::policy(rule.name.clone(), self.policy.hash())
    }

    /// The invitation as published: without its personal data unless configured.
    fn for_event(&self, invitation: Invitation) -> Invitation {
        redact_contact_details(invitation, self.include_contact_details)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadline_stops_actions_that_cannot_finish() {
        let never = TimeBudget::unlimited();
        assert_eq!(never.exhausted(), None);
        let passed = TimeBudget::until(Some(SystemTime::UNIX_EPOCH), 2, 1);
        assert_eq!(passed.per_action, Duration::from_secs(3), "two calls at 1/s, plus a second");
        assert_eq!(passed.exhausted(), Some(Duration::ZERO));
        let far = TimeBudget::until(SystemTime::now().checked_add(Duration::from_secs(3600)), 2, 1);
        assert_eq!(far.exhausted(), None);
        assert_eq!(lambda_deadline(0), None, "a local emulator's missing deadline is no deadline");
        let in_an_hour =
            SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().as_millis() as u64 + 3_600_000;
        assert!(lambda_deadline(in_an_hour).is_some());
    }
}
