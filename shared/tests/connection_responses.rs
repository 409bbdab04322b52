//! The Account API adapter's answers to connection invitations we received
//! (`ConnectionResponses`), on aws-smithy-mocks: the client token and the reason go out as
//! given, the accepted connection comes back, and the errors become domain errors —
//! `ServiceQuotaExceeded` a `QuotaExceeded` with its reason, a state conflict a `Conflict`.

use std::sync::{Arc, Mutex};

use aws_sdk_partnercentralaccount as account;
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use chrono::{TimeZone, Utc};
use shared::PartnerCentralError;
use shared::adapters::PartnerCentralAccount;
use shared::adapters::aws::partner_central_retry_config;
use shared::domain::{Catalog, InvitationStatus, ParticipantType};
use shared::ports::ConnectionResponses;

fn json_response(status: u16, body: &str) -> HttpResponse {
    let status = StatusCode::try_from(status).unwrap_or_else(|e| panic!("status: {e}"));
    let mut response = HttpResponse::new(status, SdkBody::from(body.to_owned()));
    response.headers_mut().insert("content-type", "application/x-amz-json-1.0");
    response
}

fn ts(day: u32) -> aws_smithy_types::DateTime {
    let t = Utc.with_ymd_and_hms(2026, 11, day, 12, 0, 0).single().unwrap_or_default();
    aws_smithy_types::DateTime::from_secs(t.timestamp())
}

fn client(rules: &[&aws_smithy_mocks::Rule]) -> account::Client {
    mock_client!(account, RuleMode::MatchAny, rules, |c| c.retry_config(partner_central_retry_config(3)))
}

type Seen = Arc<Mutex<Vec<(String, String, Option<String>)>>>;

fn seen(s: &Seen) -> Vec<(String, String, Option<String>)> {
    s.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

#[tokio::test]
async fn accept_passes_the_client_token_and_returns_the_connection() {
    let requests: Seen = Arc::default();
    let recorder = requests.clone();
    let ok = mock!(account::Client::accept_connection_invitation)
        .match_requests(move |req| {
            let seen = (
                req.identifier().unwrap_or_default().to_owned(),
                req.client_token().unwrap_or_default().to_owned(),
                req.catalog().map(str::to_owned),
            );
            let ours = req.identifier() == Some("pacinv-0000000000001");
            if ours {
                recorder.lock().unwrap_or_else(|e| e.into_inner()).push(seen);
            }
            ours
        })
        .then_compute_output(|_| {
            let account = account::types::AccountSummary::builder().name("Example Partner").build();
            let account = account.unwrap_or_else(|e| panic!("{e}"));
            let detail = account::types::ConnectionTypeDetail::builder()
                .created_at(ts(5))
                .inviter_email("pat@example.com")
                .inviter_name("Pat")
                .status(account::types::ConnectionTypeStatus::Active)
                .other_participant(account::types::Participant::Account(account))
                .build()
                .unwrap_or_else(|e| panic!("{e}"));
            let connection = account::types::Connection::builder()
                .catalog("AWS")
                .id("pc-0000000000001")
                .arn("arn:aws:partnercentral:us-east-1::catalog/AWS/connection/pc-0000000000001")
                .other_participant_account_id("111122223333")
                .updated_at(ts(5))
                .connection_types(account::types::ConnectionType::OpportunityCollaboration, detail)
                .build()
                .unwrap_or_else(|e| panic!("{e}"));
            account::operation::accept_connection_invitation::AcceptConnectionInvitationOutput::builder()
                .connection(connection)
                .build()
        });
    let full = r#"{"__type":"ServiceQuotaExceededException","Message":"Too many connections","Reason":"LIMIT_EXCEEDED_NUMBER_OF_ACTIVE_CONNECTION"}"#;
    let quota = mock!(account::Client::accept_connection_invitation)
        .match_requests(|r| r.identifier() == Some("pacinv-0000000000002"))
        .then_http_response(move || json_response(402, full));
    let adapter = PartnerCentralAccount::new(client(&[&ok, &quota]), Catalog::Aws);

    let accepted = adapter.accept_connection_invitation("pacinv-0000000000001", "ar-accept-0001").await;
    let accepted = accepted.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(accepted.connection_id, "pc-0000000000001");
    assert_eq!(accepted.other_participant_account_id.as_deref(), Some("111122223333"));
    assert_eq!(seen(&requests), [("pacinv-0000000000001".into(), "ar-accept-0001".into(), Some("AWS".into()))]);

    let err = adapter.accept_connection_invitation("pacinv-0000000000002", "ar-accept-0002").await.err();
    assert!(
        matches!(
            &err,
            Some(PartnerCentralError::QuotaExceeded { operation: "AcceptConnectionInvitation", reason, .. })
                if reason == "LIMIT_EXCEEDED_NUMBER_OF_ACTIVE_CONNECTION"
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn reject_passes_the_token_and_the_reason_and_reports_conflicts() {
    let requests: Seen = Arc::default();
    let recorder = requests.clone();
    let ok = mock!(account::Client::reject_connection_invitation)
        .match_requests(|r| r.identifier() == Some("pacinv-0000000000001"))
        .then_compute_output(move |req| {
            let seen = (
                req.identifier().unwrap_or_default().to_owned(),
                req.client_token().unwrap_or_default().to_owned(),
                req.reason().map(str::to_owned),
            );
            recorder.lock().unwrap_or_else(|e| e.into_inner()).push(seen);
            account::operation::reject_connection_invitation::RejectConnectionInvitationOutput::builder()
                .catalog("AWS")
                .id("pacinv-0000000000001")
                .arn("arn:aws:partnercentral:us-east-1::catalog/AWS/connection-invitation/pacinv-0000000000001")
                .connection_type(account::types::ConnectionType::OpportunityCollaboration)
                .created_at(ts(1))
                .updated_at(ts(5))
                .other_participant_identifier("111122223333")
                .participant_type(account::types::ParticipantType::Receiver)
                .status(account::types::InvitationStatus::Rejected)
                .invitation_message("m")
                .inviter_name("n")
                .inviter_email("n@example.com")
                .build()
                .unwrap_or_else(|e| panic!("{e}"))
        });
    let conflict =
        r#"{"__type":"ConflictException","Message":"not pending","Reason":"INCOMPATIBLE_CONNECTION_INVITATION_STATE"}"#;
    let refused = mock!(account::Client::reject_connection_invitation)
        .match_requests(|r| r.identifier() == Some("pacinv-0000000000002"))
        .then_http_response(move || json_response(409, conflict));
    let adapter = PartnerCentralAccount::new(client(&[&ok, &refused]), Catalog::Aws);

    let rejected = adapter
        .reject_connection_invitation("pacinv-0000000000001", "ar-reject-0001", Some("Not a partner we work with"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((rejected.status, rejected.participant_type), (InvitationStatus::Rejected, ParticipantType::Receiver));
    assert_eq!(
        seen(&requests),
        [("pacinv-0000000000001".into(), "ar-reject-0001".into(), Some("Not a partner we work with".into()))]
    );
    let err = adapter.reject_connection_invitation("pacinv-0000000000002", "ar-reject-0002", None).await.err();
    assert!(
        matches!(&err, Some(PartnerCentralError::Conflict { reason, .. }) if reason == "INCOMPATIBLE_CONNECTION_INVITATION_STATE"),
        "{err:?}"
    );
}
