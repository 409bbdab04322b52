//! Ports: the narrow traits the functions' logic is written against. The adapters implement
//! them on the real AWS SDK clients; tests implement them with fakes.

use std::collections::BTreeMap;
use std::future::Future;

use chrono::{DateTime, Utc};
use futures::stream::BoxStream;

use crate::domain::engagement_response::{AcceptanceTask, RejectionReason, TaskStatus};
use crate::domain::{
    CommitOutcome, DeliveryReport, Invitation, InvitationKind, InvitationRecord, InvitationStatus, OutboundEvent,
    OutboxEntry, ParticipantType, RecordChange, SyncMeta, UnreadableInvitation,
};
use crate::error::{PartnerCentralError, StoreError};

/// Partner Central calls made so far, per operation (a run reports the difference).
pub trait CallCounts: Send + Sync {
    /// Counts so far.
    fn snapshot(&self) -> BTreeMap<String, u64>;

    /// Counts since `earlier` (a previous snapshot), operations with zero left out.
    fn since(&self, earlier: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
        self.snapshot()
            .into_iter()
            .map(|(op, n)| {
                let before = earlier.get(&op).copied().unwrap_or(0);
                (op, n.saturating_sub(before))
            })
            .filter(|(_, n)| *n > 0)
            .collect()
    }
}

/// What time it is, for decisions about expiry.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// A page of a listing, as one API call returned it (after conversion): the invitations the
/// domain can represent, and the ones it cannot — reported, never dropped silently and never
/// the end of the listing (see [`UnreadableInvitation`]). Pages concatenate
/// (`TryStreamExt::try_concat`) into one `Page`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    pub invitations: Vec<Invitation>,
    pub unreadable: Vec<UnreadableInvitation>,
}

/// One entry of a [`Page`].
#[derive(Debug, Clone, PartialEq, Eq)]
// Short-lived: moved straight into a page's vectors; boxing would only add an allocation.
#[allow(clippy::large_enum_variant)]
pub enum PageItem {
    Invitation(Invitation),
    Unreadable(UnreadableInvitation),
}

impl From<Vec<Invitation>> for Page {
    fn from(invitations: Vec<Invitation>) -> Self {
        Page { invitations, unreadable: Vec::new() }
    }
}

impl Extend<PageItem> for Page {
    fn extend<Items: IntoIterator<Item = PageItem>>(&mut self, items: Items) {
        for item in items {
            match item {
                PageItem::Invitation(i) => self.invitations.push(i),
                PageItem::Unreadable(u) => self.unreadable.push(u),
            }
        }
    }
}

impl FromIterator<PageItem> for Page {
    fn from_iter<Items: IntoIterator<Item = PageItem>>(items: Items) -> Self {
        let mut page = Page::default();
        page.extend(items);
        page
    }
}

impl IntoIterator for Page {
    type Item = PageItem;
    type IntoIter = std::iter::Chain<
        std::iter::Map<std::vec::IntoIter<Invitation>, fn(Invitation) -> PageItem>,
        std::iter::Map<std::vec::IntoIter<UnreadableInvitation>, fn(UnreadableInvitation) -> PageItem>,
    >;
    fn into_iter(self) -> Self::IntoIter {
        let invitations: fn(Invitation) -> PageItem = PageItem::Invitation;
        let unreadable: fn(UnreadableInvitation) -> PageItem = PageItem::Unreadable;
        self.invitations.into_iter().map(invitations).chain(self.unreadable.into_iter().map(unreadable))
    }
}

/// Filters of `ListConnectionInvitations` (every filter the API has).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectionInvitationQuery {
    /// `ConnectionType`, e.g. `OPPORTUNITY_COLLABORATION` or `SUBSIDIARY`.
    pub connection_type: Option<String>,
    pub participant_type: Option<ParticipantType>,
    pub status: Option<InvitationStatus>,
    /// `OtherParticipantIdentifiers` (at most 100).
    pub other_participant_identifiers: Vec<String>,
}

/// Order of an engagement invitation listing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EngagementOrder {
    /// No `Sort` parameter: the service's own order.
    #[default]
    Unsorted,
    /// Oldest `InvitationDate` first.
    OldestFirst,
    /// Newest `InvitationDate` first; with `stop_before`, pages stop being fetched once an
    /// invitation dated before that instant appears (and such invitations are not returned).
    NewestFirst { stop_before: Option<DateTime<Utc>> },
}

/// Filters of `ListEngagementInvitations`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngagementInvitationQuery {
    /// Required by the API.
    pub participant_type: ParticipantType,
    /// `Status` (1..10 values); empty = any.
    pub statuses: Vec<InvitationStatus>,
    /// `PayloadType`, e.g. `OpportunityInvitation`, `LeadInvitation`.
    pub payload_types: Vec<String>,
    /// `SenderAwsAccountId` (account ids or aliases, 1..10).
    pub sender_aws_account_ids: Vec<String>,
    /// `EngagementIdentifier` (1..10).
    pub engagement_identifiers: Vec<String>,
    pub order: EngagementOrder,
}

impl EngagementInvitationQuery {
    pub fn new(participant_type: ParticipantType) -> Self {
        EngagementInvitationQuery {
            participant_type,
            statuses: Vec::new(),
            payload_types: Vec::new(),
            sender_aws_account_ids: Vec::new(),
            engagement_identifiers: Vec::new(),
            order: EngagementOrder::Unsorted,
        }
    }
}

/// Connection invitations (Partner Central Account API).
pub trait ConnectionInvitations: Send + Sync {
    /// Every page of the listing, `MaxResults` 100.
    fn list_connection_invitations(
        &self,
        query: ConnectionInvitationQuery,
    ) -> BoxStream<'_, Result<Page, PartnerCentralError>>;

    /// One invitation with its detail-only fields (`InvitationMessage`, `InviterName`,
    /// `InviterEmail`).
    fn get_connection_invitation(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Invitation, PartnerCentralError>> + Send;

    /// Cancel one PENDING invitation we sent. `client_token` makes retries idempotent.
    fn cancel_connection_invitation(
        &self,
        id: &str,
        client_token: &str,
    ) -> impl Future<Output = Result<Invitation, PartnerCentralError>> + Send;
}

/// A connection created by accepting a connection invitation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedConnection {
    /// `Connection.Id`.
    pub connection_id: String,
    /// `Connection.OtherParticipantAccountId`, when given.
    pub other_participant_account_id: Option<String>,
}

/// Answering connection invitations we received (Partner Central Account API). Both calls
/// take a required `client_token`: the same token with the same invitation returns the same
/// result (a retry or a repeated run never answers twice); an invitation no longer PENDING is
/// a `Conflict`.
pub trait ConnectionResponses: Send + Sync {
    /// `AcceptConnectionInvitation`: creates the connection. `QuotaExceeded` at the
    /// active-connection limit.
    fn accept_connection_invitation(
        &self,
        id: &str,
        client_token: &str,
    ) -> impl Future<Output = Result<AcceptedConnection, PartnerCentralError>> + Send;

    /// `RejectConnectionInvitation`, with an optional reason (at most 256 characters).
    fn reject_connection_invitation(
        &self,
        id: &str,
        client_token: &str,
        reason: Option<&str>,
    ) -> impl Future<Output = Result<Invitation, PartnerCentralError>> + Send;
}

/// Engagement invitations (Partner Central Selling API).
pub trait EngagementInvitations: Send + Sync {
    /// Every page of the listing (or until the query's cut-off), `MaxResults` 100.
    fn list_engagement_invitations(
        &self,
        query: EngagementInvitationQuery,
    ) -> BoxStream<'_, Result<Page, PartnerCentralError>>;

    /// One invitation. The Get API does not return the participant type, so the caller
    /// states which side it is on.
    fn get_engagement_invitation(
        &self,
        id: &str,
        participant_type: ParticipantType,
    ) -> impl Future<Output = Result<Invitation, PartnerCentralError>> + Send;
}

/// One invitation of either kind by id (a Get on the API its kind lives in).
pub async fn get_invitation(
    connections: &impl ConnectionInvitations,
    engagements: &impl EngagementInvitations,
    kind: InvitationKind,
    id: &str,
    participant_type: ParticipantType,
) -> Result<Invitation, PartnerCentralError> {
    match kind {
        InvitationKind::Connection => connections.get_connection_invitation(id).await,
        InvitationKind::Engagement => engagements.get_engagement_invitation(id, participant_type).await,
    }
}

/// Order of an acceptance-task listing (`Sort` by `StartTime`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TaskOrder {
    /// No `Sort` parameter: the service's own order.
    #[default]
    Unsorted,
    NewestFirst,
    OldestFirst,
}

/// Filters of `ListEngagementByAcceptingInvitationTasks`; empty = no filter. The API takes at
/// most 10 identifiers per filter: the adapter splits longer lists into several listings (one
/// after the other, each in `order`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AcceptanceTaskQuery {
    /// `EngagementInvitationIdentifier` (ids or ARNs).
    pub invitation_ids: Vec<String>,
    /// `TaskIdentifier` (ids or ARNs).
    pub task_ids: Vec<String>,
    /// `TaskStatus`.
    pub statuses: Vec<TaskStatus>,
    pub order: TaskOrder,
}

impl AcceptanceTaskQuery {
    /// The tasks of these invitations, newest first.
    pub fn for_invitations(invitation_ids: impl IntoIterator<Item = impl Into<String>>) -> Self {
        AcceptanceTaskQuery {
            invitation_ids: invitation_ids.into_iter().map(Into::into).collect(),
            order: TaskOrder::NewestFirst,
            ..AcceptanceTaskQuery::default()
        }
    }
}

/// Answering engagement invitations we received (Partner Central Selling API): accept through
/// the asynchronous acceptance task, follow it, or reject. Writes are paced to the Selling
/// API's one write per second by the adapter's client (see `adapters::rate_limit`).
pub trait EngagementResponses: Send + Sync {
    /// `StartEngagementByAcceptingInvitationTask`: start accepting a PENDING invitation we
    /// received. The same `client_token` with the same invitation returns the same task (a
    /// retry or a repeated run never starts a second one); with another invitation it is a
    /// `Conflict`, as is an invitation no longer PENDING or already being accepted.
    fn start_accepting_engagement_invitation(
        &self,
        invitation_id: &str,
        client_token: &str,
    ) -> impl Future<Output = Result<AcceptanceTask, PartnerCentralError>> + Send;

    /// `ListEngagementByAcceptingInvitationTasks`: every page, `MaxResults` 100. A task the
    /// API returns unreadable (no `TaskId` or `TaskStatus`) is reported in the log and
    /// skipped, not the listing.
    fn list_acceptance_tasks(
        &self,
        query: AcceptanceTaskQuery,
    ) -> BoxStream<'_, Result<Vec<AcceptanceTask>, PartnerCentralError>>;

    /// Every task of one invitation, newest first.
    fn acceptance_tasks_of(
        &self,
        invitation_id: &str,
    ) -> impl Future<Output = Result<Vec<AcceptanceTask>, PartnerCentralError>> + Send {
        use futures::TryStreamExt;
        let pages = self.list_acceptance_tasks(AcceptanceTaskQuery::for_invitations([invitation_id]));
        async move { pages.try_concat().await }
    }

    /// One task by its id (or ARN); `None` when the API does not list it.
    fn acceptance_task(
        &self,
        task_id: &str,
    ) -> impl Future<Output = Result<Option<AcceptanceTask>, PartnerCentralError>> + Send {
        use futures::TryStreamExt;
        let pages = self.list_acceptance_tasks(AcceptanceTaskQuery {
            task_ids: vec![task_id.to_owned()],
            ..AcceptanceTaskQuery::default()
        });
        async move { Ok(pages.try_concat().await?.into_iter().next()) }
    }

    /// `RejectEngagementInvitation` of a PENDING invitation we received. The API takes no
    /// client token: a repeat is a `Conflict` (no longer PENDING), which callers confirm with
    /// a Get rather than treat as a failure.
    fn reject_engagement_invitation(
        &self,
        invitation_id: &str,
        reason: &RejectionReason,
    ) -> impl Future<Output = Result<(), PartnerCentralError>> + Send;
}

/// The event bus.
pub trait EventPublisher: Send + Sync {
    /// Publish every event, reporting per event whether it was delivered. Never drops an
    /// event silently: anything not delivered comes back as `Failed` with a reason.
    fn publish(&self, events: Vec<OutboundEvent>) -> impl Future<Output = DeliveryReport> + Send;
}

/// Outbox events read per page (one DynamoDB Query each): what the drain holds in memory at
/// once, whatever the backlog.
pub const OUTBOX_PAGE: usize = 100;

/// One page of the outbox ([`StateStore::outbox_page`]).
#[derive(Debug, Clone, Default)]
pub struct OutboxPage {
    pub entries: Vec<OutboxEntry>,
    /// Where the next page starts; `None` after the last page.
    pub next: Option<String>,
}

/// The shared state table of one catalog: invitation records, the outbox, sync bookkeeping.
pub trait StateStore: Send + Sync {
    /// Every record of the catalog (pending invitations and recently finished ones).
    fn load_records(&self) -> impl Future<Output = Result<Vec<InvitationRecord>, StoreError>> + Send;

    /// One record, read consistently.
    fn load_record(
        &self,
        kind: InvitationKind,
        id: &str,
    ) -> impl Future<Output = Result<Option<InvitationRecord>, StoreError>> + Send;

    /// Write each change's record together with its events, atomically per change, each
    /// only if the record is still as `expected`. One outcome per change, in order.
    fn commit(&self, changes: Vec<RecordChange>)
    -> impl Future<Output = Result<Vec<CommitOutcome>, StoreError>> + Send;

    /// Queue events that change no record (e.g. a digest).
    fn enqueue(&self, events: Vec<OutboundEvent>) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// One page of the events not yet delivered: at most [`OUTBOX_PAGE`], starting after
    /// `after` (the `next` of the page before; `None`: the first page), oldest first within
    /// the page. An item that cannot be read is set aside (a warning naming its key, counted
    /// in [`StateStore::items_set_aside`]), never the whole page.
    fn outbox_page(&self, after: Option<String>) -> impl Future<Output = Result<OutboxPage, StoreError>> + Send;

    /// Every event not yet delivered, oldest first: all pages at once, for tests and tools
    /// (the drain goes page by page, so its memory does not grow with a backlog).
    fn outbox(&self) -> impl Future<Output = Result<Vec<OutboxEntry>, StoreError>> + Send {
        async move {
            let mut entries = Vec::new();
            let mut after = None;
            loop {
                let page = self.outbox_page(after).await?;
                entries.extend(page.entries);
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
            entries.sort_by_key(|e: &OutboxEntry| (e.enqueued_at, e.event.time));
            Ok(entries)
        }
    }

    /// State items (records, outbox events) this store found unreadable and set aside so far,
    /// in this process (the run envelope reports the difference as `StateItemsSetAside`).
    fn items_set_aside(&self) -> u64 {
        0
    }

    /// The answers (and expiries) of invitations we received that this store committed since
    /// the last call, in this process (the run envelope emits them as `AnswerTime` /
    /// `ExpiredUnanswered`, see [`crate::metrics::answer_documents`]).
    fn take_answers(&self) -> Vec<crate::domain::AnswerFact> {
        Vec::new()
    }

    /// Remove delivered events from the outbox.
    fn remove_from_outbox(&self, event_ids: &[String]) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Count a failed delivery attempt (and its reason) on each event; they stay queued.
    fn note_delivery_failures(
        &self,
        failures: &[(String, String)],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn load_meta(&self) -> impl Future<Output = Result<SyncMeta, StoreError>> + Send;

    /// Save the sync bookkeeping if nobody saved it since it was read (`meta.version`).
    /// Returns false on a conflict.
    fn save_meta(&self, meta: &SyncMeta) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// A durable allowance of actions: at most `limit` counted under `key`, shared by every run,
/// retry and invocation of every process (e.g. cancellations per scheduled firing, per day).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowance {
    /// What is counted, e.g. `auto-cancel/day/2026-11-30`.
    pub key: String,
    pub limit: u32,
    /// When the count may be forgotten (well after the period it counts).
    pub expires_at: DateTime<Utc>,
}

/// What [`ActionBudget::take`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Take {
    /// One action was counted against every allowance.
    Taken,
    /// This allowance is used up; nothing was counted.
    UsedUp { key: String },
}

/// Durable counters that cap actions across runs, retries and invocations.
pub trait ActionBudget: Send + Sync {
    /// Count one action against every allowance, only if each stays within its limit: all or
    /// nothing.
    fn take(&self, allowances: &[Allowance]) -> impl Future<Output = Result<Take, StoreError>> + Send;

    /// Return one action counted by `take` that did not happen after all.
    fn give_back(&self, allowances: &[Allowance]) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Where a policy too large for the environment is kept: SSM Parameter Store (the adapter:
/// [`crate::adapters::ssm::SsmParameters`]), read once at start-up.
pub trait ParameterStore: Send + Sync {
    /// The value and version of parameter `name` (a name, a `name:version` or `name:label`
    /// selector, or an ARN), decrypted when it is a SecureString.
    fn get_parameter(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<crate::policy::source::Parameter, crate::policy::source::ParameterError>> + Send;
}
