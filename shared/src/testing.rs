//! In-memory fakes of every port, for the functions' handler tests (feature `test-support`).
//! They follow the real services' rules where a handler could notice: filters, paging,
//! cancel only for PENDING invitations we sent, optimistic versions in the state store.

pub mod fuzz;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Bound;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};
use futures::stream::{self, BoxStream, StreamExt};

use crate::domain::engagement_response::{AcceptanceTask, RejectionReason, TaskReasonCode, TaskStatus};
use crate::domain::{
    CommitOutcome, Delivery, DeliveryReport, Expected, Invitation, InvitationKind, InvitationRecord, InvitationStatus,
    OutboundEvent, OutboxEntry, ParticipantType, RecordChange, SyncMeta, UnreadableInvitation,
};
use crate::error::{PartnerCentralError, StoreError};
use crate::ports::{
    AcceptanceTaskQuery, AcceptedConnection, ActionBudget, Allowance, CallCounts, Clock, ConnectionInvitationQuery,
    ConnectionInvitations, ConnectionResponses, EngagementInvitationQuery, EngagementInvitations, EngagementOrder,
    EngagementResponses, EventPublisher, OUTBOX_PAGE, OutboxPage, Page, PageItem, StateStore, Take, TaskOrder,
};

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A PENDING connection invitation we sent to partner `444455556666`, created at `created`,
/// expiring 15 days later. Tests change what matters to them with struct update syntax.
pub fn connection_invitation(id: &str, created: DateTime<Utc>) -> Invitation {
    crate::samples::connection_we_sent(id, created)
}

/// A PENDING engagement invitation we received, dated `created`, expiring 15 days later.
pub fn engagement_invitation(id: &str, created: DateTime<Utc>) -> Invitation {
    crate::samples::engagement_we_received(id, created)
}

/// A clock that moves only when told.
#[derive(Debug)]
pub struct FixedClock(Mutex<DateTime<Utc>>);

impl FixedClock {
    pub fn at(now: DateTime<Utc>) -> Self {
        FixedClock(Mutex::new(now))
    }

    pub fn set(&self, now: DateTime<Utc>) {
        *lock(&self.0) = now;
    }

    pub fn advance(&self, by: chrono::Duration) {
        *lock(&self.0) += by;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *lock(&self.0)
    }
}

/// Both Partner Central APIs over one in-memory list of invitations, counting calls per
/// operation (one per page, as the real APIs).
#[derive(Debug)]
pub struct FakePartnerCentral {
    invitations: Mutex<Vec<Invitation>>,
    calls: Mutex<BTreeMap<&'static str, u32>>,
    /// Errors to return for one invitation id on Get/Cancel (consumed once each).
    failures: Mutex<HashMap<String, Vec<PartnerCentralError>>>,
    /// Failures of the actions only (Cancel, Accept, Reject, Start task): the Gets pass.
    action_failures: Mutex<HashMap<String, Vec<PartnerCentralError>>>,
    page_size: usize,
    /// Acceptance tasks and rejections ([`EngagementResponses`]).
    responses: Mutex<FakeResponses>,
    /// Invitations served unreadable (as the adapter reports one), by kind and id.
    unreadable: Mutex<HashMap<(InvitationKind, String), UnreadableInvitation>>,
}

impl FakePartnerCentral {
    pub fn new(invitations: Vec<Invitation>) -> Self {
        FakePartnerCentral {
            invitations: Mutex::new(invitations),
            calls: Mutex::default(),
            failures: Mutex::default(),
            action_failures: Mutex::default(),
            page_size: 100,
            responses: Mutex::default(),
            unreadable: Mutex::default(),
        }
    }

    /// Serve the invitation unreadable from now on — listed among a page's unreadable ones, a
    /// Get fails with [`PartnerCentralError::Unreadable`] — as if `member` came back as
    /// `raw_value` (`None`: missing). [`Self::heal`] undoes it.
    pub fn make_unreadable(&self, kind: InvitationKind, id: &str, member: &'static str, raw_value: Option<&str>) {
        let problem = match raw_value {
            Some(v) => format!("unknown value {v:?}"),
            None => "is missing".to_owned(),
        };
        let unreadable =
            UnreadableInvitation { kind, id: id.to_owned(), member, raw_value: raw_value.map(str::to_owned), problem };
        lock(&self.unreadable).insert((kind, id.to_owned()), unreadable);
    }

    /// Serve the invitation readable again.
    pub fn heal(&self, kind: InvitationKind, id: &str) {
        lock(&self.unreadable).remove(&(kind, id.to_owned()));
    }

    fn unreadable(&self, kind: InvitationKind, id: &str) -> Option<UnreadableInvitation> {
        lock(&self.unreadable).get(&(kind, id.to_owned())).cloned()
    }

    /// One page as the adapter returns it: unreadable invitations set apart.
    fn page(&self, items: &[Invitation]) -> Page {
        items
            .iter()
            .map(|i| match self.unreadable(i.kind, &i.id) {
                Some(u) => PageItem::Unreadable(u),
                None => PageItem::Invitation(i.clone()),
            })
            .collect()
    }

    /// A Get's answer: the invitation, or that it is unreadable.
    fn readable(&self, invitation: Invitation, operation: &'static str) -> Result<Invitation, PartnerCentralError> {
        match self.unreadable(invitation.kind, &invitation.id) {
            Some(u) => Err(PartnerCentralError::Unreadable { operation, invitation: u }),
            None => Ok(invitation),
        }
    }

    pub fn with_page_size(mut self, page_size: usize) -> Self {
        self.page_size = page_size.max(1);
        self
    }

    /// Insert or replace (by kind and id).
    pub fn upsert(&self, invitation: Invitation) {
        let mut all = lock(&self.invitations);
        all.retain(|i| !(i.kind == invitation.kind && i.id == invitation.id));
        all.push(invitation);
    }

    pub fn set_status(&self, kind: InvitationKind, id: &str, status: InvitationStatus) {
        if let Some(i) = lock(&self.invitations).iter_mut().find(|i| i.kind == kind && i.id == id) {
            i.status = status;
        }
    }

    pub fn get(&self, kind: InvitationKind, id: &str) -> Option<Invitation> {
        lock(&self.invitations).iter().find(|i| i.kind == kind && i.id == id).cloned()
    }

    /// Make the next Get or Cancel of `id` fail with `error`.
    pub fn fail_next(&self, id: &str, error: PartnerCentralError) {
        lock(&self.failures).entry(id.to_owned()).or_default().push(error);
    }

    /// Make the next action on `id` (Cancel, Accept, Reject, Start task) fail with `error`;
    /// the Gets before it pass.
    pub fn fail_next_action(&self, id: &str, error: PartnerCentralError) {
        lock(&self.action_failures).entry(id.to_owned()).or_default().push(error);
    }

    /// Calls per operation so far.
    pub fn calls(&self) -> BTreeMap<&'static str, u32> {
        lock(&self.calls).clone()
    }

    pub fn total_calls(&self) -> u32 {
        lock(&self.calls).values().sum()
    }

    fn count(&self, operation: &'static str) {
        *lock(&self.calls).entry(operation).or_default() += 1;
    }

    fn take_failure(&self, id: &str) -> Option<PartnerCentralError> {
        lock(&self.failures).get_mut(id).and_then(|v| (!v.is_empty()).then(|| v.remove(0)))
    }

    /// An action's failure: one planned for the action, else the next planned for any call.
    fn take_action_failure(&self, id: &str) -> Option<PartnerCentralError> {
        let planned = lock(&self.action_failures).get_mut(id).and_then(|v| (!v.is_empty()).then(|| v.remove(0)));
        planned.or_else(|| self.take_failure(id))
    }

    fn pages(
        &self,
        operation: &'static str,
        items: Vec<Invitation>,
    ) -> BoxStream<'_, Result<Page, PartnerCentralError>> {
        let mut pages: Vec<Page> = items.chunks(self.page_size).map(|c| self.page(c)).collect();
        if pages.is_empty() {
            pages.push(Page::default());
        }
        stream::iter(pages)
            .map(move |page| {
                self.count(operation);
                Ok(page)
            })
            .boxed()
    }

    fn find(&self, kind: InvitationKind, id: &str, operation: &'static str) -> Result<Invitation, PartnerCentralError> {
        self.get(kind, id)
            .ok_or_else(|| PartnerCentralError::NotFound { operation, message: format!("{id} does not exist") })
    }
}

impl CallCounts for FakePartnerCentral {
    fn snapshot(&self) -> BTreeMap<String, u64> {
        self.calls().into_iter().map(|(k, v)| (k.to_owned(), u64::from(v))).collect()
    }
}

impl ConnectionInvitations for FakePartnerCentral {
    fn list_connection_invitations(
        &self,
        query: ConnectionInvitationQuery,
    ) -> BoxStream<'_, Result<Page, PartnerCentralError>> {
        let mut items: Vec<Invitation> = lock(&self.invitations)
            .iter()
            .filter(|i| i.kind == InvitationKind::Connection)
            .filter(|i| query.status.is_none_or(|s| i.status == s))
            .filter(|i| query.participant_type.is_none_or(|p| i.participant_type == p))
            .filter(|i| query.connection_type.as_ref().is_none_or(|c| i.connection_type.as_ref() == Some(c)))
            .filter(|i| {
                query.other_participant_identifiers.is_empty()
                    || i.other_party
                        .participant_identifier
                        .as_ref()
                        .is_some_and(|p| query.other_participant_identifiers.contains(p))
            })
            .map(|i| Invitation { details: None, ..i.clone() })
            .collect();
        items.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| b.id.cmp(&a.id)));
        self.pages("ListConnectionInvitations", items)
    }

    async fn get_connection_invitation(&self, id: &str) -> Result<Invitation, PartnerCentralError> {
        self.count("GetConnectionInvitation");
        if let Some(e) = self.take_failure(id) {
            return Err(e);
        }
        let found = self.find(InvitationKind::Connection, id, "GetConnectionInvitation")?;
        self.readable(found, "GetConnectionInvitation")
    }

    async fn cancel_connection_invitation(
        &self,
        id: &str,
        _client_token: &str,
    ) -> Result<Invitation, PartnerCentralError> {
        const OP: &str = "CancelConnectionInvitation";
        self.count(OP);
        if let Some(e) = self.take_action_failure(id) {
            return Err(e);
        }
        let mut all = lock(&self.invitations);
        let inv = all
            .iter_mut()
            .find(|i| i.kind == InvitationKind::Connection && i.id == id)
            .ok_or_else(|| PartnerCentralError::NotFound { operation: OP, message: format!("{id} does not exist") })?;
        if inv.status != InvitationStatus::Pending || inv.participant_type != ParticipantType::Sender {
            return Err(PartnerCentralError::Conflict {
                operation: OP,
                reason: "INCOMPATIBLE_CONNECTION_INVITATION_STATE".into(),
                message: format!("{id} is {} and {}", inv.status, inv.participant_type),
            });
        }
        inv.status = InvitationStatus::Canceled;
        Ok(inv.clone())
    }
}

impl FakePartnerCentral {
    /// Refuse the next connection acceptances with `ServiceQuotaExceeded` (the
    /// active-connection limit) while `full`.
    pub fn set_connections_full(&self, full: bool) {
        lock(&self.responses).connections_full = full;
    }

    /// Connection answers given, in order: (invitation id, client token, ACCEPTED/REJECTED).
    pub fn connection_answers(&self) -> Vec<(String, String, InvitationStatus)> {
        lock(&self.responses).connection_answers.clone()
    }

    /// Answer a PENDING connection invitation we received; the same token on the same
    /// invitation returns the first answer again (the API's idempotency).
    fn answer_connection(
        &self,
        op: &'static str,
        id: &str,
        client_token: &str,
        status: InvitationStatus,
    ) -> Result<Invitation, PartnerCentralError> {
        self.count(op);
        if let Some(e) = self.take_action_failure(id) {
            return Err(e);
        }
        let mut all = lock(&self.invitations);
        let inv = all
            .iter_mut()
            .find(|i| i.kind == InvitationKind::Connection && i.id == id)
            .ok_or_else(|| PartnerCentralError::NotFound { operation: op, message: format!("{id} does not exist") })?;
        let mut responses = lock(&self.responses);
        let repeat = responses.connection_answers.iter().any(|(i, t, s)| i == id && t == client_token && *s == status);
        if repeat && inv.status == status {
            return Ok(inv.clone());
        }
        if inv.status != InvitationStatus::Pending || inv.participant_type != ParticipantType::Receiver {
            return Err(PartnerCentralError::Conflict {
                operation: op,
                reason: "INCOMPATIBLE_CONNECTION_INVITATION_STATE".into(),
                message: format!("{id} is {} and {}", inv.status, inv.participant_type),
            });
        }
        if status == InvitationStatus::Accepted && responses.connections_full {
            return Err(PartnerCentralError::QuotaExceeded {
                operation: op,
                reason: "LIMIT_EXCEEDED_NUMBER_OF_ACTIVE_CONNECTION".into(),
                message: "the account has the most active connections it may have".into(),
            });
        }
        inv.status = status;
        if status == InvitationStatus::Accepted {
            inv.connection_id = Some(format!("pc-{}", &id[id.len().saturating_sub(13)..]));
        }
        responses.connection_answers.push((id.to_owned(), client_token.to_owned(), status));
        Ok(inv.clone())
    }
}

impl ConnectionResponses for FakePartnerCentral {
    async fn accept_connection_invitation(
        &self,
        id: &str,
        client_token: &str,
    ) -> Result<AcceptedConnection, PartnerCentralError> {
        let accepted =
            self.answer_connection("AcceptConnectionInvitation", id, client_token, InvitationStatus::Accepted)?;
        Ok(AcceptedConnection {
            connection_id: accepted.connection_id.unwrap_or_default(),
            other_participant_account_id: accepted.other_party.participant_identifier,
        })
    }

    async fn reject_connection_invitation(
        &self,
        id: &str,
        client_token: &str,
        _reason: Option<&str>,
    ) -> Result<Invitation, PartnerCentralError> {
        self.answer_connection("RejectConnectionInvitation", id, client_token, InvitationStatus::Rejected)
    }
}

impl EngagementInvitations for FakePartnerCentral {
    fn list_engagement_invitations(
        &self,
        query: EngagementInvitationQuery,
    ) -> BoxStream<'_, Result<Page, PartnerCentralError>> {
        let mut items: Vec<Invitation> = lock(&self.invitations)
            .iter()
            .filter(|i| i.kind == InvitationKind::Engagement && i.participant_type == query.participant_type)
            .filter(|i| query.statuses.is_empty() || query.statuses.contains(&i.status))
            .filter(|i| {
                query.payload_types.is_empty()
                    || i.payload_type.as_ref().is_some_and(|p| query.payload_types.contains(p))
            })
            .filter(|i| {
                query.sender_aws_account_ids.is_empty()
                    || i.other_party
                        .sender_aws_account_id
                        .as_ref()
                        .is_some_and(|s| query.sender_aws_account_ids.contains(s))
            })
            .filter(|i| {
                query.engagement_identifiers.is_empty()
                    || i.engagement_id.as_ref().is_some_and(|e| query.engagement_identifiers.contains(e))
            })
            .cloned()
            .collect();
        match query.order {
            EngagementOrder::OldestFirst => items.sort_by_key(|i| i.created_at),
            EngagementOrder::Unsorted | EngagementOrder::NewestFirst { .. } => {
                items.sort_by_key(|i| std::cmp::Reverse(i.created_at))
            }
        }
        // Pages up to (and including) the one where the cut-off is reached, like the adapter.
        if let EngagementOrder::NewestFirst { stop_before: Some(t) } = query.order
            && let Some(pos) = items.iter().position(|i| i.created_at < t)
        {
            let pages_needed = pos / self.page_size + 1;
            let mut chunks: Vec<Vec<Invitation>> =
                items.chunks(self.page_size).take(pages_needed).map(<[Invitation]>::to_vec).collect();
            if let Some(last) = chunks.last_mut() {
                last.retain(|i| i.created_at >= t);
            }
            let pages: Vec<Page> = chunks.iter().map(|c| self.page(c)).collect();
            return stream::iter(pages)
                .map(move |p| {
                    self.count("ListEngagementInvitations");
                    Ok(p)
                })
                .boxed();
        }
        self.pages("ListEngagementInvitations", items)
    }

    async fn get_engagement_invitation(
        &self,
        id: &str,
        participant_type: ParticipantType,
    ) -> Result<Invitation, PartnerCentralError> {
        self.count("GetEngagementInvitation");
        if let Some(e) = self.take_failure(id) {
            return Err(e);
        }
        let inv = self.find(InvitationKind::Engagement, id, "GetEngagementInvitation")?;
        self.readable(Invitation { participant_type, ..inv }, "GetEngagementInvitation")
    }
}

/// What the fake remembers of answered engagement invitations.
#[derive(Debug, Default)]
struct FakeResponses {
    /// Every task, in start order.
    tasks: Vec<AcceptanceTask>,
    /// Client token → (invitation id, task id).
    tokens: HashMap<String, (String, String)>,
    /// Invitation id → how its next task fails (reason code, message).
    planned_failures: HashMap<String, (TaskReasonCode, String)>,
    /// Invitation id → the reason it was rejected with.
    rejections: BTreeMap<String, RejectionReason>,
    /// Task ids the listing no longer returns (e.g. past its retention).
    unlisted: HashSet<String>,
    /// Connection answers given: (invitation id, client token, status).
    connection_answers: Vec<(String, String, InvitationStatus)>,
    /// Acceptances of connection invitations refused for the active-connection quota.
    connections_full: bool,
}

/// Answering engagement invitations, as the Selling API (and the emulator) does: a task starts
/// IN_PROGRESS and ends only when the test says ([`FakePartnerCentral::end_acceptance_tasks`],
/// the fake's "later"); client tokens are idempotent; answering what is not a PENDING
/// invitation we received, or one being accepted, is a `Conflict`. Errors set with
/// [`FakePartnerCentral::fail_next`] for an invitation id are returned by Start and Reject too.
impl FakePartnerCentral {
    /// Make the next acceptance task of `invitation_id` end FAILED with this reason code.
    pub fn fail_acceptance_of(&self, invitation_id: &str, reason_code: &str, message: &str) {
        lock(&self.responses)
            .planned_failures
            .insert(invitation_id.to_owned(), (TaskReasonCode::new(reason_code), message.to_owned()));
    }

    /// End every IN_PROGRESS task: FAILED as planned, or FAILED with
    /// `EngagementInvitationConflict` when the invitation left PENDING meanwhile, otherwise
    /// COMPLETE with a new opportunity (`O` + 10 digits) and the invitation ACCEPTED. Returns
    /// how many ended.
    pub fn end_acceptance_tasks(&self) -> usize {
        // Locks in the order Start and Reject take them: responses, then invitations.
        let mut responses = lock(&self.responses);
        let mut invitations = lock(&self.invitations);
        let FakeResponses { tasks, planned_failures, .. } = &mut *responses;
        let mut ended = 0;
        for (n, task) in tasks.iter_mut().enumerate() {
            if task.status != TaskStatus::InProgress {
                continue;
            }
            ended += 1;
            let invitation_id = task.invitation_id.clone().unwrap_or_default();
            let invitation = invitations
                .iter_mut()
                .find(|i| i.kind == InvitationKind::Engagement && i.id == invitation_id)
                .filter(|i| i.status == InvitationStatus::Pending);
            match (invitation, planned_failures.remove(&invitation_id)) {
                (None, _) => {
                    task.status = TaskStatus::Failed;
                    task.reason_code = Some(TaskReasonCode::new("EngagementInvitationConflict"));
                    task.message = Some(format!("{invitation_id} is no longer PENDING"));
                }
                (Some(_), Some((reason_code, message))) => {
                    task.status = TaskStatus::Failed;
                    task.reason_code = Some(reason_code);
                    task.message = Some(message);
                }
                (Some(invitation), None) => {
                    invitation.status = InvitationStatus::Accepted;
                    task.status = TaskStatus::Complete;
                    task.opportunity_id = Some(format!("O{:010}", n + 1));
                    task.resource_snapshot_job_id = Some(format!("job-{:013}", n + 1));
                }
            }
        }
        ended
    }

    /// From now on `ListEngagementByAcceptingInvitationTasks` no longer returns the task of
    /// `invitation_id` (as if past the listing's retention). Returns its task id.
    pub fn unlist_acceptance_task_of(&self, invitation_id: &str) -> Option<String> {
        let mut responses = lock(&self.responses);
        let task_id = responses
            .tasks
            .iter()
            .find(|t| t.invitation_id.as_deref() == Some(invitation_id))
            .map(|t| t.task_id.clone());
        responses.unlisted.extend(task_id.clone());
        task_id
    }

    /// Every acceptance task so far, in start order.
    pub fn acceptance_tasks(&self) -> Vec<AcceptanceTask> {
        lock(&self.responses).tasks.clone()
    }

    /// The reason an invitation was rejected with, if it was.
    pub fn rejection_reason(&self, invitation_id: &str) -> Option<RejectionReason> {
        lock(&self.responses).rejections.get(invitation_id).cloned()
    }

    /// The PENDING invitation we received that no task is accepting, or why not.
    fn answerable(
        &self,
        operation: &'static str,
        invitation_id: &str,
        responses: &FakeResponses,
    ) -> Result<(), PartnerCentralError> {
        let invitation = self.get(InvitationKind::Engagement, invitation_id).ok_or_else(|| {
            PartnerCentralError::NotFound { operation, message: format!("{invitation_id} does not exist") }
        })?;
        let conflict =
            |message: String| PartnerCentralError::Conflict { operation, reason: "UNSPECIFIED".into(), message };
        if invitation.status != InvitationStatus::Pending || invitation.participant_type != ParticipantType::Receiver {
            return Err(conflict(format!(
                "{invitation_id} is {} and {}",
                invitation.status, invitation.participant_type
            )));
        }
        if let Some(task) = responses
            .tasks
            .iter()
            .find(|t| t.invitation_id.as_deref() == Some(invitation_id) && t.status == TaskStatus::InProgress)
        {
            return Err(conflict(format!("{invitation_id} is being accepted by {}", task.task_id)));
        }
        Ok(())
    }
}

impl EngagementResponses for FakePartnerCentral {
    async fn start_accepting_engagement_invitation(
        &self,
        invitation_id: &str,
        client_token: &str,
    ) -> Result<AcceptanceTask, PartnerCentralError> {
        const OP: &str = "StartEngagementByAcceptingInvitationTask";
        self.count(OP);
        if let Some(e) = self.take_action_failure(invitation_id) {
            return Err(e);
        }
        let mut responses = lock(&self.responses);
        if let Some((for_invitation, task_id)) = responses.tokens.get(client_token) {
            if for_invitation != invitation_id {
                return Err(PartnerCentralError::Conflict {
                    operation: OP,
                    reason: "UNSPECIFIED".into(),
                    message: format!("client token {client_token} was used for {for_invitation}"),
                });
            }
            let task = responses.tasks.iter().find(|t| &t.task_id == task_id).cloned();
            return task.ok_or_else(|| PartnerCentralError::UnexpectedResponse {
                operation: OP,
                message: format!("{task_id} vanished"),
            });
        }
        self.answerable(OP, invitation_id, &responses)?;
        let task_id = format!("task-{:013}", responses.tasks.len() + 1);
        let task = AcceptanceTask {
            task_arn: Some(format!(
                "arn:aws:partnercentral:us-east-1::catalog/AWS/engagement-by-accepting-invitation-task/{task_id}"
            )),
            task_id: task_id.clone(),
            invitation_id: Some(invitation_id.to_owned()),
            status: TaskStatus::InProgress,
            started_at: None,
            opportunity_id: None,
            resource_snapshot_job_id: None,
            reason_code: None,
            message: None,
        };
        responses.tokens.insert(client_token.to_owned(), (invitation_id.to_owned(), task_id));
        responses.tasks.push(task.clone());
        Ok(task)
    }

    fn list_acceptance_tasks(
        &self,
        query: AcceptanceTaskQuery,
    ) -> BoxStream<'_, Result<Vec<AcceptanceTask>, PartnerCentralError>> {
        const OP: &str = "ListEngagementByAcceptingInvitationTasks";
        let matches = |wanted: &[String], id: Option<&str>| {
            wanted.is_empty() || id.is_some_and(|id| wanted.iter().any(|w| w == id || w.ends_with(&format!("/{id}"))))
        };
        let responses = lock(&self.responses);
        let mut tasks: Vec<AcceptanceTask> = responses
            .tasks
            .iter()
            .filter(|t| !responses.unlisted.contains(&t.task_id))
            .filter(|t| query.statuses.is_empty() || query.statuses.contains(&t.status))
            .filter(|t| matches(&query.invitation_ids, t.invitation_id.as_deref()))
            .filter(|t| matches(&query.task_ids, Some(&t.task_id)))
            .cloned()
            .collect();
        drop(responses);
        if query.order != TaskOrder::OldestFirst {
            tasks.reverse();
        }
        let mut pages: Vec<Vec<AcceptanceTask>> =
            tasks.chunks(self.page_size).map(<[AcceptanceTask]>::to_vec).collect();
        if pages.is_empty() {
            pages.push(Vec::new());
        }
        stream::iter(pages)
            .map(move |page| {
                self.count(OP);
                Ok(page)
            })
            .boxed()
    }

    async fn reject_engagement_invitation(
        &self,
        invitation_id: &str,
        reason: &RejectionReason,
    ) -> Result<(), PartnerCentralError> {
        const OP: &str = "RejectEngagementInvitation";
        self.count(OP);
        if let Some(e) = self.take_action_failure(invitation_id) {
            return Err(e);
        }
        let mut responses = lock(&self.responses);
        self.answerable(OP, invitation_id, &responses)?;
        self.set_status(InvitationKind::Engagement, invitation_id, InvitationStatus::Rejected);
        responses.rejections.insert(invitation_id.to_owned(), reason.clone());
        Ok(())
    }
}

/// The state table in memory, with the same version rules as the DynamoDB store.
#[derive(Debug, Default)]
pub struct MemoryStateStore {
    records: Mutex<BTreeMap<(InvitationKind, String), InvitationRecord>>,
    outbox: Mutex<BTreeMap<String, OutboxEntry>>,
    meta: Mutex<SyncMeta>,
    /// Actions counted per allowance key ([`ActionBudget`]).
    allowances: Mutex<BTreeMap<String, u32>>,
    /// Fail every call (e.g. DynamoDB unavailable).
    pub unavailable: AtomicBool,
    /// Records stored but unreadable (as an item DynamoDB returns that no longer decodes):
    /// `load_records` sets them aside, `load_record` answers `Corrupt`.
    corrupt: Mutex<HashSet<(InvitationKind, String)>>,
    set_aside: std::sync::atomic::AtomicU64,
    answers: crate::metrics::AnswerLog,
}

impl MemoryStateStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Make the stored record of an invitation unreadable (it stays stored: commits expecting
    /// its absence conflict).
    pub fn corrupt(&self, kind: InvitationKind, id: &str) {
        lock(&self.corrupt).insert((kind, id.to_owned()));
    }

    fn check(&self, operation: &'static str) -> Result<(), StoreError> {
        if self.unavailable.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable { operation, message: "injected".into() });
        }
        Ok(())
    }

    pub fn record(&self, kind: InvitationKind, id: &str) -> Option<InvitationRecord> {
        lock(&self.records).get(&(kind, id.to_owned())).cloned()
    }

    pub fn records(&self) -> Vec<InvitationRecord> {
        lock(&self.records).values().cloned().collect()
    }

    pub fn outbox_events(&self) -> Vec<OutboundEvent> {
        lock(&self.outbox).values().map(|e| e.event.clone()).collect()
    }

    pub fn meta(&self) -> SyncMeta {
        lock(&self.meta).clone()
    }

    /// Actions counted under an allowance key.
    pub fn allowance_used(&self, key: &str) -> u32 {
        lock(&self.allowances).get(key).copied().unwrap_or(0)
    }
}

impl ActionBudget for MemoryStateStore {
    async fn take(&self, allowances: &[Allowance]) -> Result<Take, StoreError> {
        self.check("TransactWriteItems")?;
        let mut used = lock(&self.allowances);
        if let Some(full) = allowances.iter().find(|a| used.get(&a.key).copied().unwrap_or(0) >= a.limit) {
            return Ok(Take::UsedUp { key: full.key.clone() });
        }
        for a in allowances {
            *used.entry(a.key.clone()).or_default() += 1;
        }
        Ok(Take::Taken)
    }

    async fn give_back(&self, allowances: &[Allowance]) -> Result<(), StoreError> {
        self.check("UpdateItem")?;
        let mut used = lock(&self.allowances);
        for a in allowances {
            if let Some(n) = used.get_mut(&a.key) {
                *n = n.saturating_sub(1);
            }
        }
        Ok(())
    }
}

impl StateStore for MemoryStateStore {
    async fn load_records(&self) -> Result<Vec<InvitationRecord>, StoreError> {
        self.check("Query")?;
        let corrupt = lock(&self.corrupt).clone();
        let (unreadable, readable): (Vec<_>, Vec<_>) =
            self.records().into_iter().partition(|r| corrupt.contains(&(r.kind, r.id.clone())));
        self.set_aside.fetch_add(unreadable.len() as u64, Ordering::SeqCst);
        Ok(readable)
    }

    async fn load_record(&self, kind: InvitationKind, id: &str) -> Result<Option<InvitationRecord>, StoreError> {
        self.check("GetItem")?;
        if lock(&self.corrupt).contains(&(kind, id.to_owned())) {
            return Err(StoreError::Corrupt { key: format!("{kind}#{id}"), message: "injected".into() });
        }
        Ok(self.record(kind, id))
    }

    fn items_set_aside(&self) -> u64 {
        self.set_aside.load(Ordering::SeqCst)
    }

    fn take_answers(&self) -> Vec<crate::domain::AnswerFact> {
        self.answers.take()
    }

    async fn commit(&self, changes: Vec<RecordChange>) -> Result<Vec<CommitOutcome>, StoreError> {
        self.check("TransactWriteItems")?;
        let now = Utc::now();
        let mut records = lock(&self.records);
        let mut outbox = lock(&self.outbox);
        Ok(changes
            .into_iter()
            .map(|change| {
                let key = (change.record.kind, change.record.id.clone());
                let current = records.get(&key).map(|r| r.version);
                let ok = match change.expected {
                    Expected::Absent => current.is_none(),
                    Expected::Version(v) => current == Some(v),
                };
                if !ok {
                    return CommitOutcome::Conflict;
                }
                let version = current.unwrap_or(0) + 1;
                self.answers.note(&change);
                records.insert(key, InvitationRecord { version, ..change.record });
                for event in change.events {
                    outbox.insert(event.event_id.clone(), OutboxEntry { event, enqueued_at: now, attempts: 0 });
                }
                CommitOutcome::Committed
            })
            .collect())
    }

    async fn enqueue(&self, events: Vec<OutboundEvent>) -> Result<(), StoreError> {
        self.check("BatchWriteItem")?;
        let now = Utc::now();
        let mut outbox = lock(&self.outbox);
        for event in events {
            outbox.insert(event.event_id.clone(), OutboxEntry { event, enqueued_at: now, attempts: 0 });
        }
        Ok(())
    }

    async fn outbox_page(&self, after: Option<String>) -> Result<OutboxPage, StoreError> {
        self.check("Query")?;
        let outbox = lock(&self.outbox);
        let start = after.as_ref().map_or(Bound::Unbounded, Bound::Excluded);
        let mut entries: Vec<OutboxEntry> = outbox
            .range::<String, _>((start, Bound::Unbounded))
            .take(OUTBOX_PAGE + 1)
            .map(|(_, e)| e.clone())
            .collect();
        let next = match entries.len() > OUTBOX_PAGE {
            true => {
                entries.truncate(OUTBOX_PAGE);
                entries.last().map(|e| e.event.event_id.clone())
            }
            false => None,
        };
        entries.sort_by_key(|e| (e.enqueued_at, e.event.time));
        Ok(OutboxPage { entries, next })
    }

    async fn remove_from_outbox(&self, event_ids: &[String]) -> Result<(), StoreError> {
        self.check("BatchWriteItem")?;
        let mut outbox = lock(&self.outbox);
        for id in event_ids {
            outbox.remove(id);
        }
        Ok(())
    }

    async fn note_delivery_failures(&self, failures: &[(String, String)]) -> Result<(), StoreError> {
        self.check("UpdateItem")?;
        let mut outbox = lock(&self.outbox);
        for (id, _) in failures {
            if let Some(e) = outbox.get_mut(id) {
                e.attempts += 1;
            }
        }
        Ok(())
    }

    async fn load_meta(&self) -> Result<SyncMeta, StoreError> {
        self.check("GetItem")?;
        Ok(self.meta())
    }

    async fn save_meta(&self, meta: &SyncMeta) -> Result<bool, StoreError> {
        self.check("PutItem")?;
        let mut stored = lock(&self.meta);
        if stored.version != meta.version {
            return Ok(false);
        }
        *stored = SyncMeta { version: meta.version + 1, ..meta.clone() };
        Ok(true)
    }
}

/// A bus that records what it was given; can refuse everything or some event ids.
#[derive(Debug, Default)]
pub struct RecordingPublisher {
    published: Mutex<Vec<OutboundEvent>>,
    failing: Mutex<HashSet<String>>,
    /// Refuse every event (e.g. the bus does not exist).
    pub down: AtomicBool,
}

impl RecordingPublisher {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every event delivered so far, in order.
    pub fn published(&self) -> Vec<OutboundEvent> {
        lock(&self.published).clone()
    }

    pub fn detail_types(&self) -> Vec<String> {
        self.published().into_iter().map(|e| e.detail_type).collect()
    }

    /// Refuse events with this id until [`RecordingPublisher::heal`].
    pub fn fail_event(&self, event_id: &str) {
        lock(&self.failing).insert(event_id.to_owned());
    }

    pub fn heal(&self) {
        lock(&self.failing).clear();
        self.down.store(false, Ordering::SeqCst);
    }
}

impl EventPublisher for RecordingPublisher {
    async fn publish(&self, events: Vec<OutboundEvent>) -> DeliveryReport {
        let down = self.down.load(Ordering::SeqCst);
        let failing = lock(&self.failing).clone();
        let calls = events.len().div_ceil(10) as u32;
        let outcomes = events
            .into_iter()
            .map(|e| {
                let id = e.event_id.clone();
                if down || failing.contains(&id) {
                    (id, Delivery::Failed { reason: "refused by the test publisher".into() })
                } else {
                    lock(&self.published).push(e);
                    (id, Delivery::Delivered)
                }
            })
            .collect();
        DeliveryReport { outcomes, calls }
    }
}

/// A state table another function writes to first: the changes set with
/// [`RacingStateStore::before_next_commit`] are committed to the same table just before the
/// next commit of the code under test (what another writer does between its read and its
/// conditional write).
#[derive(Debug, Default)]
pub struct RacingStateStore {
    pub inner: MemoryStateStore,
    theirs: Mutex<Option<Vec<RecordChange>>>,
}

impl RacingStateStore {
    pub fn new(inner: MemoryStateStore) -> Self {
        Self { inner, theirs: Mutex::new(None) }
    }

    /// Let another writer commit `theirs` before the next commit.
    pub fn before_next_commit(&self, theirs: Vec<RecordChange>) {
        *lock(&self.theirs) = Some(theirs);
    }
}

impl StateStore for RacingStateStore {
    async fn load_records(&self) -> Result<Vec<InvitationRecord>, StoreError> {
        self.inner.load_records().await
    }
    async fn load_record(&self, kind: InvitationKind, id: &str) -> Result<Option<InvitationRecord>, StoreError> {
        self.inner.load_record(kind, id).await
    }
    async fn commit(&self, changes: Vec<RecordChange>) -> Result<Vec<CommitOutcome>, StoreError> {
        let theirs = lock(&self.theirs).take();
        if let Some(theirs) = theirs {
            let outcomes = self.inner.commit(theirs).await?;
            assert!(outcomes.iter().all(|o| *o == CommitOutcome::Committed), "the other writer commits first");
        }
        self.inner.commit(changes).await
    }
    async fn enqueue(&self, events: Vec<OutboundEvent>) -> Result<(), StoreError> {
        self.inner.enqueue(events).await
    }
    async fn outbox_page(&self, after: Option<String>) -> Result<OutboxPage, StoreError> {
        self.inner.outbox_page(after).await
    }
    async fn remove_from_outbox(&self, event_ids: &[String]) -> Result<(), StoreError> {
        self.inner.remove_from_outbox(event_ids).await
    }
    fn take_answers(&self) -> Vec<crate::domain::AnswerFact> {
        self.inner.take_answers()
    }
    async fn note_delivery_failures(&self, failures: &[(String, String)]) -> Result<(), StoreError> {
        self.inner.note_delivery_failures(failures).await
    }
    async fn load_meta(&self) -> Result<SyncMeta, StoreError> {
        self.inner.load_meta().await
    }
    async fn save_meta(&self, meta: &SyncMeta) -> Result<bool, StoreError> {
        self.inner.save_meta(meta).await
    }
}

#[cfg(test)]
mod engagement_response_tests {
    use futures::TryStreamExt;

    use super::*;

    fn fake() -> FakePartnerCentral {
        let now = Utc::now();
        let sent = Invitation { participant_type: ParticipantType::Sender, ..engagement_invitation("engi-sent", now) };
        FakePartnerCentral::new(vec![
            engagement_invitation("engi-1", now),
            engagement_invitation("engi-2", now),
            engagement_invitation("engi-3", now),
            sent,
        ])
    }

    fn reason() -> RejectionReason {
        RejectionReason::new("Unable to support").unwrap_or_else(|e| panic!("{e}"))
    }

    #[tokio::test]
    async fn tasks_are_idempotent_per_token_and_end_when_told() {
        let pc = fake();
        let first = pc.start_accepting_engagement_invitation("engi-1", "t1").await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(first.status, TaskStatus::InProgress);
        let again = pc.start_accepting_engagement_invitation("engi-1", "t1").await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(again, first);
        let other_token = pc.start_accepting_engagement_invitation("engi-1", "t2").await.err();
        assert!(matches!(other_token, Some(PartnerCentralError::Conflict { .. })), "a task is running");
        let reused = pc.start_accepting_engagement_invitation("engi-2", "t1").await.err();
        assert!(matches!(reused, Some(PartnerCentralError::Conflict { .. })), "token of another request");
        let rejected_meanwhile = pc.reject_engagement_invitation("engi-1", &reason()).await.err();
        assert!(matches!(rejected_meanwhile, Some(PartnerCentralError::Conflict { .. })));

        pc.fail_acceptance_of("engi-2", "OpportunityValidationFailed", "no website");
        pc.start_accepting_engagement_invitation("engi-2", "t3").await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(pc.end_acceptance_tasks(), 2);
        assert_eq!(pc.end_acceptance_tasks(), 0, "ended tasks stay ended");
        let tasks: Vec<AcceptanceTask> = pc
            .list_acceptance_tasks(AcceptanceTaskQuery::default())
            .try_concat()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(tasks.len(), 2);
        assert_eq!(tasks[0].status, TaskStatus::Failed, "newest first unless asked otherwise");
        assert_eq!(tasks[0].reason_code, Some(TaskReasonCode::new("OpportunityValidationFailed")));
        assert_eq!(tasks[1].status, TaskStatus::Complete);
        assert!(tasks[1].opportunity_id.is_some());
        assert_eq!(pc.get(InvitationKind::Engagement, "engi-1").map(|i| i.status), Some(InvitationStatus::Accepted));
        assert_eq!(pc.get(InvitationKind::Engagement, "engi-2").map(|i| i.status), Some(InvitationStatus::Pending));
        let of_2 = pc.acceptance_tasks_of("engi-2").await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(of_2.len(), 1);
        assert_eq!(pc.acceptance_task(&of_2[0].task_id).await.ok().flatten().as_ref(), Some(&of_2[0]));
        assert_eq!(pc.calls().get("StartEngagementByAcceptingInvitationTask"), Some(&5));
    }

    #[tokio::test]
    async fn only_pending_received_invitations_are_answered() {
        let pc = fake();
        pc.reject_engagement_invitation("engi-3", &reason()).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(pc.rejection_reason("engi-3"), Some(reason()));
        assert_eq!(pc.get(InvitationKind::Engagement, "engi-3").map(|i| i.status), Some(InvitationStatus::Rejected));
        for id in ["engi-3", "engi-sent"] {
            let e = pc.start_accepting_engagement_invitation(id, &format!("t-{id}")).await.err();
            assert!(matches!(e, Some(PartnerCentralError::Conflict { .. })), "{id}: {e:?}");
        }
        let e = pc.reject_engagement_invitation("engi-404", &reason()).await.err();
        assert!(matches!(e, Some(PartnerCentralError::NotFound { .. })), "{e:?}");
        pc.fail_next("engi-1", PartnerCentralError::Throttled { operation: "X", message: "injected".into() });
        let e = pc.start_accepting_engagement_invitation("engi-1", "t").await.err();
        assert!(matches!(e, Some(PartnerCentralError::Throttled { .. })), "{e:?}");
    }
}

/// A [`ParameterStore`](crate::ports::ParameterStore) holding fixed parameters by name (an
/// unknown name is `ParameterNotFound`); it records the names read.
#[derive(Debug, Default)]
pub struct FixedParameters {
    parameters: std::collections::HashMap<
        String,
        Result<crate::policy::source::Parameter, crate::policy::source::ParameterError>,
    >,
    reads: std::sync::Mutex<Vec<String>>,
}

impl FixedParameters {
    /// A store holding `value` at `version` under `name`.
    pub fn with(mut self, name: &str, value: &str, version: i64) -> Self {
        self.parameters
            .insert(name.to_owned(), Ok(crate::policy::source::Parameter { value: value.to_owned(), version }));
        self
    }

    /// A store whose read of `name` fails with `error`.
    pub fn failing(mut self, name: &str, error: crate::policy::source::ParameterError) -> Self {
        self.parameters.insert(name.to_owned(), Err(error));
        self
    }

    /// The names read so far, in order.
    pub fn reads(&self) -> Vec<String> {
        self.reads.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

impl crate::ports::ParameterStore for FixedParameters {
    async fn get_parameter(
        &self,
        name: &str,
    ) -> Result<crate::policy::source::Parameter, crate::policy::source::ParameterError> {
        if let Ok(mut r) = self.reads.lock() {
            r.push(name.to_owned());
        }
        self.parameters.get(name).cloned().unwrap_or(Err(crate::policy::source::ParameterError::NotFound))
    }
}
