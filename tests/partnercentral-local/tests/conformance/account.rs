//! Account API (`PartnerCentralAccount.*`) through `aws-sdk-partnercentralaccount`.

use std::collections::BTreeSet;

use aws_sdk_partnercentralaccount::Client;
use aws_sdk_partnercentralaccount::operation::accept_connection_invitation::AcceptConnectionInvitationError;
use aws_sdk_partnercentralaccount::operation::cancel_connection_invitation::CancelConnectionInvitationError;
use aws_sdk_partnercentralaccount::operation::create_connection_invitation::CreateConnectionInvitationError;
use aws_sdk_partnercentralaccount::operation::get_connection_invitation::GetConnectionInvitationError;
use aws_sdk_partnercentralaccount::operation::list_connection_invitations::ListConnectionInvitationsError;
use aws_sdk_partnercentralaccount::operation::reject_connection_invitation::RejectConnectionInvitationError;
use aws_sdk_partnercentralaccount::types::{ConnectionType, InvitationStatus, ParticipantType};
use serde_json::json;

use crate::common::*;

fn first(fix: &[ConnFix], f: impl Fn(&ConnFix) -> bool) -> ConnFix {
    fix.iter().find(|c| f(c)).cloned().expect("fixture has such an invitation")
}

#[tokio::test]
async fn get_connection_invitation_returns_every_member() {
    let (emu, fix, _) = start().await;
    let client = emu.account().await;
    let c = first(&fix, |c| c.catalog == "AWS" && c.status == "PENDING");
    let out = client.get_connection_invitation().catalog("AWS").identifier(&c.id).send().await.expect("get");
    assert_eq!(out.id(), c.id);
    assert_eq!(out.catalog(), "AWS");
    assert_eq!(out.arn(), format!("arn:aws:partnercentral:us-east-1::catalog/AWS/connection-invitation/{}", c.id));
    assert_eq!(out.status(), &InvitationStatus::Pending);
    assert_eq!(out.participant_type().as_str(), c.participant);
    assert_eq!(out.connection_type().as_str(), c.ctype);
    assert_eq!(out.other_participant_identifier(), c.other);
    assert_eq!(sdk_secs(out.created_at()), c.created_at, "ISO-8601 timestamps parse");
    assert_eq!(sdk_secs(out.updated_at()), c.created_at);
    assert!(out.expires_at().is_some());
    assert!(out.invitation_message().starts_with("Let's connect"));
    assert!(out.inviter_email().ends_with("@example.com"));
    assert!(out.inviter_name().starts_with("Inviter"));
    emu.finish().await;
}

#[tokio::test]
async fn catalogs_are_partitioned_and_unknown_ids_are_not_found() {
    let (emu, fix, _) = start().await;
    let client = emu.account().await;
    let aws_one = first(&fix, |c| c.catalog == "AWS");
    for (catalog, id) in [("Sandbox", aws_one.id.as_str()), ("AWS", "pacinv-ZZZZZZZZZZZZZ")] {
        let err =
            client.get_connection_invitation().catalog(catalog).identifier(id).send().await.expect_err("not found");
        match err.as_service_error() {
            Some(GetConnectionInvitationError::ResourceNotFoundException(e)) => {
                assert_eq!(e.reason().as_str(), "CONNECTION_INVITATION_NOT_FOUND");
                assert!(e.message().contains(id));
            }
            other => panic!("expected ResourceNotFoundException, got {other:?}"),
        }
    }
    let sandbox: BTreeSet<String> = client
        .list_connection_invitations()
        .catalog("Sandbox")
        .send()
        .await
        .expect("list")
        .connection_invitation_summaries()
        .iter()
        .map(|s| s.id().to_owned())
        .collect();
    let expected: BTreeSet<String> = fix.iter().filter(|c| c.catalog == "Sandbox").map(|c| c.id.clone()).collect();
    assert_eq!(sandbox, expected);
    emu.finish().await;
}

#[tokio::test]
async fn list_without_max_results_returns_default_page_newest_first() {
    let (emu, fix, _) = start().await;
    let out = emu.account().await.list_connection_invitations().catalog("AWS").send().await.expect("list");
    let page = out.connection_invitation_summaries();
    assert_eq!(page.len(), 20, "default page size");
    assert!(out.next_token().is_some(), "40 items: more pages follow");
    let keys: Vec<(i64, String)> = page.iter().map(|s| (sdk_secs(s.created_at()), s.id().to_owned())).collect();
    let mut sorted = keys.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(keys, sorted, "CreatedAt descending, ties by Id descending");
    let newest = fix.iter().filter(|c| c.catalog == "AWS").map(|c| c.created_at).max();
    assert_eq!(Some(keys[0].0), newest);
    emu.finish().await;
}

async fn list_ids(
    client: &Client,
    catalog: &str,
    ctype: Option<&str>,
    ptype: Option<&str>,
    status: Option<&str>,
    others: Option<&[&str]>,
) -> Vec<String> {
    let mut req = client.list_connection_invitations().catalog(catalog).max_results(100);
    if let Some(t) = ctype {
        req = req.connection_type(ConnectionType::from(t));
    }
    if let Some(p) = ptype {
        req = req.participant_type(ParticipantType::from(p));
    }
    if let Some(s) = status {
        req = req.status(InvitationStatus::from(s));
    }
    if let Some(o) = others {
        for x in o {
            req = req.other_participant_identifiers(*x);
        }
    }
    let mut ids = Vec::new();
    let mut pages = req.into_paginator().send();
    while let Some(page) = pages.next().await {
        for s in page.expect("page").connection_invitation_summaries() {
            ids.push(s.id().to_owned());
        }
    }
    ids
}

#[tokio::test]
async fn every_filter_alone_and_combined() {
    let (emu, fix, _) = start().await;
    let client = emu.account().await;
    type Case = (Option<&'static str>, Option<&'static str>, Option<&'static str>, Option<&'static [&'static str]>);
    let cases: Vec<Case> = vec![
        (None, None, None, None),
        (Some("SUBSIDIARY"), None, None, None),
        (Some("OPPORTUNITY_COLLABORATION"), None, None, None),
        (None, Some("SENDER"), None, None),
        (None, Some("RECEIVER"), None, None),
        (None, None, Some("PENDING"), None),
        (None, None, Some("CANCELED"), None),
        (None, None, None, Some(&["partner-x"])),
        (None, None, None, Some(&["111111111111", "333333333333"])),
        (Some("OPPORTUNITY_COLLABORATION"), Some("RECEIVER"), Some("PENDING"), None),
        (Some("SUBSIDIARY"), Some("SENDER"), None, Some(&["222222222222", "partner-x"])),
        (None, Some("RECEIVER"), Some("ACCEPTED"), Some(&["111111111111"])),
        (Some("SUBSIDIARY"), Some("RECEIVER"), Some("EXPIRED"), Some(&["nobody"])),
    ];
    for (ctype, ptype, status, others) in cases {
        let got = list_ids(&client, "AWS", ctype, ptype, status, others).await;
        let mut expected: Vec<&ConnFix> = fix
            .iter()
            .filter(|c| c.catalog == "AWS")
            .filter(|c| ctype.is_none_or(|t| c.ctype == t))
            .filter(|c| ptype.is_none_or(|t| c.participant == t))
            .filter(|c| status.is_none_or(|t| c.status == t))
            .filter(|c| others.is_none_or(|o| o.contains(&c.other)))
            .collect();
        expected.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
        let expected: Vec<String> = expected.into_iter().map(|c| c.id.clone()).collect();
        assert_eq!(got, expected, "filters {ctype:?} {ptype:?} {status:?} {others:?}");
    }
    emu.finish().await;
}

#[tokio::test]
async fn create_is_idempotent_per_client_token() {
    let (emu, _, _) = start().await;
    let client = emu.account().await;
    let create = |token: &'static str, receiver: &'static str| {
        client
            .create_connection_invitation()
            .catalog("AWS")
            .client_token(token)
            .connection_type(ConnectionType::OpportunityCollaboration)
            .email("me@ourcompany.example.com")
            .message("Let us collaborate")
            .name("Pat Owner")
            .receiver_identifier(receiver)
            .send()
    };
    let a = create("tok-create-1", "444444444444").await.expect("create");
    assert!(a.id().starts_with("pacinv-") && a.id().len() == 20);
    assert_eq!(a.status(), &InvitationStatus::Pending);
    assert_eq!(a.participant_type(), &ParticipantType::Sender);
    assert_eq!(a.other_participant_identifier(), "444444444444");
    assert_eq!(a.inviter_name(), "Pat Owner");
    assert_eq!(sdk_secs(a.created_at()), t0().timestamp());
    assert_eq!(a.expires_at().map(sdk_secs), Some(t0().timestamp() + 15 * 86_400), "documented default: 15 days");
    let again = create("tok-create-1", "444444444444").await.expect("replay");
    assert_eq!(again.id(), a.id(), "same token + same request = same answer");
    let err = create("tok-create-1", "555555555555").await.expect_err("token reuse");
    match err.as_service_error() {
        Some(CreateConnectionInvitationError::ConflictException(e)) => {
            assert_eq!(e.reason().as_str(), "CONFLICT_CLIENT_TOKEN")
        }
        other => panic!("expected ConflictException, got {other:?}"),
    }
    let err = create("tok-create-2", "444444444444").await.expect_err("duplicate");
    match err.as_service_error() {
        Some(CreateConnectionInvitationError::ConflictException(e)) => {
            assert_eq!(e.reason().as_str(), "DUPLICATE_CONNECTION_INVITATION")
        }
        other => panic!("expected ConflictException, got {other:?}"),
    }
    let got = client
        .get_connection_invitation()
        .catalog("AWS")
        .identifier(a.id())
        .send()
        .await
        .expect("created invitation is readable");
    assert_eq!(got.invitation_message(), "Let us collaborate");
    emu.finish().await;
}

#[tokio::test]
async fn cancel_only_pending_sent_invitations_idempotently() {
    let (emu, fix, _) = start().await;
    let client = emu.account().await;
    let sent: Vec<ConnFix> = fix
        .iter()
        .filter(|c| c.catalog == "AWS" && c.status == "PENDING" && c.participant == "SENDER")
        .cloned()
        .collect();
    assert!(sent.len() >= 2);
    emu.ok("POST", "/_emulator/clock/advance", Some(json!({"hours": 1}))).await;
    let cancel = |id: String, token: &'static str| {
        client.cancel_connection_invitation().catalog("AWS").identifier(id).client_token(token).send()
    };
    let out = cancel(sent[0].id.clone(), "tok-cancel-1").await.expect("cancel");
    assert_eq!(out.status(), &InvitationStatus::Canceled);
    assert_eq!(sdk_secs(out.updated_at()), t0().timestamp() + 3600, "UpdatedAt = clock now");
    assert_eq!(sdk_secs(out.created_at()), sent[0].created_at);
    let again = cancel(sent[0].id.clone(), "tok-cancel-1").await.expect("replay");
    assert_eq!(again.status(), &InvitationStatus::Canceled);
    assert_eq!(again.updated_at(), out.updated_at(), "the same answer again");
    let expect_conflict = |err: aws_sdk_partnercentralaccount::error::SdkError<CancelConnectionInvitationError, _>,
                           reason: &str| match err.as_service_error() {
        Some(CancelConnectionInvitationError::ConflictException(e)) => {
            assert_eq!(e.reason().as_str(), reason, "{}", e.message())
        }
        other => panic!("expected ConflictException({reason}), got {other:?}"),
    };
    expect_conflict(
        cancel(sent[1].id.clone(), "tok-cancel-1").await.expect_err("token reuse"),
        "CONFLICT_CLIENT_TOKEN",
    );
    expect_conflict(
        cancel(sent[0].id.clone(), "tok-cancel-2").await.expect_err("already canceled"),
        "INCOMPATIBLE_CONNECTION_INVITATION_STATE",
    );
    let received = first(&fix, |c| c.catalog == "AWS" && c.status == "PENDING" && c.participant == "RECEIVER");
    expect_conflict(
        cancel(received.id.clone(), "tok-cancel-3").await.expect_err("not ours to cancel"),
        "INCOMPATIBLE_CONNECTION_INVITATION_STATE",
    );
    let accepted = first(&fix, |c| c.catalog == "AWS" && c.status == "ACCEPTED" && c.participant == "SENDER");
    expect_conflict(
        cancel(accepted.id.clone(), "tok-cancel-4").await.expect_err("not pending"),
        "INCOMPATIBLE_CONNECTION_INVITATION_STATE",
    );
    let err = cancel("pacinv-ZZZZZZZZZZZZZ".into(), "tok-cancel-5").await.expect_err("unknown");
    assert!(matches!(err.as_service_error(), Some(CancelConnectionInvitationError::ResourceNotFoundException(_))));
    // The answer log: one effect, one same-token replay, the rest refused (nothing changed).
    let log = emu.ok("GET", "/_emulator/answers", None).await;
    let outcomes: Vec<(&str, &str, &str)> = log["answers"]
        .as_array()
        .expect("answers")
        .iter()
        .map(|a| {
            (
                a["invitation_id"].as_str().unwrap_or_default(),
                a["client_token"].as_str().unwrap_or_default(),
                a["outcome"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            (sent[0].id.as_str(), "tok-cancel-1", "effect"),
            (sent[0].id.as_str(), "tok-cancel-1", "replay"),
            (sent[1].id.as_str(), "tok-cancel-1", "refused"),
            (sent[0].id.as_str(), "tok-cancel-2", "refused"),
            (received.id.as_str(), "tok-cancel-3", "refused"),
            (accepted.id.as_str(), "tok-cancel-4", "refused"),
            ("pacinv-ZZZZZZZZZZZZZ", "tok-cancel-5", "refused"),
        ]
    );
    assert!(
        log["answers"][2]["error"].as_str().is_some_and(|e| e.starts_with("ConflictException")),
        "a refusal names its error: {log}"
    );
    emu.ok("POST", "/_emulator/reset", Some(json!({}))).await;
    assert_eq!(emu.ok("GET", "/_emulator/answers", None).await["answers"], json!([]), "reset clears the log");
    emu.finish().await;
}

#[tokio::test]
async fn accept_creates_a_connection_and_reject_rejects() {
    let (emu, fix, _) = start().await;
    let client = emu.account().await;
    let received: Vec<ConnFix> = fix
        .iter()
        .filter(|c| c.catalog == "AWS" && c.status == "PENDING" && c.participant == "RECEIVER")
        .cloned()
        .collect();
    assert!(received.len() >= 2);
    let acc = client
        .accept_connection_invitation()
        .catalog("AWS")
        .identifier(&received[0].id)
        .client_token("tok-accept-1")
        .send()
        .await
        .expect("accept");
    let conn = acc.connection().expect("connection");
    assert!(conn.id().starts_with("pac-") && conn.id().len() == 17);
    assert_eq!(conn.arn(), format!("arn:aws:partnercentral:us-east-1::catalog/AWS/connection/{}", conn.id()));
    assert_eq!(conn.other_participant_account_id().len(), 12);
    let detail = conn.connection_types().get(&ConnectionType::from(received[0].ctype)).expect("connection type entry");
    assert_eq!(detail.status().as_str(), "ACTIVE");
    let replay = client
        .accept_connection_invitation()
        .catalog("AWS")
        .identifier(&received[0].id)
        .client_token("tok-accept-1")
        .send()
        .await
        .expect("replay");
    assert_eq!(replay.connection().map(|c| c.id()), Some(conn.id()));
    let got = client.get_connection_invitation().catalog("AWS").identifier(&received[0].id).send().await.expect("get");
    assert_eq!(got.status(), &InvitationStatus::Accepted);
    assert_eq!(got.connection_id(), Some(conn.id()));
    let err = client
        .accept_connection_invitation()
        .catalog("AWS")
        .identifier(&received[0].id)
        .client_token("tok-accept-2")
        .send()
        .await
        .expect_err("already accepted");
    match err.as_service_error() {
        Some(AcceptConnectionInvitationError::ConflictException(e)) => {
            assert_eq!(e.reason().as_str(), "INCOMPATIBLE_CONNECTION_INVITATION_STATE")
        }
        other => panic!("expected ConflictException, got {other:?}"),
    }
    let sent = first(&fix, |c| c.catalog == "AWS" && c.status == "PENDING" && c.participant == "SENDER");
    let err = client
        .reject_connection_invitation()
        .catalog("AWS")
        .identifier(&sent.id)
        .client_token("tok-reject-0")
        .send()
        .await
        .expect_err("cannot reject what we sent");
    assert!(matches!(err.as_service_error(), Some(RejectConnectionInvitationError::ConflictException(_))));
    let rej = client
        .reject_connection_invitation()
        .catalog("AWS")
        .identifier(&received[1].id)
        .client_token("tok-reject-1")
        .reason("Not now")
        .send()
        .await
        .expect("reject");
    assert_eq!(rej.status(), &InvitationStatus::Rejected);
    let err = client
        .reject_connection_invitation()
        .catalog("AWS")
        .identifier(&received[1].id)
        .client_token("tok-reject-1")
        .reason("A different reason")
        .send()
        .await
        .expect_err("same token, different request");
    match err.as_service_error() {
        Some(RejectConnectionInvitationError::ConflictException(e)) => {
            assert_eq!(e.reason().as_str(), "CONFLICT_CLIENT_TOKEN")
        }
        other => panic!("expected ConflictException, got {other:?}"),
    }
    emu.finish().await;
}

#[tokio::test]
async fn validation_errors_name_the_field() {
    let (emu, _, _) = start().await;
    let client = emu.account().await;
    let err = client
        .get_connection_invitation()
        .catalog("AWS")
        .identifier("not-an-invitation-id")
        .send()
        .await
        .expect_err("bad id");
    match err.as_service_error() {
        Some(GetConnectionInvitationError::ValidationException(e)) => {
            assert_eq!(e.reason().as_str(), "REQUEST_VALIDATION_FAILED");
            let f = e.error_details()[0].as_field_validation_error().expect("field error");
            assert_eq!(f.name(), "Identifier");
            assert_eq!(f.code().as_str(), "INVALID_STRING_FORMAT");
            assert!(e.message().contains("Identifier"));
        }
        other => panic!("expected ValidationException, got {other:?}"),
    }
    for bad in [0, 101] {
        let err = client
            .list_connection_invitations()
            .catalog("AWS")
            .max_results(bad)
            .send()
            .await
            .expect_err("MaxResults out of range");
        match err.as_service_error() {
            Some(ListConnectionInvitationsError::ValidationException(e)) => {
                let names: Vec<&str> = e
                    .error_details()
                    .iter()
                    .filter_map(|d| d.as_field_validation_error().ok())
                    .map(|f| f.name())
                    .collect();
                assert_eq!(names, ["MaxResults"], "MaxResults={bad}");
            }
            other => panic!("expected ValidationException, got {other:?}"),
        }
    }
    let err = client
        .list_connection_invitations()
        .catalog("AWS")
        .status(InvitationStatus::from("WITHDRAWN"))
        .send()
        .await
        .expect_err("unknown enum value");
    match err.as_service_error() {
        Some(ListConnectionInvitationsError::ValidationException(e)) => {
            let f = e.error_details()[0].as_field_validation_error().expect("field");
            assert_eq!((f.name(), f.code().as_str()), ("Status", "INVALID_ENUM_VALUE"));
        }
        other => panic!("expected ValidationException, got {other:?}"),
    }
    emu.finish().await;
}

#[tokio::test]
async fn pending_invitations_expire_on_the_virtual_clock() {
    let (emu, fix, _) = start().await;
    let client = emu.account().await;
    // Fixture: the i-th PENDING invitation expires at T0 + (i+1) days; i = 0 is PENDING.
    let c = first(&fix, |c| c.id == "pacinv-A000000000000");
    assert_eq!(c.status, "PENDING");
    let get = || client.get_connection_invitation().catalog("AWS").identifier(&c.id).send();
    let before = get().await.expect("get");
    assert_eq!(before.status(), &InvitationStatus::Pending);
    let expires = before.expires_at().map(sdk_secs).expect("ExpiresAt");
    assert_eq!(expires, t0().timestamp() + 86_400);
    let adv = emu.ok("POST", "/_emulator/clock/advance", Some(json!({"hours": 25}))).await;
    assert!(adv["expired"].as_u64().unwrap_or(0) >= 1, "{adv}");
    assert_eq!(adv["now"], ts(t0() + chrono::Duration::hours(25)));
    let after = get().await.expect("get");
    assert_eq!(after.status(), &InvitationStatus::Expired);
    assert_eq!(sdk_secs(after.updated_at()), expires, "UpdatedAt is the expiry instant");
    let expired = list_ids(&client, "AWS", None, None, Some("EXPIRED"), None).await;
    assert!(expired.contains(&c.id));
    let err = client
        .accept_connection_invitation()
        .catalog("AWS")
        .identifier(&c.id)
        .client_token("tok-late")
        .send()
        .await
        .expect_err("expired invitations cannot be accepted");
    assert!(matches!(err.as_service_error(), Some(AcceptConnectionInvitationError::ConflictException(_))));
    // Still-pending ones (expiring later) are untouched.
    let later = first(&fix, |c| c.id == "pacinv-A000000000010");
    let out = client.get_connection_invitation().catalog("AWS").identifier(&later.id).send().await.expect("get");
    assert_eq!(out.status(), &InvitationStatus::Pending);
    emu.finish().await;
}

/// A received PENDING connection invitation from `other` (seed entry).
fn received(id: &str, other: &str, ctype: &str, status: &str) -> serde_json::Value {
    json!({
        "Catalog": "AWS", "Id": id, "ConnectionType": ctype, "CreatedAt": "2026-11-19T10:00:00Z",
        "OtherParticipantIdentifier": other, "ParticipantType": "RECEIVER", "Status": status,
        "InvitationMessage": "Let's connect", "InviterEmail": "ann@example.com", "InviterName": "Ann",
    })
}

#[tokio::test]
async fn accept_beyond_the_active_connection_limit_is_service_quota_exceeded_and_consumes_no_token() {
    let seed = partnercentral_local::SeedDocument {
        connection_invitations: vec![
            received("pacinv-QACTIVE000001", "111111111111", "OPPORTUNITY_COLLABORATION", "ACCEPTED"),
            received("pacinv-QPENDING00002", "222222222222", "OPPORTUNITY_COLLABORATION", "PENDING"),
            received("pacinv-QPENDING00003", "333333333333", "OPPORTUNITY_COLLABORATION", "PENDING"),
            // Same participant as the active connection: accepting it opens no new connection.
            received("pacinv-QSAMEPART0004", "111111111111", "SUBSIDIARY", "PENDING"),
            received("pacinv-QPENDING00005", "555555555555", "SUBSIDIARY", "PENDING"),
        ],
        engagement_invitations: vec![],
    };
    let emu = start_with(builder().seed(seed).active_connection_limit(2)).await;
    let client = emu.account().await;
    let quotas = emu.ok("GET", "/_emulator/quotas", None).await;
    assert_eq!(quotas, json!({"active_connections": 2, "usage": {"AWS": {"active_connections": 1}}}));
    let accept = |id: &'static str, token: &'static str| {
        client.accept_connection_invitation().catalog("AWS").identifier(id).client_token(token).send()
    };

    let first = accept("pacinv-QPENDING00002", "tok-q-2").await.expect("second connection fits the limit");
    let first_id = first.connection().map(|c| c.id().to_owned());
    let err = accept("pacinv-QPENDING00003", "tok-q-3").await.expect_err("third connection is over the limit");
    match err.as_service_error() {
        Some(AcceptConnectionInvitationError::ServiceQuotaExceededException(e)) => {
            assert_eq!(e.reason().as_str(), "LIMIT_EXCEEDED_NUMBER_OF_ACTIVE_CONNECTION");
            assert!(e.message().contains("limit of 2 active connections"), "{}", e.message());
        }
        other => panic!("expected ServiceQuotaExceededException, got {other:?}"),
    }
    let raw = emu
        .aws(
            "PartnerCentralAccount.AcceptConnectionInvitation",
            json!({"Catalog": "AWS", "Identifier": "pacinv-QPENDING00003", "ClientToken": "tok-raw"}),
        )
        .await;
    assert_eq!(raw.0, 400);
    assert_eq!(raw.1["__type"], json!("ServiceQuotaExceededException"));
    assert_eq!(raw.1["Reason"], json!("LIMIT_EXCEEDED_NUMBER_OF_ACTIVE_CONNECTION"));
    assert!(raw.1["Message"].is_string());
    let still = client.get_connection_invitation().catalog("AWS").identifier("pacinv-QPENDING00003").send().await;
    assert_eq!(still.expect("get").status(), &InvitationStatus::Pending, "a refused accept changes nothing");

    // Another type with a participant we are connected to: no new connection, allowed.
    let same = accept("pacinv-QSAMEPART0004", "tok-q-4").await.expect("existing participant");
    let other = same.connection().map(|c| c.other_participant_account_id().to_owned());
    assert_eq!(other.as_deref(), Some("111111111111"), "the connection with the participant we already have");
    // A replay of an accepted request answers as before, even at the limit.
    let replay = accept("pacinv-QPENDING00002", "tok-q-2").await.expect("replay at the limit");
    assert_eq!(replay.connection().map(|c| c.id().to_owned()), first_id);
    // Rejecting is never limited.
    let rej = client
        .reject_connection_invitation()
        .catalog("AWS")
        .identifier("pacinv-QPENDING00005")
        .client_token("tok-q-r5")
        .reason("Not now")
        .send()
        .await
        .expect("reject at the limit");
    assert_eq!(rej.status(), &InvitationStatus::Rejected);

    // The failed call consumed no token: once the limit is raised the same token accepts.
    let raised = emu.ok("POST", "/_emulator/quotas", Some(json!({"active_connections": 3}))).await;
    assert_eq!(raised, json!({"active_connections": 3, "usage": {"AWS": {"active_connections": 2}}}));
    let later = accept("pacinv-QPENDING00003", "tok-q-3").await.expect("fits the raised limit");
    assert!(later.connection().is_some());
    let usage = emu.ok("GET", "/_emulator/quotas", None).await;
    assert_eq!(usage["usage"]["AWS"]["active_connections"], json!(3));

    for (body, needle) in [
        (json!({"active_connections": -1}), "whole number"),
        (json!({"active_connections": "10"}), "whole number"),
        (json!({"open_invitations": 5}), "accepted: active_connections"),
    ] {
        let (status, v) = emu.control("POST", "/_emulator/quotas", Some(body.clone())).await;
        assert_eq!(status, 400, "{body}: {v}");
        assert!(v["error"].as_str().is_some_and(|e| e.contains(needle)), "{body}: {v}");
    }
    let (status, _) = emu.control("DELETE", "/_emulator/quotas", None).await;
    assert_eq!(status, 405);
    // reset goes back to the start-up limit.
    emu.ok("POST", "/_emulator/reset", Some(json!({"reseed": true}))).await;
    let after = emu.ok("GET", "/_emulator/quotas", None).await;
    assert_eq!(after, json!({"active_connections": 2, "usage": {"AWS": {"active_connections": 1}}}));
    emu.finish().await;
}

#[tokio::test]
async fn the_default_active_connection_limit_is_partner_centrals_thousand() {
    let (emu, _, _) = start().await;
    let quotas = emu.ok("GET", "/_emulator/quotas", None).await;
    assert_eq!(quotas["active_connections"], json!(1000));
    emu.finish().await;
}
