//! Property tests of the Partner Central responses through the real SDK parsing and our
//! domain conversion: valid responses with random mutations (a member replaced by any JSON,
//! removed, or an unknown one added). A listing answers a page — every invitation read or set
//! apart as unreadable, none lost — or an error; a Get answers an invitation or an error.
//! Never a panic.

use super::aws::partner_central_retry_config;
use super::{PartnerCentralAccount, PartnerCentralSelling};
use crate::domain::{Catalog, ParticipantType};
use crate::ports::{
    ConnectionInvitationQuery, ConnectionInvitations, EngagementInvitationQuery, EngagementInvitations, Page,
};
use crate::testing::fuzz;
use aws_sdk_partnercentralaccount as account;
use aws_sdk_partnercentralselling as selling;
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use futures::TryStreamExt;
use proptest::prelude::*;
use serde_json::{Value, json};

fn response(body: String) -> HttpResponse {
    let mut r = HttpResponse::new(StatusCode::try_from(200).unwrap_or_else(|e| panic!("{e}")), SdkBody::from(body));
    r.headers_mut().insert("content-type", "application/x-amz-json-1.0");
    r
}

fn engagement(n: usize, status: &str) -> Value {
    json!({
        "Catalog": "AWS", "Id": format!("engi-{n:013}"),
        "Arn": format!("arn:aws:partnercentral:us-east-1::catalog/AWS/engagement-invitation/engi-{n:013}"),
        "PayloadType": "OpportunityInvitation", "EngagementId": "eng-00000000000001", "EngagementTitle": "Migration",
        "Status": status, "InvitationDate": "2026-11-19T12:00:00Z", "ExpirationDate": "2026-12-04T12:00:00Z",
        "SenderAwsAccountId": "123456789012", "SenderCompanyName": "AWS", "ParticipantType": "RECEIVER",
        "Receiver": {"Account": {"AwsAccountId": "210987654321", "Alias": "us"}}
    })
}

fn connection(n: usize, status: &str) -> Value {
    json!({
        "Catalog": "AWS", "Id": format!("pacinv-{n:013}"),
        "Arn": format!("arn:aws:partnercentral:us-east-1::catalog/AWS/connection-invitation/pacinv-{n:013}"),
        "ConnectionType": "OPPORTUNITY_COLLABORATION", "CreatedAt": "2026-11-19T12:00:00Z",
        "UpdatedAt": "2026-11-19T12:01:00Z", "ExpiresAt": "2026-12-04T12:00:00Z",
        "OtherParticipantIdentifier": "partner-7", "ParticipantType": "SENDER", "Status": status
    })
}

fn engagement_page() -> Value {
    json!({"EngagementInvitationSummaries": [engagement(1, "PENDING"), engagement(2, "ACCEPTED"), engagement(3, "EXPIRED")]})
}

fn connection_page() -> Value {
    json!({"ConnectionInvitationSummaries": [connection(1, "PENDING"), connection(2, "CANCELED"), connection(3, "ACCEPTED")]})
}

fn connection_get() -> Value {
    let mut v = connection(4, "PENDING");
    v["InvitationMessage"] = json!("Let's connect");
    v["InviterName"] = json!("Ann");
    v["InviterEmail"] = json!("ann@example.com");
    v
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap_or_else(|e| panic!("{e}"))
}

/// A page keeps every summary object: read, or set apart naming its member.
fn check_page(page: &Page, doc: &Value, list: &str) -> Result<(), TestCaseError> {
    let objects = doc.get(list).and_then(Value::as_array).map(|a| a.iter().filter(|v| v.is_object()).count());
    if let Some(objects) = objects {
        prop_assert_eq!(page.invitations.len() + page.unreadable.len(), objects, "none lost: {:?}", page);
    }
    for u in &page.unreadable {
        prop_assert!(!u.member.is_empty() && !u.problem.is_empty(), "{u:?}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(fuzz::config())]

    #[test]
    fn prop_engagement_listings_read_or_set_apart_every_invitation(doc in fuzz::mutated(engagement_page())) {
        let body = doc.to_string();
        let rule = mock!(selling::Client::list_engagement_invitations).then_http_response(move || response(body.clone()));
        let client: selling::Client =
            mock_client!(selling, RuleMode::MatchAny, [&rule], |c| c.retry_config(partner_central_retry_config(1)));
        let adapter = PartnerCentralSelling::new(client, Catalog::Aws);
        let listed = runtime().block_on(
            adapter.list_engagement_invitations(EngagementInvitationQuery::new(ParticipantType::Receiver)).try_concat(),
        );
        if let Ok(page) = listed {
            check_page(&page, &doc, "EngagementInvitationSummaries")?;
        }
    }

    #[test]
    fn prop_connection_listings_read_or_set_apart_every_invitation(doc in fuzz::mutated(connection_page())) {
        let body = doc.to_string();
        let rule = mock!(account::Client::list_connection_invitations).then_http_response(move || response(body.clone()));
        let client: account::Client =
            mock_client!(account, RuleMode::MatchAny, [&rule], |c| c.retry_config(partner_central_retry_config(1)));
        let adapter = PartnerCentralAccount::new(client, Catalog::Aws);
        let listed = runtime().block_on(adapter.list_connection_invitations(ConnectionInvitationQuery::default()).try_concat());
        if let Ok(page) = listed {
            check_page(&page, &doc, "ConnectionInvitationSummaries")?;
        }
    }

    #[test]
    fn prop_gets_answer_an_invitation_or_an_error(
        engagement_doc in fuzz::mutated(engagement(5, "PENDING")),
        connection_doc in fuzz::mutated(connection_get()),
    ) {
        let body = engagement_doc.to_string();
        let rule = mock!(selling::Client::get_engagement_invitation).then_http_response(move || response(body.clone()));
        let client: selling::Client =
            mock_client!(selling, RuleMode::MatchAny, [&rule], |c| c.retry_config(partner_central_retry_config(1)));
        let got = runtime().block_on(
            PartnerCentralSelling::new(client, Catalog::Aws).get_engagement_invitation("engi-0000000000005", ParticipantType::Receiver),
        );
        if let Ok(invitation) = got {
            prop_assert!(!invitation.id.is_empty());
        }
        let body = connection_doc.to_string();
        let rule = mock!(account::Client::get_connection_invitation).then_http_response(move || response(body.clone()));
        let client: account::Client =
            mock_client!(account, RuleMode::MatchAny, [&rule], |c| c.retry_config(partner_central_retry_config(1)));
        let got = runtime().block_on(PartnerCentralAccount::new(client, Catalog::Aws).get_connection_invitation("pacinv-0000000000004"));
        if let Ok(invitation) = got {
            prop_assert!(!invitation.id.is_empty());
        }
    }
}
