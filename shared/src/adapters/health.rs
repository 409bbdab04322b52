//! The health check's calls on the real SDK clients ([`crate::health`]): one page (or one Get)
//! of each Partner Central API the function uses, a conditional no-op write and a read of a
//! health item in the state table, one `Health Check` event on the bus. An SDK error becomes
//! a [`Check`]: denied (AccessDenied, with the action AWS names) or failed.

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use chrono::Utc;

use super::{DynamoStateStore, EventBridgePublisher, PartnerCentralAccount, PartnerCentralSelling};
use crate::domain::{Catalog, InvitationKind};
use crate::health::{Check, HealthReport, health_check_event};

/// How a function reads a Partner Central API in its runs, so how its check reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reads {
    /// It lists invitations: the check lists one page (at most one invitation).
    List,
    /// It only gets invitations by id (native-relay): the check gets one that does not
    /// exist; NotFound proves the call was allowed.
    Get,
}

/// The partition key of the health items (no invitation, outbox or sync item uses it).
pub const HEALTH_PARTITION: &str = "HEALTH";

/// Connection and engagement invitation ids that fit the APIs' patterns and never exist.
const ABSENT_CONNECTION_INVITATION: &str = "pacinv-0000000000000";
const ABSENT_ENGAGEMENT_INVITATION: &str = "engi-0000000000000";

/// A function's health check over its own clients.
#[derive(Debug, Clone, Copy)]
pub struct HealthProbes<'a> {
    pub function: &'static str,
    /// The Account API (connection invitations), if the function uses it.
    pub account: Option<(&'a PartnerCentralAccount, Reads)>,
    /// The Selling API (engagement invitations), if the function uses it.
    pub selling: Option<(&'a PartnerCentralSelling, Reads)>,
    pub store: &'a DynamoStateStore,
    pub publisher: &'a EventBridgePublisher,
}

/// Denied or failed, from an SDK error of `action`.
fn from_error<E>(check: &str, action: &str, err: SdkError<E, HttpResponse>) -> Check
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match err.code() {
        Some("AccessDeniedException" | "AccessDenied" | "UnauthorizedOperation") => {
            let message = err.message().unwrap_or("access denied").to_owned();
            Check::denied(check, action, message)
        }
        _ => Check::failed(check, action, DisplayErrorContext(&err).to_string()),
    }
}

impl HealthProbes<'_> {
    /// Every check, in order; `request_id` makes the event's id one per invocation.
    pub async fn run(&self, request_id: &str) -> HealthReport {
        let (_, _, catalog) = self.store.parts();
        let mut checks = Vec::new();
        if let Some((account, reads)) = self.account {
            checks.push(account_check(account, reads).await);
        }
        if let Some((selling, reads)) = self.selling {
            checks.push(selling_check(selling, reads).await);
        }
        checks.extend(store_checks(self.store, self.function).await);
        checks.push(bus_check(self.publisher, self.function, catalog, request_id).await);
        let report = HealthReport::new(self.function, catalog, checks);
        let rendered = serde_json::to_string(&report).unwrap_or_default();
        if report.healthy {
            tracing::info!(report = %rendered, "health check: every check ok");
        } else {
            tracing::error!(report = %rendered, "health check: not every check ok");
        }
        report
    }
}

const ACCOUNT: &str = "Partner Central Account API";
const SELLING: &str = "Partner Central Selling API";

async fn account_check(account: &PartnerCentralAccount, reads: Reads) -> Check {
    let (client, catalog) = account.parts();
    match reads {
        Reads::List => {
            const ACTION: &str = "partnercentral:ListConnectionInvitations";
            match client.list_connection_invitations().catalog(catalog.as_str()).max_results(1).send().await {
                Ok(out) => Check::ok(
                    ACCOUNT,
                    ACTION,
                    format!(
                        "listed {} connection invitation(s) of {catalog}",
                        out.connection_invitation_summaries().len()
                    ),
                ),
                Err(e) => from_error(ACCOUNT, ACTION, e),
            }
        }
        Reads::Get => {
            const ACTION: &str = "partnercentral:GetConnectionInvitation";
            let call = client
                .get_connection_invitation()
                .catalog(catalog.as_str())
                .identifier(ABSENT_CONNECTION_INVITATION)
                .send()
                .await;
            let not_found = |e: &SdkError<_, _>| {
                e.as_service_error().is_some_and(
                    aws_sdk_partnercentralaccount::operation::get_connection_invitation::GetConnectionInvitationError::is_resource_not_found_exception,
                )
            };
            get_outcome(ACCOUNT, ACTION, InvitationKind::Connection, call.map(|_| ()), not_found)
        }
    }
}

async fn selling_check(selling: &PartnerCentralSelling, reads: Reads) -> Check {
    let (client, catalog) = selling.parts();
    match reads {
        Reads::List => {
            const ACTION: &str = "partnercentral:ListEngagementInvitations";
            let call = client
                .list_engagement_invitations()
                .catalog(catalog.as_str())
                .max_results(1)
                .participant_type(aws_sdk_partnercentralselling::types::ParticipantType::Receiver)
                .send()
                .await;
            match call {
                Ok(out) => Check::ok(
                    SELLING,
                    ACTION,
                    format!(
                        "listed {} engagement invitation(s) of {catalog}",
                        out.engagement_invitation_summaries().len()
                    ),
                ),
                Err(e) => from_error(SELLING, ACTION, e),
            }
        }
        Reads::Get => {
            const ACTION: &str = "partnercentral:GetEngagementInvitation";
            let call = client
                .get_engagement_invitation()
                .catalog(catalog.as_str())
                .identifier(ABSENT_ENGAGEMENT_INVITATION)
                .send()
                .await;
            let not_found = |e: &SdkError<_, _>| {
                e.as_service_error().is_some_and(
                    aws_sdk_partnercentralselling::operation::get_engagement_invitation::GetEngagementInvitationError::is_resource_not_found_exception,
                )
            };
            get_outcome(SELLING, ACTION, InvitationKind::Engagement, call.map(|_| ()), not_found)
        }
    }
}

/// A Get of an invitation that does not exist: NotFound is the allowed answer.
fn get_outcome<E>(
    check: &str,
    action: &str,
    kind: InvitationKind,
    call: Result<(), SdkError<E, HttpResponse>>,
    not_found: impl Fn(&SdkError<E, HttpResponse>) -> bool,
) -> Check
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match call {
        Err(e) if not_found(&e) => {
            Check::ok(check, action, format!("allowed (no such {kind} invitation: not found, as expected)"))
        }
        Ok(()) => Check::ok(check, action, "allowed"),
        Err(e) => from_error(check, action, e),
    }
}

/// The conditional no-op write (its condition can never hold: ConditionalCheckFailed proves
/// the write was allowed and changed nothing) and the read of the function's health item.
async fn store_checks(store: &DynamoStateStore, function: &str) -> [Check; 2] {
    const WRITE: &str = "state table write";
    const READ: &str = "state table read";
    let (client, table, _) = store.parts();
    let key = [
        ("pk".to_owned(), AttributeValue::S(HEALTH_PARTITION.to_owned())),
        ("sk".to_owned(), AttributeValue::S(function.to_owned())),
    ];
    let write = client
        .update_item()
        .table_name(table)
        .set_key(Some(key.clone().into_iter().collect()))
        .update_expression("SET checkedAt = :now")
        .condition_expression("attribute_exists(pk) AND attribute_not_exists(pk)")
        .expression_attribute_values(":now", AttributeValue::S(Utc::now().to_rfc3339()))
        .send()
        .await;
    let write = match write {
        Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => {
            Check::ok(WRITE, "dynamodb:UpdateItem", format!("allowed on {table}; its condition kept it a no-op"))
        }
        Ok(_) => Check::failed(
            WRITE,
            "dynamodb:UpdateItem",
            "the write's impossible condition held: the table does not evaluate conditions",
        ),
        Err(e) => from_error(WRITE, "dynamodb:UpdateItem", e),
    };
    let read = match client.get_item().table_name(table).set_key(Some(key.into_iter().collect())).send().await {
        Ok(out) if out.item().is_none() => {
            Check::ok(READ, "dynamodb:GetItem", format!("allowed on {table}; nothing stored"))
        }
        Ok(_) => Check::failed(READ, "dynamodb:GetItem", "a health item exists: something wrote it"),
        Err(e) => from_error(READ, "dynamodb:GetItem", e),
    };
    [write, read]
}

async fn bus_check(publisher: &EventBridgePublisher, function: &str, catalog: Catalog, request_id: &str) -> Check {
    const CHECK: &str = "event bus";
    const ACTION: &str = "events:PutEvents";
    let (client, bus, source) = publisher.parts();
    let event = match health_check_event(function, catalog, request_id, Utc::now()) {
        Ok(event) => event,
        Err(e) => return Check::failed(CHECK, ACTION, format!("cannot render the Health Check event: {e}")),
    };
    let entry = PutEventsRequestEntry::builder()
        .event_bus_name(bus)
        .source(source)
        .detail_type(&event.detail_type)
        .detail(&event.detail)
        .time(aws_smithy_types::DateTime::from_secs(event.time.timestamp()))
        .build();
    match client.put_events().entries(entry).send().await {
        Ok(out) => match out.entries().first() {
            Some(e) if e.error_code().is_none() => Check::ok(
                CHECK,
                ACTION,
                format!("put one Health Check event on {bus} ({})", e.event_id().unwrap_or("no id")),
            ),
            Some(e) if e.error_code() == Some("AccessDeniedException") => {
                Check::denied(CHECK, ACTION, e.error_message().unwrap_or("access denied"))
            }
            Some(e) => Check::failed(
                CHECK,
                ACTION,
                format!("{}: {}", e.error_code().unwrap_or("?"), e.error_message().unwrap_or("")),
            ),
            None => Check::failed(CHECK, ACTION, "PutEvents answered without an entry"),
        },
        Err(e) => from_error(CHECK, ACTION, e),
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
    use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
    use aws_sdk_eventbridge::operation::put_events::PutEventsOutput;
    use aws_sdk_eventbridge::types::PutEventsResultEntry;
    use aws_sdk_partnercentralaccount::operation::list_connection_invitations::{
        ListConnectionInvitationsError, ListConnectionInvitationsOutput,
    };
    use aws_smithy_mocks::{RuleMode, mock, mock_client};
    use aws_smithy_types::error::ErrorMetadata;

    use super::*;
    use crate::health::Outcome;

    const DENIED: &str = "User: arn:aws:sts::111122223333:assumed-role/s-AutoCancelRole/s-auto-cancel is not authorized \
                          to perform: partnercentral:ListConnectionInvitations on resource: \
                          arn:aws:partnercentral:us-east-1::catalog/Sandbox/connection-invitation/* \
                          because no identity-based policy allows the partnercentral:ListConnectionInvitations action";

    fn store(rules: &[&aws_smithy_mocks::Rule]) -> DynamoStateStore {
        let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, rules);
        DynamoStateStore::new(client, "s-state", Catalog::Sandbox, chrono::Duration::days(30))
    }

    #[tokio::test]
    async fn a_denied_call_is_reported_with_the_action_aws_names_and_the_others_ok() {
        let denied = mock!(aws_sdk_partnercentralaccount::Client::list_connection_invitations).then_error(|| {
            ListConnectionInvitationsError::generic(
                ErrorMetadata::builder().code("AccessDeniedException").message(DENIED).build(),
            )
        });
        let account = PartnerCentralAccount::new(
            mock_client!(aws_sdk_partnercentralaccount, RuleMode::MatchAny, [&denied]),
            Catalog::Sandbox,
        );
        let conditional = mock!(aws_sdk_dynamodb::Client::update_item).then_error(|| {
            UpdateItemError::ConditionalCheckFailedException(
                aws_sdk_dynamodb::types::error::ConditionalCheckFailedException::builder().message("no").build(),
            )
        });
        let absent = mock!(aws_sdk_dynamodb::Client::get_item).then_output(|| GetItemOutput::builder().build());
        let store = store(&[&conditional, &absent]);
        let put = mock!(aws_sdk_eventbridge::Client::put_events).then_output(|| {
            PutEventsOutput::builder()
                .failed_entry_count(0)
                .entries(PutEventsResultEntry::builder().event_id("e-1").build())
                .build()
        });
        let publisher =
            EventBridgePublisher::new(mock_client!(aws_sdk_eventbridge, RuleMode::MatchAny, [&put]), "s-bus", "src");
        let probes = HealthProbes {
            function: "auto-cancel",
            account: Some((&account, Reads::List)),
            selling: None,
            store: &store,
            publisher: &publisher,
        };
        let report = probes.run("req-1").await;
        assert!(!report.healthy);
        let checks: Vec<(&str, bool)> = report.checks.iter().map(|c| (c.check.as_str(), c.is_ok())).collect();
        assert_eq!(
            checks,
            [(ACCOUNT, false), ("state table write", true), ("state table read", true), ("event bus", true)]
        );
        match &report.checks[0].outcome {
            Outcome::Denied { action, message, fix } => {
                assert_eq!(action, "partnercentral:ListConnectionInvitations");
                assert_eq!(message, DENIED);
                assert!(fix.contains("partnercentral:ListConnectionInvitations"), "{fix}");
            }
            other => panic!("not denied: {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_write_that_took_effect_or_a_failed_entry_is_not_ok() {
        let listed = mock!(aws_sdk_partnercentralaccount::Client::list_connection_invitations).then_output(|| {
            ListConnectionInvitationsOutput::builder()
                .set_connection_invitation_summaries(Some(vec![]))
                .build()
                .unwrap_or_else(|e| panic!("{e}"))
        });
        let account = PartnerCentralAccount::new(
            mock_client!(aws_sdk_partnercentralaccount, RuleMode::MatchAny, [&listed]),
            Catalog::Sandbox,
        );
        let written = mock!(aws_sdk_dynamodb::Client::update_item)
            .then_output(|| aws_sdk_dynamodb::operation::update_item::UpdateItemOutput::builder().build());
        let absent = mock!(aws_sdk_dynamodb::Client::get_item).then_output(|| GetItemOutput::builder().build());
        let store = store(&[&written, &absent]);
        let refused = mock!(aws_sdk_eventbridge::Client::put_events).then_output(|| {
            PutEventsOutput::builder()
                .failed_entry_count(1)
                .entries(
                    PutEventsResultEntry::builder()
                        .error_code("AccessDeniedException")
                        .error_message("not authorized to perform: events:PutEvents on resource: bus")
                        .build(),
                )
                .build()
        });
        let publisher = EventBridgePublisher::new(
            mock_client!(aws_sdk_eventbridge, RuleMode::MatchAny, [&refused]),
            "s-bus",
            "src",
        );
        let probes = HealthProbes {
            function: "list-and-publish",
            account: Some((&account, Reads::List)),
            selling: None,
            store: &store,
            publisher: &publisher,
        };
        let report = probes.run("req-2").await;
        let ok: Vec<bool> = report.checks.iter().map(Check::is_ok).collect();
        assert_eq!(ok, [true, false, true, false]);
        assert!(matches!(&report.checks[3].outcome, Outcome::Denied { action, .. } if action == "events:PutEvents"));
    }
}
