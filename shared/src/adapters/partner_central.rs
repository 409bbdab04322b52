//! Partner Central adapters: the Account API (connection invitations) and the Selling API
//! (engagement invitations) on the real SDK clients. Every listing goes through the SDK's own
//! paginator with `MaxResults` 100; SDK types stop here.

use aws_sdk_partnercentralaccount as account;
use aws_sdk_partnercentralselling as selling;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use futures::stream::{self, BoxStream};

use super::sdk_error::{ErrorExtras, classify};
use crate::domain::engagement_response::{AcceptanceTask, RejectionReason, TaskReasonCode, TaskStatus};
use crate::domain::{
    Catalog, ConnectionDetails, Invitation, InvitationKind, InvitationStatus, OtherParty, ParticipantType,
    UnreadableInvitation,
};
use crate::error::PartnerCentralError;
use crate::ports::{
    AcceptanceTaskQuery, AcceptedConnection, ConnectionInvitationQuery, ConnectionInvitations, ConnectionResponses,
    EngagementInvitationQuery, EngagementInvitations, EngagementOrder, EngagementResponses, Page, PageItem, TaskOrder,
};

/// Page size of every listing: the APIs' maximum.
pub const PAGE_SIZE: i32 = 100;

/// Connection invitations of one catalog, through the Partner Central Account API.
#[derive(Debug, Clone)]
pub struct PartnerCentralAccount {
    client: account::Client,
    catalog: Catalog,
}

impl PartnerCentralAccount {
    /// The SDK client and catalog (the health check's calls).
    pub(crate) fn parts(&self) -> (&account::Client, Catalog) {
        (&self.client, self.catalog)
    }

    pub fn new(client: account::Client, catalog: Catalog) -> Self {
        PartnerCentralAccount { client, catalog }
    }
}

/// Engagement invitations of one catalog, through the Partner Central Selling API.
#[derive(Debug, Clone)]
pub struct PartnerCentralSelling {
    client: selling::Client,
    catalog: Catalog,
}

impl PartnerCentralSelling {
    /// The SDK client and catalog (the health check's calls).
    pub(crate) fn parts(&self) -> (&selling::Client, Catalog) {
        (&self.client, self.catalog)
    }

    pub fn new(client: selling::Client, catalog: Catalog) -> Self {
        PartnerCentralSelling { client, catalog }
    }
}

// ---------------------------------------------------------------------------------------
// Account API

impl ConnectionInvitations for PartnerCentralAccount {
    fn list_connection_invitations(
        &self,
        query: ConnectionInvitationQuery,
    ) -> BoxStream<'_, Result<Page, PartnerCentralError>> {
        const OP: &str = "ListConnectionInvitations";
        let request = self
            .client
            .list_connection_invitations()
            .catalog(self.catalog.as_str())
            .max_results(PAGE_SIZE)
            .set_connection_type(query.connection_type.as_deref().map(account::types::ConnectionType::from))
            .set_participant_type(query.participant_type.map(|p| account::types::ParticipantType::from(p.as_str())))
            .set_status(query.status.map(|s| account::types::InvitationStatus::from(s.as_str())))
            .set_other_participant_identifiers(
                (!query.other_participant_identifiers.is_empty()).then_some(query.other_participant_identifiers),
            );
        let pages = request.into_paginator().send();
        stream::unfold(Some(pages), move |state| async move {
            let mut pages = state?;
            let page = pages.next().await?;
            let converted = match page {
                Ok(out) => Ok(out
                    .connection_invitation_summaries()
                    .iter()
                    .map(|s| match connection_from_summary(s) {
                        Ok(invitation) => PageItem::Invitation(invitation),
                        Err(problem) => PageItem::Unreadable(problem.about(InvitationKind::Connection, s.id())),
                    })
                    .collect::<Page>()),
                Err(e) => Err(classify(OP, e, account_extras)),
            };
            // After an error the listing is over: yield it and stop.
            let next = converted.is_ok().then_some(pages);
            Some((converted, next))
        })
        .boxed()
    }

    async fn get_connection_invitation(&self, id: &str) -> Result<Invitation, PartnerCentralError> {
        const OP: &str = "GetConnectionInvitation";
        let out = self
            .client
            .get_connection_invitation()
            .catalog(self.catalog.as_str())
            .identifier(id)
            .send()
            .await
            .map_err(|e| classify(OP, e, account_extras))?;
        connection_from_detail(connection_fields!(out), connection_details!(out))
            .map_err(|problem| problem.unreadable(OP, InvitationKind::Connection, out.id()))
    }

    async fn cancel_connection_invitation(
        &self,
        id: &str,
        client_token: &str,
    ) -> Result<Invitation, PartnerCentralError> {
        const OP: &str = "CancelConnectionInvitation";
        let out = self
            .client
            .cancel_connection_invitation()
            .catalog(self.catalog.as_str())
            .identifier(id)
            .client_token(client_token)
            .send()
            .await
            .map_err(|e| classify(OP, e, account_extras))?;
        connection_from_detail(connection_fields!(out), connection_details!(out))
            .map_err(|problem| problem.unreadable(OP, InvitationKind::Connection, out.id()))
    }
}

impl ConnectionResponses for PartnerCentralAccount {
    async fn accept_connection_invitation(
        &self,
        id: &str,
        client_token: &str,
    ) -> Result<AcceptedConnection, PartnerCentralError> {
        const OP: &str = "AcceptConnectionInvitation";
        let out = self
            .client
            .accept_connection_invitation()
            .catalog(self.catalog.as_str())
            .identifier(id)
            .client_token(client_token)
            .send()
            .await
            .map_err(|e| classify(OP, e, account_extras))?;
        let connection = out.connection().ok_or_else(|| PartnerCentralError::UnexpectedResponse {
            operation: OP,
            message: format!("{id}: no Connection in the answer"),
        })?;
        let other = connection.other_participant_account_id();
        Ok(AcceptedConnection {
            connection_id: connection.id().to_owned(),
            other_participant_account_id: (!other.is_empty()).then(|| other.to_owned()),
        })
    }

    async fn reject_connection_invitation(
        &self,
        id: &str,
        client_token: &str,
        reason: Option<&str>,
    ) -> Result<Invitation, PartnerCentralError> {
        const OP: &str = "RejectConnectionInvitation";
        let out = self
            .client
            .reject_connection_invitation()
            .catalog(self.catalog.as_str())
            .identifier(id)
            .client_token(client_token)
            .set_reason(reason.map(str::to_owned))
            .send()
            .await
            .map_err(|e| classify(OP, e, account_extras))?;
        connection_from_detail(connection_fields!(out), connection_details!(out))
            .map_err(|problem| problem.unreadable(OP, InvitationKind::Connection, out.id()))
    }
}

/// The typed parts of Account API errors that the generic metadata lacks.
trait AccountErrorParts {
    fn as_validation(&self) -> Option<&account::types::error::ValidationException>;
    fn as_conflict(&self) -> Option<&account::types::error::ConflictException> {
        None
    }
    /// The reason of a `ServiceQuotaExceededException`.
    fn quota_reason(&self) -> Option<&str> {
        None
    }
}

macro_rules! account_error_parts {
    ($err:ty) => {
        impl AccountErrorParts for $err {
            fn as_validation(&self) -> Option<&account::types::error::ValidationException> {
                match self {
                    Self::ValidationException(v) => Some(v),
                    _ => None,
                }
            }
        }
    };
    ($err:ty, conflict) => {
        impl AccountErrorParts for $err {
            fn as_validation(&self) -> Option<&account::types::error::ValidationException> {
                match self {
                    Self::ValidationException(v) => Some(v),
                    _ => None,
                }
            }
            fn as_conflict(&self) -> Option<&account::types::error::ConflictException> {
                match self {
                    Self::ConflictException(c) => Some(c),
                    _ => None,
                }
            }
        }
    };
}

account_error_parts!(account::operation::list_connection_invitations::ListConnectionInvitationsError);
account_error_parts!(account::operation::get_connection_invitation::GetConnectionInvitationError);
account_error_parts!(account::operation::cancel_connection_invitation::CancelConnectionInvitationError, conflict);
account_error_parts!(account::operation::reject_connection_invitation::RejectConnectionInvitationError, conflict);

impl AccountErrorParts for account::operation::accept_connection_invitation::AcceptConnectionInvitationError {
    fn as_validation(&self) -> Option<&account::types::error::ValidationException> {
        match self {
            Self::ValidationException(v) => Some(v),
            _ => None,
        }
    }
    fn as_conflict(&self) -> Option<&account::types::error::ConflictException> {
        match self {
            Self::ConflictException(c) => Some(c),
            _ => None,
        }
    }
    fn quota_reason(&self) -> Option<&str> {
        match self {
            Self::ServiceQuotaExceededException(q) => Some(q.reason().as_str()),
            _ => None,
        }
    }
}

fn account_extras(e: &impl AccountErrorParts) -> ErrorExtras {
    let fields = e
        .as_validation()
        .map(|v| {
            v.error_details()
                .iter()
                .filter_map(|d| match d {
                    account::types::ValidationError::FieldValidationError(f) => Some(f.name().to_owned()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let reason =
        e.as_conflict().map(|c| c.reason().as_str().to_owned()).or_else(|| e.quota_reason().map(str::to_owned));
    ErrorExtras { reason, fields }
}

/// The members every connection-invitation shape has (summary, Get, Cancel). The SDK gives
/// the three shapes no common trait, hence the macros.
struct ConnectionFields<'a> {
    catalog: &'a str,
    id: &'a str,
    arn: &'a str,
    connection_id: Option<&'a str>,
    connection_type: &'a str,
    created_at: &'a aws_smithy_types::DateTime,
    updated_at: &'a aws_smithy_types::DateTime,
    expires_at: Option<&'a aws_smithy_types::DateTime>,
    other_participant_identifier: &'a str,
    participant_type: &'a str,
    status: &'a str,
}

macro_rules! connection_fields {
    ($s:expr) => {
        ConnectionFields {
            catalog: $s.catalog(),
            id: $s.id(),
            arn: $s.arn(),
            connection_id: $s.connection_id(),
            connection_type: $s.connection_type().as_str(),
            created_at: $s.created_at(),
            updated_at: $s.updated_at(),
            expires_at: $s.expires_at(),
            other_participant_identifier: $s.other_participant_identifier(),
            participant_type: $s.participant_type().as_str(),
            status: $s.status().as_str(),
        }
    };
}
use connection_fields;

/// The detail-only members of the Get and Cancel responses.
macro_rules! connection_details {
    ($o:expr) => {
        Some(ConnectionDetails {
            invitation_message: $o.invitation_message().to_owned(),
            inviter_name: $o.inviter_name().to_owned(),
            inviter_email: Some($o.inviter_email().to_owned()),
        })
    };
}
use connection_details;

fn connection_from_summary(s: &account::types::ConnectionInvitationSummary) -> Result<Invitation, Problem> {
    connection_from_detail(connection_fields!(s), None)
}

/// Which members are closed sets (an unknown value makes the invitation unreadable) and which
/// are carried as they come is documented in the README's contract section: `Catalog`,
/// `Status` and `ParticipantType` are closed; `ConnectionType` is an open string.
fn connection_from_detail(f: ConnectionFields<'_>, details: Option<ConnectionDetails>) -> Result<Invitation, Problem> {
    Ok(Invitation {
        kind: InvitationKind::Connection,
        id: required("Id", f.id)?.to_owned(),
        arn: f.arn.to_owned(),
        catalog: parse("Catalog", f.catalog)?,
        status: parse("Status", f.status)?,
        participant_type: parse("ParticipantType", f.participant_type)?,
        created_at: to_chrono("CreatedAt", f.created_at)?,
        updated_at: Some(to_chrono("UpdatedAt", f.updated_at)?),
        expires_at: f.expires_at.map(|t| to_chrono("ExpiresAt", t)).transpose()?,
        other_party: OtherParty {
            participant_identifier: Some(f.other_participant_identifier.to_owned()),
            ..OtherParty::default()
        },
        connection_type: Some(f.connection_type.to_owned()),
        connection_id: f.connection_id.map(str::to_owned),
        payload_type: None,
        engagement_id: None,
        engagement_title: None,
        details,
    })
}

// ---------------------------------------------------------------------------------------
// Selling API

impl EngagementInvitations for PartnerCentralSelling {
    fn list_engagement_invitations(
        &self,
        query: EngagementInvitationQuery,
    ) -> BoxStream<'_, Result<Page, PartnerCentralError>> {
        const OP: &str = "ListEngagementInvitations";
        let non_empty = |v: Vec<String>| (!v.is_empty()).then_some(v);
        let (sort, stop_before) = match query.order {
            EngagementOrder::Unsorted => (None, None),
            EngagementOrder::OldestFirst => (Some(selling::types::SortOrder::Ascending), None),
            EngagementOrder::NewestFirst { stop_before } => (Some(selling::types::SortOrder::Descending), stop_before),
        };
        let sort = sort.and_then(|order| {
            selling::types::OpportunityEngagementInvitationSort::builder()
                .sort_order(order)
                .sort_by(selling::types::OpportunityEngagementInvitationSortName::InvitationDate)
                .build()
                .ok()
        });
        let participant_type = query.participant_type;
        let request =
            self.client
                .list_engagement_invitations()
                .catalog(self.catalog.as_str())
                .max_results(PAGE_SIZE)
                .participant_type(selling::types::ParticipantType::from(participant_type.as_str()))
                .set_status((!query.statuses.is_empty()).then(|| {
                    query.statuses.iter().map(|s| selling::types::InvitationStatus::from(s.as_str())).collect()
                }))
                .set_payload_type((!query.payload_types.is_empty()).then(|| {
                    query
                        .payload_types
                        .iter()
                        .map(|p| selling::types::EngagementInvitationPayloadType::from(p.as_str()))
                        .collect()
                }))
                .set_sender_aws_account_id(non_empty(query.sender_aws_account_ids))
                .set_engagement_identifier(non_empty(query.engagement_identifiers))
                .set_sort(sort);
        let pages = request.into_paginator().send();
        stream::unfold(Some(pages), move |state| async move {
            let mut pages = state?;
            let page = pages.next().await?;
            let mut reached_cutoff = false;
            let converted = match page {
                Ok(out) => {
                    let mut items = Page::default();
                    for s in out.engagement_invitation_summaries() {
                        match engagement_from_summary(s, participant_type) {
                            Ok(inv) if stop_before.is_some_and(|t| inv.created_at < t) => {
                                reached_cutoff = true;
                                break;
                            }
                            Ok(inv) => items.invitations.push(inv),
                            Err(problem) => items.unreadable.push(problem.about(InvitationKind::Engagement, s.id())),
                        }
                    }
                    Ok(items)
                }
                Err(e) => Err(classify(OP, e, |e| selling_extras(selling_validation_list(e)))),
            };
            let next = (converted.is_ok() && !reached_cutoff).then_some(pages);
            Some((converted, next))
        })
        .boxed()
    }

    async fn get_engagement_invitation(
        &self,
        id: &str,
        participant_type: ParticipantType,
    ) -> Result<Invitation, PartnerCentralError> {
        const OP: &str = "GetEngagementInvitation";
        let out = self
            .client
            .get_engagement_invitation()
            .catalog(self.catalog.as_str())
            .identifier(id)
            .send()
            .await
            .map_err(|e| {
                classify(OP, e, |e| match e {
                    selling::operation::get_engagement_invitation::GetEngagementInvitationError::ValidationException(v) => {
                        selling_extras(Some(v))
                    }
                    _ => ErrorExtras::default(),
                })
            })?;
        engagement_from_fields(
            EngagementFields {
                catalog: out.catalog(),
                id: out.id(),
                arn: out.arn(),
                payload_type: out.payload_type().map(|p| p.as_str()),
                engagement_id: out.engagement_id(),
                engagement_title: out.engagement_title(),
                status: out.status().map(|s| s.as_str()),
                invitation_date: out.invitation_date(),
                expiration_date: out.expiration_date(),
                sender_aws_account_id: out.sender_aws_account_id(),
                sender_company_name: out.sender_company_name(),
                receiver: out.receiver(),
            },
            participant_type,
        )
        .map_err(|problem| problem.unreadable(OP, InvitationKind::Engagement, out.id()))
    }
}

fn selling_validation_list(
    e: &selling::operation::list_engagement_invitations::ListEngagementInvitationsError,
) -> Option<&selling::types::error::ValidationException> {
    match e {
        selling::operation::list_engagement_invitations::ListEngagementInvitationsError::ValidationException(v) => {
            Some(v)
        }
        _ => None,
    }
}

fn selling_extras(validation: Option<&selling::types::error::ValidationException>) -> ErrorExtras {
    let fields = validation
        .map(|v| v.error_list().iter().filter_map(|e| e.field_name().map(str::to_owned)).collect())
        .unwrap_or_default();
    ErrorExtras { reason: None, fields }
}

struct EngagementFields<'a> {
    catalog: &'a str,
    id: &'a str,
    arn: Option<&'a str>,
    payload_type: Option<&'a str>,
    engagement_id: Option<&'a str>,
    engagement_title: Option<&'a str>,
    status: Option<&'a str>,
    invitation_date: Option<&'a aws_smithy_types::DateTime>,
    expiration_date: Option<&'a aws_smithy_types::DateTime>,
    sender_aws_account_id: Option<&'a str>,
    sender_company_name: Option<&'a str>,
    receiver: Option<&'a selling::types::Receiver>,
}

fn engagement_from_summary(
    s: &selling::types::EngagementInvitationSummary,
    queried_as: ParticipantType,
) -> Result<Invitation, Problem> {
    let participant_type = match s.participant_type() {
        Some(p) => parse("ParticipantType", p.as_str())?,
        None => queried_as,
    };
    engagement_from_fields(
        EngagementFields {
            catalog: s.catalog(),
            id: s.id(),
            arn: s.arn(),
            payload_type: s.payload_type().map(|p| p.as_str()),
            engagement_id: s.engagement_id(),
            engagement_title: s.engagement_title(),
            status: s.status().map(|s| s.as_str()),
            invitation_date: s.invitation_date(),
            expiration_date: s.expiration_date(),
            sender_aws_account_id: s.sender_aws_account_id(),
            sender_company_name: s.sender_company_name(),
            receiver: s.receiver(),
        },
        participant_type,
    )
}

/// `Catalog`, `Status` and `ParticipantType` are closed sets, `Status` and `InvitationDate`
/// are needed (an invitation without them is unreadable); `PayloadType` is an open string.
fn engagement_from_fields(f: EngagementFields<'_>, participant_type: ParticipantType) -> Result<Invitation, Problem> {
    required("Id", f.id)?;
    let catalog: Catalog = parse("Catalog", f.catalog)?;
    let status: InvitationStatus = parse("Status", f.status.ok_or_else(|| missing("Status"))?)?;
    let created_at = to_chrono("InvitationDate", f.invitation_date.ok_or_else(|| missing("InvitationDate"))?)?;
    let (receiver_aws_account_id, receiver_alias) = match f.receiver {
        Some(selling::types::Receiver::Account(a)) => {
            (Some(a.aws_account_id().to_owned()), a.alias().map(str::to_owned))
        }
        _ => (None, None),
    };
    // The Selling API may omit the ARN (and the id may itself be an ARN); events are keyed
    // on an ARN, so derive the one the service documents.
    let arn = match (f.arn, f.id.starts_with("arn:")) {
        (Some(arn), _) => arn.to_owned(),
        (None, true) => f.id.to_owned(),
        (None, false) => format!(
            "arn:{}:partnercentral:{}::catalog/{}/engagement-invitation/{}",
            super::aws::partition_of(super::aws::PARTNER_CENTRAL_REGION),
            super::aws::PARTNER_CENTRAL_REGION,
            catalog,
            f.id
        ),
    };
    Ok(Invitation {
        kind: InvitationKind::Engagement,
        id: f.id.to_owned(),
        arn,
        catalog,
        status,
        participant_type,
        created_at,
        updated_at: None,
        expires_at: f.expiration_date.map(|t| to_chrono("ExpirationDate", t)).transpose()?,
        other_party: OtherParty {
            participant_identifier: None,
            sender_aws_account_id: f.sender_aws_account_id.map(str::to_owned),
            sender_company_name: f.sender_company_name.map(str::to_owned),
            receiver_aws_account_id,
            receiver_alias,
        },
        connection_type: None,
        connection_id: None,
        payload_type: f.payload_type.map(str::to_owned),
        engagement_id: f.engagement_id.map(str::to_owned),
        engagement_title: f.engagement_title.map(str::to_owned),
        details: None,
    })
}

// ---------------------------------------------------------------------------------------
// Selling API: answering engagement invitations

/// Most identifiers per filter of `ListEngagementByAcceptingInvitationTasks`.
pub const MAX_TASK_FILTER_IDENTIFIERS: usize = 10;

impl EngagementResponses for PartnerCentralSelling {
    async fn start_accepting_engagement_invitation(
        &self,
        invitation_id: &str,
        client_token: &str,
    ) -> Result<AcceptanceTask, PartnerCentralError> {
        const OP: &str = "StartEngagementByAcceptingInvitationTask";
        let out = self
            .client
            .start_engagement_by_accepting_invitation_task()
            .catalog(self.catalog.as_str())
            .identifier(invitation_id)
            .client_token(client_token)
            .send()
            .await
            .map_err(|e| classify(OP, e, selling_response_extras))?;
        task_from_fields(OP, task_fields!(out))
    }

    fn list_acceptance_tasks(
        &self,
        query: AcceptanceTaskQuery,
    ) -> BoxStream<'_, Result<Vec<AcceptanceTask>, PartnerCentralError>> {
        const OP: &str = "ListEngagementByAcceptingInvitationTasks";
        let sort_order = match query.order {
            TaskOrder::Unsorted => None,
            TaskOrder::NewestFirst => Some(selling::types::SortOrder::Descending),
            TaskOrder::OldestFirst => Some(selling::types::SortOrder::Ascending),
        };
        let sort = sort_order.and_then(|order| {
            selling::types::ListTasksSortBase::builder()
                .sort_order(order)
                .sort_by(selling::types::ListTasksSortName::StartTime)
                .build()
                .ok()
        });
        let statuses = (!query.statuses.is_empty())
            .then(|| query.statuses.iter().map(|s| selling::types::TaskStatus::from(s.as_str())).collect::<Vec<_>>());
        // One listing per combination of at most 10 invitation ids and 10 task ids.
        let chunks = |ids: &[String]| -> Vec<Option<Vec<String>>> {
            if ids.is_empty() {
                vec![None]
            } else {
                ids.chunks(MAX_TASK_FILTER_IDENTIFIERS).map(|c| Some(c.to_vec())).collect()
            }
        };
        let task_chunks = chunks(&query.task_ids);
        let requests: Vec<_> = chunks(&query.invitation_ids)
            .into_iter()
            .flat_map(|invitations| task_chunks.iter().map(move |tasks| (invitations.clone(), tasks.clone())))
            .map(|(invitations, tasks)| {
                self.client
                    .list_engagement_by_accepting_invitation_tasks()
                    .catalog(self.catalog.as_str())
                    .max_results(PAGE_SIZE)
                    .set_engagement_invitation_identifier(invitations)
                    .set_task_identifier(tasks)
                    .set_task_status(statuses.clone())
                    .set_sort(sort.clone())
            })
            .collect();
        stream::iter(requests)
            .flat_map(|request| {
                let pages = request.into_paginator().send();
                stream::unfold(Some(pages), move |state| async move {
                    let mut pages = state?;
                    let page = pages.next().await?;
                    let converted = match page {
                        // One unreadable task is reported and skipped, not the listing.
                        Ok(out) => Ok(out
                            .task_summaries()
                            .iter()
                            .filter_map(|s| {
                                task_from_fields(OP, task_fields!(s))
                                    .inspect_err(|e| {
                                        tracing::warn!(
                                            error = %e,
                                            task_id = s.task_id().unwrap_or("-"),
                                            invitation_id = s.engagement_invitation_id().unwrap_or("-"),
                                            "acceptance task skipped"
                                        );
                                    })
                                    .ok()
                            })
                            .collect::<Vec<_>>()),
                        Err(e) => Err(classify(OP, e, selling_response_extras)),
                    };
                    // After an error this listing is over: yield it and stop.
                    let next = converted.is_ok().then_some(pages);
                    Some((converted, next))
                })
            })
            .boxed()
    }

    async fn reject_engagement_invitation(
        &self,
        invitation_id: &str,
        reason: &RejectionReason,
    ) -> Result<(), PartnerCentralError> {
        const OP: &str = "RejectEngagementInvitation";
        self.client
            .reject_engagement_invitation()
            .catalog(self.catalog.as_str())
            .identifier(invitation_id)
            .rejection_reason(reason.as_str())
            .send()
            .await
            .map_err(|e| classify(OP, e, selling_response_extras))?;
        Ok(())
    }
}

/// The invalid fields of a Selling API `ValidationException`, for the operations answering
/// invitations (each has its own error enum; the macro gives them one accessor).
trait SellingValidation {
    fn as_validation(&self) -> Option<&selling::types::error::ValidationException>;
}

macro_rules! selling_validation {
    ($($err:ty),+) => {$(
        impl SellingValidation for $err {
            fn as_validation(&self) -> Option<&selling::types::error::ValidationException> {
                match self {
                    Self::ValidationException(v) => Some(v),
                    _ => None,
                }
            }
        }
    )+};
}

selling_validation!(
    selling::operation::start_engagement_by_accepting_invitation_task::StartEngagementByAcceptingInvitationTaskError,
    selling::operation::list_engagement_by_accepting_invitation_tasks::ListEngagementByAcceptingInvitationTasksError,
    selling::operation::reject_engagement_invitation::RejectEngagementInvitationError
);

fn selling_response_extras(e: &impl SellingValidation) -> ErrorExtras {
    selling_extras(e.as_validation())
}

/// The members of an acceptance task, common to the Start response and the List summary
/// (the SDK gives the two shapes no common trait, hence the macro).
struct TaskFields<'a> {
    task_id: Option<&'a str>,
    task_arn: Option<&'a str>,
    invitation_id: Option<&'a str>,
    status: Option<&'a str>,
    start_time: Option<&'a aws_smithy_types::DateTime>,
    opportunity_id: Option<&'a str>,
    resource_snapshot_job_id: Option<&'a str>,
    reason_code: Option<&'a str>,
    message: Option<&'a str>,
}

macro_rules! task_fields {
    ($s:expr) => {
        TaskFields {
            task_id: $s.task_id(),
            task_arn: $s.task_arn(),
            invitation_id: $s.engagement_invitation_id(),
            status: $s.task_status().map(|s| s.as_str()),
            start_time: $s.start_time(),
            opportunity_id: $s.opportunity_id(),
            resource_snapshot_job_id: $s.resource_snapshot_job_id(),
            reason_code: $s.reason_code().map(|r| r.as_str()),
            message: $s.message(),
        }
    };
}
use task_fields;

/// A task needs its `TaskId` and `TaskStatus` to be followed; a status or reason code this
/// version does not know is kept as it came.
fn task_from_fields(op: &'static str, f: TaskFields<'_>) -> Result<AcceptanceTask, PartnerCentralError> {
    Ok(AcceptanceTask {
        task_id: f.task_id.ok_or_else(|| missing("TaskId").in_response(op))?.to_owned(),
        task_arn: f.task_arn.map(str::to_owned),
        invitation_id: f.invitation_id.map(str::to_owned),
        status: TaskStatus::from_wire(f.status.ok_or_else(|| missing("TaskStatus").in_response(op))?),
        started_at: f.start_time.map(|t| to_chrono("StartTime", t)).transpose().map_err(|p| p.in_response(op))?,
        opportunity_id: f.opportunity_id.map(str::to_owned),
        resource_snapshot_job_id: f.resource_snapshot_job_id.map(str::to_owned),
        reason_code: f.reason_code.map(TaskReasonCode::new),
        message: f.message.map(str::to_owned),
    })
}

// ---------------------------------------------------------------------------------------
// Conversions

/// A member that cannot be read into the domain.
#[derive(Debug)]
struct Problem {
    member: &'static str,
    raw_value: Option<String>,
    problem: String,
}

impl Problem {
    /// The invitation `id` of `kind` is unreadable because of this member.
    fn about(self, kind: InvitationKind, id: &str) -> UnreadableInvitation {
        UnreadableInvitation {
            kind,
            id: id.to_owned(),
            member: self.member,
            raw_value: self.raw_value,
            problem: self.problem,
        }
    }

    /// The invitation a call of `operation` returned is unreadable.
    fn unreadable(self, operation: &'static str, kind: InvitationKind, id: &str) -> PartnerCentralError {
        PartnerCentralError::Unreadable { operation, invitation: self.about(kind, id) }
    }

    /// A response (not an invitation) that cannot be read.
    fn in_response(self, operation: &'static str) -> PartnerCentralError {
        PartnerCentralError::UnexpectedResponse { operation, message: format!("{}: {}", self.member, self.problem) }
    }
}

/// A closed-set member. A required one the response left out reaches us filled in by the SDK
/// (its error correction: "" for a string, [`SDK_UNSET_ENUM`] for an enum) rather than as a
/// failure of the whole response: that is a missing member.
fn parse<T>(member: &'static str, value: &str) -> Result<T, Problem>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    required(member, value)?.parse().map_err(|e: T::Err| Problem {
        member,
        raw_value: Some(value.to_owned()),
        problem: e.to_string(),
    })
}

fn missing(member: &'static str) -> Problem {
    Problem { member, raw_value: None, problem: "is missing".to_owned() }
}

/// What the SDK's error correction puts in a required enum member the response left out.
const SDK_UNSET_ENUM: &str = "no value was set";

/// A required member: the SDK fills a missing one in ("", or [`SDK_UNSET_ENUM`]) rather than
/// failing the whole response.
fn required<'a>(member: &'static str, value: &'a str) -> Result<&'a str, Problem> {
    if value.is_empty() || value == SDK_UNSET_ENUM { Err(missing(member)) } else { Ok(value) }
}

fn to_chrono(member: &'static str, t: &aws_smithy_types::DateTime) -> Result<DateTime<Utc>, Problem> {
    DateTime::from_timestamp(t.secs(), t.subsec_nanos()).ok_or_else(|| Problem {
        member,
        raw_value: Some(format!("{} seconds since the epoch", t.secs())),
        problem: "timestamp out of range".to_owned(),
    })
}
