//! One run of auto-respond: the shared policy-action engine (`shared::policy::engine`) over
//! the invitations we received — engagement invitations (accepted through an acceptance task,
//! or rejected) and, when the policy has connection rules, connection invitations (accepted
//! or rejected with the deterministic ClientToken) — plus what only engagement acceptance
//! needs: following the acceptance tasks to their end.
//!
//! 1. Follow the acceptance tasks earlier runs started (their records in the state table):
//!    one `ListEngagementByAcceptingInvitationTasks` for up to ten of them; each that ended
//!    is recorded with `Acceptance Completed`/`Failed` (and, once COMPLETE, the `Accepted`
//!    transition with its cause). One the listing has not returned for
//!    [`decide::UNLISTED_TASK_LIMIT_HOURS`] after its start is no longer followed.
//! 2. The engine over engagement invitations (RECEIVER, PENDING), then over connection
//!    invitations (RECEIVER, PENDING) when a rule answers them: dry run → `Response Planned`;
//!    real run → answer, record the transition with its cause.
//! 3. Follow the tasks this run started once more (bounded: one listing), then drain the
//!    outbox (always, also after an error) and report.

use std::collections::{HashMap, HashSet};
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use futures::stream::BoxStream;

use shared::PartnerCentralError;
use shared::domain::engagement_response::{AcceptanceTask, TaskStatus};
use shared::domain::{
    ApprovalAction, ApprovalFunction, Catalog, Cause, Invitation, InvitationEvent, InvitationKind, InvitationRecord,
    InvitationStatus, ParticipantType, Response,
};
use shared::policy::engine::{
    self, Acted, Answer, ApprovalId, ApprovalInput, ApprovalSummary, Engine, Request, SkipReason, Subjects, TimeBudget,
    parse_request, run_approval,
};
use shared::policy::{PolicyInvocation, run_policy};
use shared::ports::{
    AcceptanceTaskQuery, ActionBudget, CallCounts, ConnectionInvitationQuery, ConnectionInvitations,
    ConnectionResponses, EngagementInvitationQuery, EngagementInvitations, EngagementResponses, EventPublisher, Page,
    StateStore,
};
use shared::run::{Ports, RunReport};

use crate::decide;
use crate::policy::{Conditions, Exclusions, Policy, client_token};
use crate::summary::{Ended, Summary};

/// The function's name in metrics and logs.
pub(crate) const FUNCTION_NAME: &str = "auto-respond";

pub use shared::policy::RunError;

/// Settings of the run besides the policy.
#[derive(Debug, Clone)]
pub struct Settings {
    /// For metrics: the catalog.
    pub catalog: Catalog,
    /// `MAX_REQUESTS_PER_SECOND`: what one answer takes (a Get and the answer).
    pub requests_per_second: u32,
}

/// The function, lent everything it works with: the ports (built once per process in `main`,
/// or fakes in tests), the answering ports, the action budget, the policy and the settings.
pub struct AutoRespond<'a, Connections, Engagements, Responses, Answers, Store, Publisher, Clock, Calls, Budget> {
    pub ports: Ports<'a, Connections, Engagements, Store, Publisher, Clock, Calls>,
    /// Accepting and rejecting engagement invitations (the Selling API; in `main` the same
    /// adapter as `engagements`).
    pub responses: &'a Responses,
    /// Accepting and rejecting connection invitations (the Account API; in `main` the same
    /// adapter as `connections`).
    pub answers: &'a Answers,
    /// The durable action allowances (in the state table: `main` lends the same store).
    pub budget: &'a Budget,
    pub policy: &'a Policy,
    pub settings: &'a Settings,
}

/// What a person approving `response` approves.
fn approval_action(response: &Response) -> ApprovalAction {
    match response {
        Response::Accept => ApprovalAction::Accept,
        Response::Reject { .. } => ApprovalAction::Reject,
    }
}

/// The engagement invitations we received, and their answers.
struct ReceivedEngagements<'a, Engagements, Responses> {
    engagements: &'a Engagements,
    responses: &'a Responses,
}

impl<Engagements, Responses> Subjects<Response> for ReceivedEngagements<'_, Engagements, Responses>
where
    Engagements: EngagementInvitations,
    Responses: EngagementResponses,
{
    const KIND: InvitationKind = InvitationKind::Engagement;
    const SIDE: ParticipantType = ParticipantType::Receiver;
    const FUNCTION: ApprovalFunction = ApprovalFunction::AutoRespond;

    fn approval_action(&self, response: &Response) -> ApprovalAction {
        approval_action(response)
    }

    fn list(&self) -> BoxStream<'_, Result<Page, PartnerCentralError>> {
        let mut query = EngagementInvitationQuery::new(ParticipantType::Receiver);
        query.statuses = vec![InvitationStatus::Pending];
        self.engagements.list_engagement_invitations(query)
    }

    async fn get(&self, id: &str) -> Result<Invitation, PartnerCentralError> {
        self.engagements.get_engagement_invitation(id, ParticipantType::Receiver).await
    }

    fn client_token(&self, id: &str, response: &Response) -> String {
        client_token(response, id)
    }

    async fn act(&self, current: &Invitation, response: &Response, token: &str) -> Result<Acted, PartnerCentralError> {
        let id = current.id.as_str();
        match response {
            Response::Accept => {
                Ok(Acted::Started(self.responses.start_accepting_engagement_invitation(id, token).await?))
            }
            Response::Reject { rejection_reason } => {
                // One answer per invitation: never reject what a task (of any run, under any
                // policy) is accepting. The API takes no token for a rejection.
                let tasks = self.responses.acceptance_tasks_of(id).await?;
                if let Some(task) = tasks.iter().find(|t| t.status != TaskStatus::Failed) {
                    return Ok(Acted::Skipped(SkipReason::BeingAccepted { task_id: task.task_id.clone() }));
                }
                tracing::info!(invitation_id = id, reason = %rejection_reason, "rejecting");
                self.responses.reject_engagement_invitation(id, rejection_reason).await?;
                Ok(Acted::Done(Invitation { status: InvitationStatus::Rejected, ..current.clone() }))
            }
        }
    }

    fn planned(
        &self,
        invitation: &Invitation,
        response: &Response,
        cause: Cause,
        now: DateTime<Utc>,
    ) -> InvitationEvent {
        InvitationEvent::response_planned(invitation, response.clone(), cause, now)
    }
}

/// The connection invitations we received, and their answers.
struct ReceivedConnections<'a, Connections, Answers> {
    connections: &'a Connections,
    answers: &'a Answers,
}

impl<Connections, Answers> Subjects<Response> for ReceivedConnections<'_, Connections, Answers>
where
    Connections: ConnectionInvitations,
    Answers: ConnectionResponses,
{
    const KIND: InvitationKind = InvitationKind::Connection;
    const SIDE: ParticipantType = ParticipantType::Receiver;
    const FUNCTION: ApprovalFunction = ApprovalFunction::AutoRespond;

    fn approval_action(&self, response: &Response) -> ApprovalAction {
        approval_action(response)
    }

    fn list(&self) -> BoxStream<'_, Result<Page, PartnerCentralError>> {
        self.connections.list_connection_invitations(ConnectionInvitationQuery {
            participant_type: Some(ParticipantType::Receiver),
            status: Some(InvitationStatus::Pending),
            ..ConnectionInvitationQuery::default()
        })
    }

    async fn get(&self, id: &str) -> Result<Invitation, PartnerCentralError> {
        self.connections.get_connection_invitation(id).await
    }

    fn client_token(&self, id: &str, response: &Response) -> String {
        client_token(response, id)
    }

    async fn act(&self, current: &Invitation, response: &Response, token: &str) -> Result<Acted, PartnerCentralError> {
        let id = current.id.as_str();
        match response {
            Response::Accept => {
                let connection = self.answers.accept_connection_invitation(id, token).await?;
                let accepted = Invitation {
                    status: InvitationStatus::Accepted,
                    connection_id: Some(connection.connection_id),
                    ..current.clone()
                };
                Ok(Acted::Done(accepted))
            }
            Response::Reject { rejection_reason } => {
                let reason = Some(rejection_reason.as_str());
                let rejected = self.answers.reject_connection_invitation(id, token, reason).await?;
                Ok(if rejected.status == InvitationStatus::Rejected {
                    Acted::Done(rejected)
                } else {
                    Acted::Answered { operation: "RejectConnectionInvitation", invitation: rejected }
                })
            }
        }
    }

    fn planned(
        &self,
        invitation: &Invitation,
        response: &Response,
        cause: Cause,
        now: DateTime<Utc>,
    ) -> InvitationEvent {
        InvitationEvent::response_planned(invitation, response.clone(), cause, now)
    }
}

impl<Connections, Engagements, Responses, Answers, Store, Publisher, Clock, Calls, Budget>
    AutoRespond<'_, Connections, Engagements, Responses, Answers, Store, Publisher, Clock, Calls, Budget>
where
    Connections: ConnectionInvitations,
    Engagements: EngagementInvitations,
    Responses: EngagementResponses,
    Answers: ConnectionResponses,
    Store: StateStore,
    Publisher: EventPublisher,
    Clock: shared::ports::Clock,
    Calls: CallCounts,
    Budget: ActionBudget,
{
    /// The Lambda entry point: parse the payload, then one run in the shared envelope.
    /// `deadline`: when Lambda stops the invocation (no answer is started that cannot finish
    /// before it).
    pub async fn handle(
        &self,
        payload: serde_json::Value,
        request_id: &str,
        deadline: Option<SystemTime>,
    ) -> Result<Answer<Summary>, RunError> {
        match parse_request(&payload, request_id)? {
            Request::Approval(input) => Answer::of_approval(self.approval(input, request_id, deadline).await),
            Request::Run(invocation) => Answer::of_run(self.run(invocation, deadline).await),
        }
    }

    /// The approval entry: a person's decision on an approval id (see
    /// `shared::policy::engine::Engine::approve`), on the engagement or connection
    /// invitation it names.
    pub(crate) async fn approval(
        &self,
        input: ApprovalInput,
        request_id: &str,
        deadline: Option<SystemTime>,
    ) -> RunReport<ApprovalSummary, RunError> {
        let engine = self.engine(deadline);
        let approve = async |id: &ApprovalId, input: &ApprovalInput, summary: &mut ApprovalSummary| match id.kind {
            InvitationKind::Engagement => {
                let subjects = ReceivedEngagements { engagements: self.ports.engagements, responses: self.responses };
                engine.approve(&subjects, id, input, request_id, summary).await
            }
            InvitationKind::Connection => {
                let subjects = ReceivedConnections { connections: self.ports.connections, answers: self.answers };
                engine.approve(&subjects, id, input, request_id, summary).await
            }
        };
        let (catalog, hash) = (self.settings.catalog, self.policy.hash());
        run_approval(self.ports, ApprovalFunction::AutoRespond, catalog, hash, input, approve).await
    }

    /// One run. Always reports the summary; the error, if any, after the outbox was drained.
    pub(crate) async fn run(
        &self,
        invocation: PolicyInvocation,
        deadline: Option<SystemTime>,
    ) -> RunReport<Summary, RunError> {
        let summary = |dry_run| Summary::new(self.policy, dry_run);
        let work = async |dry_run, firing: Option<&str>, summary: &mut Summary| {
            let worked = self.work(dry_run, firing, deadline, summary).await;
            summary.name_the_answers();
            worked
        };
        let (catalog, limits) = (self.settings.catalog, &self.policy.limits);
        run_policy(self.ports, FUNCTION_NAME, catalog, limits, "answers", invocation, summary, work).await
    }

    fn engine(
        &self,
        deadline: Option<SystemTime>,
    ) -> Engine<'_, Store, Budget, Clock, Conditions, Exclusions, Response> {
        Engine {
            function: FUNCTION_NAME,
            store: self.ports.store,
            budget: self.budget,
            clock: self.ports.clock,
            policy: self.policy,
            include_contact_details: false,
            // An answer: a Get and the answer (a rejection of an engagement invitation also
            // lists its acceptance tasks).
            time: TimeBudget::until(deadline, 3, self.settings.requests_per_second),
        }
    }

    async fn work(
        &self,
        dry_run: bool,
        firing: Option<&str>,
        deadline: Option<SystemTime>,
        summary: &mut Summary,
    ) -> Result<(), RunError> {
        let engine = self.engine(deadline);
        // Tasks earlier runs started (a dry run follows them too: following changes nothing
        // in Partner Central).
        let earlier: Vec<InvitationRecord> = self
            .ports
            .store
            .load_records()
            .await?
            .into_iter()
            .filter(|r| r.kind == InvitationKind::Engagement)
            .filter(|r| r.acceptance.as_ref().is_some_and(|a| a.is_followed()))
            .collect();
        self.follow(&engine, earlier, summary).await?;

        let kinds: HashSet<InvitationKind> = self.policy.rules.iter().map(|r| r.conditions.kind()).collect();
        if kinds.contains(&InvitationKind::Engagement) || kinds.is_empty() {
            let engagements = ReceivedEngagements { engagements: self.ports.engagements, responses: self.responses };
            engine.run(&engagements, dry_run, firing, &mut summary.report).await?;
        }
        if kinds.contains(&InvitationKind::Connection) {
            let connections = ReceivedConnections { connections: self.ports.connections, answers: self.answers };
            engine.run(&connections, dry_run, firing, &mut summary.report).await?;
        }
        // Follow what this run started once, bounded (a task usually takes longer; the next
        // run follows it otherwise).
        let mut started = Vec::new();
        for s in &summary.report.started {
            let record = self.ports.store.load_record(InvitationKind::Engagement, &s.invitation_id).await?;
            if let Some(r) = record.filter(|r| r.acceptance.as_ref().is_some_and(|a| a.is_followed())) {
                started.push(r);
            }
        }
        self.follow(&engine, started, summary).await
    }

    // -----------------------------------------------------------------------------------
    // Following acceptance tasks

    /// Follow the acceptance tasks of `followed` (records with a task not yet seen ending):
    /// one listing by task id; each that ended is read back (Get) and recorded.
    async fn follow(
        &self,
        engine: &Engine<'_, Store, Budget, Clock, Conditions, Exclusions, Response>,
        followed: Vec<InvitationRecord>,
        summary: &mut Summary,
    ) -> Result<(), RunError> {
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
        let mut listed = HashSet::new();
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
            let give_up = record.acceptance.as_ref().is_some_and(|a| decide::give_up_on(a, now));
            tracing::warn!(
                task_id = %task_id,
                invitation_id = %record.id,
                limit_hours = decide::UNLISTED_TASK_LIMIT_HOURS,
                give_up,
                "acceptance task not listed since its start (followed until the limit after its start)"
            );
            if give_up {
                ended.push((record.clone(), None));
            }
        }
        for (record, task) in ended {
            self.record_ended(engine, record, task, summary).await?;
        }
        Ok(())
    }

    /// A followed task ended (`task`: as listed), or is given up on (`None`: not listed for
    /// too long): read the invitation back and record the outcome.
    async fn record_ended(
        &self,
        engine: &Engine<'_, Store, Budget, Clock, Conditions, Exclusions, Response>,
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
                summary.report.unreadable.absorb(e)?;
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
        let render = |write: &engine::Write| engine.rendered(&current, write, cause.as_ref(), now);
        let committed = engine.commit(&current, Some(record), decide, render).await?;
        summary.report.events_queued += committed.events();
        let ended = Ended::of(&id, task);
        tracing::info!(invitation_id = %id, task_id = %task.task_id, status = %task.status, "acceptance ended");
        if task.status == TaskStatus::Complete {
            summary.acceptances_completed.push(ended);
        } else {
            summary.acceptances_failed.push(ended);
        }
        Ok(())
    }
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
