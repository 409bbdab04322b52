//! One run of auto-cancel: the shared policy-action engine (`shared::policy::engine`) over
//! our PENDING connection invitations (SENDER), with auto-cancel's action adapter: Cancel
//! with the deterministic ClientToken, `Cancellation Planned` in a dry run, `Canceled` (cause:
//! policy) in a real run.

use std::time::SystemTime;

use chrono::{DateTime, Utc};
use futures::stream::BoxStream;

use shared::PartnerCentralError;
use shared::domain::{
    ApprovalAction, ApprovalFunction, Catalog, Cause, Invitation, InvitationEvent, InvitationKind, InvitationStatus,
    ParticipantType,
};
use shared::policy::engine::{
    Acted, Answer, ApprovalId, ApprovalInput, ApprovalSummary, Engine, Request, Subjects, TimeBudget, parse_request,
    run_approval,
};
use shared::policy::run_policy;
use shared::ports::{
    ActionBudget, CallCounts, ConnectionInvitationQuery, ConnectionInvitations, EventPublisher, Page, StateStore,
};
use shared::run::{Ports, RunReport};

use crate::input::Invocation;
use crate::policy::{Conditions, Exclusions, Policy, client_token};
use crate::summary::Summary;

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
    /// `MAX_REQUESTS_PER_SECOND`: what one cancellation takes (a Get and a Cancel).
    pub requests_per_second: u32,
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

/// Our PENDING connection invitations, and their cancellation.
struct Sent<'a, Connections>(&'a Connections);

impl<Connections: ConnectionInvitations> Subjects<()> for Sent<'_, Connections> {
    const KIND: InvitationKind = InvitationKind::Connection;
    const SIDE: ParticipantType = ParticipantType::Sender;
    const FUNCTION: ApprovalFunction = ApprovalFunction::AutoCancel;

    fn approval_action(&self, _: &()) -> ApprovalAction {
        ApprovalAction::Cancel
    }

    fn list(&self) -> BoxStream<'_, Result<Page, PartnerCentralError>> {
        self.0.list_connection_invitations(ConnectionInvitationQuery {
            participant_type: Some(ParticipantType::Sender),
            status: Some(InvitationStatus::Pending),
            ..ConnectionInvitationQuery::default()
        })
    }

    async fn get(&self, id: &str) -> Result<Invitation, PartnerCentralError> {
        self.0.get_connection_invitation(id).await
    }

    fn client_token(&self, id: &str, _: &()) -> String {
        client_token(id)
    }

    async fn act(&self, current: &Invitation, _: &(), token: &str) -> Result<Acted, PartnerCentralError> {
        const OP: &str = "CancelConnectionInvitation";
        let canceled = self.0.cancel_connection_invitation(&current.id, token).await?;
        Ok(if canceled.status == InvitationStatus::Canceled {
            Acted::Done(canceled)
        } else {
            Acted::Answered { operation: OP, invitation: canceled }
        })
    }

    fn planned(&self, invitation: &Invitation, _: &(), cause: Cause, now: DateTime<Utc>) -> InvitationEvent {
        InvitationEvent::cancellation_planned(invitation, cause, now)
    }
}

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
    /// invocation; it names the firing when the payload does not. `deadline`: when Lambda
    /// stops the invocation (no action is started that cannot finish before it).
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
    /// `shared::policy::engine::Engine::approve`).
    pub(crate) async fn approval(
        &self,
        input: ApprovalInput,
        request_id: &str,
        deadline: Option<SystemTime>,
    ) -> RunReport<ApprovalSummary, RunError> {
        let engine = self.engine(deadline);
        let approve = async |id: &ApprovalId, input: &ApprovalInput, summary: &mut ApprovalSummary| {
            engine.approve(&Sent(self.ports.connections), id, input, request_id, summary).await
        };
        let (catalog, hash) = (self.settings.catalog, self.policy.hash());
        run_approval(self.ports, ApprovalFunction::AutoCancel, catalog, hash, input, approve).await
    }

    fn engine(&self, deadline: Option<SystemTime>) -> Engine<'_, Store, Budget, Clock, Conditions, Exclusions, ()> {
        Engine {
            function: FUNCTION_NAME,
            store: self.ports.store,
            budget: self.budget,
            clock: self.ports.clock,
            policy: self.policy,
            include_contact_details: self.settings.include_contact_details,
            // A cancellation: a Get and a Cancel.
            time: TimeBudget::until(deadline, 2, self.settings.requests_per_second),
        }
    }

    /// One run. Always reports the summary; the error, if any, after the outbox was drained.
    pub(crate) async fn run(
        &self,
        invocation: Invocation,
        deadline: Option<SystemTime>,
    ) -> RunReport<Summary, RunError> {
        let summary = |dry_run| Summary::new(self.policy, dry_run);
        let work = async |dry_run, firing: Option<&str>, summary: &mut Summary| {
            self.work(dry_run, firing, deadline, summary).await
        };
        let (catalog, limits) = (self.settings.catalog, &self.policy.limits);
        run_policy(self.ports, FUNCTION_NAME, catalog, limits, "cancellations", invocation, summary, work).await
    }

    async fn work(
        &self,
        dry_run: bool,
        firing: Option<&str>,
        deadline: Option<SystemTime>,
        summary: &mut Summary,
    ) -> Result<(), RunError> {
        let engine = self.engine(deadline);
        let ran = engine.run(&Sent(self.ports.connections), dry_run, firing, &mut summary.report).await;
        summary.canceled = summary.report.acted_to(InvitationStatus::Canceled);
        ran
    }
}

#[cfg(test)]
mod tests;
